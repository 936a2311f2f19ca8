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


profile_app = typer.Typer(
    no_args_is_help=True,
    help="Endpoint profiles ([profiles.NAME] in the config file), tried in profile_order.",
)
app.add_typer(profile_app, name="profile")


@profile_app.command("add")
def profile_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Profile name, e.g. local or cloud.")],
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint URL.")
    ] = None,
    api_key_env: Annotated[
        str | None,
        typer.Option("--api-key-env", help="Variable that holds its key (none for local)."),
    ] = None,
    model: Annotated[str | None, typer.Option("--model", help="Chat model.")] = None,
    vision_model: Annotated[str | None, typer.Option("--vision-model")] = None,
    transcription_model: Annotated[str | None, typer.Option("--transcription-model")] = None,
    context_window: Annotated[
        int | None, typer.Option("--context-window", help="Server context size (tokens).")
    ] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Add (or replace) a profile; it goes last in profile_order.

    Example: omar config profile add local --base-url http://127.0.0.1:8080/v1 --model gemma3
    """
    from omar_cli.profiles import write_profile

    st = state(ctx, json_mode=json_out)
    given = {
        "base_url": base_url,
        "api_key_env": api_key_env,
        "model": model,
        "vision_model": vision_model,
        "transcription_model": transcription_model,
        "context_window": context_window,
        "timeout": timeout,
    }
    path = _config_file()
    stored = write_profile(path, name, {k: str(v) for k, v in given.items() if v is not None})
    if json_out:
        st.output.emit_json({"profile": name, "values": stored, "file": str(path)})
    else:
        st.output.out(f"[profiles.{name}] {stored!r}  ({path})")


@profile_app.command("remove")
def profile_remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Profile name.")],
    json_out: JsonOption = False,
) -> None:
    """Remove a profile and its place in profile_order.

    Example: omar config profile remove local
    """
    from omar_cli.profiles import remove_profile

    st = state(ctx, json_mode=json_out)
    path = _config_file()
    remove_profile(path, name)
    if json_out:
        st.output.emit_json({"profile": name, "file": str(path)})
    else:
        st.output.out(f"[profiles.{name}] removed from {path}")


@profile_app.command("list")
def profile_list(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """List the profiles in fallback order (the implicit one when none is configured).

    Example: omar config profile list
    """
    from omar_cli.profiles import all_profiles

    st = state(ctx, json_mode=json_out)
    profiles = [p.public() for p in all_profiles(st.svc.settings)]
    if json_out:
        st.output.emit_json({"profiles": profiles, "order": list(st.svc.settings.profile_order)})
        return
    for p in profiles:
        where = p["base_url"] or "https://api.openai.com/v1"
        window = p["context_window"] or "?"
        st.output.out(f"{p['name']}: {where} model={p['model']} context={window}")
