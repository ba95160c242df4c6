"""The JSON examples in README.md, docs/CLI.md, docs/SCANS.md and docs/WEB.md against the records the code writes
today: every record the docs show (an answer, a refusal, an error, a DICOM slice, a series summary) has exactly the
fields, in the order, that ``braintumor predict --format jsonl`` (whose lines the API returns) gives for such an
input."""

from __future__ import annotations

import contextlib
import io
import json
import re

import numpy as np
import pytest
from conftest import REPO, encode, extra_reason
from PIL import Image

from braintumor.cli import main
from braintumor.model_files import default_model_path

MODEL = default_model_path()
pytestmark = pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}")
#: Each doc with JSON examples, and how many records at least its examples show (README keeps its API answer only:
#: the jsonl, refusal, error and DICOM records are in docs/CLI.md and docs/SCANS.md).
DOCS = {"README.md": 1, "docs/CLI.md": 3, "docs/SCANS.md": 1, "docs/WEB.md": 3}


def _loads(text: str):
    """An example as the docs write it: ``{...}`` and a trailing ``...`` in a list stand for more of the same."""
    text = text.replace("{...}", "{}")
    text = re.sub(r",\s*\.\.\.\s*\]", "]", text)
    return json.loads(text)


def doc_examples(doc: str) -> list:
    """Every JSON value in the doc's code blocks: a block's JSON lines as one value, else each line that parses."""
    found = []
    for block in re.findall(r"```(?:json|bash)\n(.*?)```", (REPO / doc).read_text(), re.S):
        lines = [re.sub(r" HTTP \d+$", "", line.strip()) for line in block.splitlines()]
        lines = [line for line in lines if line[:1] in tuple('{["}].')]  # not a command ($ curl ..., | python ...)
        try:
            found.append(_loads("\n".join(lines)))
        except json.JSONDecodeError:
            for line in lines:
                with contextlib.suppress(json.JSONDecodeError):
                    found.append(_loads(line))
    return found


def records(value) -> list[dict]:
    """The per-input records and summaries inside an example (an API answer or jsonl lines)."""
    if isinstance(value, list):
        return [r for v in value for r in records(v)]
    if not isinstance(value, dict):
        return []
    if "path" in value:
        return [value]
    return records(value.get("results", [])) + records(value.get("series", []))


def kind(record: dict) -> str:
    for key in ("summary", "error", "dicom", "reason"):
        if key in record:
            return key
    return "answer"


@pytest.fixture(scope="module")
def real(data_root, tmp_path_factory) -> dict[str, dict]:
    """One real record of each kind, from the shipped model through the CLI."""
    from dicom_factory import series, zip_bytes

    root = tmp_path_factory.mktemp("docs")
    gliomas = sorted((data_root / "Testing" / "glioma").glob("*.jpg"))[:3]
    slices = [np.asarray(Image.open(p).convert("L")) for p in gliomas]
    (root / "scan.png").write_bytes(encode(slices[0]))
    colour = np.zeros((200, 200, 3), np.uint8)
    colour[..., 0] = 200
    (root / "cat.png").write_bytes(encode(colour))
    (root / "notes.jpg").write_text("not an image")
    (root / "series.zip").write_bytes(zip_bytes(series(slices)))
    out = root / "out.jsonl"
    main(["predict", *(str(root / n) for n in ("scan.png", "cat.png", "notes.jpg", "series.zip")),
          "--summary", "--format", "jsonl", "-o", str(out), "--no-progress"])
    got = [json.loads(line) for line in out.read_text().splitlines()]
    return {kind(r): r for r in reversed(got)}  # the first record of each kind


@pytest.mark.parametrize("doc", DOCS)
def test_every_json_record_in_the_docs_has_the_fields_of_a_real_one(doc, real):
    shown = [r for example in doc_examples(doc) for r in records(example)]
    assert len(shown) >= DOCS[doc], f"{doc}: the examples were not found"
    problems = []
    for rec in shown:
        k = kind(rec)
        like = real[k]
        if k == "dicom" and "slice" not in rec:
            like = {key: v for key, v in like.items() if key != "slice"}  # a single-frame file: no slice number
        if list(rec) != list(like):
            problems.append(f"{k} record {list(rec)} but the code writes {list(like)}")
        for sub in ("dicom", "summary"):
            if sub in rec and list(rec[sub]) != [key for key in like[sub] if key != "frame"]:
                problems.append(f"{sub} {list(rec[sub])} but the code writes {list(like[sub])}")
    assert problems == [], doc


