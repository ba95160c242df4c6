"""Which plane a NIfTI volume's slices are cut in, by its shape and voxel sizes: axial as a rule, a 2-D coronal or
sagittal acquisition (thick slices) in its own plane, and a slab too thin to cut axially along its thin axis.

Why its own module: the one rule (:func:`cut_axis`) is about the volume's geometry, apart from reading its header
and scaling its slices (:mod:`braintumor.nifti_io`, which cuts where this says).
"""

from __future__ import annotations

import math

import numpy as np

from .slice_pixels import MAX_VOXEL_ASPECT, far_from_square
from .wording import counted

#: The plane of the slices cut along each RAS axis.
PLANES = ("sagittal", "coronal", "axial")
#: An axial cut whose slices are narrower than this (pixels) is a thin non-axial slab, cut in its own plane instead;
#: nor is a coronal or sagittal acquisition cut in its own plane unless its slices are at least this wide and high.
MIN_PLANE_SIDE = 32
#: A voxel size at least this many times each of the other two marks the slice direction of a 2-D acquisition (5 mm
#: slices of 0.5 mm pixels: 10); a 3-D T1 of 1 x 1 x 1.2 mm, or 1 x 1 x 1.5, is no such thing.
THICK_SLICE_RATIO: float = 2.0
#: Most times one in-plane voxel size may be the other's for them to be the pixels of one acquired plane (MR pixels
#: are square or nearly so).
IN_PLANE_RATIO: float = 1.5


def cut_axis(shape: tuple[int, ...], zooms: tuple[float, ...]) -> tuple[int, str | None]:
    """The RAS axis the slices are cut along, and why when it is not 2 (axial, inferior to superior): the one rule.

    A coronal or sagittal 2-D acquisition (24-40 slices of 0.5 x 0.5 mm, 5 mm apart, ``zooms`` in RAS order) cut
    axially gave slices of 6 x 256 pixels, resampled into strips and refused as unlike MRI, while its own slices are
    good images: it is cut along its thick axis. A slab too thin to cut axially (a single coronal image stored as
    (160, 1, 200) gave 200 slices of 1 x 160 pixels) is cut along its thin axis. Anything else, an axial stack of
    thick slices or a near-isotropic 3-D volume included, is cut axially as it always was."""
    nx, ny, nz = shape[:3]
    thick = _thick_axis(zooms)
    if thick is not None and thick != 2 and min(n for a, n in enumerate(shape[:3]) if a != thick) >= MIN_PLANE_SIDE:
        inplane = " x ".join(f"{round(z, 4):g}" for a, z in enumerate(zooms[:3]) if a != thick)
        return thick, (f"{counted(shape[thick], PLANES[thick] + ' slice')} {round(zooms[thick], 4):g} mm apart of "
                       f"{inplane} mm pixels, a {PLANES[thick]} acquisition: classified in their own plane, not cut "
                       f"axially into strips (the model learned mostly axial slices)")
    thin = 0 if nx <= ny else 1
    if min(nx, ny) >= MIN_PLANE_SIDE or min(shape[1 - thin], nz) < MIN_PLANE_SIDE:  # no better plane: as before
        return 2, None
    return thin, (f"{counted(shape[thin], PLANES[thin] + ' slice')}, too thin a slab to cut axially: classified in "
                  f"their own plane (the model learned mostly axial slices)")


def _thick_axis(zooms: tuple[float, ...]) -> int | None:
    """The RAS axis of a thick-slice acquisition's slice direction, by its voxel sizes, or None (near-isotropic, no
    two sizes alike, or sizes past :data:`MAX_VOXEL_ASPECT` apart, which are not believed)."""
    mm = [float(z) for z in zooms[:3]]
    if len(mm) < 3 or not all(0 < z < math.inf for z in mm):
        return None
    thick = int(np.argmax(mm))
    a, b = (z for k, z in enumerate(mm) if k != thick)
    if mm[thick] < THICK_SLICE_RATIO * max(a, b) or max(a, b) > IN_PLANE_RATIO * min(a, b) \
            or far_from_square(mm[thick], min(a, b), MAX_VOXEL_ASPECT):
        return None
    return thick
