"""The OpenAI adapter with the real ``openai`` client against the fake server in fake_openai.py."""

from __future__ import annotations

import base64
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fake_openai import FakeOpenAIServer, unreachable_base_url

from omar_cli.errors import (
    ApiError,
    AuthError,
    BadRequestError,
    ContextExceededError,
    ExitCode,
    IncompleteAnswerError,
    InputError,
    NetworkError,
    NoApiKeyError,
    NotOpenAIError,
    OmarError,
    RateLimitError,
    ServerError,
    TimeoutError_,
)
from omar_cli.llm.model import AudioClip, ChatMessage, ChatModel, ImagePart, Usage
from omar_cli.llm.openai_client import (
    LOCAL_PLACEHOLDER_KEY,
    ApiConfig,
    OpenAIChat,
    token_limit_field,
)

pytestmark = pytest.mark.usefixtures("english_messages")  # the messages it reads

KEY = "sk-test-ZZ9-plural-z-alpha-4242"
MODEL = "gpt-4o-mini"
MESSAGES = [
    ChatMessage.of("system", "You help technicians with ABB ACS150 drives."),
    ChatMessage.of("user", "What does fault F0001 mean?"),
]
#: how MESSAGES travel: text-only messages keep a plain content string
WIRE = [
    {"role": "system", "content": "You help technicians with ABB ACS150 drives."},
    {"role": "user", "content": "What does fault F0001 mean?"},
]


def make_chat(base_url: str, *, timeout: float = 5.0, max_retries: int = 2) -> OpenAIChat:
    model: ChatModel = OpenAIChat(ApiConfig(KEY, base_url))  # mypy: the adapter fits the interface
    del model
    return OpenAIChat(ApiConfig(KEY, base_url, timeout=timeout, max_retries=max_retries))


@pytest.fixture
def chat(fake_openai: FakeOpenAIServer) -> Iterator[OpenAIChat]:
    with make_chat(fake_openai.base_url) as client:
        yield client


def ask(chat: OpenAIChat, deltas: list[str] | None = None) -> None:
    on_delta = deltas.append if deltas is not None else None
    chat.stream_chat(MESSAGES, model=MODEL, on_delta=on_delta)


def assert_no_key(error: BaseException) -> None:
    hint = error.hint if isinstance(error, OmarError) else None
    shown = [str(error), repr(error), str(hint), *traceback.format_exception(error)]
    assert not [text for text in shown if KEY in text]


# --------------------------------------------------------------------------- success


def test_stream_chat_returns_text_usage_and_finish_reason(
    fake_openai: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    fake_openai.enqueue_answer(["Overcurrent: ", "check the motor ", "cable."], usage=(40, 7))
    deltas: list[str] = []

    result = chat.stream_chat(MESSAGES, model=MODEL, on_delta=deltas.append)

    assert deltas == ["Overcurrent: ", "check the motor ", "cable."]
    assert result.text == "Overcurrent: check the motor cable."
    assert result.finish_reason == "stop"
    assert result.usage == Usage(prompt_tokens=40, completion_tokens=7, total_tokens=47)
    assert result.model == MODEL
    assert result.first_token_ms is not None
    assert 0 <= result.first_token_ms <= result.latency_ms


def test_request_carries_key_model_messages_and_stream_flags(
    fake_openai: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    fake_openai.enqueue_answer("ok")

    chat.stream_chat(MESSAGES, model=MODEL, temperature=0.2, max_tokens=300)

    sent = fake_openai.last_request
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert sent.authorization == f"Bearer {KEY}"
    assert sent.json["model"] == MODEL
    assert sent.messages == WIRE
    assert sent.json["stream"] is True
    assert sent.json["stream_options"] == {"include_usage": True}
    assert sent.json["temperature"] == 0.2
    assert sent.json["max_tokens"] == 300  # a compatible endpoint; OpenAI gets the new name


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (400, "Unrecognized request argument supplied: stream_options"),
        (422, "[{'loc': ['body', 'stream_options'], 'msg': 'extra fields not permitted'}]"),
    ],
)
def test_a_server_refusing_stream_options_is_asked_again_without_them(
    fake_openai: FakeOpenAIServer, chat: OpenAIChat, status: int, message: str
) -> None:
    fake_openai.enqueue_error(status, message, param="stream_options")
    fake_openai.enqueue_answer("F0001 es sobrecorriente.")
    fake_openai.enqueue_answer("otra")

    first = chat.stream_chat(MESSAGES, model=MODEL)
    chat.stream_chat(MESSAGES, model=MODEL)

    sent = fake_openai.requests
    assert first.text == "F0001 es sobrecorriente." and first.usage is None
    assert ["stream_options" in r.json for r in sent] == [True, False, False]


