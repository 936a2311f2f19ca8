"""Recording voice notes: 16 kHz mono from a PortAudio input, written to disk as it arrives.

The recorder pulls blocks of 0.1 s from an input stream and writes each one straight into a
WAV file through soundfile, with libsndfile told to rewrite the header after every write
(``SFC_SET_UPDATE_HEADER_AUTO``): however the process ends (Ctrl-C, a device pulled out, a
kill), the file on disk is a valid WAV holding every block written, and memory stays flat.
Once a second the file is also fsync'd, so a power loss keeps all but the last second.
WAV rather than FLAC or OGG because a cut FLAC/OGG stream reports no length to most readers
(the Whisper endpoint included), while a WAV whose header is kept current is complete.

The stream is made by an injected factory and time read from an injected clock, so tests
drive the recorder with a fake stream; ``open_input_stream`` is the real one (sounddevice).
numpy, sounddevice and soundfile are imported inside the functions: only the voice
commands pay for them.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from omar_cli.errors import AudioDeviceError, OmarError
from omar_cli.i18n import _

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

SAMPLE_RATE = 16_000
CHANNELS = 1
BLOCK_SECONDS = 0.1
#: a block louder than this (RMS, dB full scale) holds sound worth sending: speech at arm's
#: length is -35..-15 dBFS, a quiet room -60..-50, a muted microphone below -80
SPEECH_DBFS = -45.0
#: a recording with less sound than this is silent: muted or the wrong microphone
MIN_SOUND_SECONDS = 0.3
#: the recording stops here whatever else happens (30 min: 58 MB of WAV)
MAX_SECONDS = 30 * 60
#: a second Ctrl-C within this long of the first abandons the transcription
SECOND_INTERRUPT_WINDOW = 1.0
FSYNC_EVERY = 1.0
#: libsndfile: rewrite the header after every write
_SFC_SET_UPDATE_HEADER_AUTO = 0x1061
_FLOOR_DBFS = -120.0

PORTAUDIO_HINT = "apt install libportaudio2 (Debian/Ubuntu); brew install portaudio (macOS)"


class InputStream(Protocol):
    """What the recorder needs from an audio input: int16 blocks, (frames, channels)."""

    def read(self, frames: int) -> npt.NDArray[np.int16]: ...

    def close(self) -> None: ...


#: opens a stream: (device or None for the default, sample rate, frames per block)
StreamFactory = Callable[[int | str | None, int, int], InputStream]


@dataclass(frozen=True)
class RecordOptions:
    seconds: float | None = None  # stop after this long (`--seconds`)
    max_seconds: float = MAX_SECONDS
    #: stop after this long without sound, once some sound was heard (None: never)
    silence_stop: float | None = None
    device: int | str | None = None
    sample_rate: int = SAMPLE_RATE


@dataclass(frozen=True)
class Progress:
    """What the live meter shows after each block."""

    elapsed: float
    level_dbfs: float
    sound_seconds: float


@dataclass(frozen=True)
class Recording:
    path: Path
    frames: int
    sample_rate: int
    bytes: int
    #: enter, interrupt, seconds, max, silence or device_error
    stop_reason: str
    peak_dbfs: float
    sound_seconds: float
    #: a second Ctrl-C came within a second of the first: keep the file, do not transcribe
    abandoned: bool = False
    #: the device failed mid-way (the file still holds everything recorded before)
    error: OmarError | None = None

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate

    @property
    def silent(self) -> bool:
        return self.sound_seconds < MIN_SOUND_SECONDS


def level_dbfs(block: npt.NDArray[Any]) -> float:
    """RMS level of int16 samples in dB full scale (-120 for digital silence)."""
    import numpy as np

    if block.size == 0:
        return _FLOOR_DBFS
    samples = block.astype(np.float64) / 32768.0
    rms = math.sqrt(float(np.mean(samples * samples)))
    return max(_FLOOR_DBFS, 20 * math.log10(rms)) if rms > 0 else _FLOOR_DBFS


class Recorder:
    """Records until a stop condition; see the module docstring for what survives a crash."""

    def __init__(
        self,
        open_stream: StreamFactory,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        stop_requested: Callable[[], bool] = lambda: False,
        on_progress: Callable[[Progress], None] | None = None,
        on_interrupt: Callable[[], None] | None = None,
        on_start: Callable[[], None] | None = None,
    ) -> None:
        self._open = open_stream
        self._clock = clock
        self._sleep = sleep
        self._stop_requested = stop_requested
        self._on_progress = on_progress
        self._on_interrupt = on_interrupt
        self._on_start = on_start

    def record(self, path: Path, options: RecordOptions) -> Recording:
        """Record into ``path`` (a new WAV file); the stream is opened before the file, so
        a missing microphone leaves nothing behind."""
        rate = options.sample_rate
        block = max(1, round(rate * BLOCK_SECONDS))
        stream = self._open(options.device, rate, block)
        try:
            fd, writer = _open_wav(path, rate)
        except BaseException:
            stream.close()
            raise
        meter = _Meter(rate, options)
        reason, abandoned, error = "", False, None
        try:
            if self._on_start is not None:
                self._on_start()
            reason = self._loop(stream, writer, fd, block, meter)
        except KeyboardInterrupt:
            reason = "interrupt"
        except AudioDeviceError as exc:
            reason, error = "device_error", exc
        finally:
            stream.close()
            writer.close()
            os.fsync(fd)
            os.close(fd)
        if reason == "interrupt":  # the file is closed and safe before the window opens
            abandoned = self._second_interrupt()
        return Recording(
            path=path,
            frames=meter.frames,
            sample_rate=rate,
            bytes=path.stat().st_size,
            stop_reason=reason,
            peak_dbfs=meter.peak,
            sound_seconds=meter.sound_seconds,
            abandoned=abandoned,
            error=error,
        )

    def _loop(self, stream: InputStream, writer: Any, fd: int, block: int, meter: _Meter) -> str:
        synced = self._clock()
        while True:
            data = stream.read(block)
            writer.write(data)
            now = self._clock()
            if now - synced >= FSYNC_EVERY:
                os.fsync(fd)
                synced = now
            meter.add(data)
            if self._on_progress is not None:
                self._on_progress(meter.progress())
            reason = meter.stop_reason() or ("enter" if self._stop_requested() else None)
            if reason:
                return reason

    def _second_interrupt(self) -> bool:
        """Wait out the window for a second Ctrl-C; True if it came (abandon transcription)."""
        if self._on_interrupt is not None:
            self._on_interrupt()
        deadline = self._clock() + SECOND_INTERRUPT_WINDOW
        try:
            while self._clock() < deadline:
                self._sleep(0.05)
        except KeyboardInterrupt:
            return True
        return False


def _open_wav(path: Path, rate: int) -> tuple[int, Any]:
    """A new 16-bit mono WAV whose header libsndfile rewrites after every write, on a
    descriptor of our own so that it can be fsync'd (libsndfile writes straight to it)."""
    import soundfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        writer = soundfile.SoundFile(
            fd, "w", samplerate=rate, channels=CHANNELS, format="WAV", subtype="PCM_16",
            closefd=False,
        )  # fmt: skip
        soundfile._snd.sf_command(writer._file, _SFC_SET_UPDATE_HEADER_AUTO, soundfile._ffi.NULL, 1)
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    return fd, writer


