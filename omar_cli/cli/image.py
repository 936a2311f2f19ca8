"""`omar image`: photos of the drive in, a grounded answer out, codes linked to the knowledge."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from omar_cli.cli.context import JsonOption, state
from omar_cli.cli.profile_option import ProfileOption, use_profile
from omar_cli.cli.render import render_result

if TYPE_CHECKING:
    from omar_cli.cli.output import Output
    from omar_cli.image_answers import ImageResult


class Detail(StrEnum):
    auto = "auto"
    low = "low"
    high = "high"


def register(app: typer.Typer) -> None:
    app.command("image")(image)


def image(
    ctx: typer.Context,
    paths: Annotated[
        list[str],
        typer.Argument(metavar="PATH...", help="Photos (JPEG, PNG, WebP), or - for stdin."),
    ],
    question: Annotated[
        str | None,
        typer.Option("--question", "-q", help="What to ask about the photos."),
    ] = None,
    detail: Annotated[
        Detail,
        typer.Option("--detail", help="low: one 512 px tile, cheap; high/auto: up to 2048 px."),
    ] = Detail.auto,
    new: Annotated[bool, typer.Option("--new", help="Start a new session.")] = False,
    session: Annotated[
        str | None, typer.Option("--session", "-s", help="Continue this session id.")
    ] = None,
    offline: Annotated[
        bool,
        typer.Option("--offline", help="Do not send now: keep the photo queued for omar sync."),
    ] = False,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Vision model for this question.")
    ] = None,
    profile: ProfileOption = None,
    json_out: JsonOption = False,
) -> None:
    """Ask about photos of an ACS150: the display, a fault code, the wiring, the rating plate.

    Each photo is turned upright, stripped of its metadata (GPS included) and scaled down
    before it is sent; the original is kept in the session. Codes in the question or the
    answer are linked to the local knowledge. Offline, the photo waits for omar sync.

    Example: omar image panel.jpg -q "¿Qué significa este código?"
    """
    from omar_cli.image_answers import ask_about_photos
    from omar_cli.images import prepare_images, read_sources, text

    st = state(ctx, json_mode=json_out)
    use_profile(st, profile)
    out = st.output
    if model:
        st.svc.settings = st.svc.settings.with_overrides(vision_model=model)
    lang = st.svc.settings.language
    # every photo is read and checked before anything is stored or sent
    prepared = prepare_images(read_sources(paths, st.env.stdin_bytes(), lang), detail.value, lang)
    if not offline and st.svc.chat() is None:
        out.note(text(lang, "no_key"))
    from omar_cli.cli.streamer import Streamer  # the same live view as `omar ask`

    with Streamer(out, show_text=not out.json_mode) as stream:
        result = ask_about_photos(
            st.svc.assistant,
            prepared,
            question,
            lang=lang,
            session_id=session,
            new_session=new,
            offline=offline,
            on_delta=stream.write,
        )
    _render(out, result, streamed=stream.started and stream.show_text)


def _render(out: Output, result: ImageResult, *, streamed: bool) -> None:
    from omar_cli.images import text

    ask = result.ask
    label = text(ask.lang, "sent" if ask.mode == "online" else "ready")
    notes = [
        f"{label}: {sent.label} → {sent.sent.width}×{sent.sent.height} px, "
        f"{sent.sent.bytes / 1000:.0f} kB "
        f"(original {sent.original_width}×{sent.original_height}, "
        f"{len(sent.original) / 1e6:.1f} MB)"
        for sent in result.images
    ]
    after = [text(ask.lang, "queued_note", id=ask.question_id)] if ask.queued else []
    render_result(
        out,
        result,
        problem=ask.error,
        warning=ask.not_saved,
        text=lambda: _render_text(out, result, streamed=streamed),
        notes=notes,
        after=after,
    )


def _render_text(out: Output, result: ImageResult, *, streamed: bool) -> None:
    from omar_cli.cli.ask import frame_words, print_body
    from omar_cli.images import text

    ask = result.ask
    words = frame_words(ask.lang)
    print_body(out, ask, result.reply, streamed=streamed, words=words)
    cited = [s for s in result.sources if s.cited] if ask.mode == "online" else []
    if cited:
        out.out(f"\n{words['sources']}:\n" + "\n".join(f"  [{s.id}] {s.source}" for s in cited))
    if result.linked:
        lines = []
        for found in result.linked:
            hint = f" ({found.command})" if found.command else ""
            lines.append(f"  [{found.id}] {found.name} — {found.title}{hint}")
            if found.summary:
                lines.append(f"    {found.summary}")
        out.out(f"\n{text(ask.lang, 'linked')}:\n" + "\n".join(lines))
