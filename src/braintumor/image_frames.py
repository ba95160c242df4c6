"""What a decoded picture holds besides its pixels: how many frames, and which way up (EXIF).

Why its own module: files (image_io) and pictures a caller opened (image_arrays) must be read alike, and both
import these from here.
"""

from __future__ import annotations

from PIL import ExifTags, Image


def several_frames(img: Image.Image) -> str | None:
    """Why a multi-page TIFF or animated PNG/WebP/GIF is refused (its first frame alone would drop the rest unsaid),
    or None. Not counted: Pillow walks every page of a TIFF to count them, in quadratic time (64 000 took 39 s)."""
    if not getattr(img, "is_animated", False) or img.format == "MPO":  # a phone JPEG's MPF extras (gain map,
        return None  # preview) are not slices: its first image is the picture, as every viewer shows it
    kind = "a multi-page TIFF" if img.format == "TIFF" else f"an animated {img.format or 'image'}"
    return (f"{kind}: braintumor reads one slice per image file (save each slice as its own image; a stack of "
            "slices: DICOM or NIfTI)")


#: EXIF orientation -> the transpose that shows the image upright.
_UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
            5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90}


def upright(img: Image.Image) -> Image.Image:
    """The image as its EXIF orientation says to show it (a copy only of rotated ones). Not ImageOps.exif_transpose:
    it also rewrites the EXIF block, which fails (struct.error) on a malformed tag after transposing."""
    try:
        method = _UPRIGHT.get(img.getexif().get(ExifTags.Base.Orientation))
    except Exception:  # EXIF Pillow cannot parse: the pixels are read as stored
        return img
    return img.transpose(method) if method is not None else img
