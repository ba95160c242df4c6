"""Request bodies the API cannot take as sent: a 400 or 415 that says why (a multipart body the parser cannot read,
files under another field, a compressed body, a type that only begins like a body type), not "no file uploaded", a
500 or files left out without a word; and a chunked multipart body is read up to the limit exactly."""

from __future__ import annotations

import io

import pytest
from markupsafe import escape

from braintumor.web import create_app
from braintumor.web.disconnects import cut_short
from braintumor.web.multipart_errors import (
    BOUNDARY_NOT_IN_BODY,
    CUT_SHORT,
    EMPTY_BODY,
    NAMELESS_HINT,
    NO_BOUNDARY,
    NO_DISPOSITION,
    NOT_UTF8,
)
from braintumor.web.pages import sentence  # the page's status line says it as a sentence

B = "x" * 24  # a boundary as long as a browser's (swapped for the process's own: web.form_parsing.StableBoundaryParser)
JPEG = b"\xff\xd8\xff\xe0" + bytes(2000)


def part(filename: bytes = b"scan.jpg", data: bytes = JPEG, boundary: str = B, disposition: bool = True) -> bytes:
    head = b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n' if disposition else b""
    return f"--{boundary}\r\n".encode() + head + b"Content-Type: image/jpeg\r\n\r\n" + data + b"\r\n"


def close(boundary: str = B) -> bytes:
    return f"--{boundary}--\r\n".encode()


CASES = {
    # fetch(url, {body: formData, headers: {"Content-Type": "multipart/form-data"}}): the boundary is lost
    "no-boundary": (part() + close(), "multipart/form-data", NO_BOUNDARY),
    "other-boundary": (part() + close(), "multipart/form-data; boundary=" + "y" * 24, BOUNDARY_NOT_IN_BODY),
    # over Werkzeug's 500 kB buffer before any delimiter: was "too many files ... or a form field too long"
    "other-boundary-600kB": (part(data=bytes(600_000)) + close(), "multipart/form-data; boundary=" + "y" * 24,
                             BOUNDARY_NOT_IN_BODY),
    "cut-short": ((part() + close())[:1500], f"multipart/form-data; boundary={B}", CUT_SHORT),
    "no-closing-boundary": (part(), f"multipart/form-data; boundary={B}", CUT_SHORT),
    "latin-1-name": (part(filename="sc\u00e9an.jpg".encode("latin-1")) + close(), f"multipart/form-data; boundary={B}",
                     NOT_UTF8),
    "no-disposition": (part(disposition=False) + close(), f"multipart/form-data; boundary={B}", NO_DISPOSITION),
}


@pytest.fixture(scope="module")
def client(tiny_classifier):
    return create_app(classifier=tiny_classifier, max_upload_mb=4, max_files=5).test_client()


@pytest.mark.parametrize(("body", "ctype", "message"), CASES.values(), ids=CASES.keys())
def test_a_multipart_body_it_cannot_read_is_a_400_that_says_why(client, body, ctype, message):
    r = client.post("/api/v1/predict", data=body, content_type=ctype)
    assert (r.status_code, r.get_json()) == (400, {"error": message})
    page = client.post("/", data=body, content_type=ctype)  # the no-JavaScript form: the same words in the page
    assert page.status_code == 400 and str(escape(sentence(message))) in page.get_data(as_text=True)


@pytest.mark.parametrize(("data", "said"), [
    # was "the field 'file' holds text, not a file: upload the image as a file", of a file's bytes
    (JPEG, "the field 'file' holds text, not a file: it came without a file name; "),
    # was "too many files or form fields in one request, or a form field too long (the limit is 5 files)": one part
    (JPEG + bytes(600_000), "too many files or form fields in one request (the limit is 5 files), or a form field "
                            "over 500 kB: a file part without a file name is a form field; "),
], ids=["small", "over-500kB"])
def test_a_file_part_sent_without_a_file_name_is_told_to_name_it(client, data, said):
    """``requests.post(url, files={"file": (None, data)})`` or ``curl -F file=<scan.jpg`` send a part with no
    filename, which every form parser reads as a text field."""
    body = f"--{B}\r\n".encode() + b'Content-Disposition: form-data; name="file"\r\n\r\n' + data + b"\r\n" + close()
    r = client.post("/api/v1/predict", data=body, content_type=f"multipart/form-data; boundary={B}")
    assert (r.status_code, r.get_json()) == (400, {"error": said + NAMELESS_HINT})
    assert "curl: -F file=@scan.jpg, not -F file=<scan.jpg" in NAMELESS_HINT


