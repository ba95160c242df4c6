"""The HTML page: works without JavaScript (server-rendered results), errors shown in the page."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import encode, page_disclaimer, synthetic_head

import braintumor
import braintumor.web
from braintumor.prediction import DISCLAIMER
from braintumor.web import create_app
from braintumor.web.pages import headline


@pytest.fixture(scope="module")
def client(tiny_classifier):
    return create_app(classifier=tiny_classifier, max_upload_mb=2, max_files=4).test_client()


def post(client, files):
    data = {"file": [(io.BytesIO(content), name) for name, content in files]}
    return client.post("/", data=data, content_type="multipart/form-data")


def test_upload_page(client):
    r = client.get("/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert 'enctype="multipart/form-data"' in html and 'method="post"' in html
    assert re.search(r'<input[^>]+type="file"[^>]+name="file"[^>]+multiple', html)
    assert page_disclaimer(html) == DISCLAIMER and 'lang="en"' in html and 'name="viewport"' in html
    assert '<template id="card-template">' in html and html.count('class="bar-meter"') == 4
    for name in ("Glioma", "Meningioma", "No tumour", "Pituitary tumour"):
        assert name in html


def test_static_files_are_served_locally(client):
    for path, mimetype in (("/static/app.js", "text/javascript"), ("/static/series.js", "text/javascript"),
                           ("/static/text.js", "text/javascript"), ("/static/card.js", "text/javascript"),
                           ("/static/folders.js", "text/javascript"), ("/static/send.js", "text/javascript"),
                           ("/static/zip.js", "text/javascript"), ("/static/drop.js", "text/javascript"),
                           ("/static/app.css", "text/css"), ("/static/favicon.svg", "image/svg+xml")):
        r = client.get(path)
        assert r.status_code == 200 and r.mimetype == mimetype, path
    for script in ("app.js", "card.js", "series.js", "text.js", "folders.js", "send.js", "zip.js", "drop.js"):
        assert b"http" not in client.get(f"/static/{script}").data  # fetches go to this server only



STATIC = Path(braintumor.web.__file__).parent / "static"
#: The hard cap on a Python file of the package, above the project's ~300-line guide: cli_checks.py had grown to 319
#: lines (calibrate.py, data.py, predictor.py and web/openapi.py just over 300) before groups of functions moved out.
MAX_PYTHON_LINES = 320


def test_page_scripts_load_after_what_they_use_and_stay_small(client):
    """Each script the pages load takes its helpers (window.braintumor...) from one loaded before it, every static
    script is loaded by a page, and each stays under the project's 300 lines (app.js had grown to 300: one file's
    request and answer moved to send.js); every Python file of the package has at most :data:`MAX_PYTHON_LINES`."""
    loaded_anywhere = set()
    for url in ("/", "/dashboard"):
        order = re.findall(r'src="/static/([\w-]+\.js)"', client.get(url).get_data(as_text=True))
        loaded_anywhere.update(order)
        defined: set[str] = set()
        for script in order:
            text = (STATIC / script).read_text()
            own = set(re.findall(r"window\.(braintumor\w+) = ", text))
            used = set(re.findall(r"window\.(braintumor\w+)\b(?! = )", text)) - own
            assert used <= defined, (url, script, used - defined)
            defined |= own
    scripts = {p.name for p in STATIC.glob("*.js")}
    assert scripts == loaded_anywhere and "send.js" in scripts
    for name in scripts:
        assert len((STATIC / name).read_text().splitlines()) < 300, name
    package = Path(braintumor.__file__).parent
    sizes = {p.relative_to(package).as_posix(): len(p.read_text().splitlines()) for p in package.rglob("*.py")}
    assert len(sizes) > 50 and "web/openapi.py" in sizes  # the package's files, the web app's too
    assert {name: n for name, n in sizes.items() if n > MAX_PYTHON_LINES} == {}


def test_no_javascript_upload_renders_results_and_per_file_errors(client, test_images, tiny_classifier):
    good = test_images["glioma"][0].read_bytes()
    r = post(client, [("scan.jpg", good), ("notes.jpg", b"just text"), ("zero.png", b"")])
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    cards = re.findall(r'<article class="card" data-state="(\w+)">(.*?)</article>', html, flags=re.S)
    # the page's <template> holds one more card, in the "loading" state
    assert [state for state, _ in cards] == ["ok", "error", "error", "loading"]
    ok = cards[0][1]
    assert "scan.jpg" in ok and ok.count("<meter") == 4 and "data:image/png;base64," in ok
    pred = tiny_classifier.predict(good)
    assert f'class="bar bar-top" data-class="{pred.label}"' in ok
    review = '<p class="card-review" aria-hidden="true"'
    assert (review + ">" in ok) == pred.review and (review + " hidden>" in ok) != pred.review
    assert "Not a recognised image" in cards[1][1] and "empty" in cards[2][1]  # a sentence under its name
    assert page_disclaimer(html) == DISCLAIMER
    # each heat-map control names the image it changes (visually hidden): a list of controls told them apart
    labels = [" ".join(re.sub(r"<[^>]+>", "", m).split()) for m in re.findall(r'<label class="ctl[^"]*">(.*?)</label>',
                                                                               ok, flags=re.S)]
    assert labels == ["Heat map of scan.jpg", "Opacity of the heat map of scan.jpg"]


def test_no_file_chosen_is_a_message_in_the_page(client):
    r = client.post("/", data={"file": (io.BytesIO(b""), "")}, content_type="multipart/form-data")
    assert r.status_code == 400 and r.mimetype == "text/html"
    # the page's words, not the API's ("no file uploaded: send one or more images in the field 'file'")
    assert "No file chosen: choose one or more images or scans, then Classify." in r.get_data(as_text=True)


def test_only_bad_files_is_400_with_messages_in_the_page(client):
    r = post(client, [("a.jpg", b"text")])
    assert r.status_code == 400 and "Not a recognised image" in r.get_data(as_text=True)


def test_too_large_is_413_with_a_message_in_the_page(client):
    big = encode(np.random.default_rng(0).integers(0, 255, (1500, 1500), dtype=np.uint8))
    r = post(client, [("big.png", big)])
    html = r.get_data(as_text=True)
    assert r.status_code == 413 and r.mimetype == "text/html"
    assert page_status(html).startswith("Upload too large: the limit is 2 MiB") and page_disclaimer(html) == DISCLAIMER


def page_status(html: str) -> str:
    """The page's status line, as shown."""
    return " ".join(re.search(r'<p id="page-status"[^>]*>(.*?)</p>', html, flags=re.S)[1].split())


