"""Where results and messages go: stdout for results only, stderr for everything else.

Rich is used only when the stream is a terminal (or FORCE_COLOR is set; NO_COLOR takes the
colours away), as the injected ``Environment`` says; piped output is plain text. `--json`
output is one object per command: the payload's keys at top level plus ``schema`` (envelope
version), ``command`` and ``ok``. A contract test pins this shape.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from omar_cli.environment import Environment
from omar_cli.i18n import _

if TYPE_CHECKING:
    from datetime import datetime

    from rich.console import Console

    from omar_cli.errors import OmarError
    from omar_cli.results import Problem

JSON_SCHEMA = 1
MIN_SECRET_LENGTH = 8


class Output:
    """Results to stdout, everything else to stderr, as the run's ``Environment`` says.

    Whether stdout is styled, its width and its colours come from the environment, decided
    once when it was built; only ``json_mode`` (set by the command) changes the rendering.
    """

    def __init__(
        self,
        env: Environment | None = None,
        *,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        json_mode: bool = False,
        command: str = "omar",
        secrets: tuple[str, ...] = (),
        error_log: Path | None = None,
    ) -> None:
        if env is None:
            # Streams alone (tests written before the Environment): stdin is whichever
            # sys.stdin is current when read, as a test runner swaps it for each run.
            stdin = cast("IO[str]", _CurrentStdin())
            env = Environment.create(stdin=stdin, stdout=stdout, stderr=stderr)
        elif stdout is not None or stderr is not None:
            raise TypeError("give the streams in the Environment, or no Environment")
        self.env = env
        self.json_mode = json_mode
        #: the running command as the JSON envelope names it ("fault", "knowledge add")
        self.command = command
        #: strings that must never be printed (the API key); replaced before anything is written
        self.secrets = secrets
        #: where errors are also appended, one line each, for a later look at what went wrong
        self.error_log = error_log
        self.stdout_closed = False

    @property
    def stdout(self) -> IO[str]:
        return self.env.stdout

    @property
    def stderr(self) -> IO[str]:
        return self.env.stderr

    @property
    def rich_stdout(self) -> bool:
        return self.env.styled_stdout and not self.json_mode

    @property
    def rich_stderr(self) -> bool:
        return self.env.stderr_isatty

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            # A dummy key for a local server ("x", "none") is no secret, and masking it
            # would garble every word that contains it.
            if len(secret.strip()) >= MIN_SECRET_LENGTH:
                text = text.replace(secret, "****")
        return text

    def out(self, text: str = "", end: str = "\n") -> None:
        if self.stdout_closed:
            return
        try:
            write_safely(self.stdout, self.redact(text) + end)
            self.stdout.flush()
        except BrokenPipeError:
            # The reader left (`omar ask ... | head`): stop printing, but finish the work,
            # so the answer is still stored. Further writes, even at exit, go nowhere.
            self.stdout_closed = True
            silence(self.stdout)

    def err(self, text: str) -> None:
        write_safely(self.stderr, self.redact(text) + "\n")
        self.stderr.flush()

    def error_lines(self, error: OmarError | Problem) -> None:
        """The one-line error and its hint on stderr, and a line in the error log."""
        from omar_cli.results import Problem

        problem = error if isinstance(error, Problem) else Problem.of(error)
        self.err(_("omar: error: {message}").format(message=problem.message))
        if problem.hint:
            self.err(_("omar: hint: {hint}").format(hint=problem.hint))
        self._log_error(problem)

    def _log_error(self, problem: Problem) -> None:
        if self.error_log is None:
            return
        stamp = self.env.now().isoformat(timespec="seconds")
        kind = problem.type.upper()
        line = self.redact(f"{stamp} exit={problem.code} {kind}: {problem.message}")
        import contextlib

        from omar_cli.atomic import append_private

        # 0600, never through a symlink planted where the log goes; a log that cannot be
        # written must never hide the error itself
        with contextlib.suppress(OSError):
            append_private(self.error_log, line.replace("\n", " ") + "\n")

    def warn_error(self, error: OmarError | Problem) -> None:
        """A failure that did not stop the result (an answer the store could not keep):
        a warning and its hint, logged like an error."""
        from omar_cli.results import Problem

        problem = error if isinstance(error, Problem) else Problem.of(error)
        self.warn(problem.message)
        if problem.hint:
            self.err(_("omar: hint: {hint}").format(hint=problem.hint))
        self._log_error(problem)

    def note(self, text: str) -> None:
        self.err(f"omar: {text}")

    def warn(self, text: str) -> None:
        """A warning on stderr: something was not done, the result still stands."""
        self.err(_("omar: warning: {text}").format(text=text))

    @property
    def width(self) -> int | None:
        """Columns of the terminal stdout is, None when piped (piped text is never wrapped)."""
        if not self.env.stdout_isatty:
            return None
        columns = self.env.vars.get("COLUMNS", "")
        if columns.isdigit():
            return max(int(columns), 20)
        import shutil

        return max(shutil.get_terminal_size((80, 24)).columns, 20)

    def fold(self, line: str, indent: str = "    ") -> str:
        """``line`` folded to the terminal's width, continued under ``indent``; unchanged
        when piped, so that scripts get one line per item."""
        width = self.width
        if width is None or len(line) <= width:
            return line
        import textwrap

        return textwrap.fill(
            line, width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False
        )

    def console(self) -> Console:
        return self._console(self.stdout, styled=self.env.styled_stdout)

    def err_console(self) -> Console:
        return self._console(self.stderr, styled=self.env.stderr_isatty)

    def _console(self, stream: IO[str], *, styled: bool) -> Console:
        from rich.console import Console

        return Console(
            file=cast("IO[str]", _SafeStream(stream)),
            force_terminal=styled,
            no_color=self.env.no_color,
            highlight=False,
            _environ=dict(self.env.vars),
        )

    def emit_json(self, payload: Any, *, ok: bool = True) -> None:
        body = {"schema": JSON_SCHEMA, "command": self.command, "ok": ok, **to_jsonable(payload)}
        self.out(json.dumps(body, ensure_ascii=False, indent=2))


def local_time(moment: datetime, *, seconds: bool = False) -> str:
    """A stored moment (kept in UTC) as the user's clock on the wall shows it; --json keeps
    ISO 8601 with the offset instead."""
    local = moment.astimezone()  # the store's moments are all aware, so this is exact
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def to_jsonable(value: Any) -> Any:
    """Plain JSON values from results: dataclasses, read-only mappings, datetimes, paths."""
    if is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_dict"):
            return to_jsonable(value.to_dict())
        return {f.name: to_jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "__fspath__"):
        return os.fspath(value)
    return value


#: stand-ins for characters a legacy console encoding (cp1252, cp850, ascii) lacks
FALLBACKS = str.maketrans(
    {
        "⚠": "(!)",
        "—": "-",
        "–": "-",
        "…": "...",
        "·": "-",
        "→": "->",
        "≤": "<=",
        "≥": ">=",
        "✓": "v",
        "✗": "x",
        "•": "*",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "§": "S.",
    }
)


def encodable(text: str, encoding: str | None) -> str:
    """``text`` as ``encoding`` can carry it: known symbols replaced by ASCII stand-ins,
    anything else left unencodable by "?" (a Windows console must never crash a command)."""
    if not encoding:
        return text
    try:
        text.encode(encoding)
        return text
    except (UnicodeEncodeError, LookupError):
        pass
    text = "".join(c if _fits(c, encoding) else c.translate(FALLBACKS) for c in text)
    try:
        return text.encode(encoding, errors="replace").decode(encoding)
    except LookupError:
        return text.encode("ascii", errors="replace").decode("ascii")


def _fits(char: str, encoding: str) -> bool:
    try:
        char.encode(encoding)
        return True
    except (UnicodeEncodeError, LookupError):
        return False


def write_safely(stream: IO[str], text: str) -> None:
    try:
        stream.write(text)
    except UnicodeEncodeError:  # nothing was written: the stream encodes before writing
        stream.write(encodable(text, getattr(stream, "encoding", None) or "ascii"))


class _SafeStream:
    """A text stream for Rich that never raises UnicodeEncodeError (see ``write_safely``)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        write_safely(self._stream, text)
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _CurrentStdin:
    """``sys.stdin`` as it is at each use."""

    def __getattr__(self, name: str) -> Any:
        return getattr(sys.stdin, name)


def silence(stream: IO[str]) -> None:
    # Point the broken descriptor at /dev/null so Python's flush at exit stays quiet.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
    except (OSError, ValueError):
        pass  # not a real file descriptor (an in-memory stream): nothing more to do
