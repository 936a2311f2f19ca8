"""Exit codes and the error family every layer raises.

Adapters translate vendor exceptions (openai, TinyDB/JSON, PDF, audio) into these where
they are raised; only the CLI boundary turns them into a one-line message and an exit code.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # unexpected internal error
    USAGE = 2  # bad arguments (Typer's own code too)
    NOT_FOUND = 3  # unknown fault/alarm/parameter code, session, message or document
    CONFIG = 4  # bad config file or setting
    STORE = 5  # session store corrupt, locked too long, or not writable
    INPUT = 6  # bad input file (PDF, image, audio) or empty question
    AUDIO_DEVICE = 7  # no microphone, PortAudio missing, device busy, sample rate refused
    LOCAL_MODEL = 8  # local transcription unavailable: extra not installed, model missing
    NO_API_KEY = 9  # an online-only action was asked for and no key is configured
    AUTH = 10  # key rejected (401/403)
    RATE_LIMIT = 11  # 429 after the retries
    SERVER = 12  # 5xx after the retries
    TIMEOUT = 13  # request timed out
    NETWORK = 14  # endpoint unreachable
    INCOMPLETE = 15  # stream cut before the answer finished; partial answer kept
    BAD_REQUEST = 16  # endpoint refused the request (unknown model, too long, 400/404/422)
    INTERRUPTED = 130  # Ctrl-C


class OmarError(Exception):
    """Base of every error OMAR reports to the user: a message, a hint and an exit code."""

    code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_dict(self) -> dict[str, object]:
        """The error as `--json` output carries it."""
        data: dict[str, object] = {
            "code": int(self.code),
            "type": self.code.name.lower(),
            "message": self.message,
            "hint": self.hint,
        }
        suggestions = getattr(self, "suggestions", None)
        if suggestions is not None:
            data["suggestions"] = list(suggestions)
        return data


class UsageError(OmarError):
    code = ExitCode.USAGE


class NotFoundError(OmarError):
    code = ExitCode.NOT_FOUND


class ConfigError(OmarError):
    code = ExitCode.CONFIG


class StoreError(OmarError):
    code = ExitCode.STORE


class InputError(OmarError):
    code = ExitCode.INPUT


class AudioDeviceError(OmarError):
    """The sound system cannot record: no input device, PortAudio missing, device busy or
    refusing the sample rate. The hint names the fix (a package, a device, a setting)."""

    code = ExitCode.AUDIO_DEVICE


class LocalModelError(OmarError):
    """Local transcription cannot run: faster-whisper (the `local` extra) is not installed, no
    local model is configured, or the model cannot be found, fetched or loaded. The hint names
    the fix (the pip command, the setting, the folder)."""

    code = ExitCode.LOCAL_MODEL


class Interrupted(OmarError):
    code = ExitCode.INTERRUPTED


class NoApiKeyError(OmarError):
    code = ExitCode.NO_API_KEY


class ApiError(OmarError):
    """A failure talking to the chat/vision/transcription endpoint."""

    code = ExitCode.ERROR
    #: whether the request may succeed later unchanged, so a question can stay pending
    retryable = False


class AuthError(ApiError):
    code = ExitCode.AUTH


def worth_retrying(exc: OmarError) -> bool:
    """Whether what failed so should stay pending for a later `omar sync`: the same request
    may pass later, or once the key, an install or a setting is fixed. A refused request as
    such (a bad model, too long) would fail again unchanged."""
    if isinstance(exc, ApiError):
        return exc.retryable or isinstance(exc, AuthError)
    return isinstance(exc, NoApiKeyError | LocalModelError)


class RateLimitError(ApiError):
    code = ExitCode.RATE_LIMIT
    retryable = True


class ServerError(ApiError):
    code = ExitCode.SERVER
    retryable = True


class TimeoutError_(ApiError):
    code = ExitCode.TIMEOUT
    retryable = True


class NetworkError(ApiError):
    code = ExitCode.NETWORK
    retryable = True


class BadRequestError(ApiError):
    code = ExitCode.BAD_REQUEST


class ContextExceededError(BadRequestError):
    """The request is longer than the model's context: a smaller request may pass."""


class NoVisionError(BadRequestError):
    """The endpoint's model takes no images (a text-only local model). A setting cures it
    (a vision model, another endpoint), so a photo question stays queued meanwhile."""

    retryable = True


class NotOpenAIError(BadRequestError):
    """The endpoint answered, but not in the OpenAI wire format (a web page, a proxy's login
    screen, the wrong port). A base-URL fix cures it, so the question stays queued."""

    retryable = True


class IncompleteAnswerError(ApiError):
    """The stream stopped before a finish reason; ``partial`` holds what arrived."""

    code = ExitCode.INCOMPLETE
    retryable = True

    def __init__(self, message: str, partial: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.partial = partial
