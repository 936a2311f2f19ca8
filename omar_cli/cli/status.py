"""`omar status`: is OMAR ready to answer online, and what does the store hold."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from omar_cli.cli.context import JsonOption, state
from omar_cli.i18n import _, ngettext

if TYPE_CHECKING:
    from omar_cli.status import StatusReport


def register(app: typer.Typer) -> None:
    app.command("status")(status)


def status(
    ctx: typer.Context,
    no_check: Annotated[
        bool, typer.Option("--no-check", help="Do not contact the endpoint.")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Show the key (masked), endpoint and models, whether the endpoint answers, and the store.

    Example: omar status --json
    """
    from omar_cli.status import gather_status

    st = state(ctx, json_mode=json_out)
    report = gather_status(st.svc, check_endpoint=not no_check)
    # From the report: reading the whole store a second time would double the wait.
    for path in report.store["damaged"]:
        st.output.warn(_("session store file is damaged: {path}").format(path=path))
    out = st.output
    if json_out:
        out.emit_json(report)
        return
    rows = _rows(report)
    width = max(len(k) for k, _v in rows)
    for key, value in rows:
        out.out(f"{key.ljust(width)}  {value}")


def _rows(report: StatusReport) -> list[tuple[str, str]]:
    from omar_cli.status import ACCESS

    access = _(ACCESS[report.access])
    endpoint = report.endpoint
    if report.endpoint_default:
        endpoint = _("{url} (default)").format(url=endpoint)
    store = report.store
    latency = store["avg_latency_ms"]
    pending = ngettext("{n} pending", "{n} pending", store["pending"]).format(n=store["pending"])
    rows = [
        (_("API key"), f"{report.api_key} ({access})" if report.api_key else access),
        (_("endpoint"), endpoint),
        (_("endpoint health"), _health(report)),
        (_("models"), ", ".join(f"{k}={v}" for k, v in report.models.items())),
        (_("store"), f"{store['path']} ({store['size_bytes'] / 1024:.1f} KiB)"),
        (_("sessions"), str(store["sessions"])),
        (_("messages"), f"{store['messages']} ({pending})"),
        (_("avg answer latency"), f"{latency:.0f} ms" if latency is not None else _("n/a")),
    ]
    for profile in report.profiles:
        name = _("profile {name}").format(name=profile["name"])
        rows.append((name, _profile_line(profile)))
    if report.local_transcription is not None:
        rows.append((_("local transcription"), _local_line(report.local_transcription)))
    if store["damaged"]:
        rows.append((_("damaged files"), ", ".join(store["damaged"])))
    if store["rebuilt"]:
        rows.append((_("rebuilt sessions"), ", ".join(store["rebuilt"])))
    return rows


def _health(report: StatusReport) -> str:
    if report.endpoint_ok:
        return _("answers ({ms} ms)").format(ms=report.endpoint_latency_ms)
    if report.endpoint_error:
        return _("NOT reachable: {error}").format(error=report.endpoint_error)
    if report.access == "offline":
        return _("not contacted (offline answers only)")
    return _("not checked")


def _profile_line(profile: dict[str, Any]) -> str:
    if profile["ok"]:
        health = _("answers ({ms} ms)").format(ms=profile["latency_ms"])
    elif profile["error"]:
        health = _("NOT reachable: {error}").format(error=profile["error"])
    else:
        health = _("not checked")
    window = profile["context_window"]
    size = _(", context {tokens}").format(tokens=window) if window else ""
    wait = _(", waits {seconds} s").format(seconds=f"{profile['timeout']:g}")
    return f"{profile['endpoint']} ({profile['models']['chat']}{size}{wait}): {health}"


def _local_line(local: dict[str, Any]) -> str:
    engine = _("transcription_engine = {engine}").format(engine=local["engine"])
    if not local["available"]:
        return _("not available: {why} ({hint}); {engine}").format(
            why=local["problem"], hint=local["hint"], engine=engine
        )
    if local["kind"] == "folder":
        where = _("folder {path}").format(path=local["model"])
    elif local["present"]:
        where = _("{name}, fetched").format(name=local["model"])
    else:
        where = _("{name}, fetched on first use (needs the network once)").format(
            name=local["model"]
        )
    return _("available: {where}, {compute}; {engine}").format(
        where=where, compute=local["compute_type"], engine=engine
    )
