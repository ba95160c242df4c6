"""A custom model's class names in its CSV (the header's class columns and each answer's label) are formula-safe as
the other text cells are (csv_records.csv_text): a class named '=HYPERLINK(...)' was a formula in a spreadsheet.
``--resume`` reads them back as the model names them."""

from __future__ import annotations

import csv
import io
import shutil

import pytest
from cli_runner import run_cli
from test_model_loading import _shipped_copy

CLASSES = ["=glioma", "+meningioma", "-notumor", "@pituitary"]


def test_class_names_are_formula_safe_and_read_back_on_resume(tmp_path, test_images, capsys):
    model = _shipped_copy(tmp_path, CLASSES)
    images = [shutil.copy(test_images[c][0], tmp_path / f"{c}.jpg") for c in ("glioma", "pituitary")]
    out = tmp_path / "out.csv"
    rc, _, err = run_cli(["predict", str(images[0]), "--model", str(model), "--format", "csv", "-o", str(out)], capsys)
    assert rc == 0, err
    rc, _, err = run_cli(["predict", *map(str, images), "--model", str(model), "--format", "csv", "-o", str(out),
                          "--resume"], capsys)
    assert rc == 0 and "Traceback" not in err, err
    rows = list(csv.reader(out.read_text().splitlines()))
    assert rows[0][3:7] == ["'" + c for c in CLASSES], rows[0]
    assert len(rows) == 3 and all(row[1].startswith("'") and row[1][1:] in CLASSES for row in rows[1:]), rows
    assert "may hold another model's answers" not in err, err  # its label and scores read back as the model's
    from braintumor.batch_resume import read_previous

    sample = read_previous(out, "csv", tuple(CLASSES)).sample  # what check_same_model compares the model with
    assert sample["label"] in CLASSES and all(c in sample for c in CLASSES), sample


def test_the_pages_download_fills_formula_safe_class_columns_as_csv_row(server, chromium):
    """static/text.js's csvRow under the server's columns (csv_columns): a custom model's class columns were looked
    up by their guarded names (blank) and its label written bare."""
    from test_browser import CHROMIUM, open_page

    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"no chromium at {CHROMIUM}")
    from braintumor.csv_records import CsvRows, csv_columns, csv_row

    rec = {"path": "a.jpg", "label": "=glioma", "confidence": 0.5, "ood": False, "ood_score": 1.5,
           "probabilities": {"=glioma": 0.5, "+meningioma": 0.25, "-notumor": 0.125, "@pituitary": 0.125}}
    page, _ = open_page(chromium, server, 1024, 800)
    got = page.evaluate("([r, c]) => window.braintumorText.csvRow(r, c)", [rec, csv_columns(CLASSES)])
    page.close()
    written = io.StringIO()
    CsvRows(written).writerow(csv_row(rec, CLASSES))
    assert got == written.getvalue().rstrip("\n")


def test_the_pages_download_header_is_the_clis_for_class_names_with_commas(tmp_path, test_images, chromium, capsys):
    """The page got its CSV columns as one comma-joined attribute split at each comma: a custom model's class named
    'a,b' became two columns, and the header, written unquoted, was not the CLI's (every row then one cell short)."""
    from test_browser import CHROMIUM, serve_in_thread, sync_api

    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"no chromium at {CHROMIUM}")
    from braintumor.predictor import Classifier
    from braintumor.web import create_app

    classes = ["glioma, grade 4", 'mening"ioma', "no tumour", "pituitary"]
    model = _shipped_copy(tmp_path, classes)
    image = shutil.copy(test_images["glioma"][0], tmp_path / "g.jpg")
    out = tmp_path / "cli.csv"
    rc, _, err = run_cli(["predict", str(image), "--model", str(model), "--format", "csv", "-o", str(out)], capsys)
    assert rc == 0, err
    with serve_in_thread(create_app(classifier=Classifier.load(model, threads=1))) as url:
        page = chromium.new_page()
        page.goto(url)
        page.set_input_files("#file-input", [str(image)])
        sync_api.expect(page.locator("#downloads")).to_be_visible(timeout=30_000)
        with page.expect_download() as info:
            page.click("#download-csv")
        got = info.value.path().read_text()
        page.close()
    cli = out.read_text()
    assert got.splitlines()[0] == cli.splitlines()[0], (got, cli)
    rows = list(csv.reader(io.StringIO(got)))
    assert rows[0][3:7] == classes and len(rows[1]) == len(rows[0]), rows
