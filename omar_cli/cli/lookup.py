"""Instant offline look-ups: `omar fault`, `omar alarm`, `omar param`, `omar search`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from omar_cli.cli.context import JsonOption, state
from omar_cli.cli.output import Output
from omar_cli.errors import InputError, StoreError
from omar_cli.i18n import N_, _, translator
from omar_cli.text import clean_text

if TYPE_CHECKING:
    from omar_cli.cli.context import AppState
    from omar_cli.knowledge.index import Hit, KnowledgeIndex
    from omar_cli.knowledge.model import Entry

LangOpt = Annotated[
    str | None, typer.Option("--lang", "-l", help="es or en (default: the configured language).")
]


#: the kind of a hit, named in the reader's language with ``kind_label``
KIND_NAMES: dict[str, str] = {
    "fault": N_("fault"),
    "alarm": N_("alarm"),
    "parameter": N_("parameter"),
    "rating": N_("rating"),
    "typecode": N_("type code"),
    "procedure": N_("procedure"),
    "safety": N_("safety"),
    "topic": N_("topic"),
    "document": N_("document"),
    "field": N_("field note"),
}


def kind_label(kind: str, lang: str) -> str:
    """``kind`` as a reader of ``lang`` calls it ("fallo"); unknown kinds as they are."""
    name = KIND_NAMES.get(kind)
    return translator(lang).gettext(name) if name else kind


#: a code typed as the technician says it, unquoted: `omar fault fallo 2`
CodeWords = list[str]


def register(app: typer.Typer) -> None:
    app.command("fault")(fault)
    app.command("alarm")(alarm)
    app.command("param")(param)
    app.command("search")(search)


def fault(
    ctx: typer.Context,
    code: Annotated[CodeWords, typer.Argument(help="F0001, F1, 1, fallo 16, or a fieldbus code.")],
    lang: LangOpt = None,
    json_out: JsonOption = False,
) -> None:
    """Show a fault: what it means, causes, checks in order, parameters, source.

    Example: omar fault F0002
    """
    _show(ctx, " ".join(code), "fault", lang, json_out)


def alarm(
    ctx: typer.Context,
    code: Annotated[CodeWords, typer.Argument(help="A2010, 2010, alarma 2010.")],
    lang: LangOpt = None,
    json_out: JsonOption = False,
) -> None:
    """Show an alarm (the drive keeps running): meaning, checks and source.

    Example: omar alarm A2010
    """
    _show(ctx, " ".join(code), "alarm", lang, json_out)


def param(
    ctx: typer.Context,
    number: Annotated[CodeWords, typer.Argument(help="2202, 22.02, par 2202.")],
    lang: LangOpt = None,
    json_out: JsonOption = False,
) -> None:
    """Show a parameter: name, range, default where known, what it does, source.

    Example: omar param 22.02
    """
    _show(ctx, " ".join(number), "parameter", lang, json_out)


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
        raise InputError(_("the search text is empty"), hint=_('example: omar search "F0002"'))
    index, unread = _searchable(st)
    language = checked_lang(lang) if lang else index.detect_lang(query)
    hits = index.search(query, lang=language, limit=limit)
    unknown = index.unknown_codes(query)
    out = st.output
    if json_out:
        codes = [{"code": u.code, "suggestions": list(u.suggestions)} for u in unknown]
        doc = {"query": query, "lang": language, "hits": [_hit(h) for h in hits]}
        warnings = [unread.message] if unread else []
        out.emit_json({**doc, "unknown_codes": codes, "warnings": warnings})
    else:
        if unknown:
            from omar_cli.knowledge.offline import unknown_code_line

            for code in unknown:
                out.note(unknown_code_line(code, language))
        if not hits:
            out.note(_("no matches; try the code the panel shows or other words"))
        else:
            _print_hits(out, hits, language)
    if unread is not None:  # answered, but from less than asked: the exit code says so
        raise typer.Exit(int(unread.code))


def _searchable(st: AppState) -> tuple[KnowledgeIndex, StoreError | None]:
    """The whole knowledge, or the built-in part when the user's documents cannot be read
    (an unreadable data folder must not stop a look-up), with the reason."""
    try:
        return st.svc.knowledge, None
    except StoreError as exc:
        st.output.warn(
            _("your documents were left out of the search: {problem}").format(problem=exc.message)
        )
        return st.svc.codes, exc


def _print_hits(out: Output, hits: list[Hit], language: str) -> None:
    from omar_cli.knowledge.offline import provenance

    weak_label = translator(language).gettext("possibly related")
    width = out.width  # on a terminal every line fits it; piped lines stay whole
    for hit in hits:
        head = f"[{hit.id}] {hit.entry.name} — {hit.title}"
        weak = f" [{weak_label}]" if hit.match == "weak" else ""
        tail = f"({kind_label(hit.kind, language)}, {hit.source}){weak}"
        if hit.entry.origin is not None:  # field experience: whose, when, and not the manual
            head = f"[{hit.id}] {hit.title}"
            tail = f"({provenance(hit.entry, language)}){weak}"
        if width is None:
            out.out(f"{head}  {tail}")
            out.out(f"    {_first_line(hit.text)}")
        else:
            out.out(_fit(head, width))
            out.out(_fit(f"    {tail}", width))
            out.out(f"    {_first_line(hit.text, width - 4)}")


def _show(ctx: typer.Context, raw: str, kind: str, lang: str | None, json_out: bool) -> None:
    st = state(ctx, json_mode=json_out, lenient=True)
    language = content_lang(lang, st.svc.settings.language)
    entry = st.svc.codes.lookup(clean_text(raw), kind)
    render_entry(st.output, entry, language, st.svc.codes.get)


def content_lang(lang: str | None, configured: str) -> str:
    """The language a sheet is shown in: --lang, else the setting (English if not es/en)."""
    if lang:
        return checked_lang(lang)
    return configured if configured in ("es", "en") else "en"


def render_entry(
    out: Output, entry: Entry, language: str, find: Callable[[str], Entry | None]
) -> None:
    """One entry as JSON, as a panel on a terminal, or as plain text when piped."""
    if out.json_mode:
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
        raise typer.BadParameter(_("--lang must be es or en"))
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
        "match": hit.match,
    }


def _first_line(text: str, width: int = 110) -> str:
    return _fit(" ".join(text.split()), width)


def _fit(line: str, width: int) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"
