"""`omar review withdraw`, and field knowledge kept in step with every verdict."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import typer

from omar_cli.cli.context import AppState, JsonOption, state
from omar_cli.cli.review import ItemArgument, ReviewerOption, app, reviewer_name
from omar_cli.errors import StoreError
from omar_cli.i18n import _

if TYPE_CHECKING:
    from omar_cli.cli.output import Output
    from omar_cli.field_knowledge import FieldKnowledge
    from omar_cli.review import SessionReview
    from omar_cli.store import Message


def register(root: typer.Typer) -> None:
    """Joins `omar review` (see review.py): nothing to add to the root."""


def keep_in_step(st: AppState, session_ids: Iterable[str], items: Iterable[str] = ()) -> None:
    """Field knowledge after verdicts in these sessions changed. The verdicts are stored
    already: a field-knowledge file that cannot be written is said, not fatal (the next
    change in the session writes it again). ``items`` just approved that a safety rule
    keeps out are said too."""
    try:
        st.svc.field.refresh(session_ids)
    except StoreError as exc:
        st.output.warn(_("field knowledge was not updated: {problem}").format(problem=exc.message))
        return
    for item in items:
        held = st.svc.field.held_out(item)
        if held is not None:
            said = "; ".join(f"«{c.sentence}»" for c in held.conflicts)
            st.output.warn(
                _(
                    "{id} is kept out of field knowledge: it contradicts a safety rule: {said}"
                ).format(id=item, said=said)
            )


def rebuild(st: AppState) -> None:
    try:
        st.svc.field.rebuild()
    except StoreError as exc:
        st.output.warn(_("field knowledge was not updated: {problem}").format(problem=exc.message))


@app.command("withdraw")
def withdraw(
    ctx: typer.Context,
    item: ItemArgument,
    reviewer: ReviewerOption = None,
    json_out: JsonOption = False,
) -> None:
    """Take an approved item out of field knowledge; its verdict and text are kept.

    Approve it again to bring it back.

    Example: omar review withdraw 20261125-1235.3
    """
    from omar_cli.review import withdraw as withdraw_item

    st = state(ctx, json_mode=json_out)
    who = reviewer_name(reviewer)
    message = withdraw_item(st.svc.store, item, reviewer=who, now=st.svc.clock())
    keep_in_step(st, [message.session_id])
    if json_out:
        st.output.emit_json({"item": message})
        return
    st.output.out(_("{id}  withdrawn from field knowledge").format(id=message.id))


def field_lines(field: FieldKnowledge, m: Message) -> list[str]:
    """Where an approved item stands in field knowledge, for `review show`."""
    review = m.review
    if review is None or review.state not in ("approved", "edited"):
        return []
    if review.withdrawn_at is not None:
        at = f"{review.withdrawn_at.astimezone():%Y-%m-%d %H:%M}"
        who = review.withdrawn_by or "?"
        return [_("withdrawn from field knowledge by {who} on {at}").format(who=who, at=at)]
    held = field.held_out(m.id)
    if held is not None:
        said = "; ".join(f"«{c.sentence}»" for c in held.conflicts)
        line = _("kept out of field knowledge: contradicts a safety rule: {said}")
        return [line.format(said=said)]
    if field.status_of(m.id) == "field":
        return [_("field knowledge: found by search and answers as a field note")]
    return []


def render_field(out: Output, field: FieldKnowledge | None, m: Message) -> None:
    """A note's structure, and where an approved item stands in field knowledge."""
    from omar_cli.note_structure import structure_fields

    for label, value in structure_fields(m):
        out.out(f"{label}: {value}")
    for line in field_lines(field, m) if field is not None else ():
        out.out(line)


def field_rows(field: FieldKnowledge, detail: SessionReview) -> list[dict[str, Any]]:
    """`review show --json`: each approved item's place in field knowledge."""
    from omar_cli.knowledge.field import entry_id

    rows: list[dict[str, Any]] = []
    for m in detail.messages:
        review = m.review
        if review is None or review.state not in ("approved", "edited"):
            continue
        held = field.held_out(m.id)
        if review.withdrawn_at is not None:
            status = "withdrawn"
        elif held is not None:
            status = "held_out"
        else:
            status = field.status_of(m.id) or "not_field"
        rows.append({
            "item": m.id,
            "entry_id": entry_id(m.id) if status == "field" else None,
            "status": status,
            "conflicts": [c.to_dict() for c in held.conflicts] if held is not None else [],
        })  # fmt: skip
    return rows
