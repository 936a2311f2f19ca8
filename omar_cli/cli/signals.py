"""SIGTERM and SIGHUP while a question is answered: handled as Ctrl-C is.

A terminal closed (SIGHUP) or a supervisor stopping OMAR (SIGTERM) mid-answer must keep the
partial answer exactly as Ctrl-C does, so for the duration of `ask` or `sync` these signals
raise ``Stopped``, a KeyboardInterrupt: the assistant stores what arrived and re-raises it.
The process then exits 128 + the signal's number (143 for SIGTERM, 129 for SIGHUP), as a
shell reports a process that signal ended; Ctrl-C stays 130.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

from omar_cli.errors import Interrupted
from omar_cli.i18n import _

if TYPE_CHECKING:
    from omar_cli.cli.context import AppState


class Stopped(KeyboardInterrupt):
    def __init__(self, signum: int) -> None:
        import signal

        self.signum = signum
        #: what the kept partial answer records as its error
        self.reason = _("stopped by {signal}").format(signal=signal.Signals(signum).name)
        super().__init__(self.reason)


@contextmanager
def signals_as_interrupt(st: AppState) -> Iterator[None]:
    """SIGTERM and SIGHUP raise ``Stopped`` inside; afterwards the handlers are as before.

    A ``Stopped`` leaving the block is reported like any error and ends the command with
    128 + the signal's number.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers (an embedding program's thread)
        return
    caught = [getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]

    def stop(signum: int, frame: Any) -> None:
        # a second signal must not cut the store write that keeps the partial answer
        for sig in caught:
            signal.signal(sig, signal.SIG_IGN)
        raise Stopped(signum)

    previous = {sig: signal.signal(sig, stop) for sig in caught}
    try:
        yield
    except Stopped as stopped:
        _report(st, stopped)
        raise typer.Exit(128 + stopped.signum) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _report(st: AppState, stopped: Stopped) -> None:
    from dataclasses import replace

    from omar_cli.cli.render import render_error
    from omar_cli.results import Problem

    error = Interrupted(stopped.reason, hint=_("what was stored is kept; omar sync completes it"))
    render_error(st.output, replace(Problem.of(error), code=128 + stopped.signum))
