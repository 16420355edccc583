"""Malformed and hostile requests to the studio: every one is a 4xx JSON ``{"error": "one line"}``
that quotes little of the input, never a 500 or a logged traceback. Through Starlette's TestClient
over a studio holding only folk-mel_2bar's config (no model is loaded: each request is refused
before a model would run)."""

from __future__ import annotations

import logging

import pytest
from starlette.testclient import TestClient

from musicvae_tf.pretrained import resolve_model
from musicvae_tf.studio.app import create_app
from musicvae_tf.studio.service import Studio, StudioModel
from musicvae_tf.training.run_files import read_run_config

FORM_ROUTES = ("/api/sample", "/api/interpolate", "/api/piece", "/api/inpaint")
BOUNDARY = "studio-test-boundary"
MULTIPART = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


def multipart(*parts: tuple[str, bytes], boundary: str = BOUNDARY) -> bytes:
    """A multipart body of ``(headers, content)`` parts."""
    body = b"".join(f"--{boundary}\r\n{headers}\r\n\r\n".encode() + content + b"\r\n"
                    for headers, content in parts)
    return body + f"--{boundary}--\r\n".encode()


def field(name: str, value: str) -> tuple[str, bytes]:
    return f'Content-Disposition: form-data; name="{name}"', value.encode()


