"""`omar record-and-transcribe`, `omar transcribe` and `omar devices`: voice notes."""

from __future__ import annotations

import re
import threading
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from omar_cli.cli.context import AppState, JsonOption, state
from omar_cli.cli.profile_option import ProfileOption, use_profile
from omar_cli.errors import ExitCode, UsageError
from omar_cli.i18n import _

if TYPE_CHECKING:
    from omar_cli.audio import Progress, Recording
    from omar_cli.cli.output import Output
    from omar_cli.environment import Environment
    from omar_cli.transcription import AudioFacts, VoiceOptions, VoiceResult

LanguageOption = Annotated[
    str | None,
    typer.Option("--language", "-l", help="Language spoken (ISO 639-1); default: the setting."),
]
AskOption = Annotated[
    bool, typer.Option("--ask", help="Ask the transcript as a question, grounded like ask.")
]
NewOption = Annotated[bool, typer.Option("--new", help="Start a new session.")]
SessionOption = Annotated[
    str | None, typer.Option("--session", "-s", help="Continue this session id.")
]
OfflineOption = Annotated[
    bool, typer.Option("--offline", help="Do not send now: keep it queued for omar sync.")
]
LocalOption = Annotated[
    bool,
    typer.Option(
        "--local", help="Transcribe on this laptop (faster-whisper): the audio is not sent."
    ),
]
ModelOption = Annotated[
    str | None, typer.Option("--model", "-m", help="Transcription model for this recording.")
]


def register(app: typer.Typer) -> None:
    app.command("record-and-transcribe")(record_and_transcribe)
    app.command("transcribe")(transcribe)
    app.command("devices")(devices)


def record_and_transcribe(
    ctx: typer.Context,
    seconds: Annotated[
        float | None, typer.Option("--seconds", min=0.1, help="Stop after this many seconds.")
    ] = None,
    max_seconds: Annotated[
        float, typer.Option("--max-seconds", min=1, help="Stop at this length whatever happens.")
    ] = 1800,
    stop_on_silence: Annotated[
        float | None,
        typer.Option("--stop-on-silence", min=0.5, help="Stop after this many seconds of quiet."),
    ] = None,
    device: Annotated[
        str | None, typer.Option("--device", "-d", help="Input device: index or name.")
    ] = None,
    language: LanguageOption = None,
    ask: AskOption = False,
    new: NewOption = False,
    session: SessionOption = None,
    offline: OfflineOption = False,
    local: LocalOption = False,
    model: ModelOption = None,
    profile: ProfileOption = None,
    json_out: JsonOption = False,
) -> None:
    """Record a voice note from the microphone, then transcribe it with the drive's words.

    Records 16 kHz mono straight to disk (a crash keeps everything recorded so far). Stop with
    Enter or Ctrl-C; a second Ctrl-C within a second keeps the file but does not transcribe.
    Offline, the recording is stored and omar sync transcribes it later.

    Example: omar record-and-transcribe --ask
    """
    from omar_cli.audio import Recorder, RecordOptions, open_input_stream, parse_device
    from omar_cli.transcription import VoiceResult, facts_of_recording

    st = _state(ctx, json_out, model, profile)
    svc = st.svc
    voice = _options(st, language, ask, new, session, offline, local)  # refused before recording
    path = _new_recording_path(svc.settings.paths.data / "recordings", svc.clock())
    meter = _LiveMeter(st.output, path)
    with _EnterWatcher(st.env) as enter:
        recorder = Recorder(
            svc.audio_input or open_input_stream,
            stop_requested=enter.pressed,
            on_progress=meter.update,
            on_interrupt=meter.interrupted,
            on_start=meter.start,
        )
        options = RecordOptions(seconds, max_seconds, stop_on_silence, parse_device(device))
        recording = recorder.record(path, options)
    meter.done(recording)
    facts = facts_of_recording(recording)
    if recording.error is not None:  # what was recorded before the device failed is kept
        st.output.warn(recording.error.message)
    if recording.abandoned:
        result = VoiceResult(facts, abandoned=True, stop_reason="interrupt", kept_at=str(path))
        _render(st.output, result)
        raise typer.Exit(int(ExitCode.INTERRUPTED))
    result = _process(st, path, facts, voice, stop_reason=recording.stop_reason)
    path.unlink(missing_ok=True)  # stored in the session now: the working copy goes
    _finish(st.output, result, recording)


