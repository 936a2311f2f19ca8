"""Endpoint profiles: ``[profiles.NAME]`` tables of the config file, tried in fallback order.

A profile names one OpenAI-compatible endpoint and the models to use there (a cloud account,
an Ollama or llama.cpp server on the laptop). ``profile_order`` is the fallback order; with no
profile configured, the plain settings (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``model``...)
form one implicit profile named ``default``, so the single-endpoint setup keeps working.

The fields are one table (``PROFILE_FIELDS``) parsed by the same functions as the top-level
settings. A profile's key is never in the file: ``api_key_env`` names the variable holding it,
read once when the settings are loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from omar_cli.errors import ConfigError
from omar_cli.i18n import _

if TYPE_CHECKING:
    from omar_cli.settings import Settings

IMPLICIT_NAME = "default"
#: the smallest context a profile may declare: the safety rules and a question must fit
MIN_CONTEXT_WINDOW = 512
#: the default wait for a server on this machine or the plant's own network, when no timeout
#: is set anywhere: a laptop CPU reads a 1,000-token prompt in tens of seconds, and nothing
#: on the way can be slow the way a distant cloud can (a refused connection still fails fast)
LOCAL_TIMEOUT = 120.0


@dataclass(frozen=True)
class Profile:
    name: str
    base_url: str | None
    model: str
    vision_model: str
    transcription_model: str
    timeout: float
    api_key_env: str | None = None
    api_key: str | None = field(default=None, repr=False)
    #: the server's context size in tokens; None: large enough for anything OMAR sends
    context_window: int | None = None
    #: built from the plain settings because the config file has no profiles
    implicit: bool = False

    @property
    def is_openai(self) -> bool:
        return not self.base_url or urlsplit(self.base_url).hostname == "api.openai.com"

    @property
    def usable(self) -> bool:
        """A key, or a server of its own (a local one usually needs none)."""
        return bool(self.api_key) or not self.is_openai

    def public(self) -> dict[str, Any]:
        """What status and config show: everything but the key, which is only 'set' or not."""
        data = {k: v for k, v in self.__dict__.items() if k != "api_key"}
        data["api_key_set"] = bool(self.api_key)
        return data


def _fields() -> dict[str, tuple[Callable[[str], Any], str]]:
    """Each profile key: its parser and the top-level setting it defaults to (or "")."""
    from omar_cli import settings as s

    return {
        "base_url": (s._optional_url, ""),
        "api_key_env": (s._env_name, ""),
        "model": (s._text, "model"),
        "vision_model": (s._text, "vision_model"),
        "transcription_model": (s._text, "transcription_model"),
        "context_window": (s._int_between(MIN_CONTEXT_WINDOW, 10_000_000), ""),
        "timeout": (s._seconds, "timeout"),
    }


PROFILE_KEYS = (
    "base_url",
    "api_key_env",
    "model",
    "vision_model",
    "transcription_model",
    "context_window",
    "timeout",
)


def parse_profile_table(name: str, table: Any, where: str) -> dict[str, Any]:
    """The validated values of one ``[profiles.NAME]`` table (only the keys it sets)."""
    from omar_cli.settings import SECRET_KEYS, _profile_name

    try:
        _profile_name(name)
    except ValueError as exc:
        raise ConfigError(
            _("{where}: bad profile name {name!r} ({why})").format(where=where, name=name, why=exc)
        ) from None
    if not isinstance(table, Mapping):
        raise ConfigError(
            _("{where}: profiles.{name} must be a table").format(where=where, name=name)
        )
    parsers = _fields()
    values: dict[str, Any] = {}
    for key, raw in table.items():
        if key.lower() in SECRET_KEYS:
            raise ConfigError(
                _("{where}: the API key is never stored in a file").format(where=where),
                hint=_("name the variable that holds it with api_key_env"),
            )
        if key not in parsers:
            raise ConfigError(
                _("{where}: unknown profile key {key!r}").format(where=where, key=key),
                hint=_("known keys: {keys}").format(keys=", ".join(PROFILE_KEYS)),
            )
        try:
            values[key] = parsers[key][0](str(raw))
        except ValueError as exc:
            raise ConfigError(
                _("{where}: bad value for profiles.{name}.{key}: {raw!r} ({why})").format(
                    where=where, name=name, key=key, raw=raw, why=exc
                )
            ) from None
    return values


def load_profiles(
    file_values: Mapping[str, Any], where: str
) -> tuple[dict[str, dict[str, Any]], tuple[str, ...]]:
    """The profile tables and the fallback order, validated, from the config file's data."""
    tables = file_values.get("profiles", {})
    if not isinstance(tables, Mapping):
        raise ConfigError(
            _("{where}: profiles must be tables such as [profiles.local]").format(where=where)
        )
    parsed = {name: parse_profile_table(name, t, where) for name, t in tables.items()}
    order = file_values.get("profile_order", list(parsed))
    if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
        raise ConfigError(
            _('{where}: profile_order must be a list of names, such as ["cloud", "local"]').format(
                where=where
            )
        )
    unknown = [n for n in order if n not in parsed]
    if unknown:
        raise ConfigError(
            _("{where}: profile_order names no such profile: {names}").format(
                where=where, names=", ".join(unknown)
            ),
            hint=_("add it with omar config profile add, or remove it from profile_order"),
        )
    return parsed, tuple(dict.fromkeys(order))


