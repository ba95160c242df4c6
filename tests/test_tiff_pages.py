"""A TIFF's pages: one slice and its thumbnail or mask pages is that slice; more slices are a stack, refused."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import encode, synthetic_head
from PIL import Image

from braintumor.image_io import ImageError, read_image


def _tiff_with_copies(subfile_types: list[int]) -> bytes:
    """A TIFF of one slice and, after it, a 16 x 16 page per NewSubfileType given (1: a reduced-resolution copy, as a
    thumbnail; 4: a mask; 0: another slice)."""
    import io

    from PIL import TiffImagePlugin

    buf = io.BytesIO()
    with TiffImagePlugin.AppendingTiffWriter(buf, True) as pages:  # as Pillow's save_all writes pages
        for kind in [None, *subfile_types]:
            picture = Image.fromarray(synthetic_head(64 if kind is None else 16))
            picture.save(pages, "TIFF", **({} if kind is None else {"tiffinfo": {254: kind}}))
            pages.newFrame()
    with Image.open(io.BytesIO(buf.getvalue())) as written:
        assert written.n_frames == 1 + len(subfile_types)
    return buf.getvalue()


@pytest.mark.parametrize("copies", [[1], [1, 1], [4], [1, 4]], ids=["thumbnail", "two-sizes", "mask", "both"])
def test_a_tiff_of_one_slice_and_its_thumbnail_is_read_as_that_slice(copies):
    """A scanner's or camera's TIFF holds a thumbnail after the picture (NewSubfileType 1: a reduced-resolution copy):
    it was refused as "a multi-page TIFF: ... save each slice as its own image", of a file of one slice."""
    import io

    from braintumor.image_arrays import gray_from_memory

    alone = read_image(encode(synthetic_head(64), "TIFF"))
    assert np.array_equal(read_image(_tiff_with_copies(copies)), alone)
    opened = Image.open(io.BytesIO(_tiff_with_copies(copies)))
    assert np.array_equal(gray_from_memory(opened)[0], alone) and opened.tell() == 0


@pytest.mark.parametrize("copies", [[0], [1, 0], [1] * 5], ids=["two-slices", "thumbnail-then-slice", "many-copies"])
def test_a_tiff_with_another_slice_past_its_copies_is_still_a_stack(copies):
    with pytest.raises(ImageError, match=r"^a multi-page TIFF: braintumor reads one slice per image file"):
        read_image(_tiff_with_copies(copies))


def test_a_tiff_whose_first_page_is_a_copy_is_still_a_stack():
    """A reduced copy before the slice, or a 'copy' larger than the first page, is no thumbnail of the first page."""
    import io

    from PIL import TiffImagePlugin

    for sizes, kinds in (((16, 64), (1, 0)), ((16, 64), (0, 1))):
        buf = io.BytesIO()
        with TiffImagePlugin.AppendingTiffWriter(buf, True) as pages:
            for side, kind in zip(sizes, kinds, strict=True):
                Image.fromarray(synthetic_head(side)).save(pages, "TIFF", tiffinfo={254: kind})
                pages.newFrame()
        with pytest.raises(ImageError, match=r"^a multi-page TIFF: "):
            read_image(buf.getvalue())
