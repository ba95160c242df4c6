"""A scan's heat maps, on the web page and API and from ``braintumor predict --heatmap``, are drawn of the Slice
itself, checked as its record was: with its DICOM modality and colour, not of its bare pixels (which lost both)."""

from __future__ import annotations

import io
import json

import pytest
from dicom_factory import series, zip_bytes

from braintumor.cli import main
from braintumor.image_io import read_image
from braintumor.model_files import default_model_path
from braintumor.predictor import Classifier

pytestmark = pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")


@pytest.fixture()
def seen(monkeypatch) -> list:
    """The InputInfo of every image the classifier checks (None where a caller gave none)."""
    infos: list = []
    original = Classifier._classify

    def spy(self, batch, given, crops=None):
        infos.extend(given or [None] * len(batch))
        return original(self, batch, given, crops)

    monkeypatch.setattr(Classifier, "_classify", spy)
    return infos


def test_the_web_explains_a_scans_slices_with_their_modality(test_images, seen):
    from braintumor.web import create_app

    gray = read_image(test_images["glioma"][0])
    app = create_app(classifier=Classifier.load(), max_upload_mb=8, max_files=2)
    data = {"file": [(io.BytesIO(zip_bytes(series([gray, gray, gray]))), "series.zip")]}
    body = app.test_client().post("/api/v1/predict?heatmap=1", data=data,
                                  content_type="multipart/form-data").get_json()
    drawn = [r for r in body["results"] if "heatmap_png_base64" in r]
    assert drawn and len(seen) == 3 + len(drawn)  # the slices' records, then their heat maps
    assert [getattr(i, "modality", None) for i in seen] == ["MR"] * len(seen)


def test_predict_heatmap_explains_a_scans_slices_with_their_modality(test_images, tmp_path, capsys, seen):
    gray = read_image(test_images["glioma"][0])
    (tmp_path / "series.zip").write_bytes(zip_bytes(series([gray, gray])))
    maps = tmp_path / "maps"
    assert main(["predict", str(tmp_path / "series.zip"), "--format", "jsonl", "--heatmap", str(maps)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["label"] for r in rows] == ["glioma", "glioma"] and len(list(maps.glob("*.png"))) == 2
    assert len(seen) == 2 + 2 and [getattr(i, "modality", None) for i in seen] == ["MR"] * 4
