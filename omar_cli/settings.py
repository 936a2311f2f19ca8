"""Settings: loaded once into a frozen object.

Precedence: command-line flag > ``OMAR_*`` variable (and the openai client's own
``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``) > config file > default. The API key is only ever
read from the environment: it is never written to the config file or anywhere else.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from omar_cli.errors import ConfigError

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


def _positive_float(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


def _text(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise ValueError("must not be empty")
    return value


def _optional_url(raw: str) -> str | None:
    from urllib.parse import urlsplit

    value = raw.strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    parts.port  # noqa: B018 -- raises ValueError for a port out of range
    return value


def _language(raw: str) -> str:
    value = raw.strip().lower()
    if len(value) != 2 or not value.isalpha():
        raise ValueError("must be a two-letter ISO 639-1 code such as es or en")
    return value


def _retries(raw: str) -> int:
    value = _non_negative_int(raw)
    if value > 10:
        raise ValueError("must be 10 or less")
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting("model", _text, "gpt-4o-mini", "OMAR_MODEL", "chat model"),
    Setting("vision_model", _text, "gpt-4o-mini", "OMAR_VISION_MODEL", "model for photos"),
    Setting("transcription_model", _text, "whisper-1", "OMAR_TRANSCRIPTION_MODEL", "speech model"),
    Setting("language", _language, "es", "OMAR_LANGUAGE", "transcription language (ISO 639-1)"),
    Setting(
        "base_url",
        _optional_url,
        None,
        "OPENAI_BASE_URL",
        "OpenAI-compatible endpoint (Ollama, llama.cpp, vLLM, LM Studio)",
    ),
    Setting("timeout", _positive_float, 30.0, "OMAR_TIMEOUT", "seconds per API request"),
    Setting("max_retries", _retries, 2, "OMAR_MAX_RETRIES", "retries on 429/5xx/network"),
    Setting(
        "session_idle_minutes",
        _non_negative_int,
        30,
        "OMAR_SESSION_IDLE_MINUTES",
        "continue the last session if active this recently",
    ),
    Setting(
        "context_chars",
        _non_negative_int,
        6000,
        "OMAR_CONTEXT_CHARS",
        "prompt budget for knowledge excerpts (characters)",
    ),
)
SETTINGS_BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}
SECRET_KEYS = frozenset({"api_key", "openai_api_key", "key"})


@dataclass(frozen=True)
class Settings:
    paths: Paths
    api_key: str | None = field(default=None, repr=False)
    model: str = "gpt-4o-mini"
    vision_model: str = "gpt-4o-mini"
    transcription_model: str = "whisper-1"
    language: str = "es"
    base_url: str | None = None
    timeout: float = 30.0
    max_retries: int = 2
    session_idle_minutes: int = 30
    context_chars: int = 6000
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
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"config file {path} is not valid TOML: {exc}",
            hint=f"fix it by hand or remove it (omar config path shows {path})",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    return data


def parse_value(key: str, raw: Any, where: str) -> Any:
    """Validate one value from the config file, the environment or `config set`."""
    if key.lower() in SECRET_KEYS:
        raise ConfigError(
            f"{where}: the API key is never stored in a file",
            hint="set the OPENAI_API_KEY environment variable instead",
        )
    setting = SETTINGS_BY_KEY.get(key)
    if setting is None:
        known = ", ".join(SETTINGS_BY_KEY)
        raise ConfigError(f"{where}: unknown setting '{key}'", hint=f"known settings: {known}")
    try:
        return setting.parse(str(raw))
    except ValueError as exc:
        raise ConfigError(f"{where}: bad value for '{key}': {raw!r} ({exc})") from None


def _api_key(raw: str) -> str | None:
    key = raw.strip()  # a pasted key often drags a newline or a space along
    if key and not (key.isascii() and key.isprintable() and " " not in key):
        raise ConfigError(
            "$OPENAI_API_KEY contains characters a key cannot have",
            hint="copy the key again, without spaces or accents",
        )
    return key or None


def load_settings(env: Mapping[str, str] | None = None, *, config_file: bool = True) -> Settings:
    """Settings from the environment and (unless ``config_file`` is False) the config file."""
    env = os.environ if env is None else env
    paths = resolve_paths(env)
    file_values = read_config_file(paths.config_file) if config_file else {}
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for key, raw in file_values.items():
        values[key] = parse_value(key, raw, f"config file {paths.config_file}")
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
    return Settings(paths=paths, api_key=api_key, origins=origins, **values)


def write_config_value(path: Path, key: str, raw: str | None) -> Any:
    """Set (or with ``raw=None`` remove) one key in the config file, atomically."""
    import tomli_w

    from omar_cli.atomic import atomic_write_bytes

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
    try:
        atomic_write_bytes(path, tomli_w.dumps(data).encode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot write config file {path}: {exc.strerror or exc}") from None
    return value
