"""A fake OpenAI-compatible HTTP server for tests: real sockets, scripted replies.

The real ``openai`` client talks to it over HTTP, so the whole stack (retries, SSE parsing,
timeouts, multipart uploads) runs as in production. Replies are queued in order with
``enqueue()`` or the ``enqueue_*`` helpers; every request is recorded for assertions. When the
queue is empty the server answers a non-retryable 500 "no scripted response", so a test that
forgot to script a reply fails fast instead of hanging.

    server.enqueue_rate_limit()                  # 429, retry-after-ms=5
    server.enqueue_answer("Check P1.01", usage=(12, 3))
    ... run the code under test against server.base_url ...
    assert server.last_request.json["model"] == "gpt-4o-mini"
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Protocol

CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
TRANSCRIPTIONS_PATH = "/v1/audio/transcriptions"

#: a delay the client honours between retries, small so retry tests stay fast
FAST_RETRY_MS = 5


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class UploadedFile:
    filename: str | None
    content_type: str
    data: bytes


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it. Header names are lower-case."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    json: Any = None
    form: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, UploadedFile] = field(default_factory=dict)

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    @property
    def bearer_token(self) -> str:
        auth = self.authorization or ""
        return auth.removeprefix("Bearer ").strip()

    @property
    def model(self) -> str | None:
        if isinstance(self.json, dict):
            return self.json.get("model")
        return self.form.get("model")

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages = self.json.get("messages") if isinstance(self.json, dict) else None
        return list(messages or [])

    @property
    def wants_stream(self) -> bool:
        return isinstance(self.json, dict) and bool(self.json.get("stream"))

    @property
    def wants_usage(self) -> bool:
        options = self.json.get("stream_options") if isinstance(self.json, dict) else None
        return isinstance(options, dict) and bool(options.get("include_usage"))


def _parse_multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    form: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for part in message.iter_parts() if isinstance(message, Message) else ():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            form[name] = data.decode()
        else:
            files[name] = UploadedFile(filename, part.get_content_type(), data)
    return form, files


# --------------------------------------------------------------------------- replies


class Reply(Protocol):
    """Something the server sends for one request. ``path`` None fits any path."""

    path: str | None

    def send(self, handler: _Handler, request: RecordedRequest) -> None: ...


def error_body(
    message: str, type_: str, code: str | None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


@dataclass
class PageReply:
    """A web page where the API should be: a proxy's login screen, a router, a wrong port."""

    status: int = 200
    path: str | None = None

    def send(self, handler: _Handler, request: RecordedRequest) -> None:
        page = b"<!doctype html><html><body><h1>Sign in</h1></body></html>"
        handler.send_bytes(self.status, page, "text/html; charset=utf-8", None)


@dataclass
class JsonReply:
    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)
    path: str | None = None

    def send(self, handler: _Handler, request: RecordedRequest) -> None:
        handler.send_json(self.status, self.body, self.headers)


@dataclass
class ErrorReply:
    """An OpenAI-style error. ``{model}`` and ``{api_key}`` in the message are filled from the
    request, the way the real API echoes them (the key unmasked here: a worst case for leaks)."""

    status: int
    message: str
    type: str
    code: str | None = None
    param: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    path: str | None = None

    def send(self, handler: _Handler, request: RecordedRequest) -> None:
        text = self.message.replace("{model}", request.model or "?")
        text = text.replace("{api_key}", request.bearer_token)
        body = error_body(text, self.type, self.code, self.param)
        handler.send_json(self.status, body, self.headers)