class _Meter:
    """Levels, sound heard and the stop conditions that depend on the audio itself."""

    def __init__(self, rate: int, options: RecordOptions) -> None:
        self.rate = rate
        self.options = options
        self.frames = 0
        self.peak = _FLOOR_DBFS
        self.level = _FLOOR_DBFS
        self.sound_frames = 0
        self.quiet_frames = 0  # since the last block with sound

    def add(self, data: npt.NDArray[Any]) -> None:
        frames = len(data)
        self.frames += frames
        self.level = level_dbfs(data)
        self.peak = max(self.peak, self.level)
        if self.level >= SPEECH_DBFS:
            self.sound_frames += frames
            self.quiet_frames = 0
        else:
            self.quiet_frames += frames

    @property
    def sound_seconds(self) -> float:
        return self.sound_frames / self.rate

    def progress(self) -> Progress:
        return Progress(self.frames / self.rate, self.level, self.sound_seconds)

    def stop_reason(self) -> str | None:
        elapsed = self.frames / self.rate
        opts = self.options
        if opts.seconds is not None and elapsed >= opts.seconds:
            return "seconds"
        if elapsed >= opts.max_seconds:
            return "max"
        heard = self.sound_seconds >= MIN_SOUND_SECONDS
        quiet = self.quiet_frames / self.rate
        if opts.silence_stop is not None and heard and quiet >= opts.silence_stop:
            return "silence"
        return None