def transcribe(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The recording (wav, mp3, m4a, ogg, flac, webm…).")],
    language: LanguageOption = None,
    ask: AskOption = False,
    new: NewOption = False,
    session: SessionOption = None,
    offline: OfflineOption = False,
    local: LocalOption = False,
    model: ModelOption = None,
    profile: ProfileOption = None,
    json_out: JsonOption = False,
) -> None:
    """Transcribe an existing recording with the drive's words; stored in the session.

    Example: omar transcribe nota.m4a --ask
    """
    from omar_cli.transcription import inspect_file

    st = _state(ctx, json_out, model, profile)
    voice = _options(st, language, ask, new, session, offline, local)
    facts = inspect_file(file)
    result = _process(st, file, facts, voice)
    _finish(st.output, result, None)


def devices(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """List the sound inputs a recording can use (--device takes the index or the name).

    Example: omar devices
    """
    from omar_cli.audio import list_input_devices

    out = state(ctx, json_mode=json_out).output
    found = list_input_devices()
    if json_out:
        out.emit_json({"devices": [d.__dict__ for d in found]})
        return
    if not found:
        out.note(_("no input device found: connect a microphone or headset"))
    for d in found:
        mark = "*" if d.default else " "
        out.out(f"{mark} {d.index:>3}  {d.name}  ({d.host_api}, {d.default_sample_rate:.0f} Hz)")


# --------------------------------------------------------------------------- shared


def _state(ctx: typer.Context, json_out: bool, model: str | None, profile: str | None) -> AppState:
    st = state(ctx, json_mode=json_out)
    use_profile(st, profile)
    if model:
        st.svc.settings = st.svc.settings.with_overrides(transcription_model=model)
    return st


def _options(
    st: AppState,
    language: str | None,
    ask: bool,
    new: bool,
    session: str | None,
    offline: bool,
    local: bool,
) -> VoiceOptions:
    from omar_cli.transcription import VoiceNotes, VoiceOptions

    lang = (language or st.svc.settings.language or "es").strip().lower()
    if not re.fullmatch(r"[a-z]{2}", lang):
        raise UsageError(
            _("--language takes a two-letter ISO 639-1 code, not {value!r}").format(value=lang),
            hint=_("for example: es, en, pt, fr"),
        )
    if session:
        st.svc.store.get_session(session)  # an unknown id fails now, not after the recording
    voice = VoiceOptions(
        lang, ask=ask, session_id=session, new_session=new, offline=offline, local=local
    )
    VoiceNotes(st.svc.assistant).check_local(voice)  # no local model: said before recording
    return voice


def _process(
    st: AppState,
    path: Path,
    facts: AudioFacts,
    options: VoiceOptions,
    *,
    stop_reason: str | None = None,
) -> VoiceResult:
    from omar_cli.cli.streamer import Streamer
    from omar_cli.transcription import VoiceNotes

    out = st.output
    notes = VoiceNotes(st.svc.assistant)
    if (
        not options.offline
        and st.svc.chat() is None
        and not notes.engines(None).plan(
            st.svc.settings.transcription_engine, local_only=options.local, offline=True
        )
    ):
        out.note(_("no API key configured: the recording is queued for `omar sync`"))
    elif options.local or st.svc.settings.transcription_engine == "local":
        # the model loads and reads the whole note on this CPU: seconds, minutes for a long one
        out.note(_("transcribing on this laptop (faster-whisper)…"))
    stream = Streamer(out, show_text=not out.json_mode) if options.ask else None

    def show_transcript(text: str) -> None:
        if not out.json_mode:
            out.out(text)
            if options.ask:
                out.out("")

    with stream or nullcontext():
        return notes.process(
            path,
            facts,
            options,
            on_delta=stream.write if stream else None,
            on_transcript=show_transcript,
            stop_reason=stop_reason,
        )


def _finish(out: Output, result: VoiceResult, recording: Recording | None) -> None:
    _render(out, result)
    error = result.error or (result.ask.error if result.ask else None)
    if error is not None:
        raise typer.Exit(int(error.code))
    if recording is not None and recording.error is not None:
        raise typer.Exit(int(recording.error.code))


def _render(out: Output, result: VoiceResult) -> None:
    from omar_cli.cli.ask import _render as render_answer

    if out.json_mode:
        error = result.error or (result.ask.error if result.ask else None)
        out.emit_json(result, ok=error is None and not result.abandoned)
    elif result.ask is not None:
        render_answer(out, result.ask, streamed=True)
    audio = result.audio
    seconds = f"{audio.duration:.1f} s, " if audio.duration is not None else ""
    out.note(
        _("audio: {seconds}{size} kB, {rate} Hz").format(
            seconds=seconds, size=round(audio.bytes / 1000), rate=audio.sample_rate or "?"
        )
    )
    if result.abandoned:
        out.note(_("transcription abandoned; the recording is kept at {path}").format(
            path=result.kept_at))  # fmt: skip
    if result.error is not None:
        out.error_lines(result.error)
    if result.queued:
        out.note(_("recording {id} queued: run `omar sync` when online").format(
            id=result.recording_id))  # fmt: skip
    if result.parts > 1:
        out.note(_("sent in {parts} parts (over the upload limit)").format(parts=result.parts))
    if result.repeated:
        out.warn(
            _("the transcript repeats «{stretch}» over and over: it may be garbled; "
              "listen to the recording").format(stretch=result.repeated)
        )  # fmt: skip


def _new_recording_path(folder: Path, now: Any) -> Path:
    stamp = now.strftime("%Y%m%d-%H%M%S")
    path = folder / f"rec-{stamp}.wav"
    number = 2
    while path.exists():
        path = folder / f"rec-{stamp}-{number}.wav"
        number += 1
    return path


class _EnterWatcher:
    """Enter on standard input stops the recording (read in a thread; EOF stops nothing).

    The input is the run's Environment's, so a test presses Enter by typing "\\n"."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self._pressed = threading.Event()

    def __enter__(self) -> _EnterWatcher:
        threading.Thread(target=self._watch, daemon=True, name="omar-enter").start()
        return self

    def __exit__(self, *exc: object) -> None:
        pass  # a daemon thread blocked on stdin ends with the process

    def pressed(self) -> bool:
        return self._pressed.is_set()

    def _watch(self) -> None:
        try:
            line = self.env.stdin.readline()
        except (OSError, ValueError):
            return
        if line.endswith("\n"):
            self._pressed.set()


class _LiveMeter:
    """Level, elapsed time and how to stop, on stderr: redrawn in place on a terminal."""

    WIDTH = 20

    def __init__(self, out: Output, path: Path) -> None:
        self.out = out
        self.path = path
        self.live = out.rich_stderr
        self._shown = -1.0

    def start(self) -> None:
        self.out.err(_("recording to {path}").format(path=self.path))
        self.out.err(_("speak now; press Enter or Ctrl-C to stop"))

    def update(self, progress: Progress) -> None:
        if not self.live or progress.elapsed - self._shown < 0.1:
            return
        self._shown = progress.elapsed
        filled = round(self.WIDTH * min(1.0, max(0.0, (progress.level_dbfs + 60) / 60)))
        bar = "█" * filled + "·" * (self.WIDTH - filled)
        minutes, secs = divmod(int(progress.elapsed), 60)
        line = _("● {time} [{bar}] {level:>4.0f} dB   Enter/Ctrl-C: stop").format(
            time=f"{minutes:02d}:{secs:02d}", bar=bar, level=max(progress.level_dbfs, -99)
        )
        self.out.stderr.write("\r" + line)
        self.out.stderr.flush()

    def interrupted(self) -> None:
        self._end_line()
        self.out.err(_("stopped; Ctrl-C again within a second to skip the transcription"))

    def done(self, recording: Recording) -> None:
        self._end_line()
        self.out.err(
            _("recorded {seconds:.1f} s ({reason})").format(
                seconds=recording.duration, reason=_reason(recording.stop_reason)
            )
        )

    def _end_line(self) -> None:
        if self.live and self._shown >= 0:
            self.out.stderr.write("\n")
            self._shown = -1.0


_REASONS = {
    "interrupt": "Ctrl-C",
    "seconds": "--seconds",
    "max": "--max-seconds",
    "silence": "--stop-on-silence",
}


def _reason(stop_reason: str) -> str:
    """Why the recording stopped, as the user would name it."""
    if stop_reason == "device_error":
        return _("device error")
    if stop_reason == "enter":
        return _("Enter")
    return _REASONS.get(stop_reason, stop_reason)