def test_too_many_files_message(client):
    """A refused form's message stands alone on the page, a sentence: it began in lower case ("too many files: 5
    ..."), unlike "No file chosen: ..." (pages.sentence, as a card's message); the title's "Error: too many files" and
    the API's JSON keep the clause."""
    r = post(client, [(f"{i}.png", encode(synthetic_head(50))) for i in range(5)])
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and page_status(html) == "Too many files: 5 (the limit is 4 per request)"
    assert "<title>Error: too many files · " in html


def test_file_names_are_escaped(client):
    r = post(client, [("<img src=x onerror=alert(1)>.png", encode(synthetic_head()))])
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;.png" in html


@pytest.mark.parametrize("sent", ["C:\\Users\\x\\a.png", "C:\\\\Users\\\\x\\\\a.png", "scans/x/a.png"])
def test_folders_in_file_names_are_dropped(client, sent):
    """A browser sends a Windows path's backslashes raw; Werkzeug 3.1.9 unescapes them, and "C:Usersxa.png" (a
    user's name glued into the file name) came back, in a multipart part and in a raw body's Content-Disposition."""
    head = encode(synthetic_head())
    r = client.post("/api/v1/predict", data={"file": (io.BytesIO(head), sent)}, content_type="multipart/form-data")
    assert r.get_json()["results"][0]["path"] == "a.png"
    r = client.post("/api/v1/predict", data=head, content_type="image/png",
                    headers={"Content-Disposition": f'attachment; filename="{sent}"'})
    assert r.get_json()["results"][0]["path"] == "a.png"


@pytest.mark.parametrize(("sent", "name"), [(b"a%0Ab.jpg", "a\nb.jpg"), (b"c%0D%0Ad.jpg", "c\r\nd.jpg"),
                                             (b"e%09f%22.jpg", 'e\tf".jpg'), (b"g%41%0a.jpg", "g%41%0a.jpg")])
