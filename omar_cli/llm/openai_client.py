"""OpenAI adapter: streamed chat, a ping and audio transcription through the official client.

Works with OpenAI itself and with OpenAI-compatible endpoints (Ollama, llama.cpp, vLLM) set
through ``base_url``. Every ``openai`` exception is translated here, where it is raised, into
the OMAR error family by one function, ``_translate``; nothing above this module sees an
``openai`` type. Server text is quoted only after the key is redacted from it, and the
vendor exception is not chained (its message may echo the key); transport errors are.

Key and endpoint: ``ApiConfig`` is the whole truth. The settings layer resolves flags,
``OMAR_*``, ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL``; this module never reads the
environment and always passes both values to the client, so the client cannot pick up a key
behind the settings' back. With no key, OpenAI's own endpoint raises ``NoApiKeyError`` on first
use, while a custom ``base_url`` (a local server usually needs no key) gets the placeholder
``LOCAL_PLACEHOLDER_KEY``; if that endpoint wants a key after all, it answers 401, reported as
``AuthError``.

``openai`` is imported inside the methods: it is slow to import and most commands work offline.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from omar_cli.errors import (
    ApiError,
    AuthError,
    BadRequestError,
    ContextExceededError,
    IncompleteAnswerError,
    NetworkError,
    NoApiKeyError,
    NotOpenAIError,
    NoVisionError,
    RateLimitError,
    ServerError,
    TimeoutError_,
)
from omar_cli.i18n import N_, _, ngettext
from omar_cli.llm.model import (
    AudioClip,
    ChatMessage,
    ChatResult,
    ImagePart,
    TextPart,
    Transcript,
    Usage,
)

if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

OPENAI_BASE_URL = "https://api.openai.com/v1"
#: sent to a custom endpoint when no key is configured; the client refuses an empty key
LOCAL_PLACEHOLDER_KEY = "not-needed"
#: upper bound for ping(): it answers "is the endpoint there", not "is it fast"
PING_TIMEOUT = 5.0
#: seconds to open a connection; a cabinet with a weak network should not wait a minute
CONNECT_TIMEOUT = 8.0
#: backoff between chat attempts when the server names no delay (doubles, at most the max)
RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
_MAX_QUOTE = 200

_NO_KEY_HINT = N_("set OPENAI_API_KEY, or use --offline for answers from the local knowledge")
_AUTH_HINT = N_("check OPENAI_API_KEY; `omar status` shows which key and endpoint are in use")
_RATE_HINT = N_(
    "wait a minute and ask again, or keep the question pending and run `omar sync` later"
)
_QUOTA_HINT = N_("add credit or raise the limit at platform.openai.com; meanwhile use --offline")
_SERVER_HINT = N_("the service is having trouble: try again later, or use --offline")
_TIMEOUT_HINT = N_("try again, or raise the timeout in the config; --offline answers locally")
_NETWORK_HINT = N_(
    "check the connection; use --offline for local look-ups and `omar sync` to send pending "
    "questions once online"
)
_MODEL_HINT = N_("check the model name (config `model` or --model); `omar status` lists the setup")
_INCOMPLETE_HINT = N_("the partial answer was kept; ask again for the full answer")
_VISION_HINT = N_("set vision_model to a model that reads images (or use an endpoint that has one)")
#: how servers say a model takes no images: OpenAI ("image_url is only supported by certain
#: models"), vLLM ("not a multimodal model"), llama.cpp ("image input is not supported ...
#: mmproj"), LM Studio ("model does not support images")
#: how servers say the request does not fit: llama.cpp ("request exceeds the available context
#: size", "the request exceeds the available context size, try increasing it"), vLLM and
#: OpenAI ("maximum context length is"), Ollama/LM Studio ("context length exceeded")
_CONTEXT_EXCEEDED = re.compile(
    r"exceeds? (?:the )?(?:available )?context|maximum context length|context length "
    r"(?:exceeded|is exceeded)|context (?:size|window) (?:exceeded|is too small)|"
    r"too many tokens|prompt is too long",
    re.IGNORECASE,
)
_NO_VISION = re.compile(
    r"\b(?:images?|image_url|image input|vision|multi-?modal|mmproj)\b[^.]{0,60}"
    r"\b(?:not|only|unsupported)\b"
    r"|\b(?:not|unsupported|does ?n[o']t support)\b[^.]{0,40}"
    r"\b(?:images?|image input|image_url|vision|multi-?modal)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ApiConfig:
    api_key: str | None = field(repr=False)  # never in a repr, a log or a traceback
    base_url: str | None
    timeout: float = 60.0
    max_retries: int = 2

    @property
    def endpoint(self) -> str:
        return self.base_url or OPENAI_BASE_URL

    @property
    def is_openai(self) -> bool:
        return urlsplit(self.endpoint).hostname == "api.openai.com"

    @property
    def host(self) -> str:
        """host[:port] of the endpoint, safe to show (no credentials, no path)."""
        parts = urlsplit(self.endpoint)
        host = parts.hostname or self.endpoint
        return f"{host}:{parts.port}" if parts.port else host


class OpenAIChat:
    """Chat, ping and transcription against one endpoint; the client is built on first use.

    Implements ``omar_cli.llm.model.ChatModel``.
    """

    def __init__(self, config: ApiConfig) -> None:
        self._config = config
        self._client: openai.OpenAI | None = None
        #: optional request fields this server refused: not sent to it again
        self._refused: set[str] = set()

    @property
    def config(self) -> ApiConfig:
        return self._config

    @property
    def host(self) -> str:
        return self._config.host

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str,
        on_delta: Callable[[str], None] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        json_object: bool = False,
    ) -> ChatResult:
        """Stream a Chat Completions answer, calling ``on_delta`` with each piece of text.

        Waits at most the configured timeout for the answer to start, retries included (plus
        the time the last attempt's headers took to arrive); once text flows, a silence
        longer than the timeout cuts the answer. Raises ``IncompleteAnswerError`` (with the
        text so far) when the stream stops without a finish reason, and the other
        ``ApiError`` kinds when the request fails. ``json_object`` asks the server to answer
        one JSON object (llama.cpp and Ollama hold a small model to it with a grammar).
        """
        ctx = _Context(self._config, model)
        params = self._chat_params(model, temperature, max_tokens)
        # the token counts in the last chunk; OpenAI, llama.cpp, Ollama and vLLM know the
        # field, yet not every compatible server does: one that refuses a field is asked
        # again without it
        optional: dict[str, Any] = {"stream_options": {"include_usage": True}}
        if json_object:
            optional["response_format"] = {"type": "json_object"}
        # importing openai and its chat module is work here, not waiting for the network
        self._get_client().chat.completions  # noqa: B018
        started = time.monotonic()
        # One deadline for the whole wait, retries included: the technician waits at most
        # the configured timeout before the offline answer, whatever the server does.
        deadline = started + self._config.timeout
        stream = self._open_stream(to_wire(messages), params, optional, ctx, deadline)
        answer = _Answer(started, model)
        # a server that ignores max_tokens must not stream forever: the bound is kept here
        cap = max_tokens * CHARS_PER_TOKEN_CAP if max_tokens else None
        with stream:
            for chunk in _chunks(stream, answer, ctx, deadline):
                piece = answer.add(chunk)
                if piece and on_delta is not None:
                    on_delta(piece)
                if cap is not None and len(answer.text) >= cap and answer.finish_reason is None:
                    answer.finish_reason = "length"
                    break
        return answer.result(ctx)

    def _open_stream(
        self,
        messages: list[dict[str, Any]],
        params: dict[str, Any],
        optional: dict[str, Any],
        ctx: _Context,
        deadline: float,
    ) -> openai.Stream[ChatCompletionChunk]:
        """Send the request, retrying what may pass on a second try, until the deadline.

        The client's own retries are off: each would restart the full timeout, so a server
        that never answers kept a technician waiting (1 + retries) × timeout plus backoff.
        Each attempt here gets only the time left.
        """
        import openai

        retries = 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError_(_no_answer(ctx), _(_TIMEOUT_HINT))
            client = self._get_client().with_options(timeout=_attempt_timeout(left), max_retries=0)
            extra = {k: v for k, v in optional.items() if k not in self._refused}
            try:
                stream = client.chat.completions.create(
                    messages=cast("list[ChatCompletionMessageParam]", messages),
                    stream=True,
                    extra_body=extra or None,
                    **params,
                )
                _check_wire_format(stream.response, ctx, "text/event-stream")
                return cast("openai.Stream[ChatCompletionChunk]", stream)
            except openai.OpenAIError as exc:
                refused = _refused_field(exc, extra)
                if refused is not None:  # usage figures and JSON mode are niceties
                    self._refused.add(refused)
                    continue
                delay = _retry_delay(exc, retries) if retries < self._config.max_retries else None
                if delay is None or time.monotonic() + delay >= deadline:
                    error = _translate(exc, replace(ctx, retries=retries))
                    raise error from _safe_cause(exc)
                time.sleep(delay)
                retries += 1

    def ping(self) -> float:
        """Round trip to ``GET /models`` in milliseconds; no retries, short timeout."""
        import openai

        timeout = min(PING_TIMEOUT, self._config.timeout)
        client = self._get_client().with_options(timeout=timeout, max_retries=0)
        started = time.monotonic()
        ctx = _Context(self._config, None, timeout)
        try:
            # raw: a web page answering 200 must be reported, not parsed as a model list
            raw = client.models.with_raw_response.list()
        except openai.OpenAIError as exc:
            raise _translate(exc, ctx) from _safe_cause(exc)
        _check_wire_format(raw.http_response, ctx, "application/json")
        return (time.monotonic() - started) * 1000

    def transcribe(
        self,
        audio: AudioClip,
        *,
        model: str,
        language: str | None = None,
        prompt: str | None = None,
    ) -> Transcript:
        """Text of a recording (``language`` an ISO-639-1 code such as "es", or None;
        ``prompt`` words the recording is likely to contain, such as fault codes)."""
        import openai

        started = time.monotonic()
        try:
            result = self._get_client().audio.transcriptions.create(
                file=(audio.filename, audio.data),
                model=model,
                language=language or openai.omit,
                prompt=prompt or openai.omit,
            )
        except openai.OpenAIError as exc:
            raise _translate(exc, _Context(self._config, model)) from _safe_cause(exc)
        return Transcript(result.text, model, language, _elapsed_ms(started))

    def close(self) -> None:
        """Release pooled connections; the client is rebuilt if used again."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> OpenAIChat:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _get_client(self) -> openai.OpenAI:
        if self._client is None:
            import openai

            self._client = openai.OpenAI(
                api_key=_resolve_key(self._config),
                base_url=self._config.endpoint,
                # A weak link should fail fast on connect, yet a slow answer may stream.
                timeout=openai.Timeout(
                    self._config.timeout, connect=min(CONNECT_TIMEOUT, self._config.timeout)
                ),
                max_retries=self._config.max_retries,
            )
        return self._client

    def _chat_params(
        self, model: str, temperature: float | None, max_tokens: int | None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"model": model}
        if temperature is not None:
            params["temperature"] = temperature
        if max_tokens is not None:
            params[token_limit_field(self._config)] = max_tokens
        return params


def to_wire(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """Chat Completions messages: a plain ``content`` string when a message is only text, so
    text-only servers (many local ones) keep working; a list of parts when it has an image."""
    wire: list[dict[str, Any]] = []
    for message in messages:
        if not message.images:
            wire.append({"role": message.role, "content": message.text})
            continue
        parts: list[dict[str, Any]] = []
        for part in message.parts:
            if isinstance(part, TextPart):
                parts.append({"type": "text", "text": part.text})
            elif isinstance(part, ImagePart):
                url = {"url": part.data_url, "detail": part.detail}
                parts.append({"type": "image_url", "image_url": url})
        wire.append({"role": message.role, "content": parts})
    return wire


def token_limit_field(config: ApiConfig) -> str:
    """OpenAI wants ``max_completion_tokens`` (its reasoning models refuse ``max_tokens``);
    compatible servers (Ollama, llama.cpp) know ``max_tokens``."""
    return "max_completion_tokens" if config.is_openai else "max_tokens"


def _resolve_key(config: ApiConfig) -> str:
    if config.api_key:
        return config.api_key
    if not config.is_openai:
        return LOCAL_PLACEHOLDER_KEY
    raise NoApiKeyError(_("no OpenAI API key is configured"), hint=_(_NO_KEY_HINT))


# --------------------------------------------------------------------------- streaming

#: characters a token may stand for at most (Spanish text runs 3-5): past max_tokens times
#: this, the answer is over its bound whatever the server counts, and is cut as "length"
CHARS_PER_TOKEN_CAP = 8


class _Answer:
    """What has arrived so far on a chat stream."""

    def __init__(self, started: float, model: str) -> None:
        self.started = started
        self.model = model
        self.pieces: list[str] = []
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.first_token_ms: int | None = None

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    def add(self, chunk: ChatCompletionChunk) -> str:
        """Take one chunk in; returns its text (possibly empty)."""
        if chunk.model:
            self.model = chunk.model
        if chunk.usage is not None:
            usage = chunk.usage
            self.usage = Usage(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
        if not chunk.choices:
            return ""
        choice = chunk.choices[0]
        if choice.finish_reason is not None:
            self.finish_reason = choice.finish_reason
        piece = choice.delta.content if choice.delta is not None else None
        if not piece:
            return ""
        if self.first_token_ms is None:
            self.first_token_ms = _elapsed_ms(self.started)
        self.pieces.append(piece)
        return piece

    def result(self, ctx: _Context) -> ChatResult:
        if self.finish_reason is None:
            raise IncompleteAnswerError(
                _("the answer from {host} stopped before it finished (no finish reason)").format(
                    host=ctx.host
                ),
                partial=self.text,
                hint=_(_INCOMPLETE_HINT),
            )
        return ChatResult(
            text=self.text,
            model=self.model,
            finish_reason=self.finish_reason,
            usage=self.usage,
            latency_ms=_elapsed_ms(self.started),
            first_token_ms=self.first_token_ms,
        )


def _chunks(
    stream: openai.Stream[ChatCompletionChunk], answer: _Answer, ctx: _Context, deadline: float
) -> Iterator[ChatCompletionChunk]:
    """The stream's chunks, with failures while reading translated.

    Only the reading is guarded: an exception from the caller's ``on_delta`` passes through.
    A failure after some text arrived is an ``IncompleteAnswerError`` keeping that text; before
    any text it is the plain error (a slow first token is a timeout, not a cut answer). Until
    the first text the overall deadline holds, so empty chunks cannot keep the wait going;
    once text flows, only a silence longer than the timeout cuts the answer.
    """
    import openai

    iterator = iter(stream)
    while True:
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        except openai.OpenAIError as exc:
            error = _translate(exc, ctx)
            if answer.text:
                error = _cut(answer, error)
            elif isinstance(error, NetworkError):  # the host answered, then the link dropped
                error = NetworkError(
                    _("the connection to {host} dropped before the answer arrived").format(
                        host=ctx.host
                    ),
                    _(_NETWORK_HINT),
                )
            raise error from _safe_cause(exc)
        except ValueError:  # a chunk that is not JSON, or not a chunk
            error = ServerError(
                _("{host} sent a malformed stream").format(host=ctx.host), hint=_(_SERVER_HINT)
            )
            raise _cut(answer, error) from None
        if not answer.text and time.monotonic() > deadline:
            raise TimeoutError_(_no_answer(ctx), _(_TIMEOUT_HINT))
        yield chunk


def _check_wire_format(response: Any, ctx: _Context, expected: str) -> None:
    """An endpoint that answers with a web page (a proxy, a router, the wrong port) is not an
    OpenAI-compatible API: say so instead of "empty answer" or a parsing crash."""
    kind = str(response.headers.get("content-type", "")).split(";")[0].strip().lower()
    if kind and kind not in (expected, "application/json", "text/event-stream"):
        response.close()
        raise NotOpenAIError(
            f"{ctx.host} is not an OpenAI-compatible API (it answered with {kind})",
            hint="check base_url (omar config show): it must point at the API, often ending /v1",
        )


def _cut(answer: _Answer, error: ApiError) -> IncompleteAnswerError:
    return IncompleteAnswerError(
        _("the answer was cut off: {error}").format(error=error.message),
        partial=answer.text,
        hint=_(_INCOMPLETE_HINT),
    )


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _attempt_timeout(left: float) -> Any:
    """The client timeout for one attempt that has ``left`` seconds before the deadline.

    Read covers each wait for data: until the first piece of the answer, and any later
    silence mid-answer (a silence longer than this cuts the answer).
    """
    import openai

    return openai.Timeout(left, connect=min(CONNECT_TIMEOUT, left))


def _retry_delay(exc: openai.OpenAIError, retries: int) -> float | None:
    """Seconds to wait before trying again, or None when another try would not help.

    The same rule as the openai client's: connection failures, timeouts, 408, 409, 429 and
    5xx are retried unless the server says ``x-should-retry: false``; a delay the server
    names (``retry-after-ms``, ``retry-after``) is honoured, else exponential backoff.
    """
    import openai

    if isinstance(exc, openai.APIConnectionError):  # timeouts included
        return _backoff(retries)
    if not isinstance(exc, openai.APIStatusError):
        return None
    headers = exc.response.headers
    said = headers.get("x-should-retry")
    status = exc.status_code
    if said == "false" or (said != "true" and status not in (408, 409, 429) and status < 500):
        return None
    named = _named_delay(headers)
    return named if named is not None else _backoff(retries)


def _named_delay(headers: Mapping[str, str]) -> float | None:
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            delay = float(headers.get(name, "")) * scale
        except ValueError:
            continue
        if 0 <= delay < float("inf"):
            return delay
    return None


def _backoff(retries: int) -> float:
    delay: float = min(RETRY_DELAY * 2.0**retries, MAX_RETRY_DELAY)
    return delay * (1 - 0.25 * random.random())  # jitter: parallel clients spread out


def _no_answer(ctx: _Context) -> str:
    seconds = ctx.timeout if ctx.timeout is not None else ctx.config.timeout
    return _("no answer from {host} within {seconds} s").format(
        host=ctx.host, seconds=f"{seconds:g}"
    )


# --------------------------------------------------------------------------- translation


@dataclass(frozen=True)
class _Context:
    """What an error message may mention about the request."""

    config: ApiConfig
    model: str | None
    timeout: float | None = None
    #: retries actually made before the error (None: the client's, up to max_retries)
    retries: int | None = None

    @property
    def host(self) -> str:
        return self.config.host

    def redact(self, text: str) -> str:
        """Server text made safe to quote: no key, one line, bounded length."""
        key = self.config.api_key
        if key and len(key) >= 4:
            text = text.replace(key, "***")
        text = re.sub(r"\bsk-[A-Za-z0-9_\-*]{4,}", "sk-***", text)
        text = re.sub(r"(?i)bearer\s+\S+", "Bearer ***", text)
        text = " ".join(text.split())
        return text if len(text) <= _MAX_QUOTE else text[: _MAX_QUOTE - 1] + "…"


def _refused_field(exc: openai.OpenAIError, sent: Mapping[str, Any]) -> str | None:
    """The optional field a 400/422 names ("Unrecognized request argument supplied:
    stream_options", a validator's "extra fields not permitted" at ``response_format``…)."""
    import openai

    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in (400, 422):
        return None
    said = f"{exc.message} {exc.body}"
    return next((name for name in sent if name in said), None)


def _translate(exc: openai.OpenAIError, ctx: _Context) -> ApiError:
    """The OMAR error for any ``openai`` exception (chat, ping, transcription, vision)."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return TimeoutError_(_no_answer(ctx), _(_TIMEOUT_HINT))
    if isinstance(exc, openai.APIConnectionError):
        return NetworkError(_("cannot reach {host}").format(host=ctx.host), _(_NETWORK_HINT))
    if isinstance(exc, openai.APIStatusError):
        return _translate_status(exc, ctx)
    if isinstance(exc, openai.APIResponseValidationError):
        return ServerError(
            _("unexpected response from {host}").format(host=ctx.host), _(_SERVER_HINT)
        )
    if isinstance(exc, openai.APIError):  # an error event inside a stream
        return ServerError(
            _("{host} reported: {said}").format(host=ctx.host, said=ctx.redact(exc.message)),
            _(_SERVER_HINT),
        )
    return ApiError(_("OpenAI client error: {error}").format(error=ctx.redact(str(exc))))


def _translate_status(exc: openai.APIStatusError, ctx: _Context) -> ApiError:
    status, code = exc.status_code, exc.code
    said = ctx.redact(_server_message(exc))
    where = f"{ctx.host} (HTTP {status})"
    if status == 401:  # the message echoes the key, even masked: not quoted
        return AuthError(_("API key rejected by {where}").format(where=where), _(_AUTH_HINT))
    if status == 403:
        return AuthError(
            _("API key not allowed by {where}: {said}").format(where=where, said=said),
            _(_AUTH_HINT),
        )
    if status == 429 and code == "insufficient_quota":
        return RateLimitError(
            _("the account has run out of quota at {where}: {said}").format(where=where, said=said),
            _(_QUOTA_HINT),
        )
    if status == 429:
        return RateLimitError(
            _("rate limit still hit after {retries}: {said}").format(
                retries=_retries(ctx), said=said
            ),
            _(_RATE_HINT),
        )
    if status == 408:
        return TimeoutError_(
            _("{where} timed out the request").format(where=where), _(_TIMEOUT_HINT)
        )
    if _NO_VISION.search(said):  # before 5xx: llama.cpp says it with a 500
        return NoVisionError(
            _("{where} cannot read images with model {model}: {said}").format(
                where=where, model=repr(ctx.model), said=said
            ),
            _(_VISION_HINT),
        )
    if status >= 500 or status == 409:
        return ServerError(
            _("{where} failed after {retries}: {said}").format(
                where=where, retries=_retries(ctx), said=said
            ),
            _(_SERVER_HINT),
        )
    if code == "model_not_found" or (status == 404 and "model" in said.lower()):
        return BadRequestError(
            _("model {model} not found at {where}: {said}").format(
                model=repr(ctx.model), where=where, said=said
            ),
            _(_MODEL_HINT),
        )
    if code == "context_length_exceeded" or _CONTEXT_EXCEEDED.search(said):
        return ContextExceededError(
            _("the request is too long for the context of model {model} at {where}: {said}").format(
                model=repr(ctx.model), where=where, said=said
            ),
            hint=_(
                "set the profile's context_window to the server's context size "
                "(omar config profile add NAME --context-window N), or start the server with a "
                "larger context"
            ),
        )
    if status == 404:
        return BadRequestError(
            _("{where} has no such API path: {said}").format(where=where, said=said),
            hint=_("check the base URL (it usually ends in /v1); `omar status` shows it"),
        )
    return BadRequestError(
        _("{where} refused the request: {said}").format(where=where, said=said), _(_MODEL_HINT)
    )


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    if isinstance(body, str) and body.strip():
        return body
    return exc.response.reason_phrase or _("no details")


def _retries(ctx: _Context) -> str:
    count = ctx.config.max_retries if ctx.retries is None else ctx.retries
    return ngettext("{n} retry", "{n} retries", count).format(n=count)


def _safe_cause(exc: BaseException) -> BaseException | None:
    """The exception worth chaining for --debug: the transport error of a connection failure
    (a socket message, no key). API errors are not chained, their text may echo the key."""
    import openai

    if isinstance(exc, openai.APIConnectionError) and exc.__cause__ is not None:
        return exc.__cause__
    return None
