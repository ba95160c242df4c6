"""How large a request the web app takes, in MiB (2**20 bytes, whatever the option's "mb" says): the one rule for
``serve --max-upload-mb`` (:mod:`braintumor.cli_types`) and :func:`braintumor.web.create_app`'s ``max_upload_mb``.

Its own module because the web app checks it too, and the web app loads none of the command line's modules.
"""

from __future__ import annotations

import math
import numbers

from .volume_io import MAX_VOLUME_BYTES

#: Default cap on one request's body (all files together), in MiB: room for a DICOM series or NIfTI volume. Here, not
#: in the web app, so that ``serve --help`` says it without loading Flask.
DEFAULT_MAX_UPLOAD_MB: int = 128

#: A value that is no number over 0 (also :func:`braintumor.cli_types.positive_float`'s words).
NOT_POSITIVE = "must be a number more than 0, got {}"
#: A value that is infinite or NaN: "more than 0" alone was said of ``--request-timeout inf``, which is more than 0.
NOT_FINITE = "must be a finite number more than 0, got {}"

#: Smallest ``--max-upload-mb``, 0.001 MiB (about 1 kB): 1e-9 was taken, rounded to a limit of 0 bytes and refused
#: every upload.
MIN_UPLOAD_MB: float = 0.001
#: Largest ``--max-upload-mb``, 1024 (MiB): twice the largest scan any input is read from (a NIfTI file, a zip unpacked,
#: a DICOM folder: ``volume_io.MAX_VOLUME_BYTES``, 512 MiB). A request is held whole in memory, and what it can use is
#: bounded: its scans share one scan's 512 slices and 512^3 pixels (256 MiB at MR's 2 bytes a voxel), its images 80 M
#: pixels (``image_io.MAX_REQUEST_PIXELS``, 64 MiB a file). 1e9 was taken: one request could take a worker's memory.
MAX_UPLOAD_MB: int = 2 * MAX_VOLUME_BYTES // 2**20


def check_positive(value: float, shown: str | None = None) -> float:
    """``value`` as a float if it is a finite number more than 0, else ValueError (TypeError for no number) saying so,
    with ``shown`` (as typed) or the value: the rule of every size and timeout of the web app, serve's and
    :func:`braintumor.web.create_app`'s (``request_timeout=-5`` was taken: every upload a 408, "longer than -5 s")."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"must be a number, got {value!r}")
    shown = repr(value) if shown is None else shown
    if not math.isfinite(value):
        raise ValueError(NOT_FINITE.format(shown))
    if value <= 0:
        raise ValueError(NOT_POSITIVE.format(shown))
    return float(value)


def check_upload_mb(value: float, shown: str | None = None) -> float:
    """``value``, a request size limit in MiB, if it is a finite number from :data:`MIN_UPLOAD_MB` to
    :data:`MAX_UPLOAD_MB`; else ValueError (TypeError for no number) saying so, with ``shown`` (as typed) or the value.
    The one rule for ``serve --max-upload-mb`` and :func:`braintumor.web.create_app`, whose ``max_upload_mb=1e-9`` was
    taken, and 1e9."""
    check_positive(value, shown)
    shown = repr(value) if shown is None else shown
    if value < MIN_UPLOAD_MB:
        raise ValueError(f"must be at least {MIN_UPLOAD_MB} MiB (about 1 kB), got {shown}: "
                         "a smaller limit refuses every upload")
    if value > MAX_UPLOAD_MB:
        raise ValueError(f"must be {MIN_UPLOAD_MB} to {MAX_UPLOAD_MB} (MiB), got {shown}: a request is held whole in "
                         f"memory, and {MAX_UPLOAD_MB} MiB is twice the largest scan one is read from "
                         f"({MAX_VOLUME_BYTES // 2**20} MiB)")
    return float(value)