def test_a_form_encoded_file_name_is_read_back_as_named(client, sent, name):
    """Browsers send a file name's LF, CR and '"' as %0A, %0D and %22 (HTML's multipart encoding; urllib3 any
    control character so): Werkzeug undoes %22 alone, so a file named "a\\nb.jpg" came back "a%0Ab.jpg" in the JSON,
    the CSV and the page without JavaScript, its card with JavaScript "a\\nb.jpg". Other escapes stay as sent."""
    body = (b'--B\r\nContent-Disposition: form-data; name="file"; filename="' + sent + b'"\r\n'
            b"Content-Type: image/png\r\n\r\n" + encode(synthetic_head()) + b"\r\n--B--\r\n")
    r = client.post("/api/v1/predict", data=body, content_type="multipart/form-data; boundary=B")
    assert r.get_json()["results"][0]["path"] == name
    r = client.post("/api/v1/predict", data=encode(synthetic_head()), content_type="image/png",  # RFC 5987's form:
                    headers={"Content-Disposition": "attachment; filename*=UTF-8''c%2522d.jpg"})  # decoded once
    assert r.get_json()["results"][0]["path"] == "c%22d.jpg"


def test_unknown_page_is_a_404_page_not_a_traceback(client):
    r = client.get("/admin")
    assert r.status_code == 404 and r.mimetype == "text/html" and "not found" in r.get_data(as_text=True)
    r = client.put("/")
    assert r.status_code == 405 and r.mimetype == "text/html" and "POST" in r.headers["Allow"]


def test_zip_member_names_are_shown_escaped_and_kept_in_the_json(client):
    """A zip member named "x\\u202egnp.nii" showed as "xiin.png" in its scan's heading, and reversed the error that
    named it. The page shows such names as the CLI does (wording.printable: "x\\u202egnp.nii"); the API's JSON keeps
    them as the zip has them (JSON escapes them), so a client can still match them to its files."""
    from dicom_factory import axial_volume, nifti_bytes, zip_bytes

    member = "x\u202egnp\u200b\x1b[2J\n.nii"
    volume = nifti_bytes(axial_volume([np.full((48, 48), 40 * (i + 1), np.uint8) for i in range(3)]))
    files = [("bad.zip", zip_bytes([(member, bytes(400))])), ("good.zip", zip_bytes([(member, volume)]))]
    html = post(client, files).get_data(as_text=True)
    shown = r"x\u202egnp\u200b\x1b[2J\n.nii"
    assert f'aria-label="Scan good.zip:{shown}"' in html
    assert f'series-name" id="card-2" tabindex="-1">good.zip:{shown}' in html  # bad.zip's card is card-1
    # the card's live region names its file first (visually hidden), then shows the error naming the member
    assert (f'role="status" aria-atomic="true"><span class="visually-hidden card-status-of">bad.zip: </span>'
            f'<span class="card-status-text">{shown}: not a NIfTI-1/NIfTI-2 single file (.nii)') in html
    assert not {"\u202e", "\u200b", "\x1b"} & set(html)
    data = {"file": [(io.BytesIO(content), name) for name, content in files]}
    body = client.post("/api/v1/predict", data=data, content_type="multipart/form-data").get_json()
    assert body["results"][0]["error"].startswith(f"{member}: not a NIfTI")
    assert body["series"][0]["path"] == f"good.zip:{member}"


def test_an_uploaded_files_own_name_is_kept_in_the_json_and_shown_escaped(client):
    """The JSON had control and bidi characters of an uploaded file's own name (not of a zip member's) replaced with
    "_": the page without JavaScript read "x_gpj.exe" where the script's read "x\\u202egpj.exe". The JSON keeps the
    name as sent, as it keeps a zip member's, and both pages escape it; a NUL, which no file name holds, is "_"."""
    name = "x\u202egpj\u200b\x1b[2J\x00.exe"
    html = post(client, [(name, b"not an image")]).get_data(as_text=True)
    assert r'<h2 class="card-name" id="card-1" tabindex="-1">x\u202egpj\u200b\x1b[2J_.exe</h2>' in html
    body = client.post("/api/v1/predict", data={"file": [(io.BytesIO(b"not an image"), name)]},
                       content_type="multipart/form-data").get_json()
    assert body["results"][0]["path"] == "x\u202egpj\u200b\x1b[2J_.exe"


