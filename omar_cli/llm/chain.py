"""A chat model made of endpoint profiles tried in order: the cloud, then the laptop's server.

``ProfileChain`` implements ``ChatModel``. A request goes to the first profile; when that
endpoint cannot be reached, times out or refuses the request (any ``ApiError``, or no key),
the next profile gets the same request with its own models. An answer that had started to
stream is not sent again elsewhere: its text was already shown, so the cut answer stands.
Each result names the profile and the host that produced it.

Each profile picks its model by the request: its ``vision_model`` when a message carries an
image, its ``model`` otherwise (its ``transcription_model`` for audio). The ``model`` argument
of the interface is therefore not used: the profiles were built with the command's models.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

from omar_cli.errors import (
    ApiError,
    ContextExceededError,
    IncompleteAnswerError,
    NoApiKeyError,
    OmarError,
)
from omar_cli.i18n import _
from omar_cli.llm.model import AudioClip, ChatMessage, ChatModel, ChatResult, Transcript

if TYPE_CHECKING:
    from omar_cli.profiles import Profile

T = TypeVar("T")
#: what makes the next profile worth trying: the endpoint failed, not the answer
_FALLS_THROUGH = (ApiError, NoApiKeyError)


@dataclass(frozen=True)
class Endpoint:
    profile: Profile
    model: ChatModel


class ProfileChain:
    """Implements ``omar_cli.llm.model.ChatModel`` over several endpoints."""

    def __init__(
        self,
        endpoints: Sequence[Endpoint],
        *,
        on_fallback: Callable[[str], None] | None = None,
    ) -> None:
        if not endpoints:
            raise ValueError("a profile chain needs at least one endpoint")
        self.endpoints = tuple(endpoints)
        #: told (in words for the technician) when a profile failed and the next is tried
        self.on_fallback = on_fallback
        #: the endpoint of the latest request: a cut or interrupted answer came from it
        self.current: Endpoint | None = None
        self.current_model: str | None = None

    @property
    def host(self) -> str:
        return self.endpoints[0].model.host

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
        vision = any(m.images for m in messages)

        def send(ep: Endpoint) -> ChatResult:
            chosen = ep.profile.vision_model if vision else ep.profile.model
            self.current_model = chosen
            result = ep.model.stream_chat(
                messages,
                model=chosen,
                on_delta=on_delta,
                temperature=temperature,
                max_tokens=max_tokens,
                json_object=json_object,
            )
            return replace(result, profile=ep.profile.name, host=ep.model.host)

        return self._first_answer(send)

    def stream_fitted(
        self,
        build: Callable[[Profile, bool], tuple[Sequence[ChatMessage], int | None]],
        *,
        on_delta: Callable[[str], None] | None = None,
    ) -> ChatResult:
        """Like ``stream_chat``, the request built for each profile by ``build(profile,
        shrink)`` (messages and answer bound), so it fits that endpoint's context. When a
        server says the context is exceeded, the request is built again smaller and sent once
        more; if that fails too, the next profile is tried."""

        def send(ep: Endpoint) -> ChatResult:
            for shrink in (False, True):
                messages, max_tokens = build(ep.profile, shrink)
                vision = any(m.images for m in messages)
                chosen = ep.profile.vision_model if vision else ep.profile.model
                self.current_model = chosen
                try:
                    result = ep.model.stream_chat(
                        messages, model=chosen, on_delta=on_delta, max_tokens=max_tokens
                    )
                except ContextExceededError:
                    if shrink:
                        raise
                    continue
                return replace(result, profile=ep.profile.name, host=ep.model.host)
            raise AssertionError("unreachable")  # pragma: no cover

        return self._first_answer(send)

    def transcribe(
        self,
        audio: AudioClip,
        *,
        model: str,
        language: str | None = None,
        prompt: str | None = None,
    ) -> Transcript:
        def send(ep: Endpoint) -> Transcript:
            got = ep.model.transcribe(
                audio, model=ep.profile.transcription_model, language=language, prompt=prompt
            )
            return replace(got, profile=ep.profile.name, host=ep.model.host)

        return self._first_answer(send)

    def ping(self) -> float:
        return self._first_answer(lambda ep: ep.model.ping())

    def _first_answer(self, send: Callable[[Endpoint], T]) -> T:
        failures: list[tuple[Endpoint, OmarError]] = []
        for ep in self.endpoints:
            self.current = ep
            try:
                return send(ep)
            except IncompleteAnswerError:
                raise  # the text already shown came from this endpoint: it stands
            except _FALLS_THROUGH as exc:
                failures.append((ep, exc))
                if ep is not self.endpoints[-1] and self.on_fallback is not None:
                    self.on_fallback(
                        _("profile {name} failed ({why}); trying the next profile").format(
                            name=ep.profile.name, why=exc.message
                        )
                    )
        raise _all_failed(failures)


def _all_failed(failures: Sequence[tuple[Endpoint, OmarError]]) -> OmarError:
    """The last error, its message naming every profile tried: the code and the hint stay
    those of the last failure, the one nearest the technician (usually the local server)."""
    last = failures[-1][1]
    if len(failures) > 1:
        said = "; ".join(f"{ep.profile.name}: {exc.message}" for ep, exc in failures)
        last.message = _("no profile answered ({failures})").format(failures=said)
        last.args = (last.message,)
    return last
