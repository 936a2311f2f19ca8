"""Instant offline look-ups: `omar fault`, `omar alarm`, `omar param`, `omar search`."""

from __future__ import annotations

from collections.abc import Callable
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


#: the kind of a hit as a reader of that language calls it (English keeps the ids)
KIND_LABELS: dict[str, dict[str, str]] = {
    "es": {
        "fault": "fallo",
        "alarm": "alarma",
        "parameter": "parámetro",
        "rating": "datos nominales",
        "typecode": "código de tipo",
        "procedure": "procedimiento",
        "safety": "seguridad",
        "topic": "tema",
        "document": "documento",
    },
}


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
    language = checked_lang(lang) if lang else st.svc.knowledge.detect_lang(query)
    hits = st.svc.knowledge.search(query, lang=language, limit=limit)
    out = st.output
    if json_out:
        out.emit_json({"query": query, "lang": language, "hits": [_hit(h) for h in hits]})
        return
    if not hits:
        out.note("no matches; try the code the panel shows or other words")
        return
    for hit in hits:
        kind = KIND_LABELS.get(language, {}).get(hit.kind, hit.kind)
        out.out(f"[{hit.id}] {hit.entry.name} — {hit.title}  ({kind}, {hit.source})")
        out.out(f"    {_first_line(hit.text)}")


def _show(ctx: typer.Context, raw: str, kind: str, lang: str | None, json_out: bool) -> None:
    st = state(ctx, json_mode=json_out, lenient=True)
    configured = st.svc.settings.language
    language = checked_lang(lang) if lang else (configured if configured in ("es", "en") else "en")
    entry = st.svc.codes.lookup(clean_text(raw), kind)
    out = st.output
    find = st.svc.codes.get
    if json_out:
        out.emit_json({"entry": entry_dict(entry, language, find)})
    elif out.rich_stdout:
        _rich_entry(out, entry, language, find)
    else:
        from omar_cli.knowledge.offline import describe_entry

        out.out(describe_entry(entry, language, find=find))
        safety = entry.text_in(language).safety
        if safety:
            out.out(f"\n⚠ {safety}")


def _rich_entry(out: Output, entry: Entry, lang: str, find: Callable[[str], Entry | None]) -> None:
    from rich.markdown import Markdown
    from rich.panel import Panel

    from omar_cli.knowledge.offline import describe_entry

    body = describe_entry(entry, lang, find=find).split("\n\n", 1)[1]
    safety = entry.text_in(lang).safety
    console = out.console()
    title = f"[bold]{entry.id} {entry.name}[/] — {entry.text_in(lang).title}"
    console.print(Panel(Markdown(body), title=title, title_align="left"))
    if safety:
        console.print(f"[bold red]⚠ {safety}[/]")


def checked_lang(lang: str) -> str:
    if lang not in ("es", "en"):
        raise typer.BadParameter("--lang must be es or en")
    return lang


def entry_dict(
    entry: Entry, lang: str, find: Callable[[str], Entry | None] | None = None
) -> dict[str, Any]:
    """An entry in ``lang`` for --json; ``find`` gives related ids their titles."""
    from omar_cli.knowledge.offline import provenance

    related = [(rel, find(rel) if find is not None else None) for rel in entry.related]
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
        "related_titles": {
            rel: other.text_in(lang).title for rel, other in related if other is not None
        },
        "hex_code": entry.hex_code,
        "facts": dict(entry.facts_in(lang)),
        "gaps": list(entry.gaps_in(lang)),
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
    }


def _first_line(text: str, width: int = 110) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"