@pytest.mark.parametrize("boundary", [B, "bb"])  # swapped for the process's own, and parsed as sent
@pytest.mark.parametrize("length", ["0", None])  # Content-Length: 0, and a chunked body of no chunk
def test_an_empty_multipart_body_is_called_empty_not_a_boundary_mismatch(client, boundary, length):
    """A client whose file stream was read to its end before the request was sent: "the header and the body were made
    for different boundaries" sent its developer looking for a mismatch that was not there. (The test client builds
    an empty form's body itself from ``data=b""``: the empty body is given as the input stream.)"""
    ctype = f"multipart/form-data; boundary={boundary}"
    headers = {"Content-Length": length} if length else {"Transfer-Encoding": "chunked"}
    for path in ("/api/v1/predict", "/"):
        r = client.post(path, input_stream=io.BytesIO(b""), content_type=ctype, headers=headers)
        if path.startswith("/api/"):
            assert (r.status_code, r.get_json()) == (400, {"error": EMPTY_BODY})
        else:
            page = r.get_data(as_text=True)
            assert r.status_code == 400 and str(escape(sentence(EMPTY_BODY))) in page and "boundar" not in page


@pytest.mark.parametrize("boundary", [B, "bb"])  # swapped for the process's own, and parsed as sent
def test_a_multipart_body_short_of_its_content_length_is_said_to_be_cut_short(client, boundary):
    """gunicorn ends the body where the client closed its side, short of its Content-Length, without a word: a form of
    which nothing came was called empty (0 bytes), one of which part came "the header and the body were made for
    different boundaries" or "its parts are not delimited as multipart/form-data requires". The request was cut
    short, as a file sent as the body is said to be."""
    whole, ctype = part(boundary=boundary) + close(boundary), f"multipart/form-data; boundary={boundary}"
    for body in (b"", whole[:20], whole[:1500]):
        for path in ("/api/v1/predict", "/"):
            r = client.post(path, input_stream=io.BytesIO(body), content_type=ctype,
                            environ_overrides={"CONTENT_LENGTH": str(len(whole)), "wsgi.input_terminated": True})
            said = cut_short(len(body), len(whole))
            if path.startswith("/api/"):
                assert (r.status_code, r.get_json()) == (400, {"error": said}), body[:30]
            else:
                assert r.status_code == 400 and str(escape(sentence(said))) in r.get_data(as_text=True), body[:30]


def test_the_same_bodies_well_made_are_read(client):
    for body in (part() + close(), part(filename="sc\u00e9an.jpg".encode()) + close()):
        r = client.post("/api/v1/predict", data=body, content_type=f"multipart/form-data; boundary={B}")
        assert r.status_code == 400 and "error" in r.get_json()["results"][0]  # read: the JPEG itself is no image


def test_a_file_part_without_a_field_name_is_a_400_not_a_500(client):
    """``Content-Disposition: form-data; filename="scan.jpg"`` with no ``name``: sorting the fields' names met None."""
    nameless = part().replace(b'name="file"; ', b"")
    for body in (nameless + close(), nameless + part(boundary=B).replace(b'"file"', b'"image"') + close()):
        r = client.post("/api/v1/predict", data=body, content_type=f"multipart/form-data; boundary={B}")
        assert r.status_code == 400 and r.get_json()["error"].startswith("no file in the field 'file' (got: ")
        assert "a part with no field name" in r.get_json()["error"]
    r = client.post("/", data=nameless + close(), content_type=f"multipart/form-data; boundary={B}")
    assert r.status_code == 400 and "a part with no field name" in r.get_data(as_text=True)


@pytest.mark.parametrize("other", ["files", "file[]", "image"])
def test_files_in_another_field_beside_file_are_a_400_not_left_out_without_a_word(client, other):
    """``file`` and ``files`` (or ``file[]``, PHP's way): the second field's images were dropped and the answer was a
    200 for the first alone."""
    body = part() + part().replace(b'name="file"', f'name="{other}"'.encode()) + close()
    r = client.post("/api/v1/predict", data=body, content_type=f"multipart/form-data; boundary={B}")
    assert (r.status_code, r.get_json()) == (400, {"error": f"files in a field other than 'file' ({other}): send "
                                                            "every image in the field 'file'"})
    empty = part() + part(filename=b"", data=b"").replace(b'name="file"', b'name="extra"') + close()
    r = client.post("/api/v1/predict", data=empty, content_type=f"multipart/form-data; boundary={B}")
    assert r.status_code == 400 and "results" in r.get_json()  # an empty file input of another name: nothing sent


