"""evaluate (or train) pointed at a folder of unlabelled images: the error says what layout is needed, and that
predict is the command for images without labels."""

from __future__ import annotations

from pathlib import Path

from conftest import encode, synthetic_head

from braintumor.cli import main


def test_a_flat_folder_of_images_is_told_the_layout_and_predict(tmp_path: Path, capsys) -> None:
    """A research group ran `braintumor evaluate --data scans/` on their images and read "no 'Testing' folder and no
    class folders in scans": neither what a class folder is named nor that unlabelled images are predict's job."""
    root = tmp_path / "scans"
    root.mkdir()
    for k in range(2):
        (root / f"img{k}.png").write_bytes(encode(synthetic_head(64, seed=k)))
    assert main(["evaluate", "--data", str(root), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (
        f"error: no 'Testing' folder and no class folders in {root}: labelled images go in folders named after their "
        "class (glioma, meningioma, notumor, pituitary), as ROOT/Testing/glioma/ or ROOT/glioma/; 'braintumor "
        "predict' classifies images without labels\n")
