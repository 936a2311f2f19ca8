"""Stored words (roles, statuses, modes, review states) as the text views name them.

The store and `--json` keep them as stored ("pending", "approved"); people read them in the
interface's language.
"""

from __future__ import annotations

from omar_cli.i18n import N_, _

WORDS = {
    "user": N_("question"),
    "assistant": N_("answer"),
    "pending": N_("pending"),
    "answered": N_("answered"),
    "failed": N_("failed"),
    "incomplete": N_("incomplete"),
    "offline": N_("offline"),
    "online": N_("online"),
    # review states
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "edited": N_("corrected"),
}


def word(stored: str) -> str:
    """A stored word (role, status, mode, review state) in the interface's language."""
    known = WORDS.get(str(stored))
    return _(known) if known else str(stored)


def item_label(kind: object, role: str) -> str:
    """What a reviewable item is: a field note, a voice note, a question or an answer."""
    if kind == "note":
        return _("Field note")
    if kind == "recording":
        return _("Voice note")
    return _("Question") if role == "user" else _("Answer")
