"""A real `omar` process read while it runs: for tests that signal it mid-answer."""

from __future__ import annotations

import threading
import time
from subprocess import Popen


class Reader:
    """Collects a process's stdout on a thread; ``wait_for`` blocks until some text shows."""

    def __init__(self, proc: Popen[bytes]) -> None:
        assert proc.stdout is not None
        self.received = bytearray()
        self._stdout = proc.stdout
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while chunk := self._stdout.read1(4096):  # type: ignore[attr-defined]
            self.received.extend(chunk)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text.encode() not in self.received and time.monotonic() < deadline:
            time.sleep(0.02)

    def text(self) -> str:
        self._thread.join(timeout=5)
        return self.received.decode()
