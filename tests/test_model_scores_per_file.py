"""A model whose scores are not finite for one file of several (a wrongly converted file's float16 overflow on one
image) is that file's error, not the whole request's, run's or batch's: the web API answered the request a 503 and
every other file's answer was lost; ``predict_many`` raised, losing its batch's other answers; ``braintumor predict``
stopped the folder and wrote nothing."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
from conftest import extra_reason

from braintumor.image_io import ImageError
from braintumor.model_scores import NonFiniteScores
from braintumor.predictor import Classifier
from braintumor.preprocess import to_model_input


@pytest.fixture
def nan_for(monkeypatch, clf):
    """Make the shipped model's scores NaN for the images given (by the model input they make), wherever batched."""
    marks: list[float] = []
    run = Classifier._run_all

    def nan_rows(self, batch):
        outs = run(self, batch)
        means = np.asarray(batch, np.float32).reshape(len(batch), -1).mean(axis=1)
        logits = outs[self._outputs[0]]
        for mark in marks:
            logits[np.isclose(means, mark, rtol=0, atol=1e-6)] = np.nan
        return outs

    monkeypatch.setattr(Classifier, "_run_all", nan_rows)

    def mark(source) -> None:
        crop, _ = clf.inspect_crop(source)
        marks.append(float(to_model_input(crop[None]).mean()))

    mark.clear = marks.clear  # the model file exported again: every image scored
    return mark


def resumed(command: list[str], nan_for, capsys) -> str:
    """The same ``predict ... --resume`` once the model file is exported again (no more non-finite scores): it
    succeeds; what it said on stderr."""
    from braintumor.cli import main

    nan_for.clear()
    capsys.readouterr()
    assert main(command) == 0, capsys.readouterr().err
    return capsys.readouterr().err


def test_predict_many_answers_the_other_images_of_the_batch(clf, nan_for, test_images):
    good, bad = test_images["glioma"][0], test_images["meningioma"][0]
    nan_for(bad)
    outcomes = [o for _, o in clf.predict_many([good, bad, good, bad], batch_size=4)]
    assert [o.label for o in outcomes[::2]] == [clf.predict(good).label] * 2
    for k in (1, 3):  # an ImageError to code that tells answers from errors, and the model's fault to code that asks
        assert isinstance(outcomes[k], ImageError) and isinstance(outcomes[k], NonFiniteScores)
        assert f"not finite (NaN or infinite) for {bad}: " in str(outcomes[k])
    with pytest.raises(NonFiniteScores):  # one image: raised, as before
        clf.predict(bad)


@pytest.mark.parametrize("query", ["", "?heatmap=1"])
def test_the_api_answers_the_other_files_and_says_which_one_the_model_failed(clf, nan_for, test_images, query):
    from braintumor.web import create_app
    from braintumor.web.model_failures import MODEL_FAILED

    client = create_app(classifier=clf).test_client()
    good, bad = test_images["glioma"][0], test_images["meningioma"][0]
    nan_for(bad)
    files = [(io.BytesIO(good.read_bytes()), "a.jpg"), (io.BytesIO(bad.read_bytes()), "b.jpg")]
    r = client.post(f"/api/v1/predict{query}", data={"file": files}, content_type="multipart/form-data")
    assert r.status_code == 200, r.get_json()
    first, second = r.get_json()["results"]
    assert first["path"] == "a.jpg" and first["label"] == clf.predict(good).label
    assert second == {"path": "b.jpg", "error": MODEL_FAILED}
    metrics = client.get("/metrics").text
    assert 'braintumor_errors_total{kind="model_failure"} 1.0' in metrics
    assert 'braintumor_errors_total{kind="invalid_image"} 0.0' in metrics  # not counted as the upload's fault
    # every file the model failed on (nothing answered): the 503 as for one file, not a 400 that blamed the upload;
    # each file's record kept (it said only the sentence: which file the model failed on, and why c.jpg was not read,
    # were lost), as the OpenAPI document describes it
    files = [(io.BytesIO(bad.read_bytes()), "b.jpg"), (io.BytesIO(b"not an image"), "c.jpg")]
    r = client.post(f"/api/v1/predict{query}", data={"file": files}, content_type="multipart/form-data")
    body = r.get_json()
    assert (r.status_code, body["error"]) == (503, MODEL_FAILED), body
    assert body["results"][0] == {"path": "b.jpg", "error": MODEL_FAILED}
    assert body["results"][1]["path"] == "c.jpg" and body["results"][1]["error"].startswith("not a recognised image")
    assert set(body) == {"error", "results"}
    _matches_the_documented_503(client, body)


