"""The web app and API on volumes: per-slice results, series summaries, the strip plot and heat maps of
the most suspicious slices, the per-request slice cap, memory only, and no patient field anywhere."""

from __future__ import annotations

import dataclasses
import io
import json
import re

import jsonschema
import numpy as np
import pytest
from dicom_factory import SECRETS, axial_volume, make_dataset, make_dicom, nifti_bytes, series, to_bytes, zip_bytes
from PIL import Image

from braintumor.image_io import ImageError, read_image
from braintumor.prediction import probability_text
from braintumor.series import TOP_SLICES
from braintumor.web import create_app


@pytest.fixture(scope="module")
def app(tiny_classifier):
    return create_app(classifier=tiny_classifier, max_upload_mb=8, max_files=6)


@pytest.fixture(scope="module")
def stack(test_images) -> list[np.ndarray]:
    paths = [p for c in ("glioma", "meningioma", "notumor", "pituitary") for p in test_images[c][:2]]
    return [np.asarray(Image.fromarray(read_image(p)).resize((128, 128)), dtype=np.uint8) for p in paths]


@pytest.fixture(scope="module")
def uploads(stack, test_images) -> list[tuple[str, bytes]]:
    return [("head.nii.gz", nifti_bytes(axial_volume(stack))),
            ("series.zip", zip_bytes(series(stack))),
            ("one.dcm", make_dicom(stack[0])),
            ("scan.jpg", test_images["glioma"][0].read_bytes())]


