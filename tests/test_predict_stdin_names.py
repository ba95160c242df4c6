"""``predict -`` reads any file name a pipeline can send: NUL-separated (``find -print0``), and bytes that are not UTF-8
under a locale whose standard input is strict."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import os
from pathlib import Path

import pytest
from cli_runner import run_cli
from conftest import encode, synthetic_head

from braintumor.model_files import default_model_path

MODEL = default_model_path()
pytestmark = pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}")


def stdin_of(monkeypatch, data: bytes, errors: str = "strict") -> None:
    """Standard input as a UTF-8 locale gives it to Python: a text stream over bytes, strict (not C/POSIX)."""
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors=errors))


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def image(folder, name: str | bytes) -> str:
    path = os.path.join(os.fsencode(folder), name) if isinstance(name, bytes) else folder / name
    with open(path, "wb") as fh:
        fh.write(encode(synthetic_head()))
    return os.fsdecode(os.path.basename(path))


def paths(out: str) -> list[str]:
    return [json.loads(line)["path"] for line in out.splitlines()]


def test_nul_separated_names_are_read_whole_newlines_and_all(folder, monkeypatch, capsys):
    names = [image(folder, "one.png"), image(folder, "two\nlines.png"), image(folder, " spaced .png")]
    stdin_of(monkeypatch, b"".join(os.fsencode(n) + b"\0" for n in names))
    rc, out, err = run_cli(["predict", "-", "--format", "jsonl"], capsys)
    assert rc == 0, err
    assert paths(out) == names


def test_a_name_that_is_not_utf8_is_read_as_its_bytes(folder, monkeypatch, capsys):
    name = image(folder, b"lat\xe9.png")
    stdin_of(monkeypatch, b"lat\xe9.png\n")
    rc, out, err = run_cli(["predict", "-", "--format", "jsonl"], capsys)
    assert rc == 0, err
    assert paths(out) == [json.loads(json.dumps(name))]  # as predict writes a folder's non-UTF-8 name


def test_lines_still_end_at_a_newline_and_lose_a_carriage_return(folder, monkeypatch, capsys):
    names = [image(folder, "a.png"), image(folder, "b.png")]
    stdin_of(monkeypatch, b"a.png\r\n\n  \nb.png")
    rc, out, _ = run_cli(["predict", "-", "--format", "jsonl"], capsys)
    assert rc == 0
    assert paths(out) == names


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_names_typed_at_a_terminal_are_asked_for(folder, monkeypatch, capsys):
    """``braintumor predict -`` at a prompt waited in silence for names, as if the run had hung."""
    image(folder, "a.png")
    monkeypatch.setattr("sys.stdin", _Terminal("a.png\n"))
    rc, out, err = run_cli(["predict", "-", "--format", "jsonl"], capsys)
    assert rc == 0 and paths(out) == ["a.png"]
    assert err.splitlines()[0] == "reading file names from standard input, one per line; end them with Ctrl-D"


def test_names_from_a_pipe_come_without_that_line(folder, monkeypatch, capsys):
    image(folder, "a.png")
    stdin_of(monkeypatch, b"a.png\n")
    rc, _, err = run_cli(["predict", "-", "--format", "jsonl"], capsys)
    assert (rc, err) == (0, "")


def test_standard_input_closed_is_one_usage_line(folder, monkeypatch, capsys):
    """``braintumor predict - <&-``: Python starts with sys.stdin None, and reading the names was an AttributeError
    traceback."""
    monkeypatch.setattr("sys.stdin", None)
    rc, out, err = run_cli(["predict", "-"], capsys)
    assert (rc, out, err) == (2, "", "error: standard input is closed: - reads the file names from it (one per "
                                     "line)\n")


@pytest.mark.parametrize(("data", "kind"), [(encode(synthetic_head()), "a PNG image"),
                                            (encode(synthetic_head(), "JPEG"), "a JPEG image"),
                                            (b"\0" * 128 + b"DICM" + b"\2\0\0\0UL\4\0" + b"\0" * 300, "a DICOM file"),
                                            # a DICOM file whose preamble is a TIFF header (pydicom's MR_small.dcm):
                                            # it was "a TIFF image", with /dev/stdin to try, which reads no scan
                                            (b"II*\0\x08\0\0\0" + b"\0" * 120 + b"DICM" + b"\2\0\0\0UL\4\0"
                                             + b"\0" * 300, "a DICOM file"),
                                            (gzip.compress(b"\0" * 400), "a gzip-compressed file"),
                                            (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"x" * 300, "a PDF document"),
                                            # curl's sign-in page, where a list of names was fetched: its lines were
                                            # records 'file not found: <title>Sign in</title>', the page's text
                                            (b"\n<!DOCTYPE html>\n<html><title>Sign in</title></html>\n",
                                             "an HTML page"),
                                            # the same page, sent gzip-encoded and piped as it came (curl without
                                            # --compressed): it was "a gzip-compressed file", of no word of the page
                                            (gzip.compress(b"<!DOCTYPE html>\n<html><title>Sign in</title></html>\n"),
                                             "a gzip-compressed HTML page"),
                                            (bz2.compress(b"%PDF-1.7\n" + b"x" * 300),
                                             "a bzip2-compressed PDF document"),
                                            # no /dev/stdin for it: that reads images, not gzips of them
                                            (gzip.compress(encode(synthetic_head())), "a gzip-compressed PNG image")],
                         ids=["png", "jpeg", "dicom", "dicom-tiff-preamble", "gzip", "pdf", "html", "gzip-html",
                              "bzip2-pdf", "gzip-png"])
def test_a_file_piped_in_place_of_names_is_one_usage_line(folder, monkeypatch, capsys, data, kind):
    """``braintumor predict - < scan.png`` (meant: read this image) took the image's bytes for file names: 30 records
    of 'file not found: <bytes of the image>', the file's content printed as names."""
    stdin_of(monkeypatch, data)
    rc, out, err = run_cli(["predict", "-", "--format", "jsonl"], capsys)
    assert (rc, out) == (2, "")
    assert err == (f"error: standard input holds {kind}, not file names: - reads the names of the files to predict "
                   "(one per line); name the file instead (braintumor predict FILE)"
                   + (", or give /dev/stdin to read one image from a pipe"
                      if kind.endswith(" image") and "-compressed" not in kind else "") + "\n")