def _matches_the_documented_503(client, body: dict) -> None:
    """``body`` is valid for predict's 503 in the app's OpenAPI document."""
    import jsonschema

    doc = client.get("/api/v1/openapi.json").get_json()
    schema = doc["paths"]["/api/v1/predict"]["post"]["responses"]["503"]["content"]["application/json"]["schema"]
    jsonschema.validate(body, {**schema, "components": doc["components"]}, cls=jsonschema.Draft202012Validator)


def test_the_page_without_javascript_keeps_each_files_card_when_none_was_answered(clf, nan_for, test_images):
    """The no-JavaScript page's 503 showed the sentence alone: no card said which file the model failed on, nor why
    the other was not read. Its cards and Done line now come with it, as the page's script shows them."""
    from braintumor.web import create_app

    client = create_app(classifier=clf).test_client()
    bad = test_images["meningioma"][0]
    nan_for(bad)
    files = [(io.BytesIO(bad.read_bytes()), "b.jpg"), (io.BytesIO(b"not an image"), "c.jpg")]
    page = client.post("/", data={"file": files}, content_type="multipart/form-data")
    assert page.status_code == 503, page.text
    assert 'status-text">The server&#39;s model gave scores that are not finite' in page.text  # b.jpg's card
    assert "b.jpg" in page.text and "c.jpg" in page.text and "Not a recognised image" in page.text
    assert ('Done: 0 classified, <a class="status-link" href="#card-2">1 unreadable</a>, 1 not analysed: the '
            "server&#39;s model failed; tell its operator (see below)." in page.text), page.text[-3000:]


def test_the_page_without_javascript_answers_the_other_files(clf, nan_for, test_images):
    from braintumor.web import create_app

    client = create_app(classifier=clf).test_client()
    good, bad = test_images["glioma"][0], test_images["meningioma"][0]
    nan_for(bad)
    files = [(io.BytesIO(good.read_bytes()), "a.jpg"), (io.BytesIO(bad.read_bytes()), "b.jpg")]
    page = client.post("/", data={"file": files}, content_type="multipart/form-data")
    assert page.status_code == 200, page.text
    from braintumor.classes import display_name

    assert f'status-text">{display_name(clf.predict(good).label)}, ' in page.text  # a.jpg's card: answered
    assert 'status-text">The server&#39;s model gave scores that are not finite' in page.text  # b.jpg's
    # counted as the page's script counts its 503 ("not analysed"), not as an unreadable file (the upload's fault)
    assert ("Done: 1 classified, 1 not analysed: the server&#39;s model failed; tell its operator (see below)."
            in page.text), page.text[page.text.index("Done:"):][:200]


@pytest.mark.parametrize("heatmap", [False, True])
def test_the_cli_goes_on_past_the_file_and_writes_every_record(clf, nan_for, test_images, tmp_path, capsys,
                                                                heatmap):
    import json

    from braintumor.cli import main

    folder = tmp_path / "images"
    folder.mkdir()
    for name, source in zip("abc", test_images["glioma"], strict=True):
        shutil.copy(source, folder / f"{name}.jpg")
    nan_for(folder / "b.jpg")
    out = tmp_path / "out.jsonl"
    command = ["predict", str(folder), "--no-progress", "--format", "jsonl", "-o", str(out)]
    code = main(command + (["--heatmap", str(tmp_path / "maps")] if heatmap else []))
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["path"].rsplit("/", 1)[-1] for r in records] == ["a.jpg", "b.jpg", "c.jpg"]
    assert "label" in records[0] and "label" in records[2]
    assert f"not finite (NaN or infinite) for {folder / 'b.jpg'}: " in records[1]["error"]
    assert code == 1  # as for any input not answered: the run went on
    err = capsys.readouterr().err  # the model's fault said once, apart from the unreadable files
    # counted as the page's Done line counts it (wording.NOT_ANALYSED), not as an unreadable input, the input's fault
    assert ", 0 unreadable, 1 not analysed: the model failed\n" in err, err
    assert "unreadable input" not in err, err
    assert (f"error: the model {clf.path} gave scores that are not finite (NaN or infinite) for 1 input (their "
            "records say which): a damaged model file, or one converted wrongly; export it again, then run again (with "
            "--resume and the same -o FILE, only they are redone)\n") in err, err


