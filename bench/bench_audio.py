"""Voice-note benchmark, run by hand: python bench/bench_audio.py [--minutes 30]

Prints, for a recording of the given length fed by a fake input stream as fast as the
recorder takes it (speech-like: a voiced tone with pauses and faint noise):
- the recorder's CPU cost per second of audio (PortAudio delivers 1 s per second, so the
  share of a core it needs is this number), the WAV's size and the peak Python memory;
- what the 25 MB upload limit does to it: FLAC size and time, or the parts it is cut into;
- the vocabulary prompt's length (Whisper reads the last 224 tokens).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def speech_like(seconds: float) -> object:
    """1.5 s of a voiced, wavering tone, then 0.5 s of room noise, repeated."""
    import numpy as np

    rate = 16_000
    t = np.arange(int(seconds * rate)) / rate
    voiced = (t % 2.0) < 1.5
    pitch = 140 + 30 * np.sin(2 * np.pi * 0.7 * t)
    signal = 0.25 * np.sin(2 * np.pi * np.cumsum(pitch) / rate) * voiced
    signal += np.random.default_rng(1).normal(0, 0.003, len(t))
    return (signal * 32767).astype(np.int16).reshape(-1, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30.0)
    args = parser.parse_args()
    from audio_fakes import FakeStream, factory_of

    from omar_cli.audio import Recorder, RecordOptions
    from omar_cli.knowledge.loader import builtin_dir, load_entries
    from omar_cli.transcription import (
        MAX_UPLOAD_BYTES,
        inspect_file,
        upload_clips,
        vocabulary_prompt,
    )

    seconds = args.minutes * 60
    pattern = speech_like(60)  # one minute, looped by the fake stream's silence padding
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.wav"
        stream = FakeStream(pattern)
        stream.signal = _looped(pattern, seconds)
        tracemalloc.start()
        started = time.process_time()
        recording = Recorder(factory_of(stream)).record(path, RecordOptions(seconds=seconds))
        cpu = time.process_time() - started
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"recorded {recording.duration / 60:.1f} min: {recording.bytes / 1e6:.1f} MB WAV")
        print(f"  recorder CPU {cpu / recording.duration * 1000:.2f} ms per second of audio")
        print(f"  peak Python memory while recording {peak / 1e6:.2f} MB")
        facts = inspect_file(path)
        started = time.perf_counter()
        clips = list(upload_clips(path, facts, MAX_UPLOAD_BYTES))
        took = time.perf_counter() - started
        sizes = ", ".join(
            f"{len(c.data) / 1e6:.1f} MB {c.filename.rsplit('.', 1)[-1]}" for c in clips
        )
        print(f"upload (limit {MAX_UPLOAD_BYTES / 1e6:.0f} MB): {len(clips)} part(s): {sizes}; "
              f"{took:.1f} s")  # fmt: skip
    for lang in ("es", "en"):
        prompt = vocabulary_prompt(load_entries(builtin_dir()), lang)
        print(f"vocabulary prompt ({lang}): {len(prompt)} characters")


def _looped(pattern: object, seconds: float) -> object:
    import numpy as np

    rate = 16_000
    repeats = int(seconds * rate) // len(pattern) + 1  # type: ignore[arg-type]
    return np.tile(pattern, (repeats, 1))[: int(seconds * rate)]  # type: ignore[call-overload]


if __name__ == "__main__":
    main()
