"""A fake PortAudio input stream and test signals for the recorder (tests/test_audio.py,
tests/test_record_cli.py)."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import soundfile

RATE = 16_000
BLOCK = 1600  # the recorder's 0.1 s at 16 kHz

Block = npt.NDArray[np.int16]


def tone(seconds: float, amplitude: float = 0.3, hz: float = 440.0, rate: int = RATE) -> Block:
    """A sine wave, int16 (frames, 1): as loud as speech at arm's length for 0.3."""
    t = np.arange(round(seconds * rate)) / rate
    return (np.sin(2 * np.pi * hz * t) * amplitude * 32767).astype(np.int16).reshape(-1, 1)


def noise(seconds: float, amplitude: float, rate: int = RATE, seed: int = 7) -> Block:
    rng = np.random.default_rng(seed)
    samples = rng.uniform(-amplitude, amplitude, round(seconds * rate)) * 32767
    return samples.astype(np.int16).reshape(-1, 1)


def silence(seconds: float, rate: int = RATE) -> Block:
    return np.zeros((round(seconds * rate), 1), dtype=np.int16)


def wav_bytes(signal: Block, rate: int = RATE, fmt: str = "WAV") -> bytes:
    out = io.BytesIO()
    soundfile.write(out, signal, rate, format=fmt, subtype="PCM_16")
    return out.getvalue()


class FakeStream:
    """Plays ``signal`` block by block; ``events`` maps a block number (0-based) to an
    exception raised instead of that block (KeyboardInterrupt, a device error). After the
    signal, silence: a stop condition must end the recording, not the fake."""

    def __init__(
        self, signal: Block, events: dict[int, BaseException] | None = None, pace: float = 0.0
    ) -> None:
        self.signal = signal
        self.pace = pace  # seconds each read takes (a real one takes the block's length)
        self.events = dict(events or {})
        self.reads = 0
        self.position = 0
        self.closed = False
        self.opened_with: tuple[object, ...] = ()

    def read(self, frames: int) -> Block:
        number = self.reads
        self.reads += 1
        if self.pace:
            time.sleep(self.pace)
        if number in self.events:
            raise self.events.pop(number)
        block = self.signal[self.position : self.position + frames]
        self.position += frames
        if len(block) < frames:
            block = np.concatenate([block, np.zeros((frames - len(block), 1), np.int16)])
        return block

    def close(self) -> None:
        self.closed = True


def factory_of(stream: FakeStream) -> Callable[[int | str | None, int, int], FakeStream]:
    def open_stream(device: int | str | None, rate: int, blocksize: int) -> FakeStream:
        stream.opened_with = (device, rate, blocksize)
        return stream

    return open_stream


def failing_factory(error: BaseException) -> Callable[..., FakeStream]:
    def open_stream(*_args: object) -> FakeStream:
        raise error

    return open_stream


class FakeClock:
    """Monotonic seconds that move only when the recorder sleeps or a test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def interrupting_sleep(clock: FakeClock, after: float) -> Callable[[float], None]:
    """A sleep that raises KeyboardInterrupt (a second Ctrl-C) ``after`` seconds in."""
    start: list[float] = []

    def sleep(seconds: float) -> None:
        start.append(clock.now) if not start else None
        clock.sleep(seconds)
        if clock.now - start[0] >= after:
            raise KeyboardInterrupt

    return sleep


def concat(parts: Sequence[Block]) -> Block:
    return np.concatenate(list(parts))