_ALONE = "score those inputs again (--resume, which redoes them alone, continues a jsonl or csv -o FILE, not "


@pytest.mark.parametrize(("options", "again"), [
    (["--format", "jsonl"], _ALONE + "standard output)"),
    (["-o", "-"], _ALONE + "standard output)"),
    (["-o", "/dev/null", "--format", "csv"], _ALONE + "/dev/null)"),
    (["-o", "{tmp}/out.json"], _ALONE + "a json one)"),
    (["-o", "{tmp}/out.csv", "--resume"], "run the same command again (only they are redone)"),
], ids=["stdout", "dash", "device", "json", "resumed"])
def test_the_advice_after_a_model_failure_says_what_redoes_those_inputs(clf, nan_for, test_images, tmp_path, capsys,
                                                                        options, again):
    """It said "run again (with --resume and the same -o FILE, ...)" where the records went to standard output (which
    --resume cannot continue: it needs -o FILE), to a json FILE (which it refuses), or where the run was a --resume
    run already."""
    from braintumor.cli import main

    image = tmp_path / "b.jpg"
    shutil.copy(test_images["glioma"][0], image)
    nan_for(image)
    capsys.readouterr()
    assert main(["predict", str(image), "--no-progress", *(o.format(tmp=tmp_path) for o in options)]) == 1
    err = capsys.readouterr().err
    assert ("a damaged model file, or one converted wrongly; export it again, then " + again + "\n") in err, err


def test_the_readme_says_which_files_resume_redoes_those_inputs_in():
    """README said "the same command with --resume redoes only those inputs" of every run, as the CLI's advice once
    did: --resume continues a jsonl or csv -o FILE alone (standard output, a json or table FILE take scoring again)."""
    import re
    from pathlib import Path

    text = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text().split())
    said = re.findall(r"`--resume`[^.;]*?redoes", text)
    assert said and all("jsonl or csv" in clause for clause in said), said


def test_evaluate_still_stops_at_the_models_fault(clf, nan_for, small_data, tmp_path):
    """evaluate is of the model: one it fails on is no metric of it, not a dataset file left out as unreadable (as
    predict_many now gives it, beside the others' answers)."""
    pytest.importorskip("matplotlib", reason=extra_reason("matplotlib"))
    from braintumor.data import load_dataset
    from braintumor.evaluate import evaluate

    dataset = load_dataset(small_data, "Testing")
    nan_for(dataset.paths[1])
    with pytest.raises(NonFiniteScores, match=f"for {dataset.paths[1]}: "):
        evaluate(clf, dataset, tmp_path / "eval", progress=False, gallery_size=2)


