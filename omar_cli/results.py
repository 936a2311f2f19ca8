"""What the assistant core returns: answers and sync reports, and the problem that made an
answer fall back, as plain frozen values.

A result never holds an exception: an answer that fell back to the knowledge carries a
``Problem`` (its exit code, type, message and hint), which the CLI renders in the one place
that renders every result and picks the exit code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omar_cli.errors import OmarError
    from omar_cli.sources import SourceRef


@dataclass(frozen=True)
class Problem:
    """Why a result is not the whole success it could have been; ``code`` is its exit code."""

    code: int
    #: the exit code's name in lower case ("network", "bad_request"), as `--json` shows it
    type: str
    message: str
    hint: str | None = None
    #: the error's class name ("NoVisionError"), for a caller that must tell apart two
    #: problems of one type; not part of the JSON
    kind: str = ""
    suggestions: tuple[str, ...] | None = None

    @classmethod
    def of(cls, error: OmarError) -> Problem:
        suggestions = getattr(error, "suggestions", None)
        return cls(
            code=int(error.code),
            type=error.code.name.lower(),
            message=error.message,
            hint=error.hint,
            kind=type(error).__name__,
            suggestions=tuple(suggestions) if suggestions is not None else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """The `--json` ``error`` object: the same keys an OmarError gives."""
        data: dict[str, Any] = {
            "code": self.code,
            "type": self.type,
            "message": self.message,
            "hint": self.hint,
        }
        if self.suggestions is not None:
            data["suggestions"] = list(self.suggestions)
        return data


def problem_of(error: OmarError | Problem | None) -> Problem | None:
    if error is None or isinstance(error, Problem):
        return error
    return Problem.of(error)


@dataclass(frozen=True)
class AskResult:
    # None when the store could not keep them (``not_saved`` says why)
    session_id: str | None
    question_id: str | None
    message_id: str | None
    answer: str
    #: what backs the answer: online, the entries it cites; offline, the entries shown
    sources: tuple[SourceRef, ...]
    mode: str  # "online" or "offline"
    status: str  # "answered", "offline" or "incomplete"
    lang: str
    model: str | None = None
    #: the endpoint profile that answered (see omar_cli.profiles)
    profile: str | None = None
    usage: dict[str, int] | None = None
    latency_ms: int | None = None
    prompt_version: str | None = None
    new_session: bool = False
    queued: bool = False  # the question waits for `omar sync`
    #: a safety note from the knowledge, appended because the model's answer left it out
    safety_note: str | None = None
    #: bracketed ids the answer cites that are not in the knowledge base at all
    unknown_citations: tuple[str, ...] = ()
    #: entries sent to the model that the answer does not cite
    also_given: tuple[SourceRef, ...] = ()
    #: flags for the user's documents that contradict a safety rule, appended to the answer
    conflict_note: str | None = None
    #: said after an answer that stopped at its length bound (max_tokens): its end may be missing
    length_note: str | None = None
    #: the answer from the knowledge alone, after an online answer that was cut
    offline_answer: str | None = None
    #: why the answer fell back (offline after an API failure) or was cut; None when whole
    error: Problem | None = None
    #: what the store could not keep, and why: the answer stands all the same (exit 5)
    not_saved: Problem | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k not in ("error", "not_saved")}
        data["sources"] = [s.__dict__ for s in self.sources]
        data["also_given"] = [s.__dict__ for s in self.also_given]
        data["error"] = _dict(self.error)
        data["not_saved"] = _dict(self.not_saved)
        return data


@dataclass(frozen=True)
class SyncItem:
    question_id: str
    session_id: str
    status: str  # "answered", "failed" or "pending"
    question: str
    answer: str | None = None
    message_id: str | None = None
    error: str | None = None
    #: a voice note's transcription engine (transcription_engines.EngineDone.engine)
    engine: dict[str, Any] | None = None


@dataclass(frozen=True)
class SyncReport:
    items: tuple[SyncItem, ...]
    remaining: int
    #: why sync stopped before the queue was empty (a fix or a retry cures it)
    error: Problem | None = None

    @property
    def answered(self) -> int:
        return sum(1 for i in self.items if i.status == "answered")

    @property
    def failed(self) -> int:
        return sum(1 for i in self.items if i.status == "failed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "answered": self.answered,
            "failed": self.failed,
            "remaining": self.remaining,
            "items": [i.__dict__ for i in self.items],
            "error": _dict(self.error),
        }


def _dict(problem: Problem | None) -> dict[str, Any] | None:
    return problem.to_dict() if problem is not None else None