def test_an_error_page_says_so_in_its_title(client):
    """Every error page was titled "Brain MRI classifier", as the upload page is: the title, the first thing a
    screen reader says of a page (and what a tab or the history shows), gave no sign that anything went wrong."""
    def title(r) -> str:
        return re.search(r"<title>(.*?)</title>", r.get_data(as_text=True), re.S).group(1)

    assert title(client.get("/")) == "Brain MRI classifier"
    assert title(client.get("/admin")) == "Error: not found · Brain MRI classifier"
    assert title(client.put("/")) == "Error: method PUT not allowed here · Brain MRI classifier"
    empty = client.post("/", data={"file": (io.BytesIO(b""), "")}, content_type="multipart/form-data")
    assert title(empty) == "Error: No file chosen · Brain MRI classifier"
    big = encode(np.random.default_rng(0).integers(0, 255, (1500, 1500), dtype=np.uint8))
    assert title(post(client, [("big.png", big)])) == "Error: upload too large · Brain MRI classifier"


def test_an_error_pages_title_cuts_its_message_outside_brackets(client):
    """The title is the message's first clause, cut at its first colon: a form whose file came in another field (a
    hospital's own form posting to the page) was titled "Error: no file in the field 'file' (got", its bracket open."""
    r = client.post("/", data={"image": (io.BytesIO(b"x"), "scan.jpg")}, content_type="multipart/form-data")
    shown = html.unescape(re.search(r"<title>(.*?)</title>", r.get_data(as_text=True), re.S).group(1))
    assert shown == "Error: no file in the field 'file' (got: image) · Brain MRI classifier"
    assert headline("too many files: 33 (the limit is 32 per request)") == "too many files"
    assert headline("a part's headers are not UTF-8 text (a file name in another encoding?): send ...") == \
        "a part's headers are not UTF-8 text (a file name in another encoding?)"


def test_an_error_pages_title_takes_a_stray_closing_bracket_as_text(client):
    """A ')' that closes nothing (in a field's name, which the message quotes) made the next bracket's colon count as
    outside it: fields '))a' and 'b(c:d' titled the page "no file in the field 'file' (got: ))a, b(c"."""
    r = client.post("/", data={"))a": (io.BytesIO(b"x"), "a.jpg"), "b(c:d": (io.BytesIO(b"x"), "b.jpg")},
                    content_type="multipart/form-data")
    shown = html.unescape(re.search(r"<title>(.*?)</title>", r.get_data(as_text=True), re.S).group(1))
    assert shown == "Error: no file in the field 'file' (got: ))a, b(c:d) · Brain MRI classifier"
    assert headline("a) b (c: d); e") == "a) b (c: d)" and headline("a): b") == "a)"


def test_a_results_page_says_so_in_its_title(client, test_images):
    """Without JavaScript the results came back titled "Brain MRI classifier", as the empty form is: a screen reader,
    which says a new page's title first, gave no sign that the form had been answered until the Done line below the
    form was read."""
    html = post(client, [("scan.jpg", test_images["glioma"][0].read_bytes())]).get_data(as_text=True)
    assert re.search(r"<title>(.*?)</title>", html, re.S).group(1) == "Results · Brain MRI classifier"


def test_the_empty_page_may_be_kept_for_back_but_results_never(client, test_images):
    """The upload page was no-store, which keeps it out of Chromium's back/forward cache once it has made requests:
    Back after a link showed it empty. It holds no result as sent, so it is revalidated instead; a page or answer
    that holds results stays no-store (the browser adds results to the empty page in memory only)."""
    assert client.get("/").headers["Cache-Control"] == "private, no-cache"
    assert post(client, [("scan.jpg", test_images["glioma"][0].read_bytes())]).headers["Cache-Control"] == "no-store"
    assert post(client, []).headers["Cache-Control"] == "no-store"  # the page with its error
    assert client.get("/dashboard").headers["Cache-Control"] == "no-store"


