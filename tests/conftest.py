"""Shared fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_openai import FakeOpenAIServer

from omar_cli.llm.scripted import ScriptedModel


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    """A scripted OpenAI-compatible server on 127.0.0.1; see tests/fake_openai.py."""
    with FakeOpenAIServer() as server:
        yield server


#: a distinctive fake key: tests assert it never lands in a file or on screen
FAKE_KEY = "sk-omar-test-DO-NOT-LEAK-7c1f"


@pytest.fixture(autouse=True, scope="session")
def no_fsync() -> Iterator[None]:
    """In this process, fsync does nothing. It guards against a power cut, which no test can
    cause, and on a shared disk it costs ~3 ms a call, a dozen calls an `ask`. Tests of
    crashes kill a real subprocess, which this does not reach; what they check (the page
    cache holds every write that returned) does not depend on fsync."""
    patch = pytest.MonkeyPatch()
    patch.setattr(os, "fsync", lambda fd: None)
    yield
    patch.undo()


@pytest.fixture(scope="session")
def knowledge_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the whole test session, so the knowledge index and the parsed
    entries are built once, not once per test. Sharing is safe: every cached file is keyed by
    a fingerprint of what it was built from, and concurrent builds are atomic. A test of the
    cache itself gives the code its own folder."""
    return tmp_path_factory.mktemp("knowledge-cache")


@pytest.fixture(autouse=True)
def isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    knowledge_cache: Path,
) -> Path:
    """Point every OMAR directory at a fresh temp dir and forget the user's API settings.

    The cache alone is the session's shared ``knowledge_cache``: it holds nothing a test
    writes, only what the knowledge builds."""
    home = tmp_path_factory.mktemp("omar-home")
    for name in ("data", "config", "log"):
        monkeypatch.setenv(f"OMAR_{name.upper()}_DIR", str(home / name))
    monkeypatch.setenv("OMAR_CACHE_DIR", str(knowledge_cache))
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


@pytest.fixture
def model(knowledge_cache: Path, monkeypatch: pytest.MonkeyPatch) -> ScriptedModel:
    """A fresh scripted chat model, with the session's knowledge index."""
    monkeypatch.setenv("OMAR_CACHE_DIR", str(knowledge_cache))
    return ScriptedModel()