def test_a_scans_slice_is_its_own_error_in_the_api_and_the_cli(clf, nan_for, stack, tmp_path, capsys):
    """A scan's slice the model failed on stopped the CLI's run (naming it) and made the web request a 503."""
    import json

    from dicom_factory import axial_volume, nifti_bytes

    from braintumor.cli import main
    from braintumor.series import summary_text
    from braintumor.volume_io import read_volumes
    from braintumor.web import create_app
    from braintumor.web.model_failures import MODEL_FAILED

    data = nifti_bytes(axial_volume(stack))
    (volume,) = read_volumes(data, name="scan.nii.gz")
    nan_for(volume.slices[2])
    r = create_app(classifier=clf).test_client().post(
        "/api/v1/predict", data={"file": [(io.BytesIO(data), "scan.nii.gz")]}, content_type="multipart/form-data")
    assert r.status_code == 200
    results = r.get_json()["results"]
    assert [rec.get("error") for rec in results] == [None, None, MODEL_FAILED, None, None, None]
    # the scan's summary counts it apart from the unreadable slices (its failed), as the Done line does
    summary = r.get_json()["series"][0]
    assert (summary["summary"]["failed"], summary["summary"]["model_failed"]) == (0, 1)
    assert summary_text(summary).split("\n")[0].endswith("; 1 not analysed: the model failed")
    page = create_app(classifier=clf).test_client().post(
        "/", data={"file": [(io.BytesIO(data), "scan.nii.gz")]}, content_type="multipart/form-data").text
    assert "Done: 1 file, 6 slices: 5 classified, 1 not analysed: the server&#39;s model failed; tell its operator" \
        in page, page[page.index("Done:"):][:200]
    # the scan's block: its line, why, and the slice's own text say "not analysed", never "unreadable"
    block = page[page.index('class="series"'):page.index("</section>", page.index('class="series"'))]
    assert " · 1 not analysed</p>" in block, block
    assert "<li>1 slice not analysed:\n      the server&#39;s model gave scores that are not finite" in block, block
    assert "<li>slice 2: not analysed (the server&#39;s model failed)</li>" in block
    assert '<span class="swatch strip-failed"></span>Unreadable or not analysed</li>' in block  # its column's key
    path = tmp_path / "scan.nii.gz"
    path.write_bytes(data)
    assert main(["predict", str(path), "--no-progress", "--format", "jsonl"]) == 1
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert f"not finite (NaN or infinite) for {path}, slice 2: " in records[2]["error"]
    assert all("label" in rec or rec.get("ood") for k, rec in enumerate(records) if k != 2)


def test_the_servers_log_never_names_the_upload(clf, nan_for, stack, test_images, caplog):
    """The log line of a model failure names the model file and the image's place, never the upload's name (it can
    hold a patient's): a scan's slice was logged 'for Doe_John.nii.gz, slice 2'."""
    import logging

    from dicom_factory import axial_volume, nifti_bytes

    from braintumor.volume_io import read_volumes
    from braintumor.web import create_app

    data = nifti_bytes(axial_volume(stack))
    (volume,) = read_volumes(data, name="scan.nii.gz")
    nan_for(volume.slices[2])
    bad = test_images["meningioma"][0]
    nan_for(bad)
    caplog.set_level(logging.INFO)
    client = create_app(classifier=clf).test_client()
    for name, body in (("Doe_John.nii.gz", data), ("Doe_Jane.jpg", bad.read_bytes())):
        r = client.post("/api/v1/predict", data={"file": [(io.BytesIO(body), name)]},
                        content_type="multipart/form-data")
        assert r.status_code in (200, 503)
    logged = [rec.getMessage() for rec in caplog.records if "model failure" in rec.getMessage()]
    assert len(logged) == 2 and "for image 2: " in logged[0], logged
    assert not any("Doe_" in line for line in logged), logged


