"""Finished outputs are put in place whole; a device or FIFO at the destination is written through, never replaced
(export, quantize and data audit replaced /dev/null or a named pipe with a regular file)."""

from __future__ import annotations

import os
import threading

from braintumor.atomic_files import put_in_place, temp_beside


def test_a_regular_destination_is_replaced_and_the_temp_file_is_gone(tmp_path):
    target = tmp_path / "model.onnx"
    target.write_bytes(b"old")
    fd, tmp = temp_beside(target)
    with open(fd, "wb") as fh:
        fh.write(b"new")
    put_in_place(tmp, target)
    assert target.read_bytes() == b"new" and sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


def test_a_fifo_destination_is_written_through(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    tmp = tmp_path / ".pipe.tmp"
    tmp.write_bytes(b"x" * 200_000)  # more than a pipe's buffer
    put_in_place(tmp, fifo)
    reader.join(timeout=10)
    assert got == [b"x" * 200_000] and fifo.is_fifo() and not tmp.exists()
    # (not tried on /dev/null: were the code broken, the test would replace the machine's /dev/null)