def build_profiles(
    settings: Settings, tables: Mapping[str, Mapping[str, Any]], env: Mapping[str, str]
) -> tuple[Profile, ...]:
    """Profiles with the top-level settings as defaults and each key read from its variable."""
    built = []
    for name, values in tables.items():
        key_env = values.get("api_key_env")
        built.append(
            Profile(
                name=name,
                base_url=values.get("base_url"),
                model=values.get("model", settings.model),
                # a server of its own serves its own model, photos included: the top-level
                # vision model names a cloud model that server does not have
                vision_model=values.get("vision_model", values.get("model", settings.vision_model)),
                transcription_model=values.get("transcription_model", settings.transcription_model),
                timeout=values.get("timeout", default_timeout(values.get("base_url"), settings)),
                api_key_env=key_env,
                api_key=_key_from(env, key_env),
                context_window=values.get("context_window"),
            )
        )
    return tuple(built)


def default_timeout(base_url: str | None, settings: Settings) -> float:
    """The top-level timeout; a local server's is longer unless the user chose one."""
    if settings.origins.get("timeout", "default") == "default" and is_local(base_url):
        return max(settings.timeout, LOCAL_TIMEOUT)
    return settings.timeout


def is_local(base_url: str | None) -> bool:
    """A server on this machine or a private network (llama.cpp, Ollama, a plant server)."""
    import ipaddress

    host = urlsplit(base_url).hostname if base_url else None
    if host is None:
        return False
    if host == "localhost" or host.endswith((".local", ".localhost")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def _key_from(env: Mapping[str, str], name: str | None) -> str | None:
    if not name:
        return None
    key = env.get(name, "").strip()
    if key and not (key.isascii() and key.isprintable() and " " not in key):
        raise ConfigError(
            _("${name} contains characters a key cannot have").format(name=name),
            hint=_("copy the key again, without spaces or accents"),
        )
    return key or None


def implicit_profile(settings: Settings) -> Profile:
    return Profile(
        name=IMPLICIT_NAME,
        base_url=settings.base_url,
        model=settings.model,
        vision_model=settings.vision_model,
        transcription_model=settings.transcription_model,
        timeout=default_timeout(settings.base_url, settings),
        api_key_env="OPENAI_API_KEY",
        api_key=settings.api_key,
        implicit=True,
    )


def all_profiles(settings: Settings) -> tuple[Profile, ...]:
    """Every profile status shows: the configured ones, or the implicit one."""
    return _with_flags(settings, settings.profiles or (implicit_profile(settings),))


def chain_profiles(settings: Settings) -> tuple[Profile, ...]:
    """The profiles a request tries, in order: the one ``--profile`` names, else the order."""
    known = all_profiles(settings)
    if settings.profile is not None:
        chosen = [p for p in known if p.name == settings.profile]
        if not chosen:
            raise ConfigError(
                _("no profile named {name!r}").format(name=settings.profile),
                hint=_("known profiles: {names}").format(names=", ".join(p.name for p in known)),
            )
        return tuple(chosen)
    if not settings.profiles:
        return known
    by_name = {p.name: p for p in known}
    return tuple(by_name[n] for n in settings.profile_order)


def _with_flags(settings: Settings, profiles: tuple[Profile, ...]) -> tuple[Profile, ...]:
    """A model given on the command line is the model of every profile for that command."""
    flagged = {
        k: getattr(settings, k)
        for k in ("model", "vision_model", "transcription_model")
        if settings.origins.get(k) == "flag"
    }
    return tuple(replace(p, **flagged) for p in profiles) if flagged else profiles


def write_profile(path: Path, name: str, raw: Mapping[str, str]) -> dict[str, Any]:
    """Add (or replace) ``[profiles.NAME]`` in the config file; appended to profile_order."""
    from omar_cli.settings import read_config_file, write_config_data

    where = "omar config profile add"
    values = parse_profile_table(name, dict(raw), where)
    values = {k: v for k, v in values.items() if v is not None}
    data = read_config_file(path)
    tables = dict(data.get("profiles", {}))
    tables[name] = values
    data["profiles"] = tables
    order = list(data.get("profile_order", [n for n in tables if n != name]))
    if name not in order:
        order.append(name)
    data["profile_order"] = order
    write_config_data(path, data)
    return values


def remove_profile(path: Path, name: str) -> None:
    """Remove ``[profiles.NAME]`` and its place in profile_order."""
    from omar_cli.settings import read_config_file, write_config_data

    data = read_config_file(path)
    tables = dict(data.get("profiles", {}))
    if name not in tables:
        known = ", ".join(tables) or _("none")
        raise ConfigError(
            _("no profile named {name!r} in {path}").format(name=name, path=path),
            hint=_("known profiles: {names}").format(names=known),
        )
    del tables[name]
    order = [n for n in data.get("profile_order", []) if n != name]
    for key, value in (("profiles", tables), ("profile_order", order)):
        if value:
            data[key] = value
        else:
            data.pop(key, None)
    write_config_data(path, data)
