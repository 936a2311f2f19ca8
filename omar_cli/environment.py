"""Everything a run reads from the world it runs in, as one value (httpie's ``Environment``).

The standard streams and whether each is a terminal, colour, the clock, the environment
variables and the user's directories are decided once, when the value is built: at the root
command for a real run, by a test that wants to feed input or pretend to be a terminal
otherwise. Nothing downstream reads ``sys.stdin``, ``os.environ`` or the wall clock itself,
so no answer depends on which property was looked at first.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import IO, TYPE_CHECKING, BinaryIO, cast

from omar_cli.clock import utc_now

if TYPE_CHECKING:
    from omar_cli.settings import Paths


@dataclass(frozen=True)
class Environment:
    stdin: IO[str]
    stdout: IO[str]
    stderr: IO[str]
    stdin_isatty: bool
    stdout_isatty: bool
    stderr_isatty: bool
    #: the environment variables (the live ``os.environ`` for a real run)
    vars: Mapping[str, str] = field(repr=False)
    clock: Callable[[], datetime] = utc_now

    @classmethod
    def create(
        cls,
        *,
        stdin: IO[str] | str | None = None,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        stdin_isatty: bool | None = None,
        stdout_isatty: bool | None = None,
        stderr_isatty: bool | None = None,
        vars: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> Environment:
        """The process's own environment, with any part replaced.

        A string ``stdin`` is the text typed; a terminal flag not given is asked of its
        stream now, once. Example for a test of an interactive loop::

            Environment.create(stdin="1\\n\\n", stdin_isatty=True, stdout=io.StringIO())
        """
        if isinstance(stdin, str):
            stdin = io.StringIO(stdin)
        stdin = stdin or sys.stdin
        stdout = stdout or sys.stdout
        stderr = stderr or sys.stderr
        return cls(
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            stdin_isatty=isatty(stdin) if stdin_isatty is None else stdin_isatty,
            stdout_isatty=isatty(stdout) if stdout_isatty is None else stdout_isatty,
            stderr_isatty=isatty(stderr) if stderr_isatty is None else stderr_isatty,
            vars=os.environ if vars is None else vars,
            clock=clock or utc_now,
        )

    # -- colour ---------------------------------------------------------------------------

    @property
    def no_color(self) -> bool:
        """NO_COLOR set to anything but the empty string (https://no-color.org)."""
        return bool(self.vars.get("NO_COLOR"))

    @property
    def force_color(self) -> bool:
        """FORCE_COLOR set (and not "0"): style stdout as a terminal even when piped."""
        return self.vars.get("FORCE_COLOR", "") not in ("", "0")

    @property
    def styled_stdout(self) -> bool:
        """Whether stdout gets rendered Markdown and styles: a terminal, or FORCE_COLOR."""
        return self.stdout_isatty or self.force_color

    @property
    def colors(self) -> bool:
        """Whether styles may carry colour; NO_COLOR wins over FORCE_COLOR."""
        return self.styled_stdout and not self.no_color

    # -- input ----------------------------------------------------------------------------

    def read_line(self) -> str:
        """One line typed on stdin, without its newline; EOFError at the end of input
        (Ctrl-D), as ``input()`` does."""
        line = self.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\r\n")

    def read_all(self) -> str:
        return self.stdin.read()

    def stdin_bytes(self) -> BinaryIO:
        """stdin as bytes (a photo piped in). A stream of text only (a test's) is read and
        encoded as UTF-8 here, so give such a test its bytes as a stream with ``.buffer``."""
        buffer = getattr(self.stdin, "buffer", None)
        if buffer is not None:
            return cast("BinaryIO", buffer)
        return io.BytesIO(self.stdin.read().encode("utf-8"))

    # -- places ---------------------------------------------------------------------------

    @cached_property
    def dirs(self) -> Paths:
        """The user's data, config, cache and log folders (OMAR_*_DIR, else platformdirs)."""
        from omar_cli.settings import resolve_paths

        return resolve_paths(self.vars)

    def now(self) -> datetime:
        return self.clock()


def isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):  # no such method, or a closed stream
        return False