def test_the_done_lines_unreadable_link_skips_the_card_the_model_failed_on(clf, nan_for, test_images):
    """The no-JavaScript Done line's "1 unreadable" goes to the unreadable file's card: it went to the first card
    with an error, that of the file the server's model failed on (counted apart, "not analysed")."""
    from braintumor.web import create_app

    good, bad = test_images["glioma"][0], test_images["meningioma"][0]
    nan_for(bad)
    files = [(io.BytesIO(bad.read_bytes()), "b.jpg"), (io.BytesIO(b"junk"), "c.jpg"),
             (io.BytesIO(good.read_bytes()), "a.jpg")]
    page = create_app(classifier=clf).test_client().post("/", data={"file": files},
                                                          content_type="multipart/form-data").text
    assert 'id="card-2" tabindex="-1">c.jpg<' in page
    assert ('Done: 1 classified, <a class="status-link" href="#card-2">1 unreadable</a>, 1 not analysed: the '
            "server&#39;s model failed; tell its operator (see below).") in page, page[page.index("Done:"):][:300]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_resume_redoes_the_inputs_the_model_failed_on(clf, nan_for, test_images, stack, tmp_path, capsys, fmt):
    """--resume counted the record of an input the model failed on as done, like an unreadable file's: once the model
    file was exported again, the same command said 'nothing left to do' and those inputs were never scored. Their
    records (a scan's every slice) are dropped and redone, the others kept."""
    import csv
    import json
    from collections import Counter

    from dicom_factory import axial_volume, nifti_bytes

    from braintumor.cli import main
    from braintumor.volume_io import read_volumes

    folder = tmp_path / "images"
    folder.mkdir()
    for name, source in zip("abc", test_images["glioma"], strict=True):
        shutil.copy(source, folder / f"{name}.jpg")
    data = nifti_bytes(axial_volume(stack))
    (folder / "scan.nii.gz").write_bytes(data)
    nan_for(folder / "b.jpg")
    nan_for(read_volumes(data, name="scan.nii.gz")[0].slices[2])
    out = tmp_path / f"out.{fmt}"
    command = ["predict", str(folder), "--no-progress", "-o", str(out), "--resume"]

    def records() -> list[dict]:
        if fmt == "jsonl":
            return [json.loads(line) for line in out.read_text().splitlines()]
        rows = csv.DictReader(out.open(newline=""))  # a refusal's reason is in the error column too
        return [{k: v for k, v in row.items() if v and not (k == "error" and row["ood"] == "True")} for row in rows]

    assert main(command) == 1
    assert sum("error" in r for r in records()) == 2
    err = resumed(command, nan_for, capsys)
    assert f"{out}: dropping 7 records of inputs the model failed on (scores not finite); they are redone\n" in err
    assert "resuming" in err and "2 records already there" in err, err
    again = records()
    assert Counter(r["path"].rsplit("/", 1)[-1] for r in again) == {"a.jpg": 1, "b.jpg": 1, "c.jpg": 1,
                                                                     "scan.nii.gz": 6}
    assert not [r for r in again if "error" in r], again
    assert main(command) == 0  # all done: nothing dropped, nothing redone
    assert "dropping" not in capsys.readouterr().err and len(records()) == 9


def test_resume_removes_the_heat_maps_of_the_records_it_drops_to_redo(clf, nan_for, stack, tmp_path, capsys):
    """A scan the model failed on one slice of had its other slices' maps; --resume dropped all its records to redo
    it and left those maps in DIR, named by no record, the scan's maps drawn again beside them (scan-slice0-2)."""
    import json
    from pathlib import Path

    from dicom_factory import axial_volume, nifti_bytes

    from braintumor.cli import main
    from braintumor.volume_io import read_volumes

    data = nifti_bytes(axial_volume(stack))
    (tmp_path / "scan.nii.gz").write_bytes(data)
    nan_for(read_volumes(data, name="scan.nii.gz")[0].slices[2])
    out, maps = tmp_path / "out.jsonl", tmp_path / "maps"
    command = ["predict", str(tmp_path / "scan.nii.gz"), "--no-progress", "-o", str(out), "--resume", "--heatmap",
               str(maps)]
    assert main(command) == 1
    assert len(list(maps.iterdir())) == 5  # the slice the model failed on has none
    err = resumed(command, nan_for, capsys)
    assert f"{maps}: removed 5 heat maps of the records dropped; they are drawn again\n" in err
    named = sorted(Path(json.loads(line)["heatmap"]).name for line in out.read_text().splitlines())
    assert named == [f"scan-slice{k}.heatmap.png" for k in range(6)]
    assert sorted(p.name for p in maps.iterdir()) == named


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_resume_after_a_run_without_it_removes_a_relative_dirs_maps_of_the_records_it_drops(clf, nan_for, stack,
                                                                                          tmp_path, capsys,
                                                                                          monkeypatch, fmt):
    """The advice after a model failure, 'run again (with --resume and the same -o FILE)', for a run without --resume
    and a relative --heatmap DIR: its records said no working folder, so --resume kept the dropped records' 5 maps
    ('begun by an older braintumor?') and drew the scan's maps again beside them (scan-slice0-2)."""
    import csv
    import json
    from pathlib import Path

    from dicom_factory import axial_volume, nifti_bytes

    from braintumor.cli import main
    from braintumor.volume_io import read_volumes

    data = nifti_bytes(axial_volume(stack))
    (tmp_path / "scan.nii.gz").write_bytes(data)
    nan_for(read_volumes(data, name="scan.nii.gz")[0].slices[2])
    monkeypatch.chdir(tmp_path)
    out, maps = tmp_path / f"out.{fmt}", tmp_path / "maps"
    command = ["predict", str(tmp_path / "scan.nii.gz"), "--no-progress", "-o", str(out), "--heatmap", "maps"]
    assert main(command) == 1
    assert "run again (with --resume and the same -o FILE" in capsys.readouterr().err
    assert len(list(maps.iterdir())) == 5
    err = resumed([*command, "--resume"], nan_for, capsys)
    assert "maps: removed 5 heat maps of the records dropped; they are drawn again\n" in err, err
    rows = ([json.loads(line) for line in out.read_text().splitlines()] if fmt == "jsonl"
            else list(csv.DictReader(out.open(newline=""))))
    named = sorted(Path(r["heatmap"]).name for r in rows)
    assert named == [f"scan-slice{k}.heatmap.png" for k in range(6)]
    assert sorted(p.name for p in maps.iterdir()) == named