def test_web_md_options_table_names_every_serve_option():
    import argparse

    from braintumor.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    options = {a.option_strings[-1] for a in sub.choices["serve"]._actions if a.option_strings[-1] != "--help"}
    table = (REPO / "docs/WEB.md").read_text().split("## Run it", 1)[1].split("\n\n", 2)[2].split("\n\n", 1)[0]
    assert set(re.findall(r"^\| `(--[a-z-]+)`", table, re.M)) == options


def _mib(n: int) -> str:
    """A limit of ``n`` bytes, a whole number of MiB, as the docs state one: "512 MiB (536,870,912 bytes)"."""
    assert n % 2**20 == 0
    return f"{n >> 20} MiB ({n:,} bytes"


def test_web_md_states_every_limit_of_a_request():
    """The limits, binary in the code, are stated exactly: the zip's "512 MB" beside its "16 MiB" read as 512 x 10^6
    bytes, and a DICOM member's "1 MB" (10^6 bytes in zip_io) looked like the same unit as both."""
    from braintumor.dicom_bounds import MAX_HEADER_BYTES
    from braintumor.image_io import MAX_FILE_BYTES, MAX_PIXELS, MAX_REQUEST_PIXELS
    from braintumor.upload_limits import DEFAULT_MAX_UPLOAD_MB
    from braintumor.volume_io import MAX_SLICES, MAX_VOLUME_BYTES
    from braintumor.web.inference import MAX_FILES
    from braintumor.zip_io import ZIP_RATIO_FLOOR

    text = (REPO / "docs/WEB.md").read_text()
    limits = " ".join(text.split("- **Limits**", 1)[1].split("\n- ", 1)[0].split())
    for said in (f"{_mib(DEFAULT_MAX_UPLOAD_MB << 20)}) per request", f"{MAX_FILES} files per request",
                 f"{MAX_SLICES} slices per request", f"{MAX_PIXELS // 10**6} million pixels per image",
                 f"{_mib(MAX_FILE_BYTES)}) per image file",
                 f"{MAX_REQUEST_PIXELS // 10**6} million pixels per request",
                 f"unpacked to at most {_mib(MAX_VOLUME_BYTES)};", f"past {_mib(ZIP_RATIO_FLOOR)})",
                 f"header (what comes before its pixel data) over {_mib(MAX_HEADER_BYTES)})"):
        assert said in limits, said
    assert not re.search(r"\d MB\b", limits)
    scans = " ".join((REPO / "docs/SCANS.md").read_text().split("## Refused, with a precise message", 1)[1].split())
    assert f"over {_mib(MAX_VOLUME_BYTES)}) unpacked" in scans and "over 512 MB" not in scans


def test_readme_audit_block_has_the_lines_the_command_prints(tmp_path, capsys):
    from test_audit import build_tree

    def labels(text: str) -> list[str]:
        return [re.match(r"[A-Za-z][A-Za-z -]*", line).group(0).strip() for line in text.splitlines()
                if line[:1] not in ("", " ", "$")]  # not a detail line, not the command

    block = (REPO / "README.md").read_text().split("$ braintumor data audit", 1)[1].split("```", 1)[0]
    assert main(["data", "audit", "--data", str(build_tree(tmp_path / "data")), "--out", str(tmp_path / "audit.json"),
                 "--no-progress"]) == 0
    assert labels("$" + block) == labels(capsys.readouterr().out)


def test_cli_reference_heatmap_names_are_the_files_predict_writes(data_root, tmp_path):
    """README (now docs/CLI.md) said nothing of where ``--heatmap DIR`` puts its overlays (a user counted 281 PNGs for
    306 inputs); the names it now gives are the files written for two ``scan`` images, a 4-slice ``head.nii.gz``, a
    ``con.jpg`` (a Windows device name) and a refused image."""
    from dicom_factory import axial_volume, nifti_bytes

    said = (REPO / "docs/CLI.md").read_text().split("`--heatmap DIR` also writes", 1)[1].split("\n\n", 1)[0]
    names = set(re.findall(r"`([\w-]+\.heatmap\.png)`", said))
    gliomas = sorted((data_root / "Testing" / "glioma").glob("*.jpg"))[:4]
    slices = [np.asarray(Image.open(p).convert("L")) for p in gliomas]
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "scan.jpg").write_bytes(gliomas[0].read_bytes())
    (tmp_path / "con.jpg").write_bytes(gliomas[0].read_bytes())
    (tmp_path / "head.nii.gz").write_bytes(nifti_bytes(axial_volume(slices)))
    colour = np.zeros((200, 200, 3), np.uint8)
    colour[..., 0] = 200
    (tmp_path / "cat.png").write_bytes(encode(colour))
    out = tmp_path / "maps"
    assert main(["predict", *(str(tmp_path / n) for n in ("a/scan.jpg", "b/scan.jpg", "head.nii.gz", "con.jpg",
                                                            "cat.png")),
                 "--heatmap", str(out), "--format", "jsonl", "-o", str(tmp_path / "r.jsonl"), "--no-progress"]) == 0
    written = {p.name for p in out.iterdir()}
    assert len(names) == 4 and names <= written and not any(n.startswith("cat") for n in written)
    records = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [r.get("heatmap") is not None for r in records] == [True] * 7 + [False]