def upload(name: str, filename: str, data: bytes = b"MThd") -> tuple[str, bytes]:
    return (f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: audio/midi", data)


MODEL = field("model", "folk-mel_2bar")
# (what, headers, body, status)
BAD_FORMS = [
    ("no boundary", {"content-type": "multipart/form-data"}, multipart(MODEL), 400),
    ("wrong boundary", {"content-type": "multipart/form-data; boundary=other"}, multipart(MODEL), 400),
    ("garbage body", MULTIPART, bytes(range(256)) * 8, 400),
    ("three files", MULTIPART, multipart(MODEL, upload("a", "a.mid"), upload("b", "b.mid"),
                                         upload("file", "c.mid")), 400),
    ("17 fields", MULTIPART, multipart(*(field(f"f{i}", "1") for i in range(17))), 400),
    ("a field over 1 MiB", MULTIPART, multipart(field("model", "x" * (2**20 + 1))), 413),
    ("a part without a name", MULTIPART, multipart(("Content-Disposition: form-data", b"x")), 400),
    ("a 5,000-character file name", MULTIPART,
     multipart(MODEL, upload("file", "n" * 5000 + ".mid"), upload("a", "n" * 5000 + ".mid")), 400),
    ("a 100,000-character model name", MULTIPART, multipart(field("model", "m" * 100_000)), 400),
    ("a 100,000-character field name", MULTIPART, multipart(field("f" * 100_000, "1")), 400),
    ("17 urlencoded fields", {"content-type": "application/x-www-form-urlencoded"},
     "&".join(f"f{i}=1" for i in range(17)).encode(), 400),
]
BAD_MIDI_REQUESTS = [
    ('{"model": "folk-mel_2bar", "tokens": [Infinity], "qpm": 120}', "tokens must be a list of whole numbers"),
    ('{"model": "folk-mel_2bar", "tokens": [-Infinity], "qpm": 120}', "tokens must be a list of whole numbers"),
    ('{"model": "folk-mel_2bar", "tokens": [NaN], "qpm": 120}', "tokens must be a list of whole numbers"),
    ('{"model": "folk-mel_2bar", "tokens": [1e400], "qpm": 120}', "tokens must be a list of whole numbers"),
    ('{"model": "folk-mel_2bar", "tokens": [9223372036854775808' + ", 0" * 15 + '], "qpm": 120}', "whole numbers"),
    ('{"model": "folk-mel_2bar", "tokens": [-1, 9223372036854775808], "qpm": 120}', "whole numbers"),
    ('{"model": "folk-mel_2bar", "tokens": [18446744073709551616], "qpm": 120}', "whole numbers"),
    ('{"model": "folk-mel_2bar", "tokens": [1.5, 2], "qpm": 120}', "whole numbers"),
    ('{"model": "folk-mel_2bar", "tokens": ' + "[" * 100_000 + "]" * 100_000 + "}", "nests too deeply"),
    ('{"model": "folk-mel_2bar", "tokens": ' + "[" * 900 + "1" + "]" * 900 + "}", "whole numbers"),
    ('{"model": "folk-mel_2bar", "tokens": [0], "qpm": 2}', "a tempo must lie in 3.576..1000 qpm"),
    ('{"model": "folk-mel_2bar", "tokens": [0], "qpm": 1e400}', "a tempo must lie in"),
    ('{"model": "folk-mel_2bar", "tokens": [0], "qpm": "' + "9" * 100_000 + '"}', "field 'qpm' is too long"),
    ('{"model": "' + "m" * 100_000 + '", "tokens": [0]}', "field 'model' is too long: 100,000 characters"),
    ("[1, 2]", "must be a JSON object"),
    ("{", "not JSON"),
]


@pytest.fixture(scope="module")
def client():
    config = read_run_config(resolve_model("folk-mel_2bar"))
    return TestClient(create_app(Studio([StudioModel("folk-mel_2bar", config)])))


def assert_one_line_error(answer, status: int, caplog) -> str:
    assert answer.status_code == status, (answer.status_code, answer.text[:300])
    assert answer.headers["content-type"] == "application/json"
    error = answer.json()["error"]
    assert len(error.splitlines()) == 1 and len(error) <= 200, error[:300]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text[-2000:]
    return error


@pytest.mark.parametrize("route", FORM_ROUTES)
@pytest.mark.parametrize("what, headers, body, status", BAD_FORMS, ids=[case[0] for case in BAD_FORMS])
def test_a_malformed_form_is_a_4xx_one_liner(client, caplog, route, what, headers, body, status):
    error = assert_one_line_error(client.post(route, content=body, headers=headers), status, caplog)
    if status == 413:
        assert error == "bad form: Part exceeded maximum size of 1024KB."
    if "too long" in what or "character" in what:
        assert "mmmm" * 30 not in error and "ffff" * 30 not in error and "nnnn" * 30 not in error


def test_each_form_error_says_what_is_wrong(client, caplog):
    words = {"no boundary": "Missing boundary", "three files": "Too many files",
             "17 fields": "Too many fields", "a part without a name": '"name" must be provided',
             "a 100,000-character model name": "field 'model' is too long: 100,000 characters, at most 80"}
    for what, headers, body, _ in BAD_FORMS:
        if what in words:
            answer = client.post("/api/sample", content=body, headers=headers)
            assert words[what] in answer.json()["error"], (what, answer.json())


@pytest.mark.parametrize("body, words", BAD_MIDI_REQUESTS, ids=[str(i) for i in range(len(BAD_MIDI_REQUESTS))])
def test_a_bad_midi_request_is_a_400_one_liner(client, caplog, body, words):
    answer = client.post("/api/midi", content=body.encode(), headers={"content-type": "application/json"})
    assert words in assert_one_line_error(answer, 400, caplog)


def test_tokens_the_model_wrote_still_become_midi(client):
    answer = client.post("/api/midi", json={"model": "folk-mel_2bar", "tokens": [40] + [0] * 31, "qpm": 3.58})
    assert answer.status_code == 200 and answer.content.startswith(b"MThd")


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/api/nope", 404), ("POST", "/api/nope", 404), ("GET", "/api/sample", 405),
    ("POST", "/api/models", 405), ("DELETE", "/api/midi", 405), ("GET", "/static/nope.js", 404)])
def test_unknown_routes_and_methods_answer_json(client, caplog, method, path, status):
    answer = client.request(method, path)
    error = assert_one_line_error(answer, status, caplog)
    assert error == f"{'Not Found' if status == 404 else 'Method Not Allowed'}: {method} {path}"
    if status == 405:
        assert "allow" in answer.headers


def test_allowed_hosts_are_matched_by_name_whatever_the_port():
    config = read_run_config(resolve_model("folk-mel_2bar"))
    app = create_app(Studio([StudioModel("folk-mel_2bar", config)]), allowed_hosts=["127.0.0.1", "localhost", "::1"])
    for base, status in [("http://127.0.0.1:8765", 200), ("http://localhost", 200), ("http://[::1]:8765", 200),
                         ("http://evil.example:8765", 400), ("http://127.0.0.1.evil.example", 400)]:
        answer = TestClient(app, base_url=base).get("/api/models")
        assert answer.status_code == status, (base, answer.text[:200])
    assert TestClient(app, base_url="http://evil.example").get("/api/models").json() == {
        "error": "invalid Host header 'evil.example': this studio answers to 127.0.0.1, ::1, localhost"}
