"""A Classifier shared by threads, and by processes forked from the one that loaded it (multiprocessing's default on
Linux before Python 3.14): same answers, and children that exit."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import REPO, encode, synthetic_head

from braintumor import Classifier


def test_threads_share_one_classifier_and_get_its_answers():
    clf = Classifier.load(threads=2)
    images = [encode(synthetic_head(200, seed=s)) for s in range(6)]
    want = [clf.predict(x) for x in images]
    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(clf.predict, images * 4)) == want * 4
        streams = pool.map(lambda xs: [p for _, p in clf.predict_many(xs, batch_size=4)], [images] * 4)
        assert all(got == want for got in streams)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_predicts_then_drops_the_classifier_and_exits():
    """The child inherited the session's thread pool but not its threads: dropping the session there (a Pool initializer
    loading a fresh Classifier into the same global) joined threads that do not exist, and the child crashed (SIGSEGV)
    or hung; multiprocessing.Pool restarted crashed workers for ever."""
    code = f"""
import gc, os, signal, sys
sys.path.insert(0, {str(REPO / "tests")!r})
from conftest import encode, synthetic_head
from braintumor import Classifier
image = encode(synthetic_head(200))
for threads in (2, 4):
    clf = Classifier.load(threads=threads)
    want = clf.predict(image)
    pid = os.fork()
    if pid == 0:
        signal.alarm(15)  # a hung child ends (SIGALRM) rather than outlive the test
        ok = clf.predict(image) == want
        clf = Classifier.load(threads=1)  # the inherited one is dropped here
        gc.collect()
        ok = ok and clf.predict(image) == want
        sys.exit(0 if ok else 3)  # a normal interpreter exit, finalizers and all
    _, status = os.waitpid(pid, 0)
    print(threads, os.waitstatus_to_exitcode(status))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["2", "0", "4", "0"]


def test_the_python_api_never_imports_torch():
    """Predicting needs numpy, Pillow and ONNX Runtime only: the README's whole Python API path, in a fresh process."""
    code = f"""
import sys
sys.path.insert(0, {str(REPO / "tests")!r})
from conftest import encode, synthetic_head
from dicom_factory import make_dicom
from braintumor import Classifier
from braintumor.heatmap import explain
from braintumor.volume_io import read_volumes
clf = Classifier.load()
image = synthetic_head(200)
clf.predict(encode(image)); list(clf.predict_many([image, encode(image)])); explain(clf, image).image_png()
[clf.predict(s.pixels) for v in read_volumes(make_dicom(image)) for s in v.slices]
# a None entry is an import blocked (as test_without_extras stands in for the core install), not a module imported
print(sorted(m for m, mod in sys.modules.items()
             if mod is not None and m.split(".")[0] in ("torch", "torchvision", "matplotlib")))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def _threads(clf: Classifier) -> int:
    return clf.session.get_session_options().intra_op_num_threads


def _kept(_clf: Classifier) -> int:
    from braintumor import processes

    return len(processes._opened)


def test_a_pool_maps_the_classifiers_own_predict(tmp_path):
    """``Pool().map(clf.predict, images)`` pickles ``clf``: that was a TypeError from inside onnxruntime."""
    import multiprocessing
    import pickle
    import shutil

    from braintumor import ModelError
    from braintumor.model_files import default_model_path

    clf = Classifier.load(threads=2)
    images = [encode(synthetic_head(200, seed=s)) for s in range(3)]
    with multiprocessing.get_context("spawn").Pool(1) as pool:  # spawn: every start method pickles the tasks
        assert pool.map(clf.predict, images) == [clf.predict(x) for x in images]
        assert pool.map(_threads, [clf]) == [1]  # the processes are the parallelism
        assert pool.map(_kept, [clf]) == pool.map(_kept, [clf]) == [1]  # opened once per process, not once per task
    copy = pickle.loads(pickle.dumps(clf))
    assert copy.path == clf.path.resolve() and copy.metadata == clf.metadata and _threads(copy) == 2
    assert pickle.loads(pickle.dumps(clf)) is not copy  # a copy here is a copy: changing one left the other alone
    model = tmp_path / "model.onnx"
    shutil.copyfile(default_model_path(), model)
    sent = pickle.dumps(Classifier.load(model))
    shutil.copyfile(default_model_path().with_name("braintumor-tumornet-s-int8.onnx"), model)
    with pytest.raises(ModelError, match="changed since it was loaded"):
        pickle.loads(sent)
    with pytest.raises(TypeError, match=r"only a Classifier loaded from a file \(Classifier.load\)"):
        pickle.dumps(Classifier(clf.session, clf.metadata))


def test_a_classifier_loaded_by_a_relative_path_is_sent_after_the_folder_changed(tmp_path, monkeypatch):
    """The pickle named the file by its path resolved when pickled: loaded as models/x.onnx, then sent from another
    working folder, it was 'model file not found: <that folder>/models/x.onnx'."""
    import pickle

    from braintumor.model_files import default_model_path

    monkeypatch.chdir(default_model_path().parents[1])
    clf = Classifier.load(Path("models") / default_model_path().name, threads=1)
    monkeypatch.chdir(tmp_path)
    copy = pickle.loads(pickle.dumps(clf))
    assert copy.path == default_model_path().resolve() and copy.metadata == clf.metadata


def test_a_classifier_whose_model_file_is_gone_says_why_it_cannot_be_copied(tmp_path):
    """A Classifier is copied, pickled or sent to a process as its model file, opened again; that file deleted since
    (a temporary export, a run's folder cleaned up), ``copy.deepcopy(clf)`` said "model file not found: ... (train and
    export one, or pass another path: Classifier.load(path) ...)", advice for a load, not for a copy."""
    import copy
    import pickle
    import shutil

    from braintumor import ModelError
    from braintumor.model_files import default_model_path

    model = tmp_path / "model.onnx"
    shutil.copyfile(default_model_path(), model)
    clf = Classifier.load(model, threads=1)
    sent = pickle.dumps(clf)
    model.unlink()
    said = f"{model} is no longer there: a Classifier's copies and the processes it is sent to (copy.deepcopy"
    for call in (lambda: copy.deepcopy(clf), lambda: pickle.loads(sent)):
        with pytest.raises(ModelError, match="^" + re.escape(said)):
            call()
    assert clf.predict(encode(synthetic_head(200))) is not None  # the loaded one still predicts