def test_resume_redoes_an_image_named_input_colon_name_alone(clf, nan_for, stack, test_images, tmp_path, capsys):
    """An image ``scans:a.jpg`` the model failed on was taken for a member of the DICOM folder ``scans``: that
    folder's records were dropped and its series scored again with it."""
    import json

    from dicom_factory import series

    from braintumor.cli import main

    scans = tmp_path / "scans"
    scans.mkdir()
    for name, data in series(stack[:3]):
        (scans / name).write_bytes(data)
    image = tmp_path / "scans:a.jpg"
    shutil.copy(test_images["glioma"][0], image)
    nan_for(image)
    out = tmp_path / "out.jsonl"
    command = ["predict", str(scans), str(image), "--no-progress", "-o", str(out), "--resume"]
    assert main(command) == 1
    assert f"{out}: dropping 1 record of inputs the model failed on" in resumed(command, nan_for, capsys)
    assert [json.loads(line)["path"] for line in out.read_text().splitlines()] == [str(scans)] * 3 + [str(image)]


def test_resume_says_no_records_are_there_when_it_dropped_them_all(clf, nan_for, test_images, tmp_path, capsys):
    """A FILE whose every record --resume dropped to redo said 'resuming FILE: 0 records already there'."""
    from braintumor.cli import main

    image = test_images["glioma"][0]
    nan_for(image)
    out = tmp_path / "out.jsonl"
    command = ["predict", str(image), "--no-progress", "-o", str(out), "--resume"]
    assert main(command) == 1
    err = resumed(command, nan_for, capsys)
    assert "dropping 1 record of inputs" in err and "resuming" not in err, err


def test_resume_says_nothing_of_dropping_when_the_unfinished_scan_held_the_failure(clf, nan_for, stack, tmp_path,
                                                                                   capsys):
    """A scan the model failed on a slice of, its run stopped before its last slice: --resume cut the unfinished scan
    off (redone), then said 'dropping 0 records of inputs the model failed on' and rewrote FILE for nothing."""
    import json

    from dicom_factory import axial_volume, nifti_bytes

    from braintumor.cli import main
    from braintumor.volume_io import read_volumes

    data = nifti_bytes(axial_volume(stack))
    (tmp_path / "scan.nii.gz").write_bytes(data)
    nan_for(read_volumes(data, name="scan.nii.gz")[0].slices[2])
    out = tmp_path / "out.jsonl"
    command = ["predict", str(tmp_path / "scan.nii.gz"), "--no-progress", "-o", str(out), "--resume"]
    assert main(command) == 1
    out.write_text("".join(out.read_text().splitlines(keepends=True)[:4]))  # stopped after slice 3
    err = resumed(command, nan_for, capsys)
    assert "is unfinished; it is redone" in err and "dropping" not in err, err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["slice"] for r in records] == list(range(6)) and not [r for r in records if "error" in r]