def test_names_that_start_as_an_image_format_does_are_still_names(folder, monkeypatch, capsys):
    """A file named BMW.png starts its list as a BMP file starts ('BM'): it exists, so the list is names."""
    names = [image(folder, "BMW.png"), image(folder, "b.png")]
    stdin_of(monkeypatch, b"BMW.png\nb.png\n")
    rc, out, err = run_cli(["predict", "-", "--format", "jsonl"], capsys)
    assert rc == 0, err
    assert paths(out) == names


def test_names_that_start_as_a_bmp_does_are_names_even_when_the_first_is_missing(folder, monkeypatch, capsys):
    """'BM' begins a BMP and a name ('BMissing.png'): a list whose first name is gone is still names (its record says
    'file not found'), told from a BMP by the info header size a BMP holds at byte 14."""
    name = image(folder, "b.png")
    stdin_of(monkeypatch, b"BMissing.png\nb.png\n")
    rc, out, err = run_cli(["predict", "-", "--format", "jsonl"], capsys)
    assert rc == 1 and paths(out) == ["BMissing.png", name], err
    stdin_of(monkeypatch, encode(synthetic_head(), "BMP"))
    rc, out, err = run_cli(["predict", "-", "--format", "jsonl"], capsys)
    assert (rc, out) == (2, "") and err.startswith("error: standard input holds a BMP image, not file names: ")


@pytest.mark.parametrize("first", [b"<html>.png", b"report %PDF-1.7.png", b"GIF89a.png"])
def test_a_list_whose_first_name_is_gone_is_names_though_it_starts_as_a_page_or_pdf_does(first, folder, monkeypatch,
                                                                                          capsys):
    """A list whose first name no longer exists, and starts as a page or an image does or holds '%PDF-' in its first
    1024 bytes, is names when a later name is a file: it was refused whole as 'an HTML page' or 'a PDF document'."""
    name = image(folder, "b.png")
    stdin_of(monkeypatch, first + b"\nb.png\n")
    rc, out, err = run_cli(["predict", "-", "--format", "jsonl"], capsys)
    assert rc == 1 and paths(out) == [first.decode(), name], err


def test_a_list_saved_with_a_byte_order_mark_reads_its_first_name(folder, monkeypatch, capsys):
    """Notepad and PowerShell 5's Out-File save a list with a UTF-8 byte order mark: its first name was 'file not
    found: \\ufeffa.png'."""
    names = [image(folder, "a.png"), image(folder, "b.png")]
    stdin_of(monkeypatch, b"\xef\xbb\xbfa.png\r\nb.png\r\n")
    rc, out, err = run_cli(["predict", "-", "--format", "jsonl"], capsys)
    assert rc == 0, err
    assert paths(out) == names


def test_predict_help_says_where_a_piped_image_goes():
    """``predict - < scan.png`` is refused (names, not an image, come on standard input), telling to give /dev/stdin;
    ``--help`` said only that - reads file names, so the refusal was the first a user heard of /dev/stdin."""
    from braintumor.cli import build_parser

    parser = build_parser()
    predict = next(a for a in parser._actions if a.dest == "command").choices["predict"]
    said = " ".join(predict.format_help().split())
    assert "- reads file names from standard input" in said and "not an image (/dev/stdin reads one)" in said, said


BINARY = bytes(range(256)) * 8  # NULs, control bytes and bytes that are not UTF-8, in no format sniffed