def test_training_md_cost_table_has_every_architecture_at_its_cost():
    """docs/TRAINING.md's table of `python benchmarks/model_cost.py` lacked ``tumornet-s-se`` after it joined
    ``model.MODELS``: every registered architecture is a row, with the parameters and multiply-adds it has."""
    pytest.importorskip("torch", reason=extra_reason("torch"))
    from braintumor.model import MODELS, count_multiply_adds, count_parameters, create_model

    text = (REPO / "docs/TRAINING.md").read_text()
    table = text.split("python benchmarks/model_cost.py`", 1)[1].split("\n\n", 2)[1]
    rows = {m[0]: m[1:] for m in re.findall(r"^\| ([\w-]+) \| ([\d,]+) \| ([\d.]+) \|", table, re.M)}
    got = {}
    for name in MODELS:
        model = create_model(name)
        got[name] = (f"{count_parameters(model):,}", f"{count_multiply_adds(model, 160) / 1e6:.1f}")
    assert rows == got
    named = re.search(r"behind `MODELS`:(.*?)\. `tumornet-xs` trains", " ".join(text.split()), re.S).group(1)
    assert set(re.findall(r"`(tumornet[\w-]*)`", named)) == set(MODELS)


def test_web_md_curl_status_lines_are_what_curl_prints(data_root):
    """docs/WEB.md showed ``{...} HTTP 400`` on one line for ``curl -w ' HTTP %{http_code}\\n'``: the server's JSON
    ends with a newline, so curl printed the status on a line of its own. Each such example is replayed through the
    app (shipped model; ``notes.jpg`` a text file, ``scan.jpg`` a test slice) and its output compared whole."""
    from braintumor.predictor import Classifier
    from braintumor.web import create_app

    client = create_app(classifier=Classifier.load(threads=1)).test_client()
    files = {"notes.jpg": b"not an image", "scan.jpg": sorted((data_root / "Testing" / "glioma").glob("*.jpg"))[0]}
    text = (REPO / "docs/WEB.md").read_text()
    examples = re.findall(r"^\$ curl -s -w '([^']*)' -F (\w+)=@([\w.]+) http://127.0.0.1:5000(\S+)\n(.*?)(?=^\$|^```)",
                          text, re.M | re.S)
    assert len(examples) >= 2
    for fmt, field, name, url, shown in examples:
        data = files[name] if isinstance(files[name], bytes) else files[name].read_bytes()
        r = client.post(url, data={field: (io.BytesIO(data), name)}, content_type="multipart/form-data")
        assert shown == r.get_data(as_text=True) + fmt.replace("%{http_code}", str(r.status_code)).replace("\\n", "\n")


def test_web_md_says_which_paths_answer_errors_in_json():
    """docs/WEB.md's status table promised ``{"error": ...}`` for any unknown path; ``curl /nope`` got the HTML page
    (with the message in it): JSON is for ``/api/``, ``/healthz`` and ``/metrics``."""
    from braintumor.predictor import Classifier
    from braintumor.web import create_app

    client = create_app(classifier=Classifier.load(threads=1)).test_client()
    for method, path in (("get", "/api/v1/nope"), ("delete", "/healthz"), ("post", "/metrics"), ("get", "/api"),
                         ("delete", "/healthz/")):
        assert getattr(client, method)(path).get_json()["error"], path
    page = client.get("/nope")
    assert page.status_code == 404 and page.mimetype == "text/html" and b"not found" in page.data
    row = next(line for line in (REPO / "docs/WEB.md").read_text().splitlines() if line.startswith("| 404, 405, 500"))
    assert all(said in row for said in ("`/api/`", "`/api` itself", "trailing slash", "another path gets the page"))


def test_readme_dates_the_committed_report_as_its_metrics_do():
    """README said the committed report was remade on 2026-12-05; its metrics.json was written on 2026-12-06."""
    created = json.loads((REPO / "docs/evaluation/metrics.json").read_text())["created"][:10]
    said = re.search(r"The committed report was remade on (\d{4}-\d\d-\d\d)", " ".join((REPO / "README.md").read_text()
                                                                                       .split())).group(1)
    assert said == created