def test_the_model_failure_line_counts_a_scans_slices_apart_from_inputs(clf, nan_for, stack, test_images, tmp_path,
                                                                         capsys):
    """The line that says the model failed counted a scan's slices as inputs: 'for 6 inputs' of one scan, where the
    lines above it say '6 not analysed' of its slices and the unreadable are counted by part."""
    from dicom_factory import axial_volume, nifti_bytes

    from braintumor.cli import main
    from braintumor.volume_io import read_volumes

    data = nifti_bytes(axial_volume(stack))
    (tmp_path / "scan.nii.gz").write_bytes(data)
    for k in (1, 2):
        nan_for(read_volumes(data, name="scan.nii.gz")[0].slices[k])
    shutil.copy(test_images["glioma"][0], tmp_path / "a.jpg")
    nan_for(tmp_path / "a.jpg")
    assert main(["predict", str(tmp_path / "a.jpg"), str(tmp_path / "scan.nii.gz"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "not finite (NaN or infinite) for 1 input and 2 slices (their records say which): " in err, err
    assert main(["predict", str(tmp_path / "scan.nii.gz"), "--no-progress"]) == 1
    assert "not finite (NaN or infinite) for 2 slices (their records say which): " in capsys.readouterr().err


def test_resume_redoes_a_zips_every_member_when_the_model_failed_on_one(clf, nan_for, stack, tmp_path, capsys):
    """A zip's NIfTI member the model failed on is redone with its zip, by whose name --resume knows it: dropping the
    member's records alone left the zip counted as done by its other member's, and the member was never scored again
    (no test failed with the zip's other records kept)."""
    import json
    import zipfile
    from collections import Counter

    from dicom_factory import axial_volume, nifti_bytes

    from braintumor.cli import main
    from braintumor.volume_io import read_volumes

    a, b = nifti_bytes(axial_volume(stack)), nifti_bytes(axial_volume([s // 2 for s in stack]))  # no slice alike
    with zipfile.ZipFile(tmp_path / "scans.zip", "w") as archive:
        archive.writestr("a.nii.gz", a)
        archive.writestr("b.nii.gz", b)
    nan_for(read_volumes(b, name="b.nii.gz")[0].slices[1])
    out = tmp_path / "out.jsonl"
    command = ["predict", str(tmp_path / "scans.zip"), "--no-progress", "-o", str(out), "--resume"]
    assert main(command) == 1
    assert f"{out}: dropping 12 records of inputs the model failed on" in resumed(command, nan_for, capsys)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert Counter(r["path"].rsplit("/", 1)[-1] for r in records) == {"scans.zip:a.nii.gz": 6, "scans.zip:b.nii.gz": 6}
    assert not [r for r in records if "error" in r]


def test_a_model_failure_past_the_records_is_the_documented_503(clf, stack, monkeypatch, caplog):
    """The app's fallback for a :class:`NonFiniteScores` that no record caught, raised here where a scan's heat maps
    are drawn (web/volumes.py; a failure of the model there keeps the records now: the test below): it was answered
    ``{"error"}`` alone, not the ModelFailure of the OpenAPI document, which has ``results`` (here none: the
    request's records were not kept)."""
    from dicom_factory import axial_volume, nifti_bytes

    from braintumor.web import create_app, volumes
    from braintumor.web.model_failures import MODEL_FAILED

    def failing(*args, **kwargs):
        raise NonFiniteScores(clf.path, 0)

    monkeypatch.setattr(volumes, "_add_heatmaps", failing)
    client = create_app(classifier=clf).test_client()
    data = nifti_bytes(axial_volume(stack))
    r = client.post("/api/v1/predict?heatmap=1", data={"file": [(io.BytesIO(data), "scan.nii.gz")]},
                    content_type="multipart/form-data")
    assert (r.status_code, r.get_json()) == (503, {"error": MODEL_FAILED, "results": []}), r.get_json()
    _matches_the_documented_503(client, r.get_json())
    assert "model failure: " in caplog.text and "scan.nii.gz" not in caplog.text  # the operator's line, no name
    page = client.post("/?heatmap=1", data={"file": [(io.BytesIO(data), "scan.nii.gz")]},
                       content_type="multipart/form-data")
    assert page.status_code == 503 and "text/html" in page.content_type  # the page, with the sentence


def test_a_model_failure_in_a_scans_heat_maps_keeps_its_records_and_says_so(clf, stack, monkeypatch, caplog):
    """A scan's heat maps are drawn with the model run again on its most suspicious slices, after their records were
    scored; a model that failed there (its scores not finite in that pass) lost every record of the scan (503,
    ``"results": []``). The records are answered, the slices the model failed on have no map, and the scan's notes say
    which and why, in the model-failure sentence's terms; the others keep theirs."""
    from dicom_factory import axial_volume, nifti_bytes

    from braintumor import heatmap
    from braintumor.web import create_app, volumes

    real = heatmap.explain_crops

    def failing(clf, crops, infos=None):  # a batch of more than one fails on its first: the last one alone is drawn
        if len(crops) > 1:
            raise NonFiniteScores(clf.path, 0)
        return real(clf, crops, infos)

    monkeypatch.setattr(heatmap, "explain_crops", failing)
    monkeypatch.setattr(volumes, "explain_crops", failing, raising=False)  # where it was called from, before
    client = create_app(classifier=clf).test_client()
    data = nifti_bytes(axial_volume(stack))
    r = client.post("/api/v1/predict?heatmap=1", data={"file": [(io.BytesIO(data), "scan.nii.gz")]},
                    content_type="multipart/form-data")
    body = r.get_json()
    assert r.status_code == 200 and len(body["results"]) == len(stack), body
    assert not [rec for rec in body["results"] if "error" in rec]
    top = [t["slice"] for t in body["series"][0]["summary"]["most_suspicious"]]
    drawn = [rec["slice"] for rec in body["results"] if "heatmap_png_base64" in rec]
    assert len(top) > 1 and drawn == [top[-1]], (top, drawn)
    missing = ", ".join(map(str, sorted(top[:-1])))
    note = body["series"][0]["summary"]["notes"][-1]
    assert note.startswith(f"no heat map for slices {missing}: the server's model gave scores that are not finite")
    assert "tell the server's operator" in note
    assert "model failure: " in caplog.text and "scan.nii.gz" not in caplog.text  # the operator's line, no name
    page = client.post("/?heatmap=1", data={"file": [(io.BytesIO(data), "scan.nii.gz")]},
                       content_type="multipart/form-data")
    assert page.status_code == 200 and f"no heat map for slices {missing}: " in page.get_data(as_text=True)
    monkeypatch.setattr(heatmap, "explain_crops", lambda *args: failing(clf, [0, 0]))  # a scan of one slice: its record
    r = client.post("/api/v1/predict?heatmap=1", data={"file": [(io.BytesIO(nifti_bytes(axial_volume(stack[:1]))),
                                                                 "one.nii.gz")]}, content_type="multipart/form-data")
    (rec,) = r.get_json()["results"]
    assert r.status_code == 200 and rec["label"] and "heatmap_png_base64" not in rec, rec
    assert rec["notes"][-1].startswith("no heat map: the server's model gave scores that are not finite"), rec


def test_a_model_failure_in_a_scans_heat_maps_is_counted_in_the_metrics(clf, stack, monkeypatch):
    """A scan whose heat maps the model failed on (its records answered, its notes saying so) was in no count of
    ``/metrics``: only the log line told the operator. It is a ``model_failure``, once per scan, from the API and the
    page alike, as a file whose record the model failed on is."""
    from dicom_factory import axial_volume, nifti_bytes

    from braintumor import heatmap
    from braintumor.web import create_app

    def failing(clf, crops, infos=None):
        raise NonFiniteScores(clf.path, 0)

    monkeypatch.setattr(heatmap, "explain_crops", failing)
    client = create_app(classifier=clf).test_client()
    data = nifti_bytes(axial_volume(stack))
    for url in ("/api/v1/predict?heatmap=1", "/?heatmap=1"):
        r = client.post(url, data={"file": [(io.BytesIO(data), "scan.nii.gz")]}, content_type="multipart/form-data")
        assert r.status_code == 200 and "no heat map for slices " in r.get_data(as_text=True)
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'braintumor_errors_total{kind="model_failure"} 2.0' in metrics
    assert 'braintumor_errors_total{kind="invalid_image"} 0.0' in metrics
