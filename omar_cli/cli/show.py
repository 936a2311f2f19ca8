"""`omar show ID`: open whatever an answer cites, built-in entry or a piece of your document."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from omar_cli.cli.context import JsonOption, state
from omar_cli.cli.lookup import LangOpt, content_lang, render_entry
from omar_cli.errors import NotFoundError
from omar_cli.i18n import _
from omar_cli.text import clean_text

if TYPE_CHECKING:
    from omar_cli.knowledge.index import KnowledgeIndex
    from omar_cli.knowledge.model import Entry


class UnknownIdError(NotFoundError):
    """No entry has the id; ``suggestions`` holds the closest ids."""

    def __init__(self, message: str, suggestions: list[str], hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.suggestions = suggestions


def register(app: typer.Typer) -> None:
    app.command("show")(show)


def show(
    ctx: typer.Context,
    ident: Annotated[
        list[str], typer.Argument(help="An id as an answer cites it: F0002, 2202, doc-….")
    ],
    lang: LangOpt = None,
    json_out: JsonOption = False,
) -> None:
    """Open an entry an answer cites: a fault, parameter, topic, or a part of your document.

    Example: omar show safety-dc-link
    """
    st = state(ctx, json_mode=json_out, lenient=True)
    language = content_lang(lang, st.svc.settings.language)
    knowledge = st.svc.knowledge
    entry = find_entry(knowledge, clean_text(" ".join(ident)))
    render_entry(st.output, entry, language, knowledge.get)


def find_entry(knowledge: KnowledgeIndex, raw: str) -> Entry:
    """The entry ``raw`` names: its id as cited (brackets and case aside), else a code as
    a technician writes it (F2, 22.02). Unknown: NotFound with the closest ids."""
    import difflib

    from omar_cli.knowledge.index import UnknownCodeError

    wanted = raw.strip().strip("[]").strip()
    entry = knowledge.get(wanted)
    if entry is not None:
        return entry
    by_folded = {e.id.casefold(): e for e in knowledge.entries}
    entry = by_folded.get(wanted.casefold())
    if entry is not None:
        return entry
    near = difflib.get_close_matches(wanted.casefold(), list(by_folded), n=5, cutoff=0.6)
    suggestions = [by_folded[key].id for key in near]
    if wanted:
        try:
            return knowledge.lookup(wanted)
        except UnknownCodeError as exc:
            suggestions = list(dict.fromkeys([*suggestions, *exc.suggestions]))[:5]
    hint = (
        _("closest ids: {ids}").format(ids=", ".join(suggestions))
        if suggestions
        else _("see omar codes, or omar search WORDS")
    )
    raise UnknownIdError(_("no entry has the id {id}").format(id=repr(wanted)), suggestions, hint)