@pytest.mark.parametrize(("data", "what", "n"), [
    (BINARY, "control characters (binary data?)", 8),  # 8 "names" between its NULs
    (BINARY.replace(b"\0", b""), "control characters (binary data?)", 9),  # no NUL: 9 lines of binary
    (b"\xff\xfe\x80\n\xc3(\xa0\n", "bytes that are not utf-8 text", 2),
    (b"\x01" * 40, "control characters (binary data?)", 1)], ids=["nul", "no-nul", "not-utf8", "one"])
def test_data_that_is_not_text_piped_in_place_of_names_is_one_usage_line(folder, monkeypatch, capsys, data, what, n):
    """Binary data of no known format piped to ``predict -`` was a record 'file not found: <its bytes>' per line (or
    'File name too long: <its bytes>', exit 2): the data printed as names. Now one usage line, none of its bytes."""
    stdin_of(monkeypatch, data)
    rc, out, err = run_cli(["predict", "-", "--format", "jsonl"], capsys)
    none = "its one name is no file here" if n == 1 else f"none of the {n} names it begins with is a file here"
    assert (rc, out) == (2, "")
    assert err == (f"error: standard input is not a list of file names: it holds {what}, and {none}; - reads the names "
                   "of the files to predict (one per line, or NUL-separated); name a file itself instead (braintumor "
                   "predict FILE)\n")


def test_names_with_control_characters_or_not_utf8_are_still_names_where_files_have_them(folder, monkeypatch, capsys):
    """A list is refused only where none of its first names is a file: a real one whose names hold an escape or a
    Latin-1 byte, its first file gone, is read, each name its own record."""
    names = [image(folder, "esc\x1b[2J.png"), image(folder, b"lat\xe9.png")]
    stdin_of(monkeypatch, b"gone\xe9.png\nesc\x1b[2J.png\nlat\xe9.png\n")
    rc, out, err = run_cli(["predict", "-", "--format", "jsonl"], capsys)
    assert rc == 1, err
    assert paths(out) == ["gone\udce9.png", *names]


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_an_endless_stream_piped_in_place_of_names_is_one_usage_line_not_out_of_memory(monkeypatch, capsys):
    """``predict - < /dev/zero`` (or ``yes scan.png | predict -``) read standard input until memory ran out, then said
    "out of memory (a smaller --batch-size ... needs less)". Now it reads up to a cap and says what it got."""
    import braintumor.predict_stdin as predict_stdin

    monkeypatch.setattr(predict_stdin, "MAX_NAMES_BYTES", 3 << 20)  # a smaller cap, as /dev/zero passes any
    with open("/dev/zero", "rb") as zero:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(zero, encoding="utf-8"))
        rc, out, err = run_cli(["predict", "-", "--format", "jsonl"], capsys)
    assert (rc, out) == (2, "")
    assert err == ("error: standard input holds more than 3 MiB, longer than a list of file names would be (an endless "
                   "stream, such as yes or /dev/zero?): - reads the names of the files to predict; name their folder "
                   "instead, or split the list\n")


@pytest.mark.skipif(os.name == "nt", reason="a folder cannot be opened as a file there")
def test_a_folder_as_standard_input_stops_python_before_braintumor_as_the_cli_reference_says(tmp_path):
    """``predict - < scans`` never reaches braintumor's code: Python refuses a folder as stdin while it starts (the
    console script and ``python -m`` alike). docs/CLI.md (README's "Command line" before) says so, in Python's words;
    this checks they are still its."""
    import subprocess
    import sys

    folder = os.open(tmp_path, os.O_RDONLY)  # as the shell's < opens it (Python's open() refuses a folder)
    try:
        run = subprocess.run([sys.executable, "-m", "braintumor", "predict", "-"], stdin=folder, capture_output=True,
                             text=True, timeout=60)
    finally:
        os.close(folder)
    said = "Fatal Python error: init_sys_streams: <stdin> is a directory, cannot continue"
    assert run.returncode == 1 and said in run.stderr, run.stderr
    cli = " ".join((Path(__file__).resolve().parents[1] / "docs" / "CLI.md").read_text().split())
    assert f"`predict - < scans`, stops Python itself before braintumor starts (`{said}`, exit status 1" in cli


@pytest.mark.skipif(not os.path.exists("/dev/stdin"), reason="no /dev/stdin")
def test_standard_input_named_among_the_names_it_held_is_one_usage_line(folder):
    """``printf 'a.png\\n/dev/stdin\\n' | predict -``: the pipe, already read for the names, was read again as an image
    and answered "file is empty (0 bytes)" of an input that is no file at all."""
    import subprocess
    import sys

    image(folder, "a.png")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    run = subprocess.run([sys.executable, "-m", "braintumor", "predict", "-", "--format", "jsonl"], input="a.png\n"
                         "/dev/stdin\n", capture_output=True, text=True, timeout=120, env=env)
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == ("error: /dev/stdin, among the names read from standard input, names standard input itself, "
                          "which held those names and is read once: name the image's own file instead\n")
