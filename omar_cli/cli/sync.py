"""`omar sync`: send the questions that waited for the network."""

from __future__ import annotations

from typing import Annotated

import typer

from omar_cli.cli.context import JsonOption, state, warn_damaged
from omar_cli.cli.profile_option import ProfileOption, use_profile
from omar_cli.cli.render import render_result
from omar_cli.cli.signals import signals_as_interrupt
from omar_cli.i18n import N_, _, ngettext

#: an item's status as the text view names it; --json keeps the stored word
STATUS = {
    "answered": N_("answered"),
    "failed": N_("failed"),
    "pending": N_("pending"),
    "structured": N_("note structured"),
}


def register(app: typer.Typer) -> None:
    app.command("sync")(sync)


def sync(
    ctx: typer.Context,
    retry_failed: Annotated[
        bool,
        typer.Option(
            "--retry-failed", help="Queue again the questions the endpoint refused before."
        ),
    ] = False,
    profile: ProfileOption = None,
    json_out: JsonOption = False,
) -> None:
    """Send pending questions (asked offline or when the network failed), oldest first.

    Stops at the first failure a retry or a config fix may cure (network, key, model, base
    URL); what was not sent stays pending and the exit code says why.

    Example: omar sync
    """
    st = state(ctx, json_mode=json_out)
    use_profile(st, profile)
    out = st.output

    def progress(done: int, total: int) -> None:
        if total and out.rich_stderr:
            out.err(_("omar: sending {n}/{total}…").format(n=min(done + 1, total), total=total))

    with signals_as_interrupt(st):  # a partial answer is kept, as with Ctrl-C
        report = st.svc.assistant.sync(on_progress=progress, retry_failed=retry_failed)
    warn_damaged(st)
    structured = {i.session_id for i in report.items if i.status == "structured"}
    if structured:  # a note approved before the model structured it: its codes changed
        from omar_cli.cli.review_field import keep_in_step

        keep_in_step(st, structured)

    def text() -> None:
        for item in report.items:
            word = STATUS.get(item.status)
            status = _(word) if word else item.status
            out.out(out.fold(f"--- {item.question_id} ({status}): {item.question}"))
            out.out((item.answer or item.error or "").rstrip() + "\n")
        out.out(_totals(report.answered, report.failed, report.remaining))

    render_result(out, report, problem=report.error, text=text)


def _totals(answered: int, failed: int, remaining: int) -> str:
    return ", ".join(
        [
            ngettext("{n} answered", "{n} answered", answered).format(n=answered),
            ngettext("{n} failed", "{n} failed", failed).format(n=failed),
            ngettext("{n} still pending", "{n} still pending", remaining).format(n=remaining),
        ]
    )
