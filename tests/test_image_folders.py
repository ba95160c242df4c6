"""Walking folders for images: hidden files, non-images, FIFOs and unreadable folders."""

from __future__ import annotations

import os

import pytest
from conftest import encode, synthetic_head

from braintumor.image_files import expand_inputs, walk_images


@pytest.fixture
def locked_folders(monkeypatch):
    """Folders named ``locked`` refuse to be listed (Permission denied), as a folder without read permission does
    for anyone but root (the tests may run as root, so the refusal is simulated)."""
    real = os.scandir

    def scandir(path="."):
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_walk_skips_hidden_and_non_images(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / ".ipynb_checkpoints").mkdir()
    for p in ("a/x.jpg", "b.PNG", ".hidden.jpg", ".ipynb_checkpoints/y.jpg", "notes.txt"):
        (tmp_path / p).write_bytes(b"x")
    os.mkfifo(tmp_path / "a" / "pipe.jpg")  # opening it would block for ever: it hung 'data audit' and training
    (tmp_path / "a" / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")  # kept: reading it reports it
    found = [p.relative_to(tmp_path).as_posix() for p in walk_images(tmp_path)]
    assert sorted(found) == ["a/gone.jpg", "a/x.jpg", "b.PNG"]
    explicit = list(expand_inputs([tmp_path / "notes.txt", tmp_path / "a"]))
    assert [p.name for p in explicit] == ["notes.txt", "gone.jpg", "x.jpg"]
    os.mkfifo(tmp_path / "a" / "pipe")  # no image ending: predict sniffed it for DICOM, and hung
    from braintumor.input_plan import plan_inputs

    assert [p.name for p in plan_inputs([tmp_path / "a"])] == ["gone.jpg", "x.jpg"]


def test_a_folder_that_cannot_be_read_is_reported_not_skipped(tmp_path, locked_folders, capsys):
    """os.walk skips an unreadable folder without a word: predict said '0 failed' and data check 'all images
    decode' with a locked folder of images. (Permissions do not stop root, so the refusal is simulated.)"""
    import json

    from braintumor.cli import main
    from braintumor.data import DatasetError, load_dataset

    for c in ("glioma", "meningioma", "notumor", "pituitary"):
        (tmp_path / "Testing" / c / "locked").mkdir(parents=True)
        (tmp_path / "Testing" / c / "a.png").write_bytes(encode(synthetic_head(), "PNG"))
    with pytest.raises(DatasetError, match=r"cannot read folder .*glioma/locked: Permission denied"):
        load_dataset(tmp_path, "Testing")
    assert main(["predict", str(tmp_path / "Testing" / "glioma"), "--format", "jsonl"]) == 1
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows[-1] == {"path": str(tmp_path / "Testing" / "glioma" / "locked"),
                        "error": "cannot read folder: Permission denied"}


def test_jfif_and_jpe_files_are_read_as_jpegs_in_a_folder(tmp_path):
    """A .jfif (what a browser saves a web image as) or .jpe is a JPEG: a folder walk passed it over, and predict's
    note said "images without an image ending are not read in a folder ... rename it .jpg", of a JPEG's own ending."""
    from braintumor.input_plan import plan_inputs

    jpeg = encode(synthetic_head(), "JPEG")
    for name in ("a.jfif", "b.JPE", "c.JFIF", "d.jpe"):
        (tmp_path / name).write_bytes(jpeg)
    notes: list[str] = []
    assert [p.name for p in plan_inputs([tmp_path], notes.append)] == ["a.jfif", "b.JPE", "c.JFIF", "d.jpe"]
    assert notes == []
    assert [p.name for p in expand_inputs([tmp_path])] == ["a.jfif", "b.JPE", "c.JFIF", "d.jpe"]


def test_an_unreadable_folder_below_the_working_folder_is_named_as_its_files_are(tmp_path, locked_folders,
                                                                                   monkeypatch, capsys):
    """``predict .``: the records name ``a.png`` and ``sub/b.png``, and named the locked folder ``./locked`` (os.walk's
    join), which a filter on the path column, or a sort, put apart from its neighbours."""
    import json

    from braintumor.cli import main

    (tmp_path / "locked").mkdir()
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.png").write_bytes(encode(synthetic_head(), "PNG"))
    (tmp_path / "sub" / "b.png").write_bytes(encode(synthetic_head(), "PNG"))
    monkeypatch.chdir(tmp_path)
    assert main(["predict", ".", "--format", "jsonl"]) == 1
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["path"] for r in rows] == ["a.png", "sub/b.png", "locked"]


def _walk_resolving_every_folder(folder):
    """walk_folders as it was, each folder's real path resolved whole: the reference the faster walk must agree with."""
    from braintumor.image_files import is_hidden_name

    start = os.path.realpath(folder)
    seen = {start}
    for root, dirs, files in os.walk(folder, followlinks=True):
        keep = []
        for name in sorted(dirs):
            real = os.path.realpath(os.path.join(root, name))
            if not is_hidden_name(name) and real not in seen and not start.startswith(real.rstrip(os.sep) + os.sep):
                seen.add(real)
                keep.append(name)
        dirs[:] = keep
        yield root, list(dirs), sorted(files)


