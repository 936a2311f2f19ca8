"""`omar knowledge add|list|remove`: your own documents (e.g. the ACS150 manual PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from omar_cli.cli.confirm import confirm
from omar_cli.cli.context import JsonOption, state
from omar_cli.errors import UsageError
from omar_cli.i18n import _, ngettext

if TYPE_CHECKING:
    from omar_cli.knowledge.userdocs import UserDoc

app = typer.Typer(
    no_args_is_help=True,
    help="Add your own documents (PDF, Markdown, text) to the local knowledge.",
)


@app.command("add")
def add(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="PDF, Markdown or text file.")],
    title: Annotated[str | None, typer.Option("--title", help="Name to cite it by.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Index a document so answers can cite it by page ("manual p. 130").

    The built-in knowledge is never changed; the file is copied into your data directory.

    Example: omar knowledge add EN_ACS150_UM.pdf --title "ACS150 manual"
    """
    st = state(ctx, json_mode=json_out)
    out = st.output

    def on_page(done: int, total: int) -> None:
        if out.rich_stderr and (done == total or done % 10 == 0):
            out.note(_("reading page {done}/{total}…").format(done=done, total=total))

    doc = st.svc.library.add(file, title=title, on_page=on_page)
    if json_out:
        out.emit_json({"document": doc})
    else:
        out.out(f"{doc.id}  {doc.title}  ({_doc_size(doc)})")


@app.command("list")
def list_(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """List the documents you added.

    Example: omar knowledge list
    """
    st = state(ctx, json_mode=json_out)
    docs = st.svc.library.list()
    if json_out:
        st.output.emit_json({"documents": docs})
        return
    if not docs:
        st.output.note(_("no documents added yet; see omar knowledge add --help"))
    for doc in docs:
        added = _("added {date}").format(date=_local_time(doc.added_at))
        st.output.out(f"{doc.id}  {doc.title}  ({_doc_size(doc, chunks=False)}, {added})")


@app.command("remove")
def remove(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Document id, id prefix, file name or title.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Remove one of your documents from the local knowledge.

    Example: omar knowledge remove 3f9a2c --yes
    """
    st = state(ctx, json_mode=json_out)
    doc = st.svc.library.find(ref)  # an unknown id fails here, before any question
    if not yes:
        if not st.env.stdin_isatty:
            raise UsageError(_("refusing to remove a document without --yes"), hint=_("add --yes"))
        question = _("Remove {id} {title}?").format(id=doc.id, title=repr(doc.title))
        if not confirm(st.output, question):
            st.output.note(_("nothing removed"))
            raise typer.Exit(1)
    doc = st.svc.library.remove(doc.id)
    if json_out:
        st.output.emit_json({"document": doc})
    else:
        st.output.out(_("removed {id}  {title}").format(id=doc.id, title=doc.title))


def _doc_size(doc: UserDoc, *, chunks: bool = True) -> str:
    """ "pdf, 12 pages, 40 chunks", worded for one or many, sections for Markdown."""
    if doc.kind == "markdown":
        size = ngettext("{n} section", "{n} sections", doc.pages).format(n=doc.pages)
    else:
        size = ngettext("{n} page", "{n} pages", doc.pages).format(n=doc.pages)
    parts = [doc.kind, size]
    if chunks:
        parts.append(ngettext("{n} chunk", "{n} chunks", doc.chunks).format(n=doc.chunks))
    return ", ".join(parts)


def _local_time(iso: str) -> str:
    """An ISO 8601 stamp in the local time zone, to the minute (JSON keeps the original)."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso
