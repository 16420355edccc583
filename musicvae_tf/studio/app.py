"""The studio's web app (Starlette): the page, its static files and the JSON API over :class:`Studio`.

Routes: ``GET /`` the page, ``GET /static/*``, ``GET /api/models``, and ``POST /api/sample``,
``/api/interpolate``, ``/api/piece``, ``/api/inpaint`` (multipart forms: MIDI uploads or one of the
held-out tunes), ``/api/midi`` (JSON: a result's tokens -> a MIDI file). Errors are JSON
``{"error": "one line"}``: 400 for bad input (the CLI's message, or the form parser's), 413 for an
upload, a field or a request over the limit, 404/405 for an unknown route or method; a text field
over :data:`MAX_FIELD_CHARS` is refused, so no message quotes more of the input than that; a POST
from another site's page is refused with 403 (:class:`_SameOrigin`).

Uploads are read into memory (Starlette spools a large part to a temporary file it names itself) and
parsed from bytes: nothing the client sends is used as a path. Model calls run in a worker thread,
so the server keeps answering (the page, its progress) while a model works.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from pathlib import Path
from urllib.parse import urlsplit

import anyio
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from data_pipelines.errors import MusicVAEError, UsageError, describe_os_error
from musicvae_tf.studio.service import (Studio, held_out_tune, parse_bar, parse_number, parse_seed, read_upload,
                                        upload_label)

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Largest MIDI file accepted (a long folk tune is a few KiB); a request holds at most two.
MAX_UPLOAD_BYTES = 1024 * 1024
_FORM_OVERHEAD = 64 * 1024
# A request body must arrive within this many seconds of its first byte being awaited.
BODY_TIMEOUT_S = 30.0
# Longest text field (a model name, a tune id, a number); longer ones are refused unquoted.
MAX_FIELD_CHARS = 80

log = logging.getLogger("musicvae_tf.studio")


class UploadTooLarge(Exception):
    """A request body or an uploaded file over the limit (answered with 413)."""


class BodyTimeout(Exception):
    """A request body that stalled (answered with 408, and the connection is closed)."""


def create_app(studio: Studio, max_upload_bytes: int = MAX_UPLOAD_BYTES,
               allowed_hosts: list[str] | None = None, body_timeout_s: float = BODY_TIMEOUT_S) -> Starlette:
    """The web app over ``studio``; ``allowed_hosts`` (e.g. localhost names) refuses other Host
    headers, which keeps a page of another site from reaching a localhost server by DNS rebinding,
    and a POST from another site's page is refused whatever the host (:class:`_SameOrigin`). A
    request body not received within ``body_timeout_s`` is answered with 408 and its connection
    closed, so a stalled upload does not hold a connection open."""
    api = _Api(studio, max_upload_bytes, body_timeout_s)
    routes = [
        Route("/", _index),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        Route("/api/models", api.models),
        Route("/api/sample", api.sample, methods=["POST"]),
        Route("/api/interpolate", api.interpolate, methods=["POST"]),
        Route("/api/piece", api.piece, methods=["POST"]),
        Route("/api/inpaint", api.inpaint, methods=["POST"]),
        Route("/api/midi", api.midi, methods=["POST"]),
    ]
    return Starlette(routes=routes, middleware=[Middleware(_SameOrigin, allowed_hosts=allowed_hosts)],
                     exception_handlers={HTTPException: _http_error})


class _SameOrigin:
    """ASGI middleware that answers (JSON) instead of the app: 400 to a request whose ``Host`` is not
    in ``allowed_hosts`` (when given), 403 to a POST a page of another site sent (``Sec-Fetch-Site:
    cross-site``, or an ``Origin`` that is not this server's own address). Scripts and curl send no
    Origin and are served; the studio's own page sends its own."""

    def __init__(self, app, allowed_hosts: list[str] | None = None):
        self.app = app
        self.allowed_hosts = set(allowed_hosts) if allowed_hosts else None

    async def __call__(self, scope, receive, send):
        refusal = self._refusal(scope) if scope["type"] == "http" else None
        if refusal is None:
            await self.app(scope, receive, send)
        else:
            await _error(*refusal)(scope, receive, send)

    def _refusal(self, scope) -> tuple[str, int] | None:
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if self.allowed_hosts is not None and _host_name(host) not in self.allowed_hosts:
            return (f"invalid Host header {host[:MAX_FIELD_CHARS]!r}: this studio answers to "
                    f"{', '.join(sorted(self.allowed_hosts))}", 400)
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return None
        origin = headers.get("origin")
        if headers.get("sec-fetch-site") == "cross-site" or (
                origin is not None and origin.lower() != f"{scope['scheme']}://{host}".lower()):
            return (f"cross-site request refused: a page of {(origin or 'another site')[:MAX_FIELD_CHARS]} "
                    "cannot use this studio", 403)
        return None


def _host_name(host: str) -> str:
    """The name in a Host header ("127.0.0.1:8765" -> "127.0.0.1", "[::1]:8765" -> "::1")."""
    try:
        return urlsplit(f"//{host}").hostname or ""
    except ValueError:  # e.g. an unclosed "["
        return ""


async def _http_error(request: Request, exc: HTTPException) -> Response:
    """Starlette's own refusals (an unknown route or method, a missing static file) as JSON."""
    return _error(f"{exc.detail}: {request.method} {request.url.path[:MAX_FIELD_CHARS]}", exc.status_code,
                  headers=exc.headers)


async def _index(request: Request) -> Response:
    return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


def _answers_errors(handler):
    """Turn the errors of a route into one-line JSON answers."""

    @functools.wraps(handler)
    async def wrapped(self, request: Request) -> Response:
        try:
            return await handler(self, request)
        except UploadTooLarge as exc:
            return _error(str(exc), 413)
        except BodyTimeout as exc:
            return _error(str(exc), 408, headers={"Connection": "close"})
        except MusicVAEError as exc:
            return _error(str(exc), 400)
        except ClientDisconnect:
            return _error("the client closed the connection before sending the whole request", 400)
        except OSError as exc:
            log.exception("studio request failed")
            return _error(describe_os_error(exc), 500)
        except Exception as exc:  # A bug: keep the server up, tell the page, log the traceback.
            log.exception("studio request failed")
            return _error(f"internal error ({type(exc).__name__}): {exc}", 500)

    return wrapped


def _error(message: str, status: int, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": " ".join(message.split())}, status_code=status, headers=headers)


class _Api:
    """The API routes, bound to one studio, one upload limit and one body timeout."""

    def __init__(self, studio: Studio, max_upload_bytes: int, body_timeout_s: float):
        self.studio = studio
        self.max_upload_bytes = max_upload_bytes
        self.body_timeout_s = body_timeout_s

    async def models(self, request: Request) -> Response:
        """Models, held-out tunes and limits."""
        return JSONResponse({**self.studio.describe(), "max_upload_bytes": self.max_upload_bytes})

    @_answers_errors
    async def sample(self, request: Request) -> Response:
        """Form: model, count, temperature, seed (empty: random)."""
        form, _ = await self._read(request)
        return JSONResponse(await run_in_threadpool(
            self.studio.sample, _text(form, "model"), parse_number("count", _text(form, "count", "4"), int),
            parse_number("temperature", _text(form, "temperature", "0.5")), parse_seed(form.get("seed"))))

    @_answers_errors
    async def interpolate(self, request: Request) -> Response:
        """Form: model, a / b (MIDI files) or a_tune / b_tune (held-out tunes), a_bar / b_bar (window
        start bars, empty: the first window), steps, method, temperature, seed."""
        form, sources = await self._read(request, ("a", "b"))
        steps = parse_number("steps", _text(form, "steps", "5"), int)
        temperature = parse_number("temperature", _text(form, "temperature", "0.5"))
        seed = parse_seed(form.get("seed"))
        bars = (parse_bar("bar", form.get("a_bar")), parse_bar("bar", form.get("b_bar")))

        def work():
            inputs = [_open(source) for source in sources.values()]
            return self.studio.interpolate(_text(form, "model"), inputs, steps, _text(form, "method", "slerp"),
                                           temperature, seed, bars)

        return JSONResponse(await run_in_threadpool(work))

    @_answers_errors
    async def piece(self, request: Request) -> Response:
        """Form: model (an inpainter), file or tune: the piece as that model reads it."""
        form, sources = await self._read(request, ("file",))
        return JSONResponse(await run_in_threadpool(
            lambda: self.studio.piece(_text(form, "model"), *_open(sources["file"]))))

    @_answers_errors
    async def inpaint(self, request: Request) -> Response:
        """Form: model, file or tune, bars (FIRST-LAST from 1), count, temperature, seed."""
        form, sources = await self._read(request, ("file",))
        count = parse_number("count", _text(form, "count", "1"), int)
        temperature = parse_number("temperature", _text(form, "temperature", "0.5"))
        seed = parse_seed(form.get("seed"))
        return JSONResponse(await run_in_threadpool(
            lambda: self.studio.inpaint(_text(form, "model"), *_open(sources["file"]), _text(form, "bars"), count,
                                        temperature, seed)))

    @_answers_errors
    async def midi(self, request: Request) -> Response:
        """JSON ``{"model", "tokens", "qpm", "name"}`` -> ``audio/midi``."""
        _check_length(request, self.max_upload_bytes)
        body = await Request(request.scope, self._receive(request, self.max_upload_bytes)).body()
        try:
            payload = json.loads(body)
        except ValueError:
            raise UsageError("the request is not JSON") from None
        except RecursionError:
            raise UsageError("the request's JSON nests too deeply") from None
        if not isinstance(payload, dict):
            raise UsageError("the request must be a JSON object")
        model = _short("model", payload.get("model", ""))
        qpm = _short("qpm", payload.get("qpm", 120))
        data = await run_in_threadpool(self.studio.midi, model, payload.get("tokens"), qpm)
        return Response(data, media_type="audio/midi",
                        headers={"Content-Disposition": 'attachment; filename="musicvae.mid"'})

    async def _read(self, request: Request, files: tuple[str, ...] = ()) -> tuple[dict, dict]:
        """The form's text fields and, per name in ``files``, its source (see :meth:`_source`)."""
        limit = 2 * self.max_upload_bytes + _FORM_OVERHEAD
        _check_length(request, limit)
        try:
            form = await Request(request.scope, self._receive(request, limit)).form(max_files=2, max_fields=16)
        except HTTPException as exc:  # the form parser's refusal: malformed, too many parts, too large
            too_large = "maximum size" in str(exc.detail)
            raise (UploadTooLarge if too_large else UsageError)(f"bad form: {exc.detail}") from None
        try:
            fields = {key: _short(key, value) for key, value in form.items() if isinstance(value, str)}
            sources = {key: await self._source(form, key) for key in files}
        finally:
            await form.close()
        return fields, sources

    def _receive(self, request: Request, limit: int):
        """``request.receive`` that stops a body (chunked or lying about its length) once it passes
        ``limit`` bytes or once it has taken ``body_timeout_s``."""
        received = 0
        deadline = None

        async def counted():
            nonlocal received, deadline
            deadline = deadline or time.monotonic() + self.body_timeout_s
            try:
                with anyio.fail_after(max(0.0, deadline - time.monotonic())):
                    message = await request.receive()
            except TimeoutError:
                raise BodyTimeout(f"the request body did not arrive within {self.body_timeout_s:g} s") from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise UploadTooLarge(f"request too large: at most {limit // 1024} KiB")
            return message

        return counted

    async def _source(self, form, key: str) -> tuple:
        """``("upload", bytes, name)`` for a file field ``key``, else ``("tune", id)`` for ``key_tune``."""
        upload = form.get(key)
        if isinstance(upload, UploadFile) and (upload.filename or upload.size):
            data = await upload.read(self.max_upload_bytes + 1)
            if len(data) > self.max_upload_bytes:
                raise UploadTooLarge(f"{upload_label(upload.filename)}: larger than the upload limit of "
                                     f"{self.max_upload_bytes // 1024} KiB")
            return "upload", data, upload.filename
        tune = form.get(f"{key}_tune") if key != "file" else form.get("tune")
        if isinstance(tune, str) and tune:
            return ("tune", tune)
        raise UsageError(f"give a MIDI file or a held-out tune for {key if key != 'file' else 'the piece'}")


def _open(source: tuple):
    """``(label, NoteSequence)`` of a source from :meth:`_Api._source` (in the worker thread)."""
    if source[0] == "upload":
        return read_upload(source[1], source[2])
    return held_out_tune(source[1])


def _short(key: str, value) -> str:
    """A text field as a string, refused (without quoting it) when over :data:`MAX_FIELD_CHARS`."""
    text = str(value)
    if len(text) > MAX_FIELD_CHARS:
        raise UsageError(f"field {key[:40]!r} is too long: {len(text):,} characters, at most {MAX_FIELD_CHARS}")
    return text


def _text(form, key: str, default: str | None = None) -> str:
    value = form.get(key)
    if isinstance(value, str) and value.strip():
        return value.strip()
    if default is None:
        raise UsageError(f"{key} is missing")
    return default


def _check_length(request: Request, limit: int) -> None:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise UploadTooLarge(f"request too large: at most {limit // 1024} KiB")
