"""What `omar status` reports: configuration, endpoint health and the store's numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from omar_cli.errors import OmarError
from omar_cli.i18n import N_

if TYPE_CHECKING:
    from omar_cli.services import Services


DEFAULT_ENDPOINT = "https://api.openai.com/v1"
#: how OMAR reaches a model, in one wording for every line that speaks of the key or the
#: endpoint (the same rule as Services.chat: without a key only a local server answers)
ACCESS = {
    "api_key": N_("API key set"),
    "local_endpoint": N_("local endpoint, no key needed"),
    "offline": N_("no API key (set OPENAI_API_KEY): offline answers only"),
}


@dataclass(frozen=True)
class StatusReport:
    api_key: str | None  # masked
    access: str  # a key of ACCESS
    endpoint: str
    endpoint_default: bool  # no base_url: OpenAI's own endpoint
    models: dict[str, str]
    endpoint_ok: bool | None  # None: not checked
    endpoint_latency_ms: float | None
    endpoint_error: str | None
    paths: dict[str, str]
    store: dict[str, Any]
    #: each endpoint profile in fallback order: name, endpoint, models, health
    profiles: tuple[dict[str, Any], ...] = ()
    #: whether this laptop can transcribe (transcription_engines.LocalStatus), and when
    local_transcription: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def gather_status(svc: Services, *, check_endpoint: bool) -> StatusReport:
    settings = svc.settings
    ok: bool | None = None
    latency: float | None = None
    problem: str | None = None
    from omar_cli.llm.chain import ProfileChain

    chat = svc.chat()
    profiles = _profile_health(svc, check=check_endpoint)
    if check_endpoint and isinstance(chat, ProfileChain):
        # the chain's health is its first profile that answers: each endpoint is pinged once
        chained = {ep.profile.name for ep in chat.endpoints}
        rows = [r for r in profiles if r["name"] in chained]
        answering = next((r for r in rows if r["ok"]), None)
        ok = answering is not None
        latency = answering["latency_ms"] if answering else None
        problem = None if ok else "; ".join(f"{r['name']}: {r['error']}" for r in rows)
    elif check_endpoint and chat is not None:
        try:
            latency = round(chat.ping(), 1)
            ok = True
        except OmarError as exc:
            ok, problem = False, exc.message
    stats = svc.store.stats()
    # with profiles, the endpoint and models are those of the first one asked
    first = chat.endpoints[0].profile if isinstance(chat, ProfileChain) else None
    base_url = first.base_url if first else settings.base_url
    return StatusReport(
        profiles=profiles,
        local_transcription=_local_transcription(svc),
        api_key=settings.masked_key(),
        access="offline" if chat is None else "api_key" if settings.api_key else "local_endpoint",
        endpoint=_without_credentials(base_url) or DEFAULT_ENDPOINT,
        endpoint_default=not base_url,
        models={
            "chat": first.model if first else settings.model,
            "vision": first.vision_model if first else settings.vision_model,
            "transcription": first.transcription_model if first else settings.transcription_model,
            "transcription_language": settings.language,
        },
        endpoint_ok=ok,
        endpoint_latency_ms=latency,
        endpoint_error=problem,
        paths={k: str(v) for k, v in settings.paths.__dict__.items()},
        store={
            "path": str(stats.path),
            "size_bytes": stats.size_bytes,
            "sessions": stats.sessions,
            "messages": stats.messages,
            "pending": stats.pending,
            "answered": stats.answered,
            "avg_latency_ms": stats.avg_latency_ms,
            "damaged": list(stats.damaged),
            "rebuilt": list(stats.rebuilt),
        },
    )


def _profile_health(svc: Services, *, check: bool) -> tuple[dict[str, Any], ...]:
    from omar_cli.profiles import all_profiles

    order = svc.settings.profile_order
    rows = []
    for profile in all_profiles(svc.settings):
        row: dict[str, Any] = {
            "name": profile.name,
            "endpoint": _without_credentials(profile.base_url) or "https://api.openai.com/v1",
            "in_fallback_order": profile.implicit or profile.name in order,
            "api_key_env": profile.api_key_env,
            "api_key_set": bool(profile.api_key),
            "models": {
                "chat": profile.model,
                "vision": profile.vision_model,
                "transcription": profile.transcription_model,
            },
            "context_window": profile.context_window,
            "timeout": profile.timeout,
            "ok": None,
            "latency_ms": None,
            "error": None,
        }
        if check and not profile.usable:
            row["error"] = f"no key (set ${profile.api_key_env or 'OPENAI_API_KEY'})"
        elif check:
            try:
                row["latency_ms"] = round(svc.endpoint_model(profile).ping(), 1)
                row["ok"] = True
            except OmarError as exc:
                row["ok"], row["error"] = False, exc.message
        rows.append(row)
    return tuple(rows)


def _local_transcription(svc: Services) -> dict[str, Any]:
    """Read from the disk (is faster-whisper there, is the model folder there): the model
    is not loaded, so status stays quick."""
    if svc.local_asr is not None:
        local = svc.local_asr()
    else:
        from omar_cli.llm.whisper_local import LocalWhisper
        from omar_cli.transcription_engines import LocalSetup

        local = LocalWhisper(LocalSetup.from_settings(svc.settings))
    return {"engine": svc.settings.transcription_engine, **local.status().to_dict()}


def _without_credentials(url: str | None) -> str | None:
    """A base URL may carry user:token@; status shows where, never who."""
    if not url:
        return None
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="****@" + parts.netloc.rsplit("@", 1)[1]))