@pytest.mark.parametrize("coding", ["gzip", "br", "deflate, gzip"])
def test_a_compressed_body_is_a_415_that_names_its_coding(client, coding):
    """A client that compresses its request (Content-Encoding: gzip) had its JPEG read as a gzip file, and answered
    'not a recognised image or scan' (RFC 9110: 415, with Accept-Encoding saying what is taken)."""
    import gzip

    for route in ("/api/v1/predict", "/"):
        r = client.post(route, data=gzip.compress(JPEG), content_type="image/jpeg",
                        headers={"Content-Encoding": coding})
        assert r.status_code == 415 and r.headers["Accept-Encoding"] == "identity"
        said = r.get_json()["error"] if route.startswith("/api/") else r.get_data(as_text=True)
        assert f"Content-Encoding {coding} is not taken: send the body uncompressed" in said
    r = client.post("/api/v1/predict", data=JPEG, content_type="image/jpeg", headers={"Content-Encoding": "identity"})
    assert r.status_code == 400 and "results" in r.get_json()  # read as sent


@pytest.mark.parametrize("ctype", ["application/dicom+json", "application/zip-but-not", "application/octet-streams",
                                   "application/gzipped"])
def test_a_type_that_only_begins_like_a_body_type_is_a_415(client, ctype):
    """The body types were matched by prefix: DICOM's JSON model (application/dicom+json), a JSON body, was read as a
    file and answered 'not a recognised image or scan' where WEB.md promises a 415 for JSON."""
    r = client.post("/api/v1/predict", data=b'{"00080060": {"vr": "CS", "Value": ["MR"]}}', content_type=ctype)
    assert r.status_code == 415 and "one file as the body with Content-Type image/*" in r.get_json()["error"]
    for taken in ("application/dicom", "application/zip", "image/x-anything", "application/octet-stream; x=1"):
        r = client.post("/api/v1/predict", data=JPEG, content_type=taken)
        assert r.status_code == 400 and "results" in r.get_json(), taken  # read (and refused as no image)


def test_a_chunked_multipart_body_of_exactly_the_limit_is_read_one_byte_more_is_413(client):
    """Without a Content-Length Werkzeug's stream raises 413 on any read at the limit, so a body of exactly 4 MB was
    refused as too large, where the same body with its Content-Length (and a raw chunked body) was read."""
    limit = 4 * 1024 * 1024
    head, tail = part(data=b"")[:-2], b"\r\n" + close()

    def chunked(size: int):
        body = head + JPEG + bytes(size - len(head) - len(JPEG) - len(tail)) + tail
        return client.post("/api/v1/predict", input_stream=io.BytesIO(body), headers={"Transfer-Encoding": "chunked"},
                           content_type=f"multipart/form-data; boundary={B}",
                           environ_base={"wsgi.input_terminated": True})

    for size, status in ((limit - 1, 400), (limit, 400), (limit + 1, 413), (limit + 70_000, 413)):
        r = chunked(size)
        assert r.status_code == status, size
        assert ("results" in r.get_json()) == (status == 400)  # read (the JPEG stand-in is refused as no image)


@pytest.mark.parametrize("ctype", ["image/jpeg", "application/octet-stream", "image/jp2", "image/svg+xml"])
def test_a_multipart_body_sent_as_one_file_is_a_400_that_says_so(client, ctype, test_images):
    """``curl -H 'Content-Type: application/octet-stream' -F file=@scan.jpg`` (a type set by hand, or a session's
    header, over a form upload): the form was read as one file, and a good scan was "not a recognised image or scan".
    The words name the form and the type; a body that is the file itself is read as ever. Said as a sentence on the
    page whatever the type: "... says image/jp2: ..." was read as starting with a name (pages.sentence), left
    lowercase."""
    from braintumor.web.pages import sentence

    image = test_images["glioma"][0].read_bytes()
    said = (f"the body is a multipart form (a file upload), but its Content-Type is not multipart/form-data: it says "
            f"{ctype}; let the HTTP client set a form upload's Content-Type itself (with its boundary), or send the "
            "file's bytes alone as the body")
    assert sentence(said) == "T" + said[1:]  # the page's and the cards' (text.js mirrors it)
    type_first = part(data=image).replace(b"Content-Type: image/jpeg\r\n", b"").replace(  # headers swapped
        b"\r\nContent-Disposition", b"\r\nContent-Type: image/jpeg\r\nContent-Disposition")
    curl = part(data=image).replace(b"form-data;", b"attachment;")  # curl -F under a Content-Type of another kind
    for body in (part(data=image), b"\r\n" + part(data=image), type_first, curl):
        body += close()
        r = client.post("/api/v1/predict", data=body, content_type=ctype)
        assert (r.status_code, r.get_json()) == (400, {"error": said})
    r = client.post("/api/v1/predict", data=image, content_type=ctype)
    assert r.status_code == 200 and r.get_json()["results"][0]["label"]
