"""Every command's output under the consoles users have: an ASCII or cp1252 stdout (``PYTHONIOENCODING``, a Windows
console, an old SSH session) and file names holding accents, CJK letters, emoji or bytes that are not UTF-8. Run as
subprocesses: the stream's encoding is the process's, which an in-process capsys never has."""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from conftest import REPO, encode, extra_reason, synthetic_head
from evaluate_fakes import needs_matplotlib

NAMES = ("café", "über—x", "日本", "🧠")


def _braintumor(*args: str, **env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **env}
    return subprocess.run([sys.executable, "-m", "braintumor", *args], capture_output=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def named(tmp_path_factory) -> Path:
    """One folder of images named with non-ASCII letters, one of them unreadable (an error row quotes its name), and
    a dataset of such a folder per class (data check lists its unreadable file)."""
    root = tmp_path_factory.mktemp("names")
    image = encode(synthetic_head(), "PNG")
    (root / "in").mkdir()
    for name in NAMES:
        (root / "in" / f"{name}.png").write_bytes(image)
    (root / "in" / "broken—é.png").write_bytes(b"not an image")
    for c in ("glioma", "meningioma", "notumor", "pituitary"):
        (root / "dé—日本" / "Testing" / c).mkdir(parents=True)
        (root / "dé—日本" / "Testing" / c / f"{c}—é.png").write_bytes(image)
    (root / "dé—日本" / "Testing" / "glioma" / "brök—日.png").write_bytes(b"not an image")
    return root


@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
@pytest.mark.parametrize("args", [
    ["predict", "{root}/in"],
    ["predict", "{root}/in", "--format", "csv"],
    ["data", "check", "--data", "{root}/dé—日本"],
])
def test_a_console_without_the_names_letters_gets_them_escaped_not_a_traceback(named, args, encoding):
    """``PYTHONIOENCODING=cp1252 braintumor predict scans/`` with a ``日本.png`` in scans/ stopped at that row with a
    UnicodeEncodeError traceback (the table and csv; data check at its unreadable list, data audit and evaluate at a
    name in their summary): what the console cannot show is written as a Python escape."""
    done = _braintumor(*[a.format(root=named) for a in args], PYTHONIOENCODING=encoding)
    out, err = done.stdout.decode(encoding, "replace"), done.stderr.decode(encoding, "replace")
    assert "Traceback" not in err and "UnicodeEncodeError" not in err, err
    assert done.returncode == 1 if args[0] == "data" else done.returncode in (0, 1), err  # 1: the unreadable file
    assert r"\u65e5\u672c" in out  # 日本, escaped
    if args[0] == "predict":
        assert r"\U0001f9e0" in out and len([line for line in out.splitlines() if "/in/" in line]) == 5


def test_the_tables_columns_line_up_under_wide_and_combining_letters():
    """A CJK letter or an emoji takes two terminal columns and a combining accent none, but the table padded by
    ``len``: a ``日本.jpg`` row's prediction stood two columns right of its heading, a long such name overflowed. So
    did a Thai or Hindi name (vowel signs of combining class 0, which take no column either) and a Korean one as macOS
    spells it (decomposed: each syllable's vowel and final take none)."""
    import io
    import unicodedata

    from braintumor.predict_output import Formatter

    widths = {"日本語のスキャン/画像.jpg": 25, "🧠.jpg": 6, "cafe\u0301.jpg": 8, "a.jpg": 5,  # columns, counted by hand
              "สวัสดี.jpg": 8, "हिंदी.jpg": 8, unicodedata.normalize("NFD", "한국.jpg"): 8, "ปิ่น.jpg": 6}
    row = {"label": "glioma", "confidence": 0.99, "ood": False, "review": False, "probabilities": {"glioma": 0.99}}
    out = io.StringIO()
    table = Formatter("table", out, ("glioma",), sample=len(widths))
    for name in (*widths, "脳" * 80):  # the last after sizing
        table.write({"path": name, **row})
    table.close()
    header, *rows = out.getvalue().splitlines()
    at = header.index("prediction")  # the path column's 25 and what follows it (the slice column's, none here)
    for (name, width), line in zip(widths.items(), rows, strict=False):
        assert line.startswith(name + " " * (at - width) + "Glioma"), out.getvalue()
    cut = "脳" * 5 + "..." + "脳" * 6  # cut in the middle to the column's 25: 10 + 3 + 12
    assert rows[-1].startswith(cut + " " * (at - 25) + "Glioma"), out.getvalue()


def test_an_emoji_selector_or_zwj_sequence_is_one_two_column_glyph_and_never_cut_apart():
    """A VS16 draws the character before it as a two-column emoji, and an emoji ZWJ sequence is one two-column glyph in
    most terminals: a brain with a VS16 was counted three columns, and its table row stood off the headings, and a
    family of three (three emoji, two joiners) eight. A long name cut in the middle kept a VS16 without its character,
    or half of a ZWJ sequence, next to the dots: the cut falls between glyphs only. (The table shows a name's joiners
    escaped, as it shows every zero-width character: that row lines up by the escapes' columns.)"""
    import io

    from braintumor.predict_output import Formatter
    from braintumor.terminal_columns import columns, fit

    family, heart, flag, brain = "👨\u200d👩\u200d👧", "❤\ufe0f", "🏳\ufe0f\u200d🌈", "🧠\ufe0f"  # 2 columns each
    widths = {f"{brain}.jpg": 6, f"{heart}.jpg": 6, "1\ufe0f\u20e3.jpg": 6, f"{family}.jpg": 22}  # counted by hand
    row = {"label": "glioma", "confidence": 0.99, "ood": False, "review": False, "probabilities": {"glioma": 0.99}}
    out = io.StringIO()
    table = Formatter("table", out, ("glioma",), sample=len(widths))
    for name in (*widths, brain * 80):  # the last after sizing: the column's 22
        table.write({"path": name, **row})
    table.close()
    header, *rows = out.getvalue().splitlines()
    at = header.index("prediction")
    for (name, width), line in zip(widths.items(), rows, strict=False):
        assert line.startswith(name.replace("\u200d", "\\u200d") + " " * (at - width) + "Glioma"), out.getvalue()
    cut = brain * 4 + "..." + brain * 5  # cut in the middle to 22 columns: 8 + 3 + 10
    assert rows[-1].startswith(cut + " " * (at - 21) + "Glioma"), out.getvalue()
    assert [columns(g) for g in (family, flag, "👁\ufe0f\u200d🗨\ufe0f")] == [2, 2, 2]
    units = [family, heart, "a", flag, "e\u0301"] * 6
    hand = {family: 2, heart: 2, "a": 1, flag: 2, "e\u0301": 1}
    starts = {"".join(units[:k]): sum(hand[u] for u in units[:k]) for k in range(len(units) + 1)}
    ends = {"".join(units[k:]): sum(hand[u] for u in units[k:]) for k in range(len(units) + 1)}
    for width in range(4, sum(hand[u] for u in units)):
        head, dots, tail = fit("".join(units), width).partition("...")
        assert dots and head in starts and tail in ends and starts[head] + 3 + ends[tail] <= width, (width, head, tail)


#: A locale whose file names Python reads as ASCII: each other byte a surrogate escape (no UTF-8 mode, no coercion).
ASCII_LOCALE = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_ascii_locale_writes_utf8_names_and_resumes_without_scoring_twice(named, tmp_path, fmt):
    """Under LANG=C (UTF-8 mode off) jsonl and json wrote ``caf\\udcc3\\udca9.png`` for ``café.png`` (to any reader
    two broken characters), and ``--resume -o r.csv`` matched no record (the csv holds the name's bytes, UTF-8) and
    scored every such input again, twice in the file. Both now hold the UTF-8 name; a resumed run has nothing left."""
    import csv
    import json

    out = tmp_path / f"r.{fmt}"
    first = _braintumor("predict", f"{named}/in", "-o", str(out), **ASCII_LOCALE)
    again = _braintumor("predict", f"{named}/in", "-o", str(out), "--resume", **ASCII_LOCALE)
    text = out.read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines())) if fmt == "csv" else [json.loads(r) for r in text.splitlines()]
    assert first.returncode == 1 and again.returncode in (0, 1), again.stderr  # 1: the unreadable file
    assert sorted(r["path"].rsplit("/", 1)[1] for r in rows) == sorted(
        [f"{n}.png" for n in NAMES] + ["broken—é.png"]), text
    assert b"nothing left to do" in again.stderr


