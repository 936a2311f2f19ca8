"""`omar knowledge add|list|remove`: your own documents (e.g. the ACS150 manual PDF)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from omar_cli.cli.context import JsonOption, state
from omar_cli.errors import UsageError

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
            out.err(f"omar: reading page {done}/{total}…")

    doc = st.svc.library.add(file, title=title, on_page=on_page)
    if json_out:
        out.emit_json({"document": doc})
    else:
        out.out(f"{doc.id}  {doc.title}  ({doc.kind}, {doc.pages} pages, {doc.chunks} chunks)")


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
        st.output.note("no documents added yet; see omar knowledge add --help")
    for doc in docs:
        st.output.out(
            f"{doc.id}  {doc.title}  ({doc.kind}, {doc.pages} pages, added {doc.added_at})"
        )


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
        if not sys.stdin.isatty():
            raise UsageError("refusing to remove a document without --yes", hint="add --yes")
        if not typer.confirm(f"Remove {doc.id} {doc.title!r}?", err=True):
            raise typer.Abort()
    doc = st.svc.library.remove(doc.id)
    if json_out:
        st.output.emit_json({"document": doc})
    else:
        st.output.out(f"removed {doc.id}  {doc.title}")
