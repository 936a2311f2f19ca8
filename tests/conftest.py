"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_openai import FakeOpenAIServer


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    """A scripted OpenAI-compatible server on 127.0.0.1; see tests/fake_openai.py."""
    with FakeOpenAIServer() as server:
        yield server


#: a distinctive fake key: tests assert it never lands in a file or on screen
FAKE_KEY = "sk-omar-test-DO-NOT-LEAK-7c1f"


@pytest.fixture(autouse=True)
def isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Point every OMAR directory at a fresh temp dir and forget the user's API settings."""
    home = tmp_path_factory.mktemp("omar-home")
    for name in ("data", "config", "cache", "log"):
        monkeypatch.setenv(f"OMAR_{name.upper()}_DIR", str(home / name))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OMAR_BASE_URL", "OMAR_MODEL", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture(autouse=True)
def fresh_interface_language() -> Iterator[None]:
    """The interface language is chosen per run; forget one a test set (in-process runs)."""
    from omar_cli import i18n

    i18n.set_language(None)
    yield
    i18n.set_language(None)


@pytest.fixture
def english_messages(fresh_interface_language: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests that read the English messages of the domain (and of their subprocesses)."""
    from omar_cli import i18n

    monkeypatch.setenv("OMAR_LANGUAGE", "en")
    i18n.set_language("en")