@dataclass
class AnswerReply:
    """A chat answer, as JSON or SSE depending on the request's ``stream`` flag.

    ``cut_after`` sends that many content deltas then closes the socket mid-body (no final
    chunk, no [DONE]); ``stall_seconds`` waits that long before cutting (a mid-stream
    timeout). ``finish_reason=None`` with ``done=True`` ends cleanly but without a reason.
    ``pace`` waits that long before each delta (a slow server, or one that trickles empty
    deltas to keep the connection open).
    """

    deltas: Sequence[str]
    finish_reason: str | None = "stop"
    usage: tuple[int, int] | None = None
    model: str | None = None
    done: bool = True
    cut_after: int | None = None
    stall_seconds: float = 0.0
    pace: float = 0.0
    path: str | None = CHAT_PATH

    @property
    def text(self) -> str:
        return "".join(self.deltas)

    def send(self, handler: _Handler, request: RecordedRequest) -> None:
        model = self.model or request.model or "fake-model"
        if request.wants_stream:
            self._send_stream(handler, request, model)
        else:
            handler.send_json(200, self._completion(model))

    def _completion(self, model: str) -> dict[str, Any]:
        message = {"role": "assistant", "content": self.text}
        choice = {"index": 0, "message": message, "finish_reason": self.finish_reason}
        body: dict[str, Any] = {"id": "chatcmpl-fake", "object": "chat.completion"}
        body.update(created=int(time.time()), model=model, choices=[choice])
        body["usage"] = _usage(self.usage) if self.usage else None
        return body

    def _send_stream(self, handler: _Handler, request: RecordedRequest, model: str) -> None:
        handler.start_sse()
        handler.send_event(_chunk(model, {"role": "assistant", "content": ""}, None))
        for index, delta in enumerate(self.deltas):
            if self.cut_after is not None and index >= self.cut_after:
                handler.fake.wait_or_release(self.stall_seconds)
                handler.cut()
                return
            handler.fake.wait_or_release(self.pace)
            handler.send_event(_chunk(model, {"content": delta}, None))
        if self.finish_reason is not None:
            handler.send_event(_chunk(model, {}, self.finish_reason))
        if self.usage and request.wants_usage:
            handler.send_event(_chunk(model, None, None, usage=_usage(self.usage)))
        if self.done:
            handler.send_sse_data("[DONE]")
        handler.end_chunks()


def _usage(usage: tuple[int, int]) -> dict[str, int]:
    prompt, completion = usage
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _chunk(
    model: str,
    delta: dict[str, Any] | None,
    finish_reason: str | None,
    usage: dict[str, int] | None = None,
) -> dict[str, Any]:
    choices = (
        [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish_reason}]
    )
    chunk: dict[str, Any] = {"id": "chatcmpl-fake", "object": "chat.completion.chunk"}
    chunk.update(created=int(time.time()), model=model, choices=choices)
    if usage is not None:
        chunk["usage"] = usage
    return chunk


@dataclass
class HangReply:
    """Say nothing for up to ``seconds`` (released early when the server stops), then 500."""

    seconds: float = 5.0
    path: str | None = None

    def send(self, handler: _Handler, request: RecordedRequest) -> None:
        handler.fake.wait_or_release(self.seconds)
        body = error_body("fake_openai: hang released", "server_error", None)
        handler.send_json(500, body, {"x-should-retry": "false"})


@dataclass
class ModelsReply:
    ids: Sequence[str] = ("gpt-4o-mini",)
    path: str | None = MODELS_PATH

    def send(self, handler: _Handler, request: RecordedRequest) -> None:
        data = [{"id": i, "object": "model", "created": 0, "owned_by": "fake"} for i in self.ids]
        handler.send_json(200, {"object": "list", "data": data})


@dataclass
class TranscriptionReply:
    text: str
    path: str | None = TRANSCRIPTIONS_PATH

    def send(self, handler: _Handler, request: RecordedRequest) -> None:
        if request.form.get("response_format") == "text":
            handler.send_bytes(200, self.text.encode(), "text/plain; charset=utf-8")
        else:
            handler.send_json(200, {"text": self.text})


def split_deltas(text: str, pieces: int) -> list[str]:
    """Split ``text`` into at most ``pieces`` deltas on word boundaries, spaces kept."""
    words = re.findall(r"\s*\S+\s*$|\s*\S+", text) or [text]
    count = max(1, min(pieces, len(words)))
    size, extra = divmod(len(words), count)
    deltas, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        deltas.append("".join(words[start:end]))
        start = end
    return deltas