def test_training_md_reproduction_serves_the_rerun_as_the_shipped_file_is_served():
    """docs/TRAINING.md's "Reproducing a run" exported the rerun and compared it with the shipped file at once:
    ``compare_runs.py --models`` refuses two files that preprocess differently (exit 2), and the shipped file was
    calibrated with a background percentile export does not set. The block calibrates the rerun as the shipped file."""
    from braintumor.predictor import Classifier

    block = (REPO / "docs/TRAINING.md").read_text().split("## Reproducing a run", 1)[1].split("```bash\n", 1)[1]
    lines = block.split("```", 1)[0].splitlines()
    compare = next(i for i, line in enumerate(lines) if "compare_runs.py --models" in line)
    compared = lines[compare].split("--models", 1)[1].split()[1]
    calibrated = [line for line in lines[:compare] if line.startswith(f"braintumor calibrate {compared} ")]
    percentile = Classifier.load(MODEL).preprocess_config.background_percentile
    assert calibrated and re.search(rf"--background-percentile {percentile:g}(\s|$)", calibrated[-1])


def test_cli_reference_csv_columns_are_the_ones_predict_writes(test_images, tmp_path):
    """docs/CLI.md's (README's before) csv header is csv_records.csv_columns, and the columns after it (``--heatmap``'s,
    a ``--resume`` run's working folder) are in its order: README called ``series`` csv's last column, where a
    ``--heatmap`` run puts ``heatmap`` after it and a ``--resume`` run ``working_folder`` last."""
    from braintumor.predict_output import HEATMAP_KEY
    from braintumor.resume_folders import ROOT_KEY

    text = " ".join((REPO / "docs/CLI.md").read_text().split())
    usual = re.search(r"under the header `([^`]+)`", text).group(1).split(", ")
    assert f"(csv: a `{HEATMAP_KEY}` column after the usual ones" in text
    out = tmp_path / "r.csv"
    assert main(["predict", str(test_images["glioma"][0]), "-o", str(out), "--resume", "--heatmap",
                 str(tmp_path / "maps"), "--no-progress"]) == 0
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == [*usual, HEATMAP_KEY, ROOT_KEY]
    said_last = re.findall(r"csv's last column, `(\w+)`", text) + re.findall(r"`(\w+)` \([^()]*csv's last column", text)
    assert said_last and set(said_last) == {header[-1]}, said_last
    # the column each doc places one after: SCANS.md called ``series`` "the last of the usual ones" and CLI.md put
    # ``working_folder`` "after ``series``" once ``note`` had come after it
    scans = " ".join((REPO / "docs/SCANS.md").read_text().split())
    series_after = re.search(r"csv's `series` column \(after `(\w+)`", scans)
    assert series_after and series_after.group(1) == usual[usual.index("series") - 1]
    folder_after = re.search(r"csv's last column, after `(\w+)`", text)
    assert folder_after and folder_after.group(1) == usual[-1]


def test_cli_reference_places_the_columns_of_evaluates_predictions_csv_as_written(tmp_path):
    """docs/CLI.md called ``refused_turned`` predictions.csv's last column and, in the same sentence, put ``note``
    after it: the columns it places are the last four ``write_predictions`` writes (a run with the leak check)."""
    from pathlib import Path

    from braintumor.classes import CLASSES
    from braintumor.evaluation_predictions import write_predictions

    no = np.array([False])
    written = write_predictions(tmp_path, [Path("a.png")], np.array([0]), np.eye(len(CLASSES))[:1], CLASSES,
                                refused=no, scores=np.array([0.5]), review=no, leak_free=np.array([True]), side=no,
                                noted=no)
    header = written.read_text(encoding="utf-8").splitlines()[0].split(",")
    text = " ".join((REPO / "docs/CLI.md").read_text().split())
    said = re.search(r"`refused_turned` 1/0, after `(\w+)` \(and `(\w+)`, below\)[^;]*; last, `(\w+)`", text)
    assert said and header[-4:] == [said[1], said[2], "refused_turned", said[3]], header

def _tensor() -> object:
    """A torch tensor of an image, where torch is installed (the ``[train]`` extra), else what stands for one: an
    object numpy makes an array of, as it does of a tensor (README did not say whether predict takes one)."""
    try:
        import torch
    except ImportError:
        return type("Tensor", (), {"__array__": lambda self, *a, **k: np.zeros((96, 96), np.uint8)})()
    return torch.zeros((96, 96), dtype=torch.uint8)