def test_the_page_says_when_it_serves_the_int8_copy(tiny_classifier):
    """``serve --model braintumor-tumornet-s-int8.onnx`` showed "braintumor-tumornet-s 1.0.0" in the page's header,
    as the float model does (both files carry that name): a user could not tell which one answered."""
    from braintumor.model_files import default_model_path
    from braintumor.predictor import Classifier

    int8 = default_model_path().with_name("braintumor-tumornet-s-int8.onnx")
    if not int8.is_file():
        pytest.skip(f"no shipped int8 model at {int8}")
    for classifier, shown in ((Classifier.load(int8, threads=1), " (int8 copy) ·"), (tiny_classifier, " ·")):
        html = create_app(classifier=classifier).test_client().get("/").get_data(as_text=True)
        line = " ".join(re.search(r'<p class="model-line">(.*?)</p>', html, re.S).group(1).split())
        version = classifier.metadata.get("model_version", "")
        assert f"{version}{shown}" in line and line.count("int8") == shown.count("int8"), line


#: Messages that start with a name (a zip's member: zip_scans._member_error), which the card shows as they are.
NAMED_MESSAGES = ["scan 1.nii: not a NIfTI-1/NIfTI-2 single file (.nii): magic number missing",
                  "my scans/head.nii.gz: not a NIfTI", "dir/x.nii: not a NIfTI", "head: not a NIfTI",
                  "café.png: not a recognised image", "brain.JPG", "x.dcm: not a DICOM file",
                  "scan 1: not a NIfTI", "scan 1 (copy): not a NIfTI", "scan 1.nii (copy): not a NIfTI",
                  "scan (1): not a NIfTI", "scan v2: not a NIfTI", "my scan_final: not a NIfTI",
                  "scan 1.nii~: not a NIfTI", "a:b.nii: not a NIfTI", "scan~1: not a NIfTI", "scan(1): not a NIfTI",
                  "scan's: not a NIfTI", "scan's JFIF header says version 2 (JFIF is version 1): damaged, not decoded"]

#: Messages of the page and the cards that start with a word of their own, which the card says as a sentence.
SENTENCES = ["not a NIfTI-1/NIfTI-2 single file (.nii): magic number missing", "no file chosen: choose one",
             "too many files: 33 (the limit is 32)", "no DICOM image found (skipped 1 file: not a DICOM file: no "
             "'DICM' marker)", "no file in the field 'file' (got: image); send images as 'file'",
             "damaged, or written wrongly by the software that exported it: export it again and send that",
             "the header's sform (2) and qform (1) disagree: x", "skipped 1 file: not a DICOM file",
             "the upload took longer than 60 s to arrive and was stopped: send it again", "not readable",
             "the body is a multipart form (a file upload), but its Content-Type is not multipart/form-data: it says "
             "image/jp2; let the HTTP client set it"]


@pytest.mark.parametrize("message", NAMED_MESSAGES)
def test_a_message_that_starts_with_a_members_name_keeps_the_name_as_it_is(message):
    """pages.sentence capitalised "scan 1.nii: not a NIfTI ..." to "Scan 1.nii: ...": a zip member's name with a
    space, a folder or a non-ASCII letter read as the message's first word, and the card named another file."""
    from braintumor.web.pages import sentence

    assert sentence(message) == message


@pytest.mark.parametrize("message", SENTENCES)
def test_a_message_that_starts_with_its_own_word_is_a_sentence(message):
    """The page's messages and the cards' that start with a word of their own are capitalised, names in brackets
    ("(.nii)", "(0 bytes)") or numbers in their first clause as they are."""
    from braintumor.web.multipart_errors import EMPTY_BODY, NOT_UTF8
    from braintumor.web.pages import sentence
    from braintumor.wording import NOT_AN_INPUT

    for said in (message, NOT_AN_INPUT, EMPTY_BODY, NOT_UTF8):
        assert sentence(said) == said[0].upper() + said[1:]


def test_the_readme_names_the_pages_clear_button_and_the_request_id_every_answer_carries(client):
    """README's web section, where a user looks first, said neither of two things added today that a user acts on:
    the "Clear results" button (a shared workstation) and the X-Request-ID to quote to an operator; both are there."""
    from conftest import REPO

    readme = " ".join((REPO / "README.md").read_text().split())
    assert '"Clear results"' in readme and "Every answer carries `X-Request-ID`" in readme
    page = client.get("/")
    assert ">Clear results</button>" in page.get_data(as_text=True)
    assert page.headers["X-Request-ID"] and client.get("/healthz").headers["X-Request-ID"]
