"""What a NIfTI volume's voxel values say it is when it is no MRI: CT in Hounsfield units, or a label or segmentation
map (see :mod:`braintumor.nifti_io`, which refuses either before cutting slices).

Why its own module: a NIfTI has no modality field, so these are told by the values alone, with figures measured on
the dataset; the reader itself is about headers, orientation and slices.
"""

from __future__ import annotations

import numpy as np

from .refusal_wording import MRI_ONLY
from .wording import counted

#: Shares of a volume's voxels at air's Hounsfield units (-1030 to -970) and at soft tissue's (-100 to 100) from which
#: it is CT, not MRI: CT of a head has air around it (-1000, or -1024 where scanners clip), brain at 20-45 HU, CSF at
#: 0-15, scalp and muscle at 40-60 and fat near -100; an MRI's values are in arbitrary scanner units, with no reason to
#: gather at -1000. Measured on the dataset's slices made volumes (172 of 16 slices): none is taken for CT stored as
#: 0-255, x16, z-scores, or with scl_inter -1024, nor even z-scores x 1000 or 8 x gray - 1024 (a share of soft tissue
#: of 5% took 23 and 43 of them: the background can fall at -1000 by chance, not with a fifth of the voxels at 0).
CT_AIR_SHARE, CT_TISSUE_SHARE = 0.2, 0.15
#: Most voxels the checks below take at a time, each piece a view of the volume (their masks and sorted copies are a
#: piece's): a near-constant volume, read whole under 2 M voxels, was copied whole at their peak (its values sorted to
#: count the distinct ones, masks of every voxel, the planes sampled: all 4 of a 4-slice volume).
PIECE: int = 65536


