"""Instant offline look-ups: `omar fault`, `omar alarm`, `omar param`, `omar search`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from omar_cli.cli.context import JsonOption, state
from omar_cli.cli.output import Output
from omar_cli.errors import InputError
from omar_cli.text import clean_text

if TYPE_CHECKING:
    from omar_cli.knowledge.index import Hit
    from omar_cli.knowledge.model import Entry

LangOpt = Annotated[
    str | None, typer.Option("--lang", "-l", help="es or en (default: the configured language).")
]


def register(app: typer.Typer) -> None:
    app.command("fault")(fault)
    app.command("alarm")(alarm)
    app.command("param")(param)
    app.command("search")(search)


def fault(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="F0001, F1, 1, fallo 16, or a fieldbus code.")],
    lang: LangOpt = None,
    json_out: JsonOption = False,
) -> None:
    """Show a fault: what it means, causes, checks in order, parameters, source.

    Example: omar fault F0002
    """
    _show(ctx, code, "fault", lang, json_out)


def alarm(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="A2010, 2010, alarma 2010.")],
    lang: LangOpt = None,
    json_out: JsonOption = False,
) -> None:
    """Show an alarm (the drive keeps running): meaning, checks and source.

    Example: omar alarm A2010
    """
    _show(ctx, code, "alarm", lang, json_out)


def param(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(help="2202, 22.02, par 2202.")],
    lang: LangOpt = None,
    json_out: JsonOption = False,
) -> None:
    """Show a parameter: name, range, default where known, what it does, source.

    Example: omar param 22.02
    """
    _show(ctx, number, "parameter", lang, json_out)


def search(
    ctx: typer.Context,
    text: Annotated[list[str], typer.Argument(help="Words, codes or a whole question.")],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=50, help="Hits.")] = 5,
    lang: LangOpt = None,
    json_out: JsonOption = False,
) -> None:
    """Search the knowledge (built-in and your documents), best match first.

    Example: omar search "se dispara al frenar"
    """
    st = state(ctx, json_mode=json_out, lenient=True)
    query = clean_text(" ".join(text)).strip()
    if not query:
        raise InputError("the search text is empty", hint='example: omar search "F0002"')
    language = _checked(lang) if lang else st.svc.knowledge.detect_lang(query)
    hits = st.svc.knowledge.search(query, lang=language, limit=limit)
    unknown = st.svc.knowledge.unknown_codes(query)
    out = st.output
    if json_out:
        codes = [{"code": u.code, "suggestions": list(u.suggestions)} for u in unknown]
        doc = {"query": query, "lang": language, "hits": [_hit(h) for h in hits]}
        out.emit_json({**doc, "unknown_codes": codes})
        return
    if unknown:
        from omar_cli.knowledge.offline import unknown_code_line

        for code in unknown:
            out.note(unknown_code_line(code, language))
    if not hits:
        out.note("no matches; try the code the panel shows or other words")
        return
    weak_label = "posiblemente relacionado" if language == "es" else "possibly related"
    for hit in hits:
        weak = f" [{weak_label}]" if hit.match == "weak" else ""
        out.out(f"[{hit.id}] {hit.entry.name} — {hit.title}  ({hit.kind}, {hit.source}){weak}")
        out.out(f"    {_first_line(hit.text)}")


def _show(ctx: typer.Context, raw: str, kind: str, lang: str | None, json_out: bool) -> None:
    st = state(ctx, json_mode=json_out, lenient=True)
    configured = st.svc.settings.language
    language = _checked(lang) if lang else (configured if configured in ("es", "en") else "en")
    entry = st.svc.codes.lookup(clean_text(raw), kind)
    out = st.output
    if json_out:
        out.emit_json({"entry": entry_dict(entry, language)})
    elif out.rich_stdout:
        _rich_entry(out, entry, language)
    else:
        from omar_cli.knowledge.offline import describe_entry

        out.out(describe_entry(entry, language))
        safety = entry.text_in(language).safety
        if safety:
            out.out(f"\n⚠ {safety}")


def _rich_entry(out: Output, entry: Entry, lang: str) -> None:
    from rich.markdown import Markdown
    from rich.panel import Panel

    from omar_cli.knowledge.offline import describe_entry

    body = describe_entry(entry, lang).split("\n\n", 1)[1]
    safety = entry.text_in(lang).safety
    console = out.console()
    title = f"[bold]{entry.id} {entry.name}[/] — {entry.text_in(lang).title}"
    console.print(Panel(Markdown(body), title=title, title_align="left"))
    if safety:
        console.print(f"[bold red]⚠ {safety}[/]")


def _checked(lang: str) -> str:
    if lang not in ("es", "en"):
        raise typer.BadParameter("--lang must be es or en")
    return lang


def entry_dict(entry: Entry, lang: str) -> dict[str, Any]:
    from omar_cli.knowledge.offline import provenance

    body = entry.text_in(lang)
    return {
        "id": entry.id,
        "kind": entry.kind,
        "name": entry.name,
        "title": body.title,
        "text": body.text,
        "causes": list(body.causes),
        "checks": list(body.checks),
        "safety": body.safety,
        "related": list(entry.related),
        "hex_code": entry.hex_code,
        "facts": dict(entry.facts),
        "gaps": list(entry.gaps),
        "confidence": entry.confidence,
        "verify_on_manual": entry.needs_verification,
        "provenance": provenance(entry, lang),
        "sources": [s.__dict__ for s in entry.sources],
        "lang": lang,
    }


def _hit(hit: Hit) -> dict[str, Any]:
    return {
        "id": hit.id,
        "kind": hit.kind,
        "title": hit.title,
        "text": hit.text,
        "score": round(hit.score, 4),
        "confidence": hit.confidence,
        "source": hit.source,
        "match": hit.match,
    }


def _first_line(text: str, width: int = 110) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"
