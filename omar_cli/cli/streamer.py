"""The live view of an answer as it arrives, shared by `ask`, `image` and `record --ask`.

Until the first words come, stderr says the model is working: a spinner with the seconds
waited on a terminal, and a plain line now and then when stderr is a file or a pipe (a small
local model can spend a minute reading a long prompt, and a script's log should show why
nothing happens). Then the answer streams: rendered Markdown on a terminal, raw text piped.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from omar_cli.i18n import _

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
    from rich.live import Live
    from rich.status import Status

    from omar_cli.cli.output import Output

#: seconds without an answer before a plain note says the model is still working, and
#: between such notes; fast answers never print one
FIRST_NOTE_AFTER = 3.0
NOTE_EVERY = 15.0


class Streamer:
    """Shows the answer as it arrives (``show_text=False`` in `--json` mode: only the
    working notes on stderr).

    On a terminal the live view is transient and the whole answer is printed once at the
    end, so a long answer is neither cut nor repeated in the scroll-back.
    """

    def __init__(
        self,
        out: Output,
        *,
        show_text: bool = True,
        first_note_after: float | None = None,
        note_every: float | None = None,
    ) -> None:
        self.out = out
        self.show_text = show_text
        self.text = ""
        self.started = False
        self._live: Live | None = None
        first = FIRST_NOTE_AFTER if first_note_after is None else first_note_after
        self._waiting = _Waiting(out, first, NOTE_EVERY if note_every is None else note_every)

    def __enter__(self) -> Streamer:
        self._waiting.start()
        return self

    def write(self, delta: str) -> None:
        if not self.started:
            self._waiting.stop()
            self.started = True
            if self.show_text and self.out.rich_stdout:
                from rich.live import Live

                self._live = Live(console=self.out.console(), auto_refresh=False, transient=True)
                self._live.start()
        self.text += delta
        if not self.show_text:
            return
        if self._live is not None:
            from rich.markdown import Markdown

            rows = max(self._live.console.height - 3, 3)
            self._live.update(_Tail(Markdown(self.text), rows), refresh=True)
        else:
            self.out.out(delta, end="")

    def __exit__(self, *exc: object) -> None:
        self._waiting.stop()
        if self._live is not None:
            from rich.markdown import Markdown

            self._live.stop()
            self.out.console().print(Markdown(self.text))
        elif self.show_text and self.started and not self.text.endswith("\n"):
            self.out.out("")


class _Waiting:
    """The "still working" signs on stderr, from a daemon thread until ``stop``."""

    def __init__(self, out: Output, first_after: float, every: float) -> None:
        self.out = out
        self.first_after = first_after
        self.every = every
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._status: Status | None = None

    def start(self) -> None:
        if self.out.rich_stderr:
            self._status = self.out.err_console().status(_("thinking…"))
            self._status.start()
        self._thread = threading.Thread(target=self._run, name="omar-waiting", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        started = time.monotonic()
        tick = 1.0 if self._status is not None else self.every
        if self._done.wait(self.first_after):
            return
        while True:
            seconds = round(time.monotonic() - started)
            if self._status is not None:
                self._status.update(_("thinking… {seconds} s").format(seconds=seconds))
            else:
                self.out.note(
                    _("the model is still working ({seconds} s)…").format(seconds=seconds)
                )
            if self._done.wait(tick):
                return

    def stop(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._status is not None:
            self._status.stop()
            self._status = None


class _Tail:
    """The last ``rows`` rendered lines: a live view taller than the screen could not be
    cleared, so while streaming only the end of the answer is shown."""

    def __init__(self, renderable: RenderableType, rows: int) -> None:
        self.renderable = renderable
        self.rows = rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.segment import Segment

        lines = console.render_lines(self.renderable, options, pad=False)
        for line in lines[-self.rows :]:
            yield from line
            yield Segment.line()