def test_readme_python_api_names_the_error_each_wrong_argument_raises(clf, tmp_path):
    """README listed "a folder name" among the arguments that raise TypeError, but ``predict(folder)`` raises
    ImageError (a ValueError): a user's ``except TypeError`` around it, as README taught, let it through."""
    from braintumor.image_io import ImageError

    text = " ".join((REPO / "README.md").read_text().split())
    said = text[text.index("Unusable input raises `ImageError`"):]
    said = said[:said.index("raises `TypeError`")]
    image_part, type_part = said.split("a wrong kind of argument")
    png = tmp_path / "a.png"
    png.write_bytes(encode(np.full((96, 96), 128, np.uint8), "PNG"))
    with open(png) as text_file:
        cases = {"a folder's name handed to `predict`": (ImageError, image_part, [lambda: clf.predict(str(tmp_path))]),
                 "a list, None, a torch tensor or a file opened in text mode handed to `predict`":
                     (TypeError, type_part, [lambda: clf.predict([str(png)]), lambda: clf.predict(None),
                                             lambda: clf.predict(text_file), lambda: clf.predict(_tensor())]),
                 "one name, a `Volume`, one `Slice` or None given to `predict_many`":
                     (TypeError, type_part, [lambda: list(clf.predict_many(str(tmp_path))),
                                             lambda: list(clf.predict_many(str(png))),
                                             lambda: clf.predict_many(None)])}
        for words, (error, part, calls) in cases.items():
            assert words in part, f"README no longer says which error {words!r} raises"
            for call in calls:
                with pytest.raises(error):
                    call()


def test_readme_names_each_kind_of_body_the_api_takes(data_root, tmp_path):
    """README's one-file-as-the-body sentence named image/*, octet-stream and dicom only: a series' zip or a .nii.gz
    sent so (application/zip, application/gzip) is answered too, which a reader of README could not know."""
    import gzip
    import zipfile

    from braintumor.web import create_app
    from braintumor.web.inference import RAW_TYPES

    text = " ".join((REPO / "README.md").read_text().split())
    said = text[text.index("One file can also be the whole body"):]
    said = said[:said.index("the type is sniffed")]
    kinds = {t for t in RAW_TYPES if "/x-" not in t}  # x-zip, x-gzip: other tools' names of the same two
    assert {t for t in kinds if t in said} == kinds, said
    path = sorted((data_root / "Testing" / "glioma").glob("*.jpg"))[0]
    volume = _nifti_bytes(np.asarray(Image.open(path).convert("L")))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("head.nii", volume)
    bodies = {"image/jpeg": path.read_bytes(), "application/octet-stream": path.read_bytes(),
              "application/zip": buf.getvalue(), "application/gzip": gzip.compress(volume)}
    client = create_app().test_client()
    for kind, body in bodies.items():
        answer = client.post("/api/v1/predict", data=body, headers={"Content-Type": kind, "Host": "localhost"})
        assert answer.status_code == 200 and "error" not in answer.get_json()["results"][0], (kind, answer.get_json())


def _nifti_bytes(gray: np.ndarray) -> bytes:
    """A NIfTI-1 volume of three copies of ``gray``, upright as the reader shows an axial slice."""
    import nibabel as nib

    return nib.Nifti1Image(np.stack([np.flipud(gray).T] * 3, axis=2).astype(np.int16), np.eye(4)).to_bytes()


def test_scans_md_names_every_field_of_a_nifti_slices_metadata():
    """SCANS.md said a NIfTI slice's ``nifti`` metadata was described below, and named only file_index and file_axis
    (and plane): shape, voxel_mm, orientation, source_orientation, volumes and the slice's position in mm were in the
    records unexplained. Both an axial volume's and one read in its own (coronal) plane are checked."""
    from dicom_factory import nifti_bytes

    from braintumor.volume_io import read_volumes

    section = (REPO / "docs/SCANS.md").read_text().split("### NIfTI volumes", 1)[1].split("\n### ", 1)[0]
    rng = np.random.default_rng(0)  # noise: not a label map, which is refused
    axial = rng.integers(0, 1000, (64, 64, 3)).astype(np.int16)
    coronal = rng.integers(0, 1000, (64, 2, 64)).astype(np.int16)  # 0.5 x 5 x 0.5 mm: read in its own plane
    keys = set()
    for volume, zooms in ((axial, None), (coronal, (0.5, 5.0, 0.5))):
        affine = None if zooms is None else np.diag([*zooms, 1.0])
        keys |= set(read_volumes(nifti_bytes(volume, affine), "v.nii.gz")[0].slices[0].meta["nifti"])
    assert "plane" in keys and {"y_mm", "z_mm"} <= keys
    assert [k for k in sorted(keys) if f"`{k}`" not in section] == []
