"""`omar config show|set|unset|path`: the TOML config file in the user's config dir."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from omar_cli.cli.context import JsonOption, state
from omar_cli.i18n import N_, _


def _config_file() -> Path:
    """The file's place alone: `path`, `set` and `unset` must work on a broken file too."""
    from omar_cli.settings import resolve_paths

    return resolve_paths(os.environ).config_file


#: where a value came from, as `config show` words it (--json keeps the plain names)
ORIGINS = {
    "default": N_("default"),
    "config": N_("config file"),
    "env": N_("environment"),
    "flag": N_("flag"),
}

app = typer.Typer(
    no_args_is_help=True,
    help="Show or change settings (the API key is read only from OPENAI_API_KEY).",
)


@app.command("show")
def show(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Show every setting, its value and where it came from (default, config, env, flag).

    Example: omar config show
    """
    from omar_cli.settings import SETTINGS

    st = state(ctx, json_mode=json_out)
    settings = st.svc.settings
    rows = {
        s.key: {
            "value": getattr(settings, s.key),
            "origin": settings.origins.get(s.key),
            "env": s.env,
        }
        for s in SETTINGS
    }
    key_info = {
        "value": settings.masked_key() or _("not set"),
        "origin": "env",
        "env": "OPENAI_API_KEY",
    }
    if json_out:
        st.output.emit_json(
            {"file": str(settings.paths.config_file), "settings": rows, "api_key": key_info},
        )
        return
    for key, row in {**rows, "api_key": key_info}.items():
        where = ORIGINS.get(str(row["origin"]), str(row["origin"]))
        origin = _(where)
        st.output.out(f"{key} = {row['value']!r}  ({origin}; ${row['env']})")


# ignore_unknown_options: `config set timeout -5` is a value to refuse, not an option
@app.command("set", context_settings={"ignore_unknown_options": True})
def set_(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Setting name, e.g. model.")],
    value: Annotated[str, typer.Argument(help="New value.")],
    json_out: JsonOption = False,
) -> None:
    """Set one setting in the config file.

    Example: omar config set model gpt-4o
    """
    from omar_cli.settings import write_config_value

    st = state(ctx, json_mode=json_out)
    path = _config_file()
    stored = write_config_value(path, key, value)
    if json_out:
        st.output.emit_json({"key": key, "value": stored, "file": str(path)})
    else:
        st.output.out(
            _("{key} = {value}  (written to {path})").format(key=key, value=repr(stored), path=path)
        )


@app.command("unset")
def unset(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Setting name.")],
    json_out: JsonOption = False,
) -> None:
    """Remove one setting from the config file, back to its default.

    Example: omar config unset model
    """
    from omar_cli.settings import write_config_value

    st = state(ctx, json_mode=json_out)
    path = _config_file()
    write_config_value(path, key, None)
    if json_out:
        st.output.emit_json({"key": key, "file": str(path)})
    else:
        st.output.out(_("{key} removed from {path}").format(key=key, path=path))


@app.command("path")
def path(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Print the config file's path.

    Example: omar config path
    """
    st = state(ctx, json_mode=json_out)
    file = str(_config_file())
    if json_out:
        st.output.emit_json({"file": file})
    else:
        st.output.out(file)
