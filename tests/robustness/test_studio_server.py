"""The studio behind a real uvicorn server on a socket: a stalled request body is answered with 408
and its connection closed (here after a 1 s timeout; 30 s by default), requests from another site's
page are refused, and what the studio's own page sends (its own Origin, ``Sec-Fetch-Site:
same-origin``) is served. The studio holds only folk-mel_2bar's config: /api/midi needs no model."""

from __future__ import annotations

import http.client
import json
import socket
import time

import pytest

from musicvae_tf.pretrained import resolve_model
from musicvae_tf.studio.app import BODY_TIMEOUT_S, create_app
from musicvae_tf.studio.service import Studio, StudioModel
from musicvae_tf.training.run_files import read_run_config
from studio_support import served

TIMEOUT_S = 1.0
MIDI_REQUEST = json.dumps({"model": "folk-mel_2bar", "tokens": [40] + [0] * 31, "qpm": 120}).encode()


@pytest.fixture(scope="module")
def port():
    config = read_run_config(resolve_model("folk-mel_2bar"))
    app = create_app(Studio([StudioModel("folk-mel_2bar", config)]), allowed_hosts=["127.0.0.1", "localhost"],
                     body_timeout_s=TIMEOUT_S)
    with served(app) as port:
        yield port


def post(port: int, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", path, body=body, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


@pytest.mark.parametrize("path, content_type", [("/api/midi", "application/json"),
                                                ("/api/piece", "multipart/form-data; boundary=b")])
def test_a_stalled_body_gets_408_and_its_connection_is_closed(port, path, content_type):
    assert BODY_TIMEOUT_S == 30
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        start = time.monotonic()
        client.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
                       "Content-Length: 100000\r\n\r\n".encode() + b"--b\r\n")
        received = b""
        while chunk := client.recv(65536):  # until the server closes the connection
            received += chunk
        elapsed = time.monotonic() - start
    assert received.startswith(b"HTTP/1.1 408 "), received[:200]
    assert json.loads(received.split(b"\r\n\r\n", 1)[1]) == {
        "error": f"the request body did not arrive within {TIMEOUT_S:g} s"}
    assert TIMEOUT_S <= elapsed < TIMEOUT_S + 3


def test_the_studios_own_page_is_served(port):
    for host in ("127.0.0.1", "localhost"):
        status, body = post(port, "/api/midi", MIDI_REQUEST, {
            "Host": f"{host}:{port}", "Origin": f"http://{host}:{port}", "Sec-Fetch-Site": "same-origin",
            "Content-Type": "application/json"})
        assert status == 200 and body.startswith(b"MThd"), body[:200]
    status, body = post(port, "/api/midi", MIDI_REQUEST, {"Content-Type": "application/json"})  # curl
    assert status == 200 and body.startswith(b"MThd")


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "http://localhost:1"}, {"Origin": "https://127.0.0.1:{port}"}])
def test_a_post_from_another_sites_page_is_refused(port, headers):
    headers = {key: value.format(port=port) for key, value in headers.items()}
    status, body = post(port, "/api/midi", MIDI_REQUEST, {**headers, "Content-Type": "application/json"})
    assert status == 403, body[:200]
    assert json.loads(body)["error"].startswith("cross-site request refused: a page of ")


def test_a_foreign_host_is_refused_as_json(port):
    status, body = post(port, "/api/midi", MIDI_REQUEST, {"Host": "evil.example", "Content-Type": "application/json"})
    assert status == 400
    assert json.loads(body) == {"error": "invalid Host header 'evil.example': this studio answers to 127.0.0.1, "
                                         "localhost"}
