"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_openai import FakeOpenAIServer


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    """A scripted OpenAI-compatible server on 127.0.0.1; see tests/fake_openai.py."""
    with FakeOpenAIServer() as server:
        yield server