# --------------------------------------------------------------------------- HTTP plumbing


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    @property
    def fake(self) -> FakeOpenAIServer:
        return self.server.fake

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        request = self._read_request()
        self.fake._record(request)
        reply = self.fake._next_reply()
        try:
            if reply is None:
                self._send_unscripted(request, "no scripted response")
            elif reply.path is not None and reply.path != request.path:
                self._send_unscripted(request, f"scripted reply was for {reply.path}")
            else:
                reply.send(self, request)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its timeout fired)

    def _read_request(self) -> RecordedRequest:
        body = self._read_body()
        headers = {name.lower(): value for name, value in self.headers.items()}
        content_type = headers.get("content-type", "")
        parsed: Any = None
        form: dict[str, str] = {}
        files: dict[str, UploadedFile] = {}
        if content_type.startswith("application/json") and body:
            parsed = json.loads(body)
        elif content_type.startswith("multipart/form-data"):
            form, files = _parse_multipart(content_type, body)
        path = self.path.split("?", 1)[0]
        return RecordedRequest(self.command, path, headers, body, parsed, form, files)

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(parts)
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def _send_unscripted(self, request: RecordedRequest, why: str) -> None:
        message = f"fake_openai: {why} for {request.method} {request.path}"
        body = error_body(message, "server_error", "no_scripted_response")
        self.send_json(500, body, {"x-should-retry": "false"})

    def send_bytes(
        self, status: int, data: bytes, content_type: str, headers: Mapping[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def send_json(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        self.send_bytes(status, json.dumps(body).encode(), "application/json", headers)

    def start_sse(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("cache-control", "no-cache")
        self.end_headers()
        self.wfile.flush()

    def send_event(self, chunk: dict[str, Any]) -> None:
        self.send_sse_data(json.dumps(chunk))

    def send_sse_data(self, data: str) -> None:
        payload = f"data: {data}\n\n".encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(payload), payload))
        self.wfile.flush()

    def end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def cut(self) -> None:
        """Close the connection mid-body, the way a dropped link or a proxy does."""
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeOpenAIServer

    def process_request(self, request: Any, client_address: Any) -> None:
        self.fake._track(request)
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            return  # the client dropped a kept-alive connection: its right, not a bug
        self.fake.errors.append(error)
        super().handle_error(request, client_address)


# --------------------------------------------------------------------------- the server


class FakeOpenAIServer:
    """A scripted OpenAI-compatible server on 127.0.0.1; use as a context manager."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._replies: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._sockets: list[socket.socket] = []
        self._release = threading.Event()
        #: exceptions raised inside the handler (a bug in a reply or in the fake itself)
        self.errors: list[BaseException | None] = []
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        self._thread = threading.Thread(target=self._serve, daemon=True)

    # lifecycle

    def _serve(self) -> None:
        self._httpd.serve_forever(poll_interval=0.01)  # shutdown() waits one poll: keep it short

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        started = self._thread.is_alive()
        if started:  # shutdown() would wait forever on a server never started
            self._httpd.shutdown()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):  # already closed by the client or cut()
                    sock.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        if started:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # recording

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def last_request(self) -> RecordedRequest:
        requests = self.requests
        assert requests, "fake_openai: no request received"
        return requests[-1]

    @property
    def pending(self) -> int:
        """Replies still queued (a test can assert 0 to prove all were used)."""
        with self._lock:
            return len(self._replies)

    # scripting

    def enqueue(self, *replies: Reply, times: int = 1) -> None:
        with self._lock:
            for _ in range(times):
                self._replies.extend(replies)

    def enqueue_answer(
        self,
        text: str | Sequence[str],
        *,
        pieces: int = 3,
        usage: tuple[int, int] | None = (12, 3),
        finish_reason: str = "stop",
        model: str | None = None,
        times: int = 1,
    ) -> None:
        """A normal answer; a string is split into ``pieces`` deltas, a list is used as is."""
        deltas = split_deltas(text, pieces) if isinstance(text, str) else list(text)
        self.enqueue(AnswerReply(deltas, finish_reason, usage, model), times=times)

    def enqueue_cut_stream(
        self, text: str | Sequence[str], *, after: int = 2, pieces: int = 4, stall: float = 0.0
    ) -> None:
        """Send ``after`` deltas, optionally stall ``stall`` seconds, then drop the socket."""
        deltas = split_deltas(text, pieces) if isinstance(text, str) else list(text)
        self.enqueue(AnswerReply(deltas, cut_after=after, stall_seconds=stall))

    def enqueue_stall_before_text(self, seconds: float = 30.0) -> None:
        """Headers and the role chunk at once, then silence for ``seconds`` (released at stop),
        then the socket dropped: a server that accepted the question and never answers it."""
        self.enqueue(AnswerReply(["never sent"], cut_after=0, stall_seconds=seconds))

    def enqueue_trickle(self, deltas: int = 100, *, pace: float = 0.1) -> None:
        """Empty deltas every ``pace`` seconds, then an empty answer: never a word of text."""
        self.enqueue(AnswerReply([""] * deltas, pace=pace))

    def enqueue_no_finish_reason(self, text: str | Sequence[str], *, pieces: int = 3) -> None:
        """Every delta and [DONE], but no chunk carries a finish_reason."""
        deltas = split_deltas(text, pieces) if isinstance(text, str) else list(text)
        self.enqueue(AnswerReply(deltas, finish_reason=None, usage=None))

    def enqueue_error(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
    ) -> None:
        reply = ErrorReply(status, message, type, code, param, dict(headers or {}))
        self.enqueue(reply, times=times)

    def enqueue_invalid_key(self, *, times: int = 1) -> None:
        message = "Incorrect API key provided: {api_key}. You can find your API key at https://platform.openai.com/account/api-keys."
        self.enqueue_error(401, message, code="invalid_api_key", times=times)

    def enqueue_forbidden(self, *, times: int = 1) -> None:
        message = "Project does not have access to model `{model}`."
        self.enqueue_error(403, message, code="model_not_found", times=times)

    def enqueue_model_not_found(self, *, times: int = 1) -> None:
        message = "The model `{model}` does not exist or you do not have access to it."
        self.enqueue_error(404, message, code="model_not_found", times=times)

    def enqueue_context_too_long(self, *, times: int = 1) -> None:
        message = (
            "This model's maximum context length is 8192 tokens. However, your messages "
            "resulted in 9001 tokens. Please reduce the length of the messages."
        )
        self.enqueue_error(
            400, message, param="messages", code="context_length_exceeded", times=times
        )

    def enqueue_rate_limit(
        self, *, quota: bool = False, retry_after_ms: int = FAST_RETRY_MS, times: int = 1
    ) -> None:
        """429; ``quota=True`` is the out-of-credit flavour (``insufficient_quota``)."""
        headers = {"retry-after-ms": str(retry_after_ms)}
        if quota:
            message = "You exceeded your current quota, please check your plan and billing details."
            self.enqueue_error(
                429,
                message,
                type="insufficient_quota",
                code="insufficient_quota",
                headers=headers,
                times=times,
            )
        else:
            message = "Rate limit reached for {model} on requests per min (RPM). Please try again."
            self.enqueue_error(
                429,
                message,
                type="requests",
                code="rate_limit_exceeded",
                headers=headers,
                times=times,
            )

    def enqueue_server_error(
        self, status: int = 500, *, retry_after_ms: int = FAST_RETRY_MS, times: int = 1
    ) -> None:
        message = (
            "The engine is currently overloaded, please try again later."
            if status == 503
            else "The server had an error while processing your request. Sorry about that!"
        )
        headers = {"retry-after-ms": str(retry_after_ms)}
        self.enqueue_error(status, message, type="server_error", headers=headers, times=times)

    def enqueue_hang(self, seconds: float = 5.0, *, times: int = 1) -> None:
        """Say nothing for ``seconds`` (set it above the client timeout); released at stop."""
        self.enqueue(HangReply(seconds), times=times)

    def enqueue_web_page(self, *, times: int = 1) -> None:
        self.enqueue(PageReply(), times=times)

    def enqueue_models(self, *ids: str, times: int = 1) -> None:
        self.enqueue(ModelsReply(ids or ("gpt-4o-mini",)), times=times)

    def enqueue_transcription(self, text: str, *, times: int = 1) -> None:
        self.enqueue(TranscriptionReply(text), times=times)

    # used by the handler

    def wait_or_release(self, seconds: float) -> None:
        if seconds > 0:
            self._release.wait(seconds)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _next_reply(self) -> Reply | None:
        with self._lock:
            return self._replies.popleft() if self._replies else None

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)


def unreachable_base_url() -> str:
    """A base URL on a local port that was just bound and closed: connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