@needs_matplotlib
def test_an_ascii_locale_writes_utf8_names_in_the_evaluation_and_the_audit(named, tmp_path):
    """Under LANG=C (UTF-8 mode off) metrics.json and ``data audit --out``'s report wrote ``br\\udcc3\\udcb6k...``
    for ``brök—日.png`` (its root, its unreadable list): json escapes the surrogates Python reads such a name as. They
    hold the UTF-8 name now, as predictions.csv and report.html did."""
    import csv
    import json

    data = named / "dé—日本"
    done = _braintumor("evaluate", "--data", str(data), "--out", str(tmp_path / "e"), "--no-leak-free",
                       "--no-progress", **ASCII_LOCALE)
    audited = _braintumor("data", "audit", "--data", str(data), "--out", str(tmp_path / "audit.json"),
                          "--no-progress", **ASCII_LOCALE)
    assert done.returncode == 0 and audited.returncode == 0, done.stderr + audited.stderr
    text = (tmp_path / "e" / "metrics.json").read_text(encoding="utf-8") + (tmp_path / "audit.json").read_text(
        encoding="utf-8")
    assert "\\udc" not in text, text
    metrics = json.loads((tmp_path / "e" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["data"]["root"] == f"{data}/Testing"
    assert [Path(p).name for p, _ in metrics["data"]["errors"]] == ["brök—日.png"]
    audit = json.loads((tmp_path / "audit.json").read_text(encoding="utf-8"))
    assert (audit["root"], [u["path"] for u in audit["unreadable"]]) == (str(data), ["Testing/glioma/brök—日.png"])
    rows = list(csv.DictReader((tmp_path / "e" / "predictions.csv").read_text(encoding="utf-8").splitlines()))
    assert sorted(Path(r["path"]).name for r in rows) == sorted(f"{c}—é.png" for c in
                                                                 ("glioma", "meningioma", "notumor", "pituitary"))
    assert "brök—日.png" in (tmp_path / "e" / "report.html").read_text(encoding="utf-8")


#: A locale whose file names Python reads as UTF-8 (UTF-8 mode).
UTF8_LOCALE = {"LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "PYTHONUTF8": "1"}

#: What reads a run's split.json and config.json back and compares or opens their names: calibrate's, the scripts'
#: (split_leaks), and --resume's; prints what each found.
READ_RUN = """
import json, sys
from pathlib import Path
sys.path.insert(0, "scripts")
from split_leaks import run_split
from braintumor.run_split import read_split, validation_images
from braintumor.data import load_dataset
from braintumor.train_config import TrainConfig, resumed_config
data = sys.argv[1]
for run in sys.argv[2:]:
    val, train = run_split(Path(run), load_dataset(data, "Training"))
    cache = resumed_config(TrainConfig(data=data, out=run)).cache_dir
    print(json.dumps([len(validation_images(data, run)), len(val), len(train), Path(read_split(run)["root"]).is_dir(),
                      Path(cache).is_dir()]))
"""


def _old_style(value: object) -> object:
    """A run file's strings as braintumor wrote them under an ASCII locale before 2026-12-06: a name's non-ASCII
    bytes as surrogate escapes, which json wrote as ``\\udcXX``."""
    if isinstance(value, str):
        return value.encode("utf-8").decode("ascii", "surrogateescape")
    if isinstance(value, dict):
        return {k: _old_style(v) for k, v in value.items()}
    return [_old_style(v) for v in value] if isinstance(value, list) else value


def _start(command: list[str], locale: dict[str, str]) -> subprocess.Popen:
    """``command`` started in the checkout under ``locale``, its output piped, for :func:`_finish`."""
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **locale})


def _finish(proc: subprocess.Popen, timeout: float = 120) -> subprocess.CompletedProcess:
    """What :func:`_start`'s command said once it ended (killed past ``timeout``, as subprocess.run kills it)."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_a_run_trained_under_an_ascii_locale_records_utf8_names_that_read_back_under_any(tmp_path):
    """Under LANG=C (UTF-8 mode off) train wrote split.json and config.json with ``caf\\udcc3\\udca9-0.png`` for
    ``café-0.png``, and the scripts' --json (orientation_eval's root) the same. They hold the UTF-8 name now, as
    predict and evaluate write it, and read back as the same files under an ASCII or a UTF-8 locale; so does a run an
    older version wrote (its escapes are the name's bytes), which a UTF-8 locale matched to no image."""
    import json
    import shutil

    pytest.importorskip("torch", reason=extra_reason("torch", what="training"))
    data, run, cache = tmp_path / "dé—日本", tmp_path / "run", tmp_path / "cache-é"
    for k, c in enumerate(("glioma", "meningioma", "notumor", "pituitary")):
        (data / "Training" / c).mkdir(parents=True)
        for j in range(3):
            (data / "Training" / c / f"café-{j}.png").write_bytes(encode(synthetic_head(64, seed=10 * k + j)))
    done = _braintumor("train", "--data", str(data), "--out", str(run), "--cache-dir", str(cache), "--image-size",
                       "32", "--batch-size", "4", "--epochs", "1", "--val-fraction", "0.34", **ASCII_LOCALE)
    assert done.returncode == 0, done.stderr
    text = (run / "split.json").read_text(encoding="utf-8") + (run / "config.json").read_text(encoding="utf-8")
    assert "\\udc" not in text, text
    split = json.loads((run / "split.json").read_text(encoding="utf-8"))
    assert split["root"] == f"{data}/Training" and len(split["val"]) == 4 and len(split["train"]) == 8
    assert {Path(n).name for n in split["val"] + split["train"]} == {f"café-{j}.png" for j in range(3)}
    assert json.loads((run / "config.json").read_text(encoding="utf-8"))["cache_dir"] == str(cache)
    old = tmp_path / "old"
    old.mkdir()
    for name in ("split.json", "config.json"):
        (old / name).write_text(json.dumps(_old_style(json.loads((run / name).read_text(encoding="utf-8")))))
    shutil.copyfile(run / "last.pt", old / "last.pt")
    assert "\\udcc3\\udca9" in (old / "split.json").read_text()
    # the three commands only read the runs and the data: started at once (each one's start-up is seconds of imports)
    started = [_start([sys.executable, "-c", READ_RUN, str(data), str(run), str(old)], locale)
               for locale in (ASCII_LOCALE, UTF8_LOCALE)]
    started.append(_start([sys.executable, "scripts/orientation_eval.py", "--run", str(run), "--data", str(data),
                           "--json", str(tmp_path / "o.json")], ASCII_LOCALE))
    *reads, evaluated = [_finish(proc) for proc in started]
    for read in reads:
        assert read.returncode == 0, read.stderr.decode(errors="replace")
        assert [json.loads(line) for line in read.stdout.splitlines()] == [[4, 4, 8, True, True]] * 2, read.stdout
    assert evaluated.returncode == 0, evaluated.stderr.decode(errors="replace")
    report = json.loads((tmp_path / "o.json").read_text(encoding="utf-8"))
    assert report["split"] == f"{data}/Training" and report["rows"]["as given"]["images"] == 4


def test_the_benchmarks_json_holds_utf8_names_under_an_ascii_locale(tmp_path):
    """benchmarks/_common.write_json (every benchmark's --json, compare_peers' too) wrote a data folder named
    ``dé`` as ``d\\udcc3\\udca9`` under LANG=C, a Path left to json's ``default=str`` as well."""
    import json

    folder = tmp_path / "dé—日本"
    folder.mkdir()
    (folder / "café.png").write_bytes(b"")
    write = ("import sys; from pathlib import Path; sys.path.insert(0, 'benchmarks'); from _common import write_json; "
             "p = Path(sys.argv[1]); write_json(p / 'b.json', {'data': p, 'paths': [str(f) for f in p.iterdir()]})")
    done = subprocess.run([sys.executable, "-c", write, str(folder)], capture_output=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[1],
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **ASCII_LOCALE})
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert json.loads((folder / "b.json").read_text(encoding="utf-8")) == {"data": str(folder),
                                                                          "paths": [str(folder / "café.png")]}


def test_a_name_cut_in_the_middle_keeps_no_mark_whose_letter_was_cut_off():
    """The table cuts a long name in the middle; a kept end that began with a combining mark (a Thai vowel sign, an
    accent whose letter was cut) drew that mark on the last dot of "..."."""
    from braintumor.terminal_columns import columns, fit

    name = "a" * 20 + "e\u0301" * 10 + "b" * 5  # an accent after each e: cut between them, a mark would start the end
    for width in range(8, 30):
        cut = fit(name, width)
        tail = cut.partition("...")[2]
        assert columns(cut) <= width and not (tail and unicodedata.combining(tail[0])), (width, cut)