def test_json_mode_is_asked_for_and_dropped_where_refused(
    fake_openai: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    fake_openai.enqueue_answer('{"codes": []}')
    chat.stream_chat(MESSAGES, model=MODEL, json_object=True)
    assert fake_openai.last_request.json["response_format"] == {"type": "json_object"}
    fake_openai.enqueue_error(400, "response_format is not supported", param="response_format")
    fake_openai.enqueue_answer('{"codes": []}')
    assert chat.stream_chat(MESSAGES, model=MODEL, json_object=True).text == '{"codes": []}'
    sent = fake_openai.requests[-2:]
    assert ["response_format" in r.json for r in sent] == [True, False]
    assert all("stream_options" in r.json for r in sent)  # only the refused field is dropped


def test_other_bad_requests_are_not_retried_without_stream_options(
    fake_openai: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    fake_openai.enqueue_error(400, "Invalid value for 'temperature'", param="temperature")
    with pytest.raises(BadRequestError):
        ask(chat)
    assert len(fake_openai.requests) == 1


def test_a_server_ignoring_max_tokens_is_cut_at_the_bound(
    fake_openai: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    from fake_openai import AnswerReply

    fake_openai.enqueue(AnswerReply(["bla "] * 5000))  # would never stop on its own
    result = chat.stream_chat(MESSAGES, model=MODEL, max_tokens=50)
    assert result.finish_reason == "length"
    assert 400 <= len(result.text) < 420  # 50 tokens x 8 characters, then it stops reading


def test_unset_options_are_not_sent(fake_openai: FakeOpenAIServer, chat: OpenAIChat) -> None:
    fake_openai.enqueue_answer("ok")
    ask(chat)
    assert not {"temperature", "max_tokens", "max_completion_tokens"} & set(
        fake_openai.last_request.json
    )


def test_token_limit_field_follows_the_endpoint() -> None:
    assert token_limit_field(ApiConfig(KEY, None)) == "max_completion_tokens"
    assert token_limit_field(ApiConfig(KEY, "https://api.openai.com/v1")) == (
        "max_completion_tokens"
    )
    assert token_limit_field(ApiConfig(KEY, "http://localhost:11434/v1")) == "max_tokens"


def test_answer_without_usage_still_succeeds(
    fake_openai: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    fake_openai.enqueue_answer("Reset with the RESET key.", usage=None, finish_reason="length")
    result = chat.stream_chat(MESSAGES, model=MODEL)
    assert (result.text, result.usage, result.finish_reason) == (
        "Reset with the RESET key.",
        None,
        "length",
    )


def test_rate_limit_then_success_is_retried_by_the_client(
    fake_openai: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    fake_openai.enqueue_rate_limit()
    fake_openai.enqueue_answer("Second try.")

    assert chat.stream_chat(MESSAGES, model=MODEL).text == "Second try."
    assert len(fake_openai.requests) == 2


def test_no_key_on_a_custom_endpoint_sends_the_placeholder(
    fake_openai: FakeOpenAIServer,
) -> None:
    fake_openai.enqueue_answer("ok")
    with OpenAIChat(ApiConfig(None, fake_openai.base_url)) as chat:
        ask(chat)
    assert fake_openai.last_request.authorization == f"Bearer {LOCAL_PLACEHOLDER_KEY}"


def test_no_key_for_openai_raises_on_use_not_on_construction() -> None:
    chat = OpenAIChat(ApiConfig(None, None))
    with pytest.raises(NoApiKeyError) as caught:
        ask(chat)
    assert caught.value.code == ExitCode.NO_API_KEY
    assert "OPENAI_API_KEY" in str(caught.value.hint)


def test_host_names_the_endpoint_without_credentials(fake_openai: FakeOpenAIServer) -> None:
    assert make_chat(fake_openai.base_url).host == f"127.0.0.1:{fake_openai.port}"
    assert OpenAIChat(ApiConfig(KEY, None)).host == "api.openai.com"


def test_config_repr_hides_the_key() -> None:
    assert KEY not in repr(ApiConfig(KEY, "http://localhost:11434/v1"))


# --------------------------------------------------------------------------- HTTP errors


Script = Callable[[FakeOpenAIServer], None]


@pytest.mark.parametrize(
    ("script", "error_class", "code", "words"),
    [
        pytest.param(
            FakeOpenAIServer.enqueue_invalid_key,
            AuthError,
            ExitCode.AUTH,
            "API key rejected",
            id="401",
        ),
        pytest.param(
            FakeOpenAIServer.enqueue_forbidden, AuthError, ExitCode.AUTH, "HTTP 403", id="403"
        ),
        pytest.param(
            FakeOpenAIServer.enqueue_model_not_found,
            BadRequestError,
            ExitCode.BAD_REQUEST,
            f"model '{MODEL}' not found",
            id="404-model",
        ),
        pytest.param(
            FakeOpenAIServer.enqueue_context_too_long,
            ContextExceededError,
            ExitCode.BAD_REQUEST,
            "too long",
            id="400-context",
        ),
        pytest.param(
            # llama.cpp's own words, with a 2048-token context
            lambda s: s.enqueue_error(
                400, "the request exceeds the available context size, try increasing it"
            ),
            ContextExceededError,
            ExitCode.BAD_REQUEST,
            "too long for the context",
            id="400-llamacpp-context",
        ),
        pytest.param(
            lambda s: s.enqueue_error(422, "Invalid value for 'temperature'."),
            BadRequestError,
            ExitCode.BAD_REQUEST,
            "HTTP 422",
            id="422",
        ),
        pytest.param(
            lambda s: s.enqueue_rate_limit(times=3),
            RateLimitError,
            ExitCode.RATE_LIMIT,
            "rate limit",
            id="429",
        ),
        pytest.param(
            lambda s: s.enqueue_rate_limit(quota=True, times=3),
            RateLimitError,
            ExitCode.RATE_LIMIT,
            "run out of quota",
            id="429-quota",
        ),
        pytest.param(
            lambda s: s.enqueue_server_error(500, times=3),
            ServerError,
            ExitCode.SERVER,
            "HTTP 500",
            id="500",
        ),
        pytest.param(
            lambda s: s.enqueue_server_error(503, times=3),
            ServerError,
            ExitCode.SERVER,
            "after 2 retries",
            id="503",
        ),
    ],
)
def test_http_errors_map_to_omar_errors(
    fake_openai: FakeOpenAIServer,
    chat: OpenAIChat,
    script: Script,
    error_class: type[ApiError],
    code: ExitCode,
    words: str,
) -> None:
    script(fake_openai)

    with pytest.raises(error_class) as caught:
        ask(chat)

    error = caught.value
    assert type(error) is error_class
    assert error.code == code
    assert words in error.message
    assert error.hint
    assert "\n" not in error.message
    assert_no_key(error)
    assert fake_openai.pending == 0  # retried exactly as often as the client should


def test_invalid_key_echoed_by_the_server_never_reaches_the_user(
    fake_openai: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    fake_openai.enqueue_error(400, "Bad header Authorization: Bearer {api_key} (key {api_key})")
    with pytest.raises(BadRequestError) as caught:
        ask(chat)
    assert KEY in (fake_openai.last_request.authorization or "")  # the server did see it
    assert "***" in caught.value.message
    assert_no_key(caught.value)


def test_retryable_flags(fake_openai: FakeOpenAIServer, chat: OpenAIChat) -> None:
    fake_openai.enqueue_server_error(503, times=3)
    with pytest.raises(ServerError) as server:
        ask(chat)
    fake_openai.enqueue_invalid_key()
    with pytest.raises(AuthError) as auth:
        ask(chat)
    assert server.value.retryable and not auth.value.retryable


# --------------------------------------------------------------------------- cut streams


def test_stream_cut_mid_body_keeps_the_partial_text(
    fake_openai: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    fake_openai.enqueue_cut_stream(["Fault F0001 ", "is overcurrent; ", "check ", "ramps."])
    deltas: list[str] = []

    with pytest.raises(IncompleteAnswerError) as caught:
        ask(chat, deltas)

    assert caught.value.partial == "Fault F0001 is overcurrent; "
    assert deltas == ["Fault F0001 ", "is overcurrent; "]
    assert caught.value.code == ExitCode.INCOMPLETE
    assert "cut off" in caught.value.message
    assert_no_key(caught.value)


def test_done_without_finish_reason_counts_as_cut(
    fake_openai: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    fake_openai.enqueue_no_finish_reason(["Set ", "parameter ", "2202."])

    with pytest.raises(IncompleteAnswerError) as caught:
        ask(chat)

    assert caught.value.partial == "Set parameter 2202."
    assert "no finish reason" in caught.value.message


def test_stall_mid_stream_is_an_incomplete_answer(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue_cut_stream(["Part one. ", "Part two."], after=1, stall=5)
    with (
        make_chat(fake_openai.base_url, timeout=0.3, max_retries=0) as chat,
        pytest.raises(IncompleteAnswerError) as caught,
    ):
        ask(chat)
    assert caught.value.partial == "Part one. "
    assert "within 0.3 s" in caught.value.message


def test_cut_before_any_text_is_a_network_error(
    fake_openai: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    fake_openai.enqueue_cut_stream(["never sent"], after=0)
    with pytest.raises(NetworkError, match="dropped before the answer arrived"):
        ask(chat)


def test_exception_from_on_delta_passes_through(
    fake_openai: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    fake_openai.enqueue_answer("a b c")

    def explode(piece: str) -> None:
        raise ValueError("renderer broke")

    with pytest.raises(ValueError, match="renderer broke"):
        chat.stream_chat(MESSAGES, model=MODEL, on_delta=explode)


# --------------------------------------------------------------------------- timeouts, network


def test_timeout(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue_hang(5)
    started = time.monotonic()
    with (
        make_chat(fake_openai.base_url, timeout=0.3, max_retries=0) as chat,
        pytest.raises(TimeoutError_) as caught,
    ):
        ask(chat)
    assert time.monotonic() - started < 2
    assert caught.value.code == ExitCode.TIMEOUT
    assert "0.3 s" in caught.value.message
    assert_no_key(caught.value)


def test_unreachable_endpoint_is_a_network_error() -> None:
    with (
        make_chat(unreachable_base_url(), max_retries=0) as chat,
        pytest.raises(NetworkError) as caught,
    ):
        ask(chat)
    error = caught.value
    assert error.code == ExitCode.NETWORK
    assert "127.0.0.1" in error.message
    assert "--offline" in str(error.hint) and "omar sync" in str(error.hint)
    assert isinstance(error.__cause__, Exception)  # the socket error, kept for --debug
    assert_no_key(error)


# --------------------------------------------------------------------------- ping, transcription


def test_ping_returns_latency(fake_openai: FakeOpenAIServer, chat: OpenAIChat) -> None:
    fake_openai.enqueue_models("gpt-4o-mini", "whisper-1")
    assert chat.ping() >= 0
    sent = fake_openai.last_request
    assert (sent.method, sent.path, sent.authorization) == ("GET", "/v1/models", f"Bearer {KEY}")


def test_ping_does_not_retry_and_translates(
    fake_openai: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    fake_openai.enqueue_invalid_key()
    with pytest.raises(AuthError) as caught:
        chat.ping()
    assert len(fake_openai.requests) == 1
    assert_no_key(caught.value)


def test_ping_unreachable() -> None:
    with make_chat(unreachable_base_url()) as chat, pytest.raises(NetworkError):
        chat.ping()


def test_transcription_multipart_round_trip(
    fake_openai: FakeOpenAIServer, chat: OpenAIChat, tmp_path: Path
) -> None:
    audio = tmp_path / "note.wav"
    audio.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt fake-audio-bytes")
    fake_openai.enqueue_transcription("el variador marca F0001")

    transcript = chat.transcribe(
        AudioClip.read(audio), model="whisper-1", language="es", prompt="F0001, ACS150"
    )

    assert transcript.text == "el variador marca F0001"
    assert (transcript.model, transcript.language) == ("whisper-1", "es")
    sent = fake_openai.last_request
    assert sent.path == "/v1/audio/transcriptions"
    assert sent.form["model"] == "whisper-1"
    assert sent.form["language"] == "es"
    assert sent.form["prompt"] == "F0001, ACS150"
    assert sent.files["file"].filename == "note.wav"
    assert sent.files["file"].data == audio.read_bytes()


def test_transcription_without_language_omits_it(
    fake_openai: FakeOpenAIServer, chat: OpenAIChat, tmp_path: Path
) -> None:
    audio = tmp_path / "note.wav"
    audio.write_bytes(b"RIFF")
    fake_openai.enqueue_transcription("hello")
    assert chat.transcribe(AudioClip.read(audio), model="whisper-1").text == "hello"
    assert not {"language", "prompt"} & set(fake_openai.last_request.form)


def test_transcription_errors_use_the_same_translation(
    fake_openai: FakeOpenAIServer, chat: OpenAIChat, tmp_path: Path
) -> None:
    audio = tmp_path / "note.wav"
    audio.write_bytes(b"RIFF")
    fake_openai.enqueue_invalid_key()
    with pytest.raises(AuthError):
        chat.transcribe(AudioClip.read(audio), model="whisper-1", language="es")


def test_missing_audio_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        AudioClip.read(tmp_path / "missing.wav")
    assert caught.value.code == ExitCode.INPUT


# --------------------------------------------------------------------------- the fake itself


def test_unscripted_request_fails_fast_without_retries(
    fake_openai: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    with pytest.raises(ServerError, match="no scripted response"):
        ask(chat)
    assert len(fake_openai.requests) == 1


def test_openai_is_not_imported_by_the_adapter_module() -> None:
    import subprocess
    import sys

    code = "import sys, omar_cli.llm.openai_client; print('openai' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- message parts


def test_an_image_part_travels_as_a_data_url_beside_the_text(
    fake_openai: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    photo = ImagePart.from_bytes(b"\xff\xd8\xff\xe0JFIF-display-photo", detail="low")
    fake_openai.enqueue_answer("F0002 on the display.")
    messages = [MESSAGES[0], ChatMessage.of("user", "What does the display say?", [photo])]

    chat.stream_chat(messages, model="vision-model")

    system, user = fake_openai.last_request.messages
    assert system == WIRE[0]  # text-only messages stay plain strings
    assert user["content"] == [
        {"type": "text", "text": "What does the display say?"},
        {"type": "image_url", "image_url": {"url": photo.data_url, "detail": "low"}},
    ]
    url = user["content"][1]["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    assert ImagePart.from_data_url(url).data == photo.data
    assert fake_openai.last_request.model == "vision-model"


def test_a_photo_question_reaches_the_server_with_the_vision_model(
    fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from omar_cli.services import Services
    from omar_cli.settings import load_settings

    monkeypatch.setenv("OMAR_VISION_MODEL", "vision-e2e")
    photo = ImagePart.from_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(40)))
    fake_openai.enqueue_answer("Veo F0002 en la pantalla [F0002].")
    with make_chat(fake_openai.base_url) as chat:
        svc = Services(load_settings(), chat_override=chat)
        result = svc.assistant.ask("", images=[photo])
    assert (result.status, result.model) == ("answered", "vision-e2e")
    sent = fake_openai.last_request
    assert sent.model == "vision-e2e"
    text, image = sent.messages[-1]["content"]
    assert text["type"] == "text" and "QUESTION:" in text["text"]
    assert image["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(
        photo.data
    ).decode("ascii")


def test_a_web_page_instead_of_the_api_is_named_as_such(
    fake_openai: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    fake_openai.enqueue_web_page(times=2)
    with pytest.raises(NotOpenAIError) as chat_error:
        chat.stream_chat([ChatMessage.of("user", "hola")], model="gpt-4o-mini")
    with pytest.raises(NotOpenAIError) as ping_error:
        chat.ping()
    for caught in (chat_error.value, ping_error.value):
        assert "not an OpenAI-compatible API" in caught.message and "text/html" in caught.message
        assert caught.retryable  # a base-URL fix cures it: the question stays queued
