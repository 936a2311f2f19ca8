"""Settings: loaded once into a frozen object.

Precedence: command-line flag > ``OMAR_*`` variable (and the openai client's own
``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``) > config file > default. The API key is only ever
read from the environment: it is never written to the config file or anywhere else.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omar_cli.errors import ConfigError
from omar_cli.i18n import N_, UI_LANGS, _

if TYPE_CHECKING:
    from omar_cli.profiles import Profile

APP_NAME = "omar"
CONFIG_FILENAME = "config.toml"


@dataclass(frozen=True)
class Paths:
    data: Path
    config: Path
    cache: Path
    log: Path

    @property
    def config_file(self) -> Path:
        return self.config / CONFIG_FILENAME

    @property
    def store(self) -> Path:
        return self.data / "store"

    @property
    def user_knowledge(self) -> Path:
        return self.data / "knowledge"


@dataclass(frozen=True)
class Setting:
    """One configurable value: its type, default, environment variable and help."""

    key: str
    parse: Callable[[str], Any]
    default: Any
    env: str
    help: str


def _seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    # nan compares false with everything, so the bounds are written to let it fail
    if not (0 < value <= 3600):
        raise ValueError(_("must be a number of seconds above 0 and at most 3600"))
    return value


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            value = low - 1  # not a whole number: refused with the range below
        if not low <= value <= high:
            raise ValueError(
                _("must be a whole number from {low} to {high}").format(low=low, high=high)
            )
        return value

    return parse


def _text(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise ValueError(_("must not be empty"))
    if not value.isprintable():
        raise ValueError(_("must not contain control characters"))
    return value


_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def _optional_url(raw: str) -> str | None:
    from urllib.parse import urlsplit

    value = raw.strip(" ")
    if not value:
        return None
    # urlsplit silently drops tabs and newlines, so a pasted URL is checked before it
    if not value.isprintable() or any(ch.isspace() for ch in value):
        raise ValueError(_("must not contain spaces, newlines or control characters"))
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(_("must be an http:// or https:// URL with a host"))
    parts.port  # noqa: B018 -- raises ValueError for a port out of range
    _check_host(parts.hostname, bracketed="[" in parts.netloc)
    return value


def _check_host(host: str, *, bracketed: bool) -> None:
    import ipaddress

    if bracketed:
        ipaddress.IPv6Address(host)  # ValueError names the bad address
        return
    if re.fullmatch(r"[0-9.]+", host):
        ipaddress.IPv4Address(host)
        return
    labels = host.rstrip(".").split(".")
    if len(host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise ValueError(_("{host} is not a valid host name").format(host=repr(host)))


def _language(raw: str) -> str:
    # Only the languages the interface speaks: a setting the messages would silently
    # ignore (fr gave English) is refused, as `--lang fr` is.
    value = raw.strip().lower()
    if value not in UI_LANGS:
        raise ValueError(_("must be one of: {choices}").format(choices=", ".join(UI_LANGS)))
    return value


def _one_of(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise ValueError(_("must be one of: {choices}").format(choices=", ".join(choices)))
        return value

    return parse


def _optional_text(raw: str) -> str | None:
    return _text(raw) if raw.strip() else None


def _folder_or_name(raw: str) -> str | None:
    """A model name as given; an existing folder made absolute, so a path set from one
    folder still holds when omar runs from another."""
    value = _optional_text(raw)
    if value is not None and Path(value).expanduser().is_dir():
        return str(Path(value).expanduser().resolve())
    return value


#: CTranslate2's compute types for local transcription (int8: the fastest on a laptop CPU)
COMPUTE_TYPES = ("int8", "int8_float32", "int8_float16", "int16", "float32", "float16", "auto")

_PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")


def _profile_name(raw: str) -> str | None:
    value = raw.strip()
    if not value:
        return None
    if not _PROFILE_NAME.fullmatch(value):
        raise ValueError("must be letters, digits, - or _ (at most 40), such as local or cloud")
    return value


def _env_name(raw: str) -> str | None:
    value = raw.strip()
    if not value:
        return None
    if not _ENV_NAME.fullmatch(value):
        raise ValueError("must be the name of an environment variable, such as OPENAI_API_KEY")
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting("model", _text, "gpt-4o-mini", "OMAR_MODEL", N_("chat model")),
    Setting("vision_model", _text, "gpt-4o-mini", "OMAR_VISION_MODEL", N_("model for photos")),
    Setting(
        "transcription_model", _text, "whisper-1", "OMAR_TRANSCRIPTION_MODEL", N_("speech model")
    ),
    Setting(
        "language",
        _language,
        "es",
        "OMAR_LANGUAGE",
        N_("language of the messages and of transcription (es or en)"),
    ),
    Setting(
        "base_url",
        _optional_url,
        None,
        "OPENAI_BASE_URL",
        N_("OpenAI-compatible endpoint (Ollama, llama.cpp, vLLM, LM Studio)"),
    ),
    Setting("timeout", _seconds, 30.0, "OMAR_TIMEOUT", N_("seconds per API request")),
    Setting(
        "max_retries", _int_between(0, 10), 2, "OMAR_MAX_RETRIES", N_("retries on 429/5xx/network")
    ),
    Setting(
        "session_idle_minutes",
        _int_between(0, 60 * 24 * 366),  # at most a year: a timedelta overflows long before
        30,
        "OMAR_SESSION_IDLE_MINUTES",
        N_("continue the last session if active this recently"),
    ),
    Setting(
        "context_chars",
        _int_between(0, 1_000_000),
        6000,
        "OMAR_CONTEXT_CHARS",
        N_("prompt budget for knowledge excerpts (characters)"),
    ),
    Setting(
        "transcription_engine",
        _one_of("auto", "local", "cloud"),
        "auto",
        "OMAR_TRANSCRIPTION_ENGINE",
        N_("auto: the cloud, this laptop's model when the cloud fails; local; cloud"),
    ),
    Setting(
        "local_transcription_model",
        _folder_or_name,
        None,
        "OMAR_LOCAL_TRANSCRIPTION_MODEL",
        N_("local Whisper model (faster-whisper): a CTranslate2 model folder or a model name"),
    ),
    Setting(
        "local_compute_type",
        _one_of(*COMPUTE_TYPES),
        "int8",
        "OMAR_LOCAL_COMPUTE_TYPE",
        N_("compute type of the local Whisper model (CTranslate2)"),
    ),
    Setting(
        "profile",
        _profile_name,
        None,
        "OMAR_PROFILE",
        "use only this endpoint profile (none: every profile in profile_order)",
    ),
)
SETTINGS_BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}
SECRET_KEYS = frozenset({"api_key", "openai_api_key", "key"})


def _default(key: str) -> Any:
    return SETTINGS_BY_KEY[key].default


@dataclass(frozen=True)
class Settings:
    """The configurable values (one per SETTINGS row, defaults from it), paths and key."""

    paths: Paths
    api_key: str | None = field(default=None, repr=False)
    model: str = _default("model")
    vision_model: str = _default("vision_model")
    transcription_model: str = _default("transcription_model")
    language: str = _default("language")
    base_url: str | None = _default("base_url")
    timeout: float = _default("timeout")
    max_retries: int = _default("max_retries")
    session_idle_minutes: int = _default("session_idle_minutes")
    context_chars: int = _default("context_chars")
    transcription_engine: str = _default("transcription_engine")
    local_transcription_model: str | None = _default("local_transcription_model")
    local_compute_type: str = _default("local_compute_type")
    profile: str | None = _default("profile")
    #: the endpoint profiles of the config file (``[profiles.NAME]``), in fallback order
    profiles: tuple[Profile, ...] = ()
    #: the names in ``profiles`` a request tries, in order (``profile_order``)
    profile_order: tuple[str, ...] = ()
    #: where each configurable value came from: default, config, env or flag
    origins: Mapping[str, str] = field(default_factory=dict, compare=False)

    def masked_key(self) -> str | None:
        return mask_secret(self.api_key) if self.api_key else None

    def with_overrides(self, **values: Any) -> Settings:
        """Apply command-line flags (highest precedence); None means 'not given'."""
        given = {k: v for k, v in values.items() if v is not None}
        origins = dict(self.origins) | {k: "flag" for k in given}
        return replace(self, origins=origins, **given)


def mask_secret(secret: str) -> str:
    if len(secret) <= 8:
        return "****"
    return f"{secret[:3]}…{secret[-4:]}"


def resolve_paths(env: Mapping[str, str]) -> Paths:
    # platformdirs is imported here, not at module level, to keep `omar --help` light
    import platformdirs

    def pick(var: str, default: Callable[[], str]) -> Path:
        raw = env.get(var)
        return Path(raw).expanduser() if raw else Path(default())

    return Paths(
        data=pick("OMAR_DATA_DIR", lambda: platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        config=pick(
            "OMAR_CONFIG_DIR", lambda: platformdirs.user_config_dir(APP_NAME, appauthor=False)
        ),
        cache=pick(
            "OMAR_CACHE_DIR", lambda: platformdirs.user_cache_dir(APP_NAME, appauthor=False)
        ),
        log=pick("OMAR_LOG_DIR", lambda: platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(
            _("cannot read config file {path}: {reason}").format(path=path, reason=exc.strerror)
        ) from None
    text = decode_config(raw, path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            _("config file {path} is not valid TOML: {error}").format(path=path, error=exc),
            hint=_("fix it by hand or remove it (omar config path shows {path})").format(path=path),
        ) from None


def decode_config(raw: bytes, path: Path) -> str:
    """The config file's text: UTF-8, with or without the BOM Notepad adds, or UTF-16 with
    its BOM (Notepad's "Unicode"); anything else is refused saying what it is."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in raw:
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
    raise ConfigError(
        _("config file {path} is not UTF-8 text").format(path=path),
        hint=_("save it again as UTF-8 (in Notepad: Save as, Encoding UTF-8)"),
    )


def parse_value(key: str, raw: Any, where: str) -> Any:
    """Validate one value from the config file, the environment or `config set`."""
    if key.lower() in SECRET_KEYS:
        raise ConfigError(
            _("{where}: the API key is never stored in a file").format(where=where),
            hint=_("set the OPENAI_API_KEY environment variable instead"),
        )
    setting = SETTINGS_BY_KEY.get(key)
    if setting is None:
        known = ", ".join(SETTINGS_BY_KEY)
        raise ConfigError(
            _("{where}: unknown setting {key}").format(where=where, key=repr(key)),
            hint=_("known settings: {known}").format(known=known),
        )
    try:
        return setting.parse(str(raw))
    except ValueError as exc:
        raise ConfigError(
            _("{where}: bad value for {key}: {value} ({reason})").format(
                where=where, key=repr(key), value=repr(raw), reason=exc
            )
        ) from None


def _api_key(raw: str) -> str | None:
    key = raw.strip()  # a pasted key often drags a newline or a space along
    if key and not (key.isascii() and key.isprintable() and " " not in key):
        raise ConfigError(
            _("$OPENAI_API_KEY contains characters a key cannot have"),
            hint=_("copy the key again, without spaces or accents"),
        )
    return key or None


def load_profiles(
    file_values: Mapping[str, Any], where: str
) -> tuple[dict[str, dict[str, Any]], tuple[str, ...]]:
    from omar_cli.profiles import load_profiles as load

    return load(file_values, where)


def build_profiles(
    settings: Settings, tables: Mapping[str, Mapping[str, Any]], env: Mapping[str, str]
) -> tuple[Profile, ...]:
    from omar_cli.profiles import build_profiles as build

    return build(settings, tables, env)


def load_settings(env: Mapping[str, str] | None = None, *, config_file: bool = True) -> Settings:
    """Settings from the environment and (unless ``config_file`` is False) the config file."""
    env = os.environ if env is None else env
    paths = resolve_paths(env)
    file_values = read_config_file(paths.config_file) if config_file else {}
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    where = f"config file {paths.config_file}"
    tables, order = load_profiles(file_values, where)
    for key, raw in file_values.items():
        if key in ("profiles", "profile_order"):
            continue
        values[key] = parse_value(key, raw, _("config file {path}").format(path=paths.config_file))
        origins[key] = "config"
    for setting in SETTINGS:
        raw_env = env.get(setting.env)
        if raw_env is None and setting.key == "base_url":
            raw_env = env.get("OMAR_BASE_URL")
        if raw_env is not None and raw_env != "":
            values[setting.key] = parse_value(setting.key, raw_env, f"${setting.env}")
            origins[setting.key] = "env"
    for setting in SETTINGS:
        origins.setdefault(setting.key, "default")
    api_key = _api_key(env.get("OPENAI_API_KEY", ""))
    settings = Settings(paths=paths, api_key=api_key, origins=origins, **values)
    # the profiles default to the top-level values, so they are built from the settings
    profiles = build_profiles(settings, tables, env)
    return replace(settings, profiles=profiles, profile_order=order)


def write_config_value(path: Path, key: str, raw: str | None) -> Any:
    """Set (or with ``raw=None`` remove) one key in the config file, atomically."""
    data = read_config_file(path)
    if raw is None:
        if key not in SETTINGS_BY_KEY:
            parse_value(key, "", "omar config unset")  # raises the right error
        data.pop(key, None)
        value = None
    else:
        value = parse_value(key, raw, "omar config set")
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    write_config_data(path, data)
    return value


def write_config_data(path: Path, data: Mapping[str, Any]) -> None:
    """Write the whole config file atomically."""
    import tomli_w

    from omar_cli.atomic import atomic_write_bytes

    try:
        atomic_write_bytes(path, tomli_w.dumps(dict(data)).encode("utf-8"))
    except OSError as exc:
        raise ConfigError(
            _("cannot write config file {path}: {reason}").format(
                path=path, reason=exc.strerror or exc
            )
        ) from None
