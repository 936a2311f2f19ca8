"""Builds the collaborators every command needs from the settings, lazily.

Nothing here imports openai, TinyDB or SQLite until a command actually asks for them, so
`omar --help` and the offline look-ups stay quick. Tests replace any of these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from omar_cli.clock import utc_now
from omar_cli.settings import Settings

if TYPE_CHECKING:
    from omar_cli.assistant import Assistant
    from omar_cli.field_knowledge import FieldKnowledge
    from omar_cli.knowledge.index import KnowledgeIndex
    from omar_cli.knowledge.model import Entry
    from omar_cli.knowledge.userdocs import UserLibrary
    from omar_cli.llm.model import ChatModel
    from omar_cli.profiles import Profile
    from omar_cli.store import SessionStore
    from omar_cli.transcription_engines import LocalTranscriber


@dataclass
class Services:
    settings: Settings
    clock: Callable[[], datetime] = utc_now
    #: a chat model given by tests (e.g. llm.scripted.ScriptedModel); otherwise the OpenAI
    #: adapter, built from the settings on first use
    chat_override: ChatModel | None = field(default=None, repr=False)
    #: opens a sound input stream (audio.StreamFactory); tests give a fake one, otherwise
    #: PortAudio through sounddevice
    audio_input: Callable[..., Any] | None = field(default=None, repr=False)
    #: told when a profile failed and the next one is tried (the CLI writes it to stderr)
    on_fallback: Callable[[str], None] | None = field(default=None, repr=False)
    #: Whisper on this laptop given by tests (a fake model); otherwise built from settings
    local_asr: Callable[[], LocalTranscriber] | None = field(default=None, repr=False)

    @cached_property
    def store(self) -> SessionStore:
        from omar_cli.store import SessionStore

        # an answer that echoes the key (a misconfigured proxy, a model repeating its prompt)
        # is stored masked: the store never holds the key
        return SessionStore(self.settings.paths.store, clock=self.clock, redact=self.secrets())

    @cached_property
    def library(self) -> UserLibrary:
        from omar_cli.knowledge.userdocs import UserLibrary

        return UserLibrary(self.settings.paths.user_knowledge, clock=self.clock)

    @cached_property
    def knowledge(self) -> KnowledgeIndex:
        """Built-in entries, the user's documents and the approved field knowledge: what
        search and answers draw on."""
        from omar_cli.knowledge.index import KnowledgeIndex

        entries = [*self._builtin_entries, *self.library.entries(), *self.field.entries()]
        return KnowledgeIndex.open(entries, self.settings.paths.cache / "index")

    @cached_property
    def field(self) -> FieldKnowledge:
        """Approved notes and answers (a small file kept in step with the store's verdicts)."""
        from omar_cli.field_knowledge import FILE, FieldKnowledge

        paths = self.settings.paths
        return FieldKnowledge(paths.data / FILE, lambda: self.store, paths.store)

    @cached_property
    def codes(self) -> KnowledgeIndex:
        """Built-in entries only: code look-ups never need (or wait for) a 300-page manual."""
        from omar_cli.knowledge.index import KnowledgeIndex

        return KnowledgeIndex.open(self._builtin_entries, self.settings.paths.cache / "codes")

    @cached_property
    def _builtin_entries(self) -> list[Entry]:
        from omar_cli.knowledge.loader import builtin_dir, load_entries

        return load_entries(builtin_dir(), cache_dir=self.settings.paths.cache / "knowledge")

    def chat(self) -> ChatModel | None:
        """The chat model, or None when no endpoint is configured (no key, no base URL)."""
        if self.chat_override is None:
            self.chat_override = self._build_chat()
        return self.chat_override

    def _build_chat(self) -> ChatModel | None:
        """The profiles in fallback order as one chat model; None when none can answer."""
        from omar_cli.profiles import chain_profiles

        profiles = chain_profiles(self.settings)
        # without a key only a local server (Ollama, llama.cpp...) can answer; OpenAI cannot.
        # A profile named with --profile is kept: its failure says what is missing.
        if self.settings.profile is None:
            profiles = tuple(p for p in profiles if p.usable)
        if not profiles:
            return None
        from omar_cli.llm.chain import Endpoint, ProfileChain

        endpoints = [Endpoint(p, self.endpoint_model(p)) for p in profiles]
        return ProfileChain(endpoints, on_fallback=self.on_fallback)

    def endpoint_model(self, profile: Profile) -> ChatModel:
        """The adapter for one profile's endpoint (status pings each one)."""
        from omar_cli.llm.openai_client import ApiConfig, OpenAIChat

        return OpenAIChat(
            ApiConfig(
                api_key=profile.api_key,
                base_url=profile.base_url,
                timeout=profile.timeout,
                max_retries=self.settings.max_retries,
            )
        )

    def secrets(self) -> tuple[str, ...]:
        """Every key in use: the store masks them wherever an answer echoes one."""
        from omar_cli.profiles import all_profiles

        keys = {self.settings.api_key, *(p.api_key for p in all_profiles(self.settings))}
        return tuple(k for k in keys if k)

    def _store_for_answers(self) -> SessionStore:
        """The store, or a stand-in that fails each use when it cannot be opened: an
        answer never waits on the store (omar_cli.unsaved)."""
        from omar_cli.errors import StoreError

        try:
            return self.store
        except StoreError as exc:
            from omar_cli.unsaved import UnopenedStore

            return cast("SessionStore", UnopenedStore(exc))

    def _knowledge_for_answers(self) -> KnowledgeIndex:
        """All the knowledge, or the built-in part when the user's documents cannot be
        read, noted as left out of the answer."""
        from omar_cli.errors import StoreError

        try:
            return self.knowledge
        except StoreError as exc:
            from omar_cli.i18n import _
            from omar_cli.unsaved import tolerate

            if not tolerate(_("your documents were left out of the answer"), exc):
                raise
            return self.codes

    @cached_property
    def assistant(self) -> Assistant:
        from omar_cli.assistant import Assistant

        return Assistant(
            store=self._store_for_answers(),
            knowledge=self._knowledge_for_answers,
            chat=self.chat,
            settings=self.settings,
            local_asr=self.local_asr,
            on_fallback=self.on_fallback,
        )
