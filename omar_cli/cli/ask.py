"""`omar ask`: a question in, a streamed and stored answer out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from omar_cli.cli.context import AppState, JsonOption, state
from omar_cli.cli.output import Output
from omar_cli.cli.profile_option import ProfileOption, use_profile
from omar_cli.cli.render import render_result
from omar_cli.cli.signals import signals_as_interrupt
from omar_cli.cli.streamer import Streamer
from omar_cli.errors import OmarError
from omar_cli.i18n import N_, _, translator

if TYPE_CHECKING:
    from omar_cli.environment import Environment
    from omar_cli.results import AskResult


def register(app: typer.Typer) -> None:
    app.command("ask")(ask)


def ask(
    ctx: typer.Context,
    question: Annotated[
        list[str] | None, typer.Argument(help="The question, or - to read it from stdin.")
    ] = None,
    new: Annotated[bool, typer.Option("--new", help="Start a new session.")] = False,
    session: Annotated[
        str | None, typer.Option("--session", "-s", help="Continue this session id.")
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Answer from the built-in knowledge only.")
    ] = False,
    queue: Annotated[
        bool,
        typer.Option("--queue", help="With an offline answer, keep the question for omar sync."),
    ] = False,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Chat model for this question.")
    ] = None,
    profile: ProfileOption = None,
    json_out: JsonOption = False,
) -> None:
    """Ask about an ACS150: faults, parameters, wiring, ratings. Answers cite the knowledge.

    Without a question on a terminal, starts an interactive chat. Without an API key (or with
    --offline) the answer comes from the built-in knowledge and says so.

    Example: omar ask "El variador muestra F0002 al frenar"
    """
    st = state(ctx, json_mode=json_out)
    use_profile(st, profile)
    if model:
        st.svc.settings = st.svc.settings.with_overrides(model=model)
    text = _read_question(st.env, question)
    if text is None and (not st.env.stdin_isatty or json_out):
        raise typer.BadParameter(_("no question given (pass it as an argument or with -)"))
    with signals_as_interrupt(st):
        if text is None:
            _chat_loop(st, session=session, new=new, offline=offline)
            return
        _ask_once(st, text, session=session, new=new, offline=offline, queue=queue)


def _read_question(env: Environment, words: list[str] | None) -> str | None:
    if words == ["-"] or (not words and not env.stdin_isatty):
        return env.read_all()
    return " ".join(words) if words else None


def _ask_once(
    st: AppState,
    text: str,
    *,
    session: str | None,
    new: bool,
    offline: bool,
    queue: bool,
    exit: bool = True,
) -> AskResult:
    """Ask, stream and render one question; with ``exit``, a problem ends the command."""
    out = st.output
    svc = st.svc
    if not offline and svc.chat() is None:
        out.note(_("no API key configured: answering offline from the built-in knowledge"))
    with Streamer(out, show_text=not out.json_mode) as stream:
        result = svc.assistant.ask(
            text,
            session_id=session,
            new_session=new,
            offline=offline,
            queue=queue,
            on_delta=stream.write,
        )
    _render(out, result, streamed=stream.started and stream.show_text, exit=exit)
    return result


#: words of the answer's frame, shown in the answer's language (not the interface's)
WORDS: dict[str, str] = {
    "sources": N_("Sources"),
    "also_given": N_("Consulted, not cited"),
    "conflict": N_("⚠ contradicts a safety rule"),
    "cut": N_("— Incomplete answer: it was cut off before the end. Offline answer follows —"),
    "unknown": N_("warning: the answer cites ids not in the knowledge base: {ids}; verify them"),
}


def frame_words(lang: str) -> dict[str, str]:
    tr = translator(lang)
    return {key: tr.gettext(text) for key, text in WORDS.items()}


def _render(out: Output, result: AskResult, *, streamed: bool, exit: bool = False) -> None:
    """The answer through ``render_result``; with ``exit``, its problem ends the command
    (other commands that show an answer among more output, e.g. a recording's, pass none)."""
    words = frame_words(result.lang)
    notes, after = [], []
    if result.unknown_citations:
        notes.append(words["unknown"].format(ids=", ".join(result.unknown_citations)))
    if result.queued:
        note = _("question {id} kept pending; run `omar sync` when online")
        after.append(note.format(id=result.question_id))
    render_result(
        out,
        result,
        problem=result.error,
        warning=result.not_saved,
        text=lambda: _render_text(out, result, streamed=streamed, words=words),
        notes=notes,
        after=after,
        exit=exit,
    )


def print_body(
    out: Output, result: AskResult, reply: str, *, streamed: bool, words: dict[str, str]
) -> None:
    """The answer (or, after a stream, what was added to it) and, for a cut answer, the line
    that says so followed by the knowledge's own answer."""
    if not streamed:
        _print_answer(out, reply)
    else:  # what was added after the stream: flags and the rule the model left out
        safety = f"⚠ {result.safety_note}" if result.safety_note else None
        for added in (result.length_note, result.conflict_note, safety):
            if added:
                out.out("")
                _print_answer(out, added)
    if result.offline_answer is not None:  # a cut answer: say so, then the knowledge's
        out.out(f"\n{words['cut']}\n")
        _print_answer(out, result.offline_answer)


def _render_text(out: Output, result: AskResult, *, streamed: bool, words: dict[str, str]) -> None:
    print_body(out, result, result.answer, streamed=streamed, words=words)
    if result.offline_answer is not None:
        return
    if result.mode != "online":
        return
    if result.sources:
        lines = [
            out.fold(
                f"  [{s.id}] {s.source}" + (f" {words['conflict']}" if s.safety_conflict else "")
            )
            for s in result.sources
        ]
        out.out(f"\n{words['sources']}:\n" + "\n".join(lines))
    if result.also_given:
        ids = ", ".join(f"[{s.id}]{' ⚠' if s.safety_conflict else ''}" for s in result.also_given)
        gap = "" if result.sources else "\n"
        out.out(gap + out.fold(f"{words['also_given']}: {ids}", indent="  "))


def _print_answer(out: Output, text: str) -> None:
    if out.rich_stdout:
        from rich.markdown import Markdown

        out.console().print(Markdown(text))
    else:
        out.out(text)


def _chat_loop(st: AppState, *, session: str | None, new: bool, offline: bool) -> None:
    out = st.output
    out.note(_("interactive chat: empty line or Ctrl-D to leave"))
    while True:
        # the prompt goes to stderr so that stdout holds only answers, even when redirected
        out.stderr.write("omar> ")
        out.stderr.flush()
        try:
            text = st.env.read_line()
        except EOFError:  # Ctrl-D
            out.err("")
            return
        if not text.strip() or text.strip() in ("exit", "quit", "salir"):
            return
        try:
            result = _ask_once(
                st, text, session=session, new=new, offline=offline, queue=False, exit=False
            )
        except OmarError as exc:
            out.error_lines(exc)
            continue
        session, new = result.session_id, False
