"""`omar status`: is OMAR ready to answer online, and what does the store hold."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from omar_cli.cli.context import JsonOption, state


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
        st.output.warn(f"session store file is damaged: {path}")
    out = st.output
    if json_out:
        out.emit_json(report)
        return
    if report.endpoint_ok:
        health = f"answers ({report.endpoint_latency_ms} ms)"
    elif report.endpoint_ok is None and not report.endpoint_error:
        health = "not checked"
    else:
        health = f"NOT reachable: {report.endpoint_error}"
    store = report.store
    latency = store["avg_latency_ms"]
    rows = [
        ("API key", report.api_key or "not set (offline answers only)"),
        ("endpoint", report.endpoint),
        ("endpoint health", health),
        ("models", ", ".join(f"{k}={v}" for k, v in report.models.items())),
        ("store", f"{store['path']} ({store['size_bytes'] / 1024:.1f} KiB)"),
        ("sessions", str(store["sessions"])),
        ("messages", f"{store['messages']} ({store['pending']} pending)"),
        ("avg answer latency", f"{latency:.0f} ms" if latency is not None else "n/a"),
    ]
    for profile in report.profiles:
        rows.append((f"profile {profile['name']}", _profile_line(profile)))
    if store["damaged"]:
        rows.append(("damaged files", ", ".join(store["damaged"])))
    if store["rebuilt"]:
        rows.append(("rebuilt sessions", ", ".join(store["rebuilt"])))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        out.out(f"{key.ljust(width)}  {value}")


def _profile_line(profile: dict[str, Any]) -> str:
    if profile["ok"]:
        health = f"answers ({profile['latency_ms']} ms)"
    elif profile["error"]:
        health = f"NOT reachable: {profile['error']}"
    else:
        health = "not checked"
    models = profile["models"]
    window = profile["context_window"]
    size = f", context {window}" if window else ""
    return f"{profile['endpoint']} ({models['chat']}{size}): {health}"