# --------------------------------------------------------------------------- sounddevice


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    channels: int
    default_sample_rate: float
    host_api: str
    default: bool


def parse_device(value: str | None) -> int | str | None:
    """`--device 3` is an index; anything else a name (or part of one), as PortAudio matches."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    return int(text) if text.isdigit() else text


def list_input_devices() -> list[InputDevice]:
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
        apis = sd.query_hostapis()
        default_in = sd.default.device[0]
    except sd.PortAudioError as exc:
        raise device_error(exc, None, SAMPLE_RATE) from None
    return [
        InputDevice(
            index=index,
            name=str(info["name"]),
            channels=int(info["max_input_channels"]),
            default_sample_rate=float(info["default_samplerate"]),
            host_api=str(apis[info["hostapi"]]["name"]),
            default=index == default_in,
        )
        for index, info in enumerate(devices)
        if int(info["max_input_channels"]) > 0
    ]


def open_input_stream(device: int | str | None, rate: int, blocksize: int) -> InputStream:
    """A started 16-bit mono PortAudio input stream; every failure an AudioDeviceError."""
    sd = _sounddevice()
    try:
        stream = sd.InputStream(
            device=device, samplerate=rate, channels=CHANNELS, dtype="int16", blocksize=blocksize
        )
        stream.start()
    except (sd.PortAudioError, ValueError) as exc:
        raise device_error(exc, device, rate) from None
    return _PortAudioStream(stream, sd.PortAudioError)


class _PortAudioStream:
    def __init__(self, stream: Any, error_type: type[Exception]) -> None:
        self._stream = stream
        self._error = error_type

    def read(self, frames: int) -> npt.NDArray[np.int16]:
        try:
            data, _overflowed = self._stream.read(frames)  # an overflow loses samples, not the file
        except self._error as exc:
            raise device_error(exc, None, SAMPLE_RATE) from None
        return data  # type: ignore[no-any-return]

    def close(self) -> None:
        try:
            self._stream.stop()
            self._stream.close()
        except self._error:
            pass  # the device is gone already: nothing left to release


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError:  # the Python package is there, the PortAudio library is not
        raise AudioDeviceError(
            _("cannot record: the PortAudio library is not installed"), hint=PORTAUDIO_HINT
        ) from None
    except ImportError:
        raise AudioDeviceError(
            _("cannot record: the sounddevice package is missing"),
            hint=_("reinstall omar-cli (pip install --force-reinstall omar-cli)"),
        ) from None
    return sounddevice


def device_error(exc: Exception, device: int | str | None, rate: int) -> AudioDeviceError:
    """One line and the fix for what PortAudio said."""
    said = str(exc)
    low = said.lower()
    pick = _("list the inputs with `omar devices` and choose one with --device")
    if "sample rate" in low or "-9997" in said:
        return AudioDeviceError(
            _("the input device does not record at {rate} Hz").format(rate=rate),
            hint=_("choose another input with --device (`omar devices`), or the default one"),
        )
    if "unavailable" in low or "busy" in low or "-9985" in said:
        return AudioDeviceError(
            _("the input device is busy"),
            hint=_("close the other program using the microphone, or choose another --device"),
        )
    unknown = ("no input device matching", "invalid device", "error querying device")
    if device is not None and any(words in low for words in unknown):
        return AudioDeviceError(_("no input device {device!r}").format(device=device), hint=pick)
    if any(words in low for words in unknown) or "no default input" in low or "-9996" in said:
        return AudioDeviceError(
            _("no microphone found"),
            hint=_("connect a microphone or headset; `omar devices` lists the inputs"),
        )
    return AudioDeviceError(_("the sound system failed: {error}").format(error=said), hint=pick)
