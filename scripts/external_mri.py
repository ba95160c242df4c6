"""Brain MRI from other scanners that ship inside installed packages: what the model does with them.

    python scripts/external_mri.py [--model FILE]

Unlabelled and few (matplotlib's head MRI, pydicom's and nibabel's MR test files), but not from this dataset:
other scanners, sequences (an fMRI EPI volume, a diffusion mosaic), resolutions (64 px, 2 mm voxels) and formats,
read by the same readers as ``braintumor predict``. Prints per file: slices, refused as unlike brain MRI, the answers
given, and the median OOD score (1 = the refusal threshold). Quoted in docs/RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import _checkout  # noqa: F401  (the checkout's src first: scripts/_checkout.py)
import numpy as np

from braintumor.ood_samples import _package_dir, matplotlib_mri_slice
from braintumor.predictor import Classifier
from braintumor.series import volume_records
from braintumor.volume_io import read_volumes

#: (package, folder inside it, file, what it is)
FILES = [
    ("pydicom", "data/test_files", "MR_small.dcm", "one 64 x 64 MR slice (DICOM)"),
    ("nibabel", "tests/data", "example4d.nii.gz", "fMRI EPI volume, 128 x 96 x 24, first frame (NIfTI)"),
    ("nibabel", "tests/data", "anatomical.nii", "anatomical volume, 33 x 41 x 25 at 2 mm (NIfTI)"),
    ("nibabel", "tests/data", "0.dcm", "diffusion (DTI) image, a mosaic of slices in one frame (DICOM)"),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="ONNX model (default: the shipped one)")
    args = ap.parse_args()
    clf = Classifier.load(args.model)
    print(f"model {clf.path}")
    print(f"{'file':<22} {'what':<62} {'slices':>6} {'refused':>7}  answers (median OOD score)")
    mri = matplotlib_mri_slice()
    if mri is not None:
        p = clf.predict(mri)
        print(f"{'s1045.ima (matplotlib)':<22} {'head MRI, 256 x 256, 16 bit':<62} {1:>6} {int(p.ood):>7}  "
              f"{p.label or 'refused'} ({p.ood_score:.2f})")
    for package, folder, name, what in FILES:
        base = _package_dir(package, folder)
        if base is None or not (base / name).exists():
            print(f"{name:<22} (not installed: {package})")
            continue
        records = [rec for volume in read_volumes(Path(base) / name) for rec, _ in volume_records(clf, volume)]
        refused = sum(bool(r.get("ood")) for r in records)
        answers = Counter(r["label"] for r in records if r.get("label"))
        scores = [r["ood_score"] for r in records if r.get("ood_score") is not None]
        summary = ", ".join(f"{k} {v}" for k, v in answers.most_common()) or "none"
        print(f"{name:<22} {what:<62} {len(records):>6} {refused:>7}  {summary} ({float(np.median(scores)):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