def _sampled(raw: np.ndarray) -> np.ndarray:
    """A million of a volume's voxels at most, evenly spread, which decide: a view (K: the Fortran-ordered volume is
    not copied)."""
    return raw.ravel(order="K")[::max(1, raw.size // 1_000_000)]


def _pieces(values: np.ndarray) -> list[np.ndarray]:
    """``values`` (1-D) in views of :data:`PIECE` voxels."""
    return [values[at:at + PIECE] for at in range(0, values.size, PIECE)]


def _distinct(values: np.ndarray, most: int | None = None) -> np.ndarray | None:
    """``values``' distinct values, sorted (as np.unique's, one NaN for all), found a piece at a time; None past
    ``most`` of them. Without ``most``, each piece's are merged once, at the end: merged at every piece, a volume of a
    million distinct values (a label intent over an image's voxels) was sorted again and again, 5 times np.unique's
    time; a map's few values are as few in each piece."""
    if most is None:
        return np.unique(np.concatenate([values[:0], *(np.unique(piece) for piece in _pieces(values))]))
    seen = values[:0]
    for piece in _pieces(values):
        seen = np.union1d(seen, piece)
        if seen.size > most:
            return None
    return seen


def ct_values(raw: np.ndarray, slope: float | None, inter: float | None) -> str | None:
    """Why a volume's voxels (as stored, then scaled by scl_slope and scl_inter) are CT in Hounsfield units, or None.
    A NIfTI has no modality field: a CT volume was cut into slices and classified as MRI (DICOM CT is refused by its
    Modality). Only CT kept in Hounsfield units is recognised: one already windowed to 0-255 is not."""
    values = _sampled(raw)

    def share(low: float, high: float) -> float:  # of the values whose Hounsfield units are in [low, high]
        if slope is not None:  # the bounds in stored units, not the voxels in float64 (a copy of 8 bytes each)
            low, high = sorted(((low - (inter or 0.0)) / slope, (high - (inter or 0.0)) / slope))
        return sum(int(np.count_nonzero((p >= low) & (p <= high))) for p in _pieces(values)) / values.size

    air, tissue = share(-1030, -970), share(-100, 100)
    if air < CT_AIR_SHARE or tissue < CT_TISSUE_SHARE:
        return None
    return (f"NIfTI voxel values look like CT's Hounsfield units, not MRI: {air:.0%} of them at air's -1000 and "
            f"{tissue:.0%} at soft tissue's -100 to 100; {MRI_ONLY}")


#: Most distinct values a label or segmentation map holds for :func:`label_values` to take it for one by its values
#: alone: a tumour's labels (BraTS: 0, 1, 2, 4), a brain or lesion mask (0 and 1, or 0 and 255), tissue classes (CSF,
#: gray and white matter). An MRI volume holds hundreds of values or more (nibabel's test volumes 490 to 9842; each of
#: the dataset's 7019 slices alone 127 gray levels at least).
MAX_LABELS: int = 16
#: Largest label number :func:`label_values` takes by the values alone: labels number classes with small whole
#: numbers from 0, the background; a few values far apart (a blank volume with a bright block) are not taken for a
#: label map.
MAX_LABEL: int = 255
#: Most labels, and largest label number, of a map told by its regions (:data:`LABEL_REGION_SHARE`): FreeSurfer's aseg
#: (about 40 labels to 255), aparc+aseg (about 110 to 2035) and a2009s (to 12175), atlases of hundreds of regions.
MAX_REGION_LABELS, MAX_REGION_LABEL = 2048, 65535
#: Share of in-plane neighbouring voxel pairs off the background (the commonest value) holding one value from which
#: more than :data:`MAX_LABELS` whole numbers are a label map: an image's levels change from voxel to voxel, a map's
#: regions are constant. Measured: the dataset's 7019 slices 0.24 (median) to 0.67 (the most: upscaled 8-bit slices;
#: with 0 taken for the background, not their commonest value, one was 0.81), nibabel's test volumes 0.01 at most;
#: maps of 22 to 1001 labels made from the dataset's slices and in 2 mm atlases' shape 0.80 to 0.94.
LABEL_REGION_SHARE: float = 0.8


#: The header's intent_code values that mark a volume a label map: NIFTI_INTENT_LABEL (each voxel an index into a
#: list of labels, as FreeSurfer and FSL atlases write) and NIFTI_INTENT_NEURONAME (an index into NeuroNames).
LABEL_INTENTS: dict[int, str] = {1002: "NIFTI_INTENT_LABEL", 1003: "NIFTI_INTENT_NEURONAME"}


def label_values(raw: np.ndarray, slope: float | None, inter: float | None, intent: int = 0) -> str | None:
    """Why a volume's voxels (scaled by scl_slope and scl_inter) make a label or segmentation map, not an image, or
    None: whole numbers under a header whose ``intent`` (intent_code) says label (:data:`LABEL_INTENTS`), however
    many; else distinct whole numbers, 0 (the background) the least, either 2 to :data:`MAX_LABELS` of them to
    :data:`MAX_LABEL` at most, or more in regions of one value (:func:`_alike`). Cut into slices, a tumour mask or a
    FreeSurfer aseg was refused only as 'far from every training slice', with no word of what it is."""
    values = _sampled(raw)  # the voxels ct_values decides on
    said = LABEL_INTENTS.get(intent)
    if not said and len(np.unique(values[::max(1, values.size // 4096)])) > MAX_REGION_LABELS:  # an image: told by
        return None  # 4096 voxels
    # more than MAX_REGION_LABELS finite ones (NaN and the infinities aside) is no map, unless the header says so
    stored = _distinct(values, None if said else MAX_REGION_LABELS + 3)
    if stored is None:
        return None
    stored = stored[np.isfinite(stored)] if stored.dtype.kind == "f" else stored
    levels = stored.astype(np.float64)
    if slope is not None:  # the values as read, to float32's precision (the header's slope is a float32: 0.1 is not)
        levels = levels * slope + (inter or 0.0)
        near = np.round(levels)
        levels = np.where(np.abs(levels - near) <= 1e-6 * np.maximum(1.0, np.abs(near)), near, levels)
    whole = len(levels) > 0 and np.array_equal(levels, np.round(levels))
    if said and whole:  # a map whatever its count of labels, or its lowest (a map of one region: 1 alone)
        low, top = float(levels.min()) + 0.0, float(levels.max()) + 0.0  # (+ 0.0: -0.0 said as 0)
        span = f"{low:g}" if low == top else f"{low:g} to {top:g}"
        return (f"NIfTI header marks its voxels labels (intent_code {intent}, {said}), and they hold "
                f"{counted(len(levels), 'distinct whole number')}, {span}: a label or segmentation map, not an image; "
                f"{MRI_ONLY}")
    if len(levels) < 2 or not whole or levels.min() != 0:  # one value: blank
        return None
    top = float(levels.max())
    if len(levels) <= MAX_LABELS and top <= MAX_LABEL:
        return (f"NIfTI voxels hold only {len(levels)} distinct whole numbers, 0 to {top:g}: a label or segmentation "
                f"map, not an image; {MRI_ONLY}")
    if len(levels) > MAX_REGION_LABELS or top > MAX_REGION_LABEL:
        return None
    common, counts = np.unique(values[::max(1, values.size // 65536)], return_counts=True)  # (64 k voxels tell)
    alike = _alike(raw, common[int(np.argmax(counts))])  # off the commonest value: a map's 0, a slice's background
    if alike is None or alike < LABEL_REGION_SHARE:
        return None
    return (f"NIfTI voxels hold {len(levels)} distinct whole numbers, 0 to {top:g}, in regions of one value "
            f"({alike:.0%} of neighbouring voxels alike; an image's differ): a label or segmentation map, not an "
            f"image; {MRI_ONLY}")


def _alike(raw: np.ndarray, background: float) -> float | None:
    """The share of in-plane neighbouring voxel pairs off ``background`` (both) holding one value, in up to 16 slices
    spread along the file's third axis; None with under 256 such pairs (too few to tell). Each slice a view, taken
    in blocks of rows of about :data:`PIECE` voxels."""
    planes = raw.reshape(*raw.shape[:2], -1)
    same = pairs = 0
    for z in np.unique(np.linspace(0, planes.shape[2] - 1, 16).astype(int)):
        plane = planes[:, :, z]
        rows = max(1, PIECE // plane.shape[1])
        for top in range(0, plane.shape[0], rows):
            block = plane[top:top + rows + 1]  # and the next block's first row: the pairs down across them
            for a, b in ((block[1:], block[:-1]), (block[:rows, 1:], block[:rows, :-1])):
                both = (a != background) & (b != background)
                pairs += int(np.count_nonzero(both))
                same += int(np.count_nonzero(both & (a == b)))
    return same / pairs if pairs >= 256 else None