def test_a_deep_tree_is_walked_in_work_linear_in_its_depth_finding_what_it_found(tmp_path, monkeypatch):
    """Each level's full path was resolved again (``realpath``: one lstat per part), so a tree 1000 levels deep took
    ~15 s to walk. Now a plain folder's real path is its parent's and its name: a few calls per folder, whatever the
    depth; the folders found, their order, and the links left out (a loop up the tree, a second link to a folder
    already walked, a hidden folder) are as before."""
    from braintumor.image_files import walk_folders

    outside = tmp_path / "outside"
    (outside / "inner" / "deeper").mkdir(parents=True)
    root = tmp_path / "set"
    deep = root / "glioma"
    for i in range(200):
        deep = deep / f"d{i}"
    deep.mkdir(parents=True)
    (deep / "x.jpg").write_bytes(b"x")
    (root / "glioma" / "d0" / "up").symlink_to(root)  # a loop: not entered
    (root / "meningioma" / ".hidden").mkdir(parents=True)
    (root / "meningioma" / "p01").symlink_to(outside)  # entered, with its own folders
    (root / "meningioma" / "p02").symlink_to(outside)  # the same folder again: not entered
    (outside / "inner" / "back").symlink_to(root / "glioma")  # into a folder already walked: not entered
    (outside / "inner" / "deeper" / "y.png").write_bytes(b"y")

    def walked(walk):
        return [(r, list(d), sorted(f)) for r, d, f in walk(root)]

    expected = walked(_walk_resolving_every_folder)
    lstats, real_lstat = [], os.lstat
    monkeypatch.setattr(os, "lstat", lambda path, *a, **k: lstats.append(path) or real_lstat(path, *a, **k))
    assert walked(walk_folders) == expected
    monkeypatch.undo()
    assert len(expected) == 206 and str(outside) not in str(expected)  # p01's folders are named through the link
    assert len(lstats) < 3 * len(expected)  # was ~20,000 (200 * 201 / 2 parts resolved): quadratic in depth


def _bind_tree(root):
    """``root/a`` with two images; ``root/b`` and ``root/up``, which a bind mount of ``root/a`` and of ``root``'s
    parent would be (the copies in ``b``: a bind mount shows its source's files)."""
    for folder in ("a", "b", "up"):
        (root / folder).mkdir(parents=True)
    for name in ("s1.png", "s2.png"):
        data = encode(synthetic_head(), "PNG")
        (root / "a" / name).write_bytes(data)
        (root / "b" / name).write_bytes(data)
    (root / "up" / "other.png").write_bytes(encode(synthetic_head(), "PNG"))


def test_a_folder_bind_mounted_inside_the_tree_is_read_once(tmp_path, monkeypatch, capsys):
    """``mount --bind scans/a scans/b`` gives ``b`` a real path of its own, so the walk, which knew a folder by its
    real path, read it again: each image under it was predicted twice. A bind mount keeps its source's device and
    inode: ``b`` is left out as a second link to ``a`` is, and a bind mount of a folder holding the tree as a link up
    it is. (Here os.stat says so of two plain folders: mounting needs rights a test run may not have.)"""
    import json

    from braintumor.cli import main

    root = tmp_path / "scans"
    _bind_tree(root)
    same = {str(root / "b"): root / "a", str(root / "up"): tmp_path}  # each one's source
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda path, *a, **k: real_stat(same.get(os.fspath(path), path), *a, **k))
    assert main(["predict", str(root), "--format", "jsonl"]) == 0
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["path"] for r in rows] == [str(root / "a" / "s1.png"), str(root / "a" / "s2.png")]
    assert all("error" not in r for r in rows) and "Traceback" not in err


def test_a_real_bind_mount_is_read_once(tmp_path):
    """The same with real bind mounts, in a mount namespace of the test's own (``unshare``): skipped where mounting
    is not permitted."""
    import shutil
    import subprocess
    import sys

    if not shutil.which("unshare"):
        pytest.skip("no unshare on this system")
    root = tmp_path / "scans"
    _bind_tree(root)
    for folder in ("b", "up"):  # emptied: the mounts show their sources
        for f in (root / folder).iterdir():
            f.unlink()
    (tmp_path / "other").mkdir()  # beside the tree (another class): no part of it
    (tmp_path / "other" / "o.png").write_bytes(encode(synthetic_head(), "PNG"))
    walk = "import sys; from braintumor.image_files import walk_images; print(*walk_images(sys.argv[1]), sep='\\n')"
    script = f'mount --bind "$1/a" "$1/b" && mount --bind "$2" "$1/up" || exit 77; exec "$3" -c "{walk}" "$1"'
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(["unshare", "--mount", "--map-root-user", "sh", "-c", script, "sh", str(root), str(tmp_path),
                           sys.executable], capture_output=True, text=True, timeout=60, env=env)
    if done.returncode == 77 or (done.returncode and done.stderr.startswith("unshare:")):  # refused to start
        pytest.skip(f"mounting is not permitted here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(root / "a" / "s1.png"), str(root / "a" / "s2.png")]
