"""`omar codes`: list what the built-in knowledge holds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from omar_cli.cli.context import JsonOption, state
from omar_cli.cli.lookup import LangOpt, checked_lang
from omar_cli.errors import InputError
from omar_cli.i18n import N_, _, translator

if TYPE_CHECKING:
    from omar_cli.cli.output import Output
    from omar_cli.knowledge.catalog import CatalogRow

#: kinds the built-in knowledge holds (a user's document chunks are not listed here)
BUILTIN_KINDS = (
    "fault",
    "alarm",
    "parameter",
    "rating",
    "typecode",
    "procedure",
    "safety",
    "topic",
)

_CONFIDENCE: dict[str, str] = {
    "acs150": "ACS150",
    "family": N_("family: verify"),
    "unsure": N_("unsure"),
}


def confidence_labels(lang: str) -> dict[str, str]:
    """How each confidence is shown to a reader of ``lang``."""
    tr = translator(lang)
    return {key: tr.gettext(label) for key, label in _CONFIDENCE.items()}


def register(app: typer.Typer) -> None:
    app.command("codes")(codes)


def codes(
    ctx: typer.Context,
    kind: Annotated[
        str | None,
        typer.Option("--kind", "-k", help=f"Only one kind: {', '.join(BUILTIN_KINDS)}."),
    ] = None,
    lang: LangOpt = None,
    json_out: JsonOption = False,
) -> None:
    """List the codes, parameters and topics the built-in knowledge holds, with confidence.

    Example: omar codes --kind fault
    """
    from omar_cli.knowledge.catalog import catalog

    st = state(ctx, json_mode=json_out, lenient=True)
    if kind is not None and kind not in BUILTIN_KINDS:
        raise InputError(
            _("unknown kind {kind}").format(kind=repr(kind)),
            hint=_("use one of: {kinds}").format(kinds=", ".join(BUILTIN_KINDS)),
        )
    configured = st.svc.settings.language
    language = checked_lang(lang) if lang else (configured if configured in ("es", "en") else "en")
    rows = catalog(st.svc.codes.entries, language, kind)
    if json_out:
        st.output.emit_json(
            {"lang": language, "kind": kind, "count": len(rows), "entries": list(rows)}
        )
    elif st.output.rich_stdout:
        _rich(st.output, rows, language)
    else:
        labels = confidence_labels(language)
        width = max((len(r.id) for r in rows), default=0)
        for row in rows:
            label = labels.get(row.confidence, row.confidence)
            st.output.out(f"{row.id:<{width}}  {_label(row)}  ({label})")


#: kinds whose name is what the panel or the rating plate shows; other names are English labels
_PANEL_KINDS = frozenset({"fault", "alarm", "parameter"})


def _label(row: CatalogRow) -> str:
    return f"{row.name} — {row.title}" if row.kind in _PANEL_KINDS else row.title


def _rich(out: Output, rows: tuple[CatalogRow, ...], lang: str) -> None:
    from rich.table import Table

    labels = confidence_labels(lang)
    tr = translator(lang)
    heads = (tr.gettext("id"), tr.gettext("panel"), tr.gettext("title"), tr.gettext("confidence"))
    table = Table(*heads, box=None, pad_edge=False)
    for row in rows:
        name = row.name if row.kind in _PANEL_KINDS else ""
        table.add_row(row.id, name, row.title, labels.get(row.confidence, row.confidence))
    out.console().print(table)
