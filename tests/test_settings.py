"""Settings precedence, validation, config file writes and the key never stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from omar_cli.errors import ConfigError
from omar_cli.settings import load_settings, mask_secret, write_config_value

pytestmark = pytest.mark.usefixtures("english_messages")  # Spanish: test_config_cli.py


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "OMAR_DATA_DIR": str(tmp_path / "data"),
        "OMAR_CONFIG_DIR": str(tmp_path / "config"),
        "OMAR_CACHE_DIR": str(tmp_path / "cache"),
        "OMAR_LOG_DIR": str(tmp_path / "log"),
        **extra,
    }


def test_defaults_and_paths_from_env(tmp_path: Path) -> None:
    settings = load_settings(env_for(tmp_path))
    assert settings.model == "gpt-4o-mini"
    assert settings.transcription_model == "whisper-1"
    assert settings.language == "es"
    assert settings.api_key is None
    assert settings.paths.data == tmp_path / "data"
    assert settings.paths.config_file == tmp_path / "config" / "config.toml"
    assert settings.origins["model"] == "default"


def test_platformdirs_used_without_overrides() -> None:
    settings = load_settings({})
    assert "omar" in str(settings.paths.data)
    assert "omar" in str(settings.paths.cache)


def test_precedence_flag_over_env_over_file(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    write_config_value(Path(env["OMAR_CONFIG_DIR"]) / "config.toml", "model", "from-file")
    write_config_value(Path(env["OMAR_CONFIG_DIR"]) / "config.toml", "timeout", "12.5")
    settings = load_settings(env)
    assert (settings.model, settings.origins["model"]) == ("from-file", "config")
    assert settings.timeout == 12.5
    settings = load_settings({**env, "OMAR_MODEL": "from-env"})
    assert (settings.model, settings.origins["model"]) == ("from-env", "env")
    flagged = settings.with_overrides(model="from-flag", timeout=None)
    assert (flagged.model, flagged.origins["model"]) == ("from-flag", "flag")
    assert flagged.timeout == 12.5


def test_openai_variables_are_honoured(tmp_path: Path) -> None:
    settings = load_settings(
        env_for(
            tmp_path,
            OPENAI_API_KEY="sk-test-123456789",
            OPENAI_BASE_URL="http://127.0.0.1:11434/v1",
        )
    )
    assert settings.api_key == "sk-test-123456789"
    assert settings.base_url == "http://127.0.0.1:11434/v1"
    assert "sk-test-123456789" not in repr(settings)
    assert mask_secret("sk-test-123456789") == "sk-…6789"


def test_bad_config_file_names_file_and_key(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    cfg = Path(env["OMAR_CONFIG_DIR"]) / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text('timeout = "soon"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    assert str(cfg) in info.value.message and "timeout" in info.value.message
    cfg.write_text("model = [unclosed\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(env)
    cfg.write_text('modle = "x"\n')
    with pytest.raises(ConfigError, match="unknown setting 'modle'"):
        load_settings(env)


def test_bad_environment_value_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="OMAR_MAX_RETRIES"):
        load_settings(env_for(tmp_path, OMAR_MAX_RETRIES="many"))


def test_api_key_is_refused_in_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    with pytest.raises(ConfigError, match="never stored in a file"):
        write_config_value(cfg, "api_key", "sk-should-not-be-written")
    assert not cfg.exists()


def test_config_unset_restores_default(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    cfg = Path(env["OMAR_CONFIG_DIR"]) / "config.toml"
    write_config_value(cfg, "model", "gpt-4o")
    assert load_settings(env).model == "gpt-4o"
    write_config_value(cfg, "model", None)
    assert load_settings(env).model == "gpt-4o-mini"
    assert (cfg.stat().st_mode & 0o777) == 0o600


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("base_url", "http://"),
        ("base_url", "http://localhost:99999/v1"),
        ("base_url", "ftp://host/v1"),
        ("language", "spanish"),
        ("language", "fr"),
        ("timeout", "-5"),
        ("timeout", "soon"),
        ("max_retries", "two"),
        ("max_retries", "99"),
        ("timeout", "0"),
    ],
)
def test_values_are_validated(tmp_path: Path, key: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=f"bad value for '{key}'"):
        write_config_value(tmp_path / "config.toml", key, raw)


def test_key_is_trimmed_and_checked(tmp_path: Path) -> None:
    assert load_settings(env_for(tmp_path, OPENAI_API_KEY=" sk-abc123456\n")).api_key == (
        "sk-abc123456"
    )
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        load_settings(env_for(tmp_path, OPENAI_API_KEY="sk-ñandú-123"))


# -- values are bounded where they are read ---------------------------------------------------

BAD_VALUES = [
    ("timeout", "nan"),
    ("timeout", "inf"),
    ("timeout", "1e309"),
    ("timeout", "-1"),
    ("session_idle_minutes", "99999999999999999999"),
    ("context_chars", "99999999999999999999"),
    ("base_url", "http://256.256.256.256/v1"),
    ("base_url", "http://1.2.3/v1"),
    ("base_url", "http://local\nhost:11434/v1"),
    ("base_url", "http://localhost:11434/v1\n"),
    ("base_url", "http://exa mple.com/v1"),
    ("base_url", "http://-bad-.example/v1"),
    ("base_url", "http://[::zz]/v1"),
]


@pytest.mark.parametrize(("key", "raw"), BAD_VALUES)
def test_out_of_bounds_values_are_refused_at_config_set(tmp_path: Path, key: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=key):
        write_config_value(tmp_path / "config.toml", key, raw)
    assert not (tmp_path / "config.toml").exists()


@pytest.mark.parametrize(("key", "raw"), BAD_VALUES)
def test_out_of_bounds_values_are_refused_from_the_environment(
    tmp_path: Path, key: str, raw: str
) -> None:
    from omar_cli.settings import SETTINGS_BY_KEY

    with pytest.raises(ConfigError, match=key):
        load_settings(env_for(tmp_path, **{SETTINGS_BY_KEY[key].env: raw}))


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("base_url", "http://127.0.0.1:11434/v1"),
        ("base_url", "https://api.example.com/v1"),
        ("base_url", "http://[::1]:8080/v1"),
        ("base_url", "http://ollama/v1"),
        ("timeout", "0.5"),
        ("session_idle_minutes", "0"),
    ],
)
def test_sound_values_still_pass(tmp_path: Path, key: str, raw: str) -> None:
    write_config_value(tmp_path / "config.toml", key, raw)


def test_the_config_cli_refuses_with_exit_4(isolated_dirs: Path) -> None:
    from typer.testing import CliRunner

    from omar_cli.cli.app import app

    result = CliRunner().invoke(app, ["config", "set", "timeout", "nan"])
    assert result.exit_code == 4 and "timeout" in result.stderr


def test_settings_derive_from_the_one_table() -> None:
    from dataclasses import fields

    from omar_cli.settings import SETTINGS, Settings

    configurable = [
        f
        for f in fields(Settings)
        if f.name not in ("paths", "api_key", "origins", "profiles", "profile_order")
    ]
    assert [f.name for f in configurable] == [s.key for s in SETTINGS]
    assert [f.default for f in configurable] == [s.default for s in SETTINGS]
