"""`--profile NAME`: one endpoint profile for a command (ask, image, sync, record, status)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from omar_cli.cli.context import AppState

ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        "-p",
        help="Use only this endpoint profile (see omar config profile).",
        envvar="OMAR_PROFILE",
        show_envvar=False,
    ),
]


def use_profile(st: AppState, name: str | None) -> None:
    """Apply ``--profile`` and have a fallback to the next profile said on stderr."""
    if name is not None:
        from omar_cli.settings import parse_value

        value = parse_value("profile", name, "--profile")
        st.svc.settings = st.svc.settings.with_overrides(profile=value)
    if st.svc.on_fallback is None:
        st.svc.on_fallback = st.output.warn