def post(client, files, url="/api/v1/predict"):
    data = {"file": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(url, data=data, content_type="multipart/form-data")


def test_api_returns_per_slice_results_and_a_summary_per_volume(app, uploads):
    r = post(app.test_client(), uploads)
    body = r.get_json()
    assert r.status_code == 200 and set(body) == {"results", "series"}
    results = body["results"]
    assert len(results) == 8 + 8 + 1 + 1
    for name in ("head.nii.gz", "series.zip"):
        assert [x["slice"] for x in results if x["path"] == name] == list(range(8))
    one = next(x for x in results if x["path"] == "one.dcm")
    assert "slice" not in one and one["dicom"]["modality"] == "MR"
    assert [s["path"] for s in body["series"]] == ["head.nii.gz", "series.zip"]
    assert body["series"][0]["summary"]["kind"] == "nifti" and body["series"][1]["summary"]["slices"] == 8
    for s in body["series"]:
        assert s["summary"]["flagged"] == sum(x["review"] for x in results if x["path"] == s["path"])
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    schema = {"$ref": "#/components/schemas/PredictResponse", "components": doc["components"]}
    jsonschema.validate(body, schema, cls=jsonschema.Draft202012Validator)
    assert not any(secret in r.get_data(as_text=True) for secret in SECRETS)


def test_heat_maps_only_for_the_most_suspicious_slices(app, uploads):
    body = post(app.test_client(), uploads[:2], "/api/v1/predict?heatmap=1").get_json()
    for summary in body["series"]:
        mapped = [x["slice"] for x in body["results"] if x["path"] == summary["path"] and "heatmap_png_base64" in x]
        top = [t["slice"] for t in summary["summary"]["most_suspicious"]]
        assert len(top) == TOP_SLICES and sorted(mapped) == sorted(top)


def test_page_shows_the_strip_and_the_suspicious_slices(app, uploads):
    r = post(app.test_client(), uploads, "/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    blocks = re.findall(r'<section class="series" data-state="ok".*?</section>', html, flags=re.S)
    assert len(blocks) == 2
    for block in blocks:
        assert block.count('<rect class="strip-bar') == 8 and "<svg" in block
        cards = re.findall(r'<article class="card" data-state="ok">(.*?)</article>', block, flags=re.S)
        assert len(cards) == TOP_SLICES and all("data:image/png;base64," in c and ">slice " in c for c in cards)
    assert '<template id="series-template">' in html and "scan.jpg" in html and "one.dcm" in html
    assert not any(secret in html for secret in SECRETS)


def test_nifti_slice_cards_name_the_files_own_index(app, stack):
    """DICOM slice cards name the image number to find them by in a viewer; NIfTI ones named nothing, though each
    slice's metadata has the file's own index (here stored superior to inferior: slice k is the file's 7 - k)."""
    down = nifti_bytes(axial_volume(stack), affine=np.diag([1.0, 1.0, -1.0, 1.0]))
    html = post(app.test_client(), [("down.nii.gz", down)], "/").get_data(as_text=True)
    names = re.findall(r'<article class="card"[^>]*>\s*<h4 class="card-name">(.*?)</h4>', html, flags=re.S)
    assert len(names) == TOP_SLICES
    assert all(re.fullmatch(rf"slice (\d) · NIfTI voxel k = {7 - int(n[6])}", n) for n in names), names


def test_every_slice_as_text_says_which_slices_have_lower_confidence(app, uploads):
    """A series' line counted "· 1 with lower confidence" and nothing on the page said which slice it was when it was
    not among the cards of the most suspicious (a meningioma slice at 83 % under five surer gliomas): its line in
    "Every slice as text" (and the strip's tooltip) says so, as the CLI's table row does."""
    files = uploads[:2]  # a NIfTI volume and a DICOM series
    records = post(app.test_client(), files).get_json()["results"]
    html = post(app.test_client(), files, "/").get_data(as_text=True)
    lists = [re.findall(r"<li[^>]*>(slice .*?)</li>", b, flags=re.S) for b in
             re.findall(r'<ul class="strip-list">(.*?)</ul>', html, flags=re.S) if "<li" in b]
    assert [len(lines) for lines in lists] == [8, 8]
    flagged = [[r["slice"] for r in records if r["path"] == name and r.get("review")] for name, _ in files]
    assert any(flagged), "no slice with lower confidence: nothing to check"
    said = [[int(t.split()[1][:-1]) for t in lines if " with lower confidence (" in t] for lines in lists]
    assert said == flagged
    confidence = {(r["path"], r["slice"]): r["confidence"] for r in records if r.get("review")}
    for (name, _), lines in zip(files, lists, strict=True):
        for t in lines:
            if " with lower confidence (" in t:  # its class's confidence, as its card would show it
                assert f"({probability_text(confidence[name, int(t.split()[1][:-1])])})" in t, t


def test_multi_frame_slice_cards_name_their_frame(app, stack):
    """A multi-frame file's frames share its one image number: every slice card of an enhanced MR (or any multi-frame
    DICOM) read "slice k · DICOM image 1", nothing to find the frame by in a viewer. Its frame, numbered from 1 as
    DICOM numbers frames, and how many the file holds (no positions here: slice k is frame k + 1)."""
    frames = np.stack(stack)
    data = make_dicom(frames, NumberOfFrames=len(stack), InstanceNumber=4)
    html = post(app.test_client(), [("mf.dcm", data)], "/").get_data(as_text=True)
    names = re.findall(r'<article class="card"[^>]*>\s*<h4 class="card-name">(.*?)</h4>', html, flags=re.S)
    assert len(names) == TOP_SLICES
    assert all(n == f"slice {n.split()[1]} · DICOM image 4, frame {int(n.split()[1]) + 1} of {len(stack)}"
               for n in names), names


def test_a_scan_past_any_inputs_slice_limit_is_told_to_send_a_part_not_to_send_it_alone(app, stack, monkeypatch):
    """A volume longer than any input may be was refused with the limit alone, or, after earlier scans of its
    request, told to "send it on its own", which could not help: one piece of advice, for every reader. After earlier
    scans it said "the limit is 2", what they had left, as if that were the limit: refused as it is alone."""
    from braintumor import volume_io

    monkeypatch.setattr(volume_io, "MAX_SLICES", 10)  # what one input may hold, here as the request's cap
    capped = create_app(classifier=app.extensions["braintumor"].classifier)
    capped.extensions["braintumor"] = dataclasses.replace(capped.extensions["braintumor"], max_slices=10)
    big = nifti_bytes(np.concatenate([axial_volume(stack)] * 2, axis=-1))
    alone = post(capped.test_client(), [("big.nii.gz", big)]).get_json()["results"]
    after = post(capped.test_client(), [("a.nii.gz", nifti_bytes(axial_volume(stack))), ("big.nii.gz", big)])
    advice = f"({volume_io.TOO_LONG_ADVICE})"
    assert alone == [{"path": "big.nii.gz", "error": f"NIfTI volume has 16 axial slices; the limit is 10 {advice}"}]
    assert after.get_json()["results"][-1] == alone[0]


def test_error_uploads_and_the_per_request_slice_cap(app, stack):
    from pydicom.uid import ComprehensiveSRStorage

    capped = create_app(classifier=app.extensions["braintumor"].classifier)
    capped.extensions["braintumor"] = dataclasses.replace(capped.extensions["braintumor"], max_slices=10)
    volume = nifti_bytes(axial_volume(stack))
    r = post(capped.test_client(), [("a.nii.gz", volume), ("b.nii.gz", volume),
                                    ("sr.dcm", make_dicom(None, sop_class=ComprehensiveSRStorage))])
    results = r.get_json()["results"]
    assert r.status_code == 200 and len(results) == 8 + 2
    big = nifti_bytes(np.concatenate([axial_volume(stack)] * 2, axis=-1))
    r = post(capped.test_client(), [("big.nii.gz", big)])
    assert r.status_code == 400 and r.get_json()["results"][0]["error"].endswith("16 axial slices; the limit is 10")
    # the request's limit and what its earlier scans took: "the limit is 2" read as if 2 were the limit
    assert results[8] == {"path": "b.nii.gz", "error": "NIfTI volume has 8 axial slices; the limit is 10 slices per "
                                                       "request, and this request's earlier scans took 8 of them: send "
                                                       "it on its own"}
    assert "not an image" in results[9]["error"]
    assert capped.test_client().get("/api/v1/model").get_json()["limits"]["max_slices"] == 10


def test_a_scan_past_what_earlier_scans_left_is_told_the_requests_limit(app, stack, monkeypatch):
    """After earlier scans, a scan past what they left was told "the limit is 2" (what was left) as if that were the
    limit: it states the request's limit and what the earlier scans took, with the reader's words of what it holds
    (CT slices said so) and what to do (a study: its series one by one). A NIfTI volume past the voxels any volume may
    hold is told that limit, as it is alone, not "send it on its own" (which could not help)."""
    from pydicom.uid import generate_uid

    from braintumor import nifti_io

    capped = create_app(classifier=app.extensions["braintumor"].classifier)
    capped.extensions["braintumor"] = dataclasses.replace(capped.extensions["braintumor"], max_slices=10)
    first = ("a.nii.gz", nifti_bytes(axial_volume(stack)))  # 8 slices of 128 x 128
    uids = [generate_uid(), generate_uid()]
    study = zip_bytes([(f"IM{j}{k}", make_dicom(stack[k], series_uid=uids[j], instance=k + 1, position=5.0 * k,
                                                Modality="CT")) for j in range(2) for k in range(2)])
    results = post(capped.test_client(), [first, ("study.zip", study)]).get_json()["results"]
    assert results[-1] == {"path": "study.zip", "error": "the DICOM input holds 4 slices in 2 series, and they are CT "
                           "images (DICOM modality CT): the model reads MRI only; the limit is 10 slices per request, "
                           "and this request's earlier scans took 8 of them: send its series one by one"}
    import braintumor.web.volumes as web_volumes

    monkeypatch.setattr(nifti_io, "MAX_VOXELS", 128 * 128 * 9)  # what any one volume may hold
    monkeypatch.setattr(web_volumes, "MAX_INPUT_PIXELS", 128 * 128 * 12)  # the request's: 4 slices left after first
    big = ("big.nii.gz", nifti_bytes(axial_volume(stack[:2] + stack)))  # 10 slices: past MAX_VOXELS by itself
    alone = post(app.test_client(), [big]).get_json()["results"]
    after = post(app.test_client(), [first, big]).get_json()["results"]
    assert alone == [{"path": "big.nii.gz", "error": "NIfTI volume has 163,840 voxels; the limit is 147,456"}]
    assert after[-1] == alone[0]


def test_a_zips_nifti_member_past_the_limits_is_refused_as_the_file_alone(app, stack, tmp_path, capsys):
    """A NIfTI member past a request's budget was a bare ImageError, its BudgetError lost: after earlier scans it said
    "the limit is 2" (what they left) where the file alone says the request's limit and what they took. Refused as
    the file alone is, its member named: by the API, by read_volumes (its type and parts kept) and by the CLI."""
    from cli_runner import run_predict

    from braintumor.volume_io import MAX_SLICES, TOO_LONG_ADVICE, BudgetError, read_volumes

    capped = create_app(classifier=app.extensions["braintumor"].classifier)
    capped.extensions["braintumor"] = dataclasses.replace(capped.extensions["braintumor"], max_slices=10)
    first, second = nifti_bytes(axial_volume(stack)), nifti_bytes(axial_volume(stack[::-1]))  # 8 slices each
    alone = post(capped.test_client(), [("a.nii.gz", first), ("b.nii.gz", second)]).get_json()["results"][-1]
    zipped = post(capped.test_client(), [("a.nii.gz", first), ("b.zip", zip_bytes([("b.nii.gz", second)]))])
    assert alone["error"].endswith("earlier scans took 8 of them: send it on its own"), alone
    assert zipped.get_json()["results"][-1] == {"path": "b.zip", "error": f"b.nii.gz: {alone['error']}"}
    long = nifti_bytes(np.zeros((16, 16, MAX_SLICES + 1), np.int16))
    said = f"NIfTI volume has {MAX_SLICES + 1} axial slices; the limit is {MAX_SLICES} ({TOO_LONG_ADVICE})"
    for per_input in (True, False):
        with pytest.raises(BudgetError) as caught:
            read_volumes(zip_bytes([("long.nii.gz", long)]), name="x.zip", max_slices=100, per_input=per_input)
        assert str(caught.value) == f"long.nii.gz: {said}" and caught.value.whole
    (tmp_path / "long.nii.gz").write_bytes(long)
    (tmp_path / "long.zip").write_bytes(zip_bytes([("long.nii.gz", long)]))
    records = []
    for name in ("long.nii.gz", "long.zip"):
        rc, out, _ = run_predict([tmp_path / name, "--format", "json"], capsys)
        records.append((rc, json.loads(out)))
    assert records == [(1, [{"path": str(tmp_path / "long.nii.gz"), "error": said}]),
                       (1, [{"path": str(tmp_path / "long.zip"), "error": f"long.nii.gz: {said}"}])]


def test_a_series_file_past_what_earlier_scans_left_refuses_the_series_not_itself(app, stack):
    """A multi-frame file of a zipped series past what the request's earlier scans left (5 frames, 2 left) was skipped
    with a note, "DICOM file has 5 frames; the limit is 2", and the rest of the series classified without it (sent
    alone, all 6 slices are read): the series is refused as past the request's budget, as one of single frames is."""
    from pydicom.uid import generate_uid

    capped = create_app(classifier=app.extensions["braintumor"].classifier)
    capped.extensions["braintumor"] = dataclasses.replace(capped.extensions["braintumor"], max_slices=10)
    uid = generate_uid()
    mf = zip_bytes([("A.dcm", make_dicom(np.stack(stack[:5]), NumberOfFrames=5, series_uid=uid, instance=1)),
                    ("B.dcm", make_dicom(stack[5], series_uid=uid, instance=2))])
    alone = post(capped.test_client(), [("mf.zip", mf)]).get_json()["results"]
    assert len(alone) == 6 and not any("error" in r for r in alone)
    results = post(capped.test_client(), [("a.nii.gz", nifti_bytes(axial_volume(stack))), ("mf.zip", mf)])
    assert results.get_json()["results"][8:] == [{"path": "mf.zip", "error": "the DICOM input holds 6 slices; the "
                                                  "limit is 10 slices per request, and this request's earlier scans "
                                                  "took 8 of them: send it on its own"}]


def test_a_mixed_zip_past_what_earlier_scans_left_is_told_the_requests_limit(app, stack):
    """A zip's DICOM files past what its NIfTI members left of a request's budget, itself lowered by earlier scans,
    were told "the input's limits (2 slices, ...)", then what the earlier scans left (2 of its 10 slices): the
    request's limit and what they took, as any scan past what they left."""
    capped = create_app(classifier=app.extensions["braintumor"].classifier)
    capped.extensions["braintumor"] = dataclasses.replace(capped.extensions["braintumor"], max_slices=10)
    mixed = zip_bytes([("t2.nii.gz", nifti_bytes(axial_volume(stack[:2]))), *series(stack[2:4])])
    results = post(capped.test_client(), [("a.nii.gz", nifti_bytes(axial_volume(stack))), ("m.zip", mixed)])
    assert results.get_json()["results"][8:] == [{"path": "m.zip", "error": "the zip's DICOM files are past what its "
                                                  "NIfTI members (2 slices, 32,768 pixels) left; the limit is 10 "
                                                  "slices per request, and this request's earlier scans took 8 of "
                                                  "them: send it on its own"}]


def test_a_process_decodes_one_requests_scans_at_a_time_and_images_never_wait(app, uploads, monkeypatch):
    """Each of a worker's threads decoded a scan at once, and a scan takes hundreds of MB whatever its upload's size:
    four 130 kB .nii.gz uploads at once took a worker to 1.8 GB. A scan request now waits for the one decoding; a
    request of images alone does not."""
    import threading
    import time

    from braintumor.web import volumes

    real, inside, most, counting, release = volumes.read_volumes, [0], [0], threading.Lock(), threading.Event()

    def held(*args, **kwargs):  # read_volumes, held open until released, counting the requests inside at once
        with counting:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        try:
            release.wait(20)
            return real(*args, **kwargs)
        finally:
            with counting:
                inside[0] -= 1

    monkeypatch.setattr(volumes, "read_volumes", held)
    statuses: list[int] = []
    scans = [threading.Thread(target=lambda: statuses.append(post(app.test_client(), [uploads[0]]).status_code))
             for _ in range(2)]
    for thread in scans:
        thread.start()
    deadline = time.monotonic() + 2
    while most[0] < 2 and time.monotonic() < deadline:  # the second scan request has had its chance to start too
        time.sleep(0.01)
    try:
        started = time.monotonic()
        image = post(app.test_client(), [uploads[3]])  # answered while a scan is held, not after its 20 s
        waited = time.monotonic() - started
    finally:
        release.set()
        for thread in scans:
            thread.join(60)
    assert image.status_code == 200 and "label" in image.get_json()["results"][0] and waited < 10, waited
    assert statuses == [200, 200] and most[0] == 1, (statuses, most)

def test_volume_upload_writes_no_file(app, uploads):
    from test_web_safety import no_disk_writes

    client = app.test_client()
    client.get("/")
    with no_disk_writes() as writes:
        r = post(client, uploads[:2], "/api/v1/predict?heatmap=1")
    assert r.status_code == 200 and writes == []


def test_upload_form_accepts_scans_named_any_way(app):
    """The file picker lists every file: an ``accept`` list (it held .dcm, .nii, .zip) cannot name a scanner's
    IM00001, a UID such as 1.2.840.113619.2.55.3.12 or an .IMA, and a macOS picker greys out what it does not name,
    so they could not be chosen. The hint names the scans the page takes."""
    html = app.test_client().get("/").get_data(as_text=True)
    picker = re.search(r'<input id="file-input"[^>]*>', html).group(0)
    assert "accept" not in picker and 'type="file"' in picker and "multiple" in picker
    hint = " ".join(re.search(r'<p class="hint"[^>]*>(.*?)</p>', html, flags=re.S).group(1).split())
    assert all(word in hint for word in ("DICOM", ".dcm", "IM00001", ".IMA", ".nii", ".nii.gz", ".zip"))


def test_scans_share_one_pixel_budget_checked_before_decoding(app, stack, monkeypatch):
    """32 NIfTI files of 350 x 350 x 512 (14 MB in all) took a worker 62 s: each was decoded in full before the
    request's slice limit was compared; scans were outside any pixel budget."""
    import braintumor.web.volumes as web_volumes

    monkeypatch.setattr(web_volumes, "MAX_INPUT_PIXELS", 128 * 128 * 12)
    volume = nifti_bytes(axial_volume(stack))  # 8 slices of 128 x 128
    results = post(app.test_client(), [("a.nii.gz", volume), ("b.nii.gz", volume)]).get_json()["results"]
    assert len(results) == 8 + 1 and "error" not in results[0]
    assert results[8] == {"path": "b.nii.gz", "error": "NIfTI volume has 131,072 voxels; the limit is 196,608 pixels "
                                                       "per request, and this request's earlier scans took 131,072 of "
                                                       "them: send it on its own"}
    monkeypatch.setattr(web_volumes, "MAX_INPUT_PIXELS", 128 * 128 * 8)  # the first scan takes all of it
    results = post(app.test_client(), [("a.nii.gz", volume), ("b.nii.gz", volume)]).get_json()["results"]
    assert results[8]["error"] == "this request's earlier scans took all of its 131,072 scan pixels: send it on its own"


def test_a_dicom_that_would_decode_too_many_pixels_is_refused_on_its_headers():
    """64 JPEG 2000 frames of 6000 x 6000 are 17 kB of file and 94 s of decoding: refused before any frame."""
    from pydicom.encaps import encapsulate
    from pydicom.uid import RLELossless

    from braintumor.volume_io import MAX_INPUT_PIXELS, read_volumes

    ds = make_dataset(np.zeros((4, 64, 64), np.uint8))
    ds.Rows = ds.Columns = 6000
    ds.NumberOfFrames = 8
    ds.PixelData = encapsulate([bytes(64)] * 8)  # compressed: its length says nothing of the pixels' number
    ds.file_meta.TransferSyntaxUID = RLELossless
    with pytest.raises(ImageError, match=rf"would decode to 288,000,000 pixels; the limit is {MAX_INPUT_PIXELS:,}"):
        read_volumes(to_bytes(ds), name="big.dcm")


def test_a_dicom_past_any_inputs_pixels_is_not_told_to_be_sent_on_its_own(app, stack):
    """288,000,000 pixels after a small scan of the same request were told "the limit is 134,217,728 pixels per request,
    and this request's earlier scans took 12,288 of them: send it on its own", which refused it as well: past what
    any input may hold, it is told so, as a scan past its slices is, whatever came before it."""
    from pydicom.encaps import encapsulate
    from pydicom.uid import RLELossless

    from braintumor.volume_io import MAX_INPUT_PIXELS, TOO_LARGE_ADVICE

    ds = make_dataset(np.zeros((4, 64, 64), np.uint8))
    ds.Rows = ds.Columns = 6000
    ds.NumberOfFrames = 8
    ds.PixelData = encapsulate([bytes(64)] * 8)
    ds.file_meta.TransferSyntaxUID = RLELossless
    said = (f"the DICOM input would decode to 288,000,000 pixels; the limit is {MAX_INPUT_PIXELS:,} "
            f"({TOO_LARGE_ADVICE})")
    for files in ([("big.dcm", to_bytes(ds))], [("a.nii.gz", nifti_bytes(axial_volume(stack[:2]))),
                                                ("big.dcm", to_bytes(ds))]):
        assert [r["error"] for r in post(app.test_client(), files).get_json()["results"] if "error" in r] == [said]


def test_a_thin_slab_answer_matches_the_openapi_schema(app, stack):
    """A coronal NIfTI slice's record carries plane and y_mm: the served schema refused them as unknown keys."""
    import nibabel as nib

    coronal = np.stack([stack[0][::-1, ::-1].T], axis=1).astype(np.int16)  # (x, 1, z): one coronal image
    data = nib.Nifti1Image(coronal, np.eye(4)).to_bytes()
    body = post(app.test_client(), [("c.nii", data)]).get_json()
    assert body["results"][0]["nifti"]["plane"] == "coronal" and "y_mm" in body["results"][0]["nifti"]
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    schema = {"$ref": "#/components/schemas/PredictResponse", "components": doc["components"]}
    jsonschema.validate(body, schema, cls=jsonschema.Draft202012Validator)



def test_a_refused_single_slice_scan_gets_no_heat_map(test_images):
    """The page hid it, but the API sent a refused DICOM's heat map: drawn again without the input checks (here the
    aspect ratio), the slice passed and got the map of a class its record withholds. The shipped model: it refuses."""
    from braintumor.predictor import Classifier

    client = create_app(classifier=Classifier.load(threads=1)).test_client()
    gray = read_image(test_images["glioma"][0])
    wide = np.zeros((gray.shape[0], round(gray.shape[1] * 3.5)), np.uint8)
    wide[:, :gray.shape[1]] = gray  # 3.5 : 1, past the refusal's aspect limit
    for name, data in [("wide.dcm", make_dicom(wide)), ("wide.png", _png(wide))]:
        rec = post(client, [(name, data)], "/api/v1/predict?heatmap=1").get_json()["results"][0]
        assert rec["ood"] and "aspect ratio" in rec["reason"] and rec["label"] is None
        assert "heatmap_png_base64" not in rec and "image_png_base64" in rec


def test_a_one_slice_scans_notes_are_on_its_card(test_images):
    """A one-slice scan's notes (no summary follows one slice) were in the API's JSON only: the page's card said
    nothing of an absurd Pixel Spacing ignored or of a file skipped in a zip. The card lists them, in any state,
    escaped as names are; the card without notes has no list items. The shipped model: it refuses a blank slice."""
    from braintumor.predictor import Classifier

    app = create_app(classifier=Classifier.load(threads=1))
    gray = read_image(test_images["glioma"][0])
    files = [("wide.dcm", make_dicom(gray, PixelSpacing=[1, 1e38])),
             ("blank.dcm", make_dicom(np.zeros((64, 64), np.uint8), PixelSpacing=[0, 0])),
             ("one.zip", zip_bytes([("IM1", make_dicom(gray)), ("readme.txt", b"not a scan")])),
             ("scan.jpg", test_images["glioma"][0].read_bytes())]
    html = post(app.test_client(), files, "/").get_data(as_text=True)
    cards = re.findall(r'<article class="card" data-state="(\w+)">(.*?)</article>', html, flags=re.S)[:len(files)]
    shown = [(state, re.findall(r"<li>(.*?)</li>", re.search(r'class="card-notes".*?</ul>', body, re.S)[0]))
             for state, body in cards]
    assert shown == [("ok", ["1 image with a Pixel Spacing that makes pixels over 4 times as long as wide: "
                             "ignored, pixels taken as square"]),
                     ("ood", ["1 image with a Pixel Spacing that is not two positive numbers: ignored, pixels "
                              "taken as square"]),
                     ("ok", ["skipped 1 file in the zip: not DICOM or NIfTI"]), ("ok", [])]
    from flask import render_template_string

    with app.test_request_context():
        card = render_template_string('{% from "_card.html" import card %}{{ card(rec, ["glioma"], False) }}',
                                      rec={"path": "x.dcm", "error": "e", "notes": ["a\u202eb\nc"]})
    assert "<li>a\\u202eb\\nc</li>" in card


def _png(gray: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="PNG")
    return buf.getvalue()


def test_an_upload_named_zip_that_is_no_zip_is_told_so_as_predict_tells_it(app):
    """A download that saved a sign-in page as ``archive.zip``, uploaded, was "not a recognised image or scan" on the
    web, where ``braintumor predict`` said it is no zip archive and named the HTML page (one home: zip_io)."""
    from braintumor.volume_io import read_volumes

    page = b"\n<!DOCTYPE html><html><head><title>Sign in</title></head></html>"
    with pytest.raises(ImageError) as caught:
        read_volumes(page, name="archive.zip")
    said = post(app.test_client(), [("archive.zip", page)]).get_json()["results"]
    assert said == [{"path": "archive.zip", "error": str(caught.value)}]
    assert str(caught.value).startswith("not a zip archive: it does not begin as a zip file does (it is an HTML page")


def test_a_torch_checkpoint_uploaded_is_told_what_to_send_not_the_clis_advice(app):
    """train's best.pt uploaded was told '--model model.onnx; in Python, Classifier.load(...)', advice for whoever runs
    braintumor, not for someone using the page: the page and API say what to send instead (the CLI keeps its own)."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # what torch.save writes: members under one folder, its data.pkl
        zf.writestr("best/data.pkl", b"\x80\x02}q\x00.")
        zf.writestr("best/version", b"3\n")
    for url in ("/api/v1/predict", "/"):
        r = post(app.test_client(), [("best.pt", buf.getvalue())], url)
        text = r.get_data(as_text=True).replace("&#39;", "'")
        said = "a torch checkpoint" if url != "/" else "A torch checkpoint"  # the page's card: a sentence
        assert r.status_code == 400 and f"{said} (what 'braintumor train' writes)" in text, url
        assert "send the MRI images or scans" in text and "DICOM or NIfTI" in text, url
        assert "--model" not in text and "Classifier.load" not in text and "braintumor export" not in text, url


def test_a_zip_s_unreadable_nifti_member_is_one_error_record_beside_its_other_scans(app, stack):
    """A DICOM series zipped with a segmentation map (a label NIfTI) was refused whole on the page and by the API, as
    'seg.nii: NIfTI voxels hold only 3 distinct whole numbers ...': the series was not classified."""
    labels = np.zeros((48, 48, 3), np.uint8)
    labels[10:20, 10:20], labels[20:30, 20:30] = 1, 4
    zipped = zip_bytes([*series(stack[:4]), ("seg.nii", nifti_bytes(labels))])
    records = post(app.test_client(), [("study.zip", zipped)]).get_json()["results"]
    errors = [r for r in records if "error" in r]
    assert [r["path"] for r in errors] == ["study.zip:seg.nii"] and "label or segmentation map" in errors[0]["error"]
    assert len([r for r in records if "probabilities" in r or r.get("ood")]) == 4
    html = post(app.test_client(), [("study.zip", zipped)], "/").get_data(as_text=True)
    assert "label or segmentation map" in html and "4 slices ·" in html  # the no-JS page too: the series' block
