"""`omar review`: list, show, approve, reject and correct what OMAR answered, offline."""

from __future__ import annotations

import getpass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from omar_cli.cli.context import AppState, JsonOption, state
from omar_cli.i18n import _

if TYPE_CHECKING:
    from omar_cli.cli.output import Output
    from omar_cli.field_knowledge import FieldKnowledge
    from omar_cli.review import ReviewRow, SessionReview
    from omar_cli.store import Message

app = typer.Typer(help="Review answers, photo analyses and transcripts offline; export them.")

SinceOption = Annotated[
    str | None, typer.Option("--since", help="Active since: 2026-11-25, ISO time or 7d.")
]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="Active until: 2026-11-25, ISO time or 7d.")
]
NoteOption = Annotated[str | None, typer.Option("--note", help="The reviewer's note.")]
ReviewerOption = Annotated[
    str | None,
    typer.Option(
        "--reviewer", envvar="OMAR_REVIEWER", help="Reviewer name (default: the OS user)."
    ),
]
ItemArgument = Annotated[str, typer.Argument(help="Item id: SESSION.N (the session may be short).")]


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="review")


@app.callback(invoke_without_command=True)
def review(
    ctx: typer.Context,
    since: SinceOption = None,
    until: UntilOption = None,
    code: Annotated[str | None, typer.Option("--code", help="Mentions this code.")] = None,
    text: Annotated[str | None, typer.Option("--text", help="Contains this text.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Has items pending/approved/rejected/edited.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """List sessions for review, newest first (same as omar review list).

    Example: omar review --code F0002 --status pending
    """
    if ctx.invoked_subcommand is None:
        _list(ctx, since, until, code, text, status, json_out)


@app.command("list")
def list_(
    ctx: typer.Context,
    since: SinceOption = None,
    until: UntilOption = None,
    code: Annotated[str | None, typer.Option("--code", help="Mentions this code.")] = None,
    text: Annotated[str | None, typer.Option("--text", help="Contains this text.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Has items pending/approved/rejected/edited.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """List sessions with their photos, recordings and review counts, newest first.

    Example: omar review list --since 7d
    """
    _list(ctx, since, until, code, text, status, json_out)


def _list(
    ctx: typer.Context,
    since: str | None,
    until: str | None,
    code: str | None,
    text: str | None,
    status: str | None,
    json_out: bool,
) -> None:
    from omar_cli.review import list_reviews
    from omar_cli.store import DamagedSession

    st = state(ctx, json_mode=json_out)
    out = st.output
    start, end = when_range(st, since, until)
    damaged: list[DamagedSession] = []
    rows = list_reviews(
        st.svc.store, since=start, until=end, code=code, text=text, status=status, damaged=damaged
    )
    for problem in damaged:
        out.warn(problem.problem)
    if json_out:
        out.emit_json({"sessions": rows})
        return
    if not rows:
        out.note(_("no sessions match"))
    for row in rows:
        out.out(_row_line(row))


def when_range(
    st: AppState, since: str | None, until: str | None
) -> tuple[datetime | None, datetime | None]:
    from omar_cli.review import parse_when

    now = st.svc.clock()
    start = parse_when(since, now) if since else None
    end = parse_when(until, now, end=True) if until else None
    return start, end


def _row_line(row: ReviewRow) -> str:
    from omar_cli.cli.sessions import _printable

    what = " ".join((row.title or row.first_question or "").split())[:50]
    minutes = max(row.duration_s // 60, 0)
    counts = _("{pending} pending, {approved} approved, {rejected} rejected").format(
        pending=row.pending, approved=row.approved + row.edited, rejected=row.rejected
    )
    if row.withdrawn:
        counts += ", " + _("{n} withdrawn").format(n=row.withdrawn)
    media = []
    if row.photos:
        media.append(_("{n} photo(s)").format(n=row.photos))
    if row.recordings:
        media.append(_("{n} recording(s)").format(n=row.recordings))
    codes = ",".join(row.codes[:4])
    parts = [row.id, f"{row.updated_at.astimezone():%Y-%m-%d %H:%M}", f"{minutes} min", counts]
    parts += [p for p in (", ".join(media), codes) if p]
    return "  ".join(parts) + "  " + _printable(what)


@app.command("show")
def show(
    ctx: typer.Context,
    session: Annotated[str, typer.Argument(help="Session id or the start of one.")],
    json_out: JsonOption = False,
) -> None:
    """Show a whole session: questions, answers, photos, transcripts, sources and grounding.

    Example: omar review show 20261125-1235
    """
    from omar_cli.review import show_session

    st = state(ctx, json_mode=json_out)
    detail = show_session(st.svc.store, session)
    for unreadable in detail.damaged:
        st.output.warn(unreadable.problem)
    field = st.svc.field
    if json_out:
        from omar_cli.cli.review_field import field_rows

        st.output.emit_json({**vars(detail), "field_knowledge": field_rows(field, detail)})
        return
    render_session(st.output, detail, field)


def render_session(out: Output, detail: SessionReview, field: FieldKnowledge) -> None:
    s = detail.session
    out.out(f"{s.id}  {s.created_at.astimezone():%Y-%m-%d %H:%M}  {s.title or ''}".rstrip())
    for m in detail.messages:
        render_item(out, m, field)


def render_item(out: Output, m: Message, field: FieldKnowledge | None = None) -> None:
    from omar_cli.cli.review_field import render_field
    from omar_cli.cli.sessions import _printable
    from omar_cli.transcription_engines import engine_label
    from omar_cli.words import item_label, word

    head = [m.id, item_label(m.meta.get("kind"), m.role), word(m.status), m.model or ""]
    head.append(f"{m.created_at.astimezone():%H:%M:%S}")
    if m.latency_ms is not None:
        head.append(f"{m.latency_ms} ms")
    if m.usage is not None:
        head.append(_("{n} tokens").format(n=m.usage.total_tokens))
    if m.review is not None:
        head.append(_("review: {state}").format(state=word(m.review.state)))
    out.out("\n--- " + "  ".join(p for p in head if p))
    out.out(_printable(m.text.rstrip()))
    engine = engine_label(m.meta)
    if engine:
        out.out(_("transcribed by {engine}").format(engine=_printable(engine)))
    repeated = (m.meta.get("transcription") or {}).get("repeated")
    if repeated:
        out.out(_("⚠ repeats «{stretch}» over and over: listen to the recording").format(
            stretch=_printable(str(repeated))))  # fmt: skip
    if m.media:
        out.out(_("media: {refs}").format(refs=", ".join(h[:12] for h in m.media)))
    if m.sources:
        out.out(_("sources: {ids}").format(ids=", ".join(m.sources)))
    review = m.review
    if review is not None and review.corrected_text:
        out.out(_("correction:") + "\n" + _printable(review.corrected_text.rstrip()))
    if review is not None and review.note:
        out.out(_("note: {note}").format(note=_printable(review.note)))
    if review is not None and review.reviewer:
        out.out(_("reviewed by {who}").format(who=review.reviewer))
    render_field(out, field, m)
    grounding = m.provenance.grounding if m.provenance is not None else None
    if grounding is not None and grounding.text:
        out.out(_("grounding sent:") + "\n" + _printable(grounding.text.rstrip()))


def reviewer_name(given: str | None) -> str:
    if given:
        return given
    try:
        return getpass.getuser()
    except Exception:  # no user name in the environment or password database
        return "unknown"


def _verdict(
    ctx: typer.Context,
    item: str,
    verdict: str,
    note: str | None,
    reviewer: str | None,
    json_out: bool,
    corrected: str | None = None,
) -> None:
    from omar_cli.review import set_verdict

    st = state(ctx, json_mode=json_out)
    message = set_verdict(
        st.svc.store,
        item,
        verdict,
        reviewer=reviewer_name(reviewer),
        now=st.svc.clock(),
        note=note,
        corrected_text=corrected,
    )
    from omar_cli.cli.review_field import keep_in_step

    keep_in_step(st, [message.session_id], [message.id])
    if json_out:
        st.output.emit_json({"item": message})
        return
    from omar_cli.words import word

    st.output.out(f"{message.id}  {word(verdict)}")


@app.command("approve")
def approve(
    ctx: typer.Context,
    item: ItemArgument,
    note: NoteOption = None,
    reviewer: ReviewerOption = None,
    json_out: JsonOption = False,
) -> None:
    """Approve an answer, photo analysis or transcript.

    Example: omar review approve 20261125-1235.2 --note "correcto"
    """
    _verdict(ctx, item, "approved", note, reviewer, json_out)


@app.command("reject")
def reject(
    ctx: typer.Context,
    item: ItemArgument,
    note: NoteOption = None,
    reviewer: ReviewerOption = None,
    json_out: JsonOption = False,
) -> None:
    """Reject an answer, photo analysis or transcript.

    Example: omar review reject 20261125-1235.2 --note "parámetro equivocado"
    """
    _verdict(ctx, item, "rejected", note, reviewer, json_out)


@app.command("edit")
def edit(
    ctx: typer.Context,
    item: ItemArgument,
    text: Annotated[
        str | None, typer.Option("--text", help="The corrected text (else $EDITOR opens).")
    ] = None,
    note: NoteOption = None,
    reviewer: ReviewerOption = None,
    json_out: JsonOption = False,
) -> None:
    """Correct an item; the original text is kept beside the correction.

    Example: omar review edit 20261125-1235.2 --text "Alargue 2203 a 8 s."
    """
    from omar_cli.review import reviewable

    if text is None:
        st = state(ctx, json_mode=json_out)
        text = edit_in_editor(_current_text(reviewable(st.svc.store, item)))
    _verdict(ctx, item, "edited", note, reviewer, json_out, corrected=text)


def _current_text(m: Message) -> str:
    return (m.review.corrected_text if m.review and m.review.corrected_text else None) or m.text


def edit_in_editor(text: str) -> str:
    """The text after the user edits it in $VISUAL or $EDITOR (vi when neither is set)."""
    import os
    import shlex
    import subprocess
    import tempfile
    from pathlib import Path

    from omar_cli.errors import InputError

    command = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.TemporaryDirectory(prefix="omar-review-") as folder:
        path = Path(folder) / "correccion.md"
        path.write_text(text, encoding="utf-8")
        try:
            done = subprocess.run([*shlex.split(command), str(path)], check=False)
        except OSError as exc:
            raise InputError(
                _("cannot start the editor {command!r}: {error}").format(
                    command=command, error=exc.strerror or exc
                ),
                hint=_("set EDITOR, or give the correction with --text"),
            ) from None
        edited = path.read_text(encoding="utf-8")
    if done.returncode != 0 or edited == text:
        raise InputError(_("the editor closed without a change"), hint=_("nothing was changed"))
    return edited


@app.command("export")
def export(
    ctx: typer.Context,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="finetune (JSONL), markdown or json.")
    ] = "finetune",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    bundle: Annotated[
        Path | None,
        typer.Option("--bundle", help="Write a hand-over bundle (sessions, reviews, media)."),
    ] = None,
) -> None:
    """Export approved answers for fine-tuning, a Markdown report, a JSON dump or a bundle.

    Example: omar review export --format finetune -o omar-train.jsonl
    """
    import json

    from omar_cli.errors import UsageError
    from omar_cli.review_export import Range, dump, finetune_lines, markdown_report

    st = state(ctx)
    start, end = when_range(st, since, until)
    when = Range(start, end)
    store = st.svc.store
    if bundle is not None:
        from omar_cli.cli.review_data import write_bundle_file

        write_bundle_file(st, bundle, when)
        return
    if fmt == "finetune":
        lines = (
            json.dumps(line, ensure_ascii=False) + "\n" for line in finetune_lines(store, when)
        )
        text = "".join(lines)
    elif fmt == "markdown":
        text = markdown_report(store, when)
    elif fmt == "json":
        # compact: the C encoder; indenting 5,000 sessions would take seconds
        text = json.dumps(dump(store, when), ensure_ascii=False) + "\n"
    else:
        raise UsageError(
            _("unknown export format {fmt!r}").format(fmt=fmt),
            hint=_("use finetune, markdown or json"),
        )
    if output is None:
        st.output.out(text, end="")
        return
    from omar_cli.atomic import atomic_write_bytes

    atomic_write_bytes(output, text.encode("utf-8"))
    st.output.note(_("written to {path}").format(path=output))
