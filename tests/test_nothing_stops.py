"""Faults of the machine at the cabinet: a full disk, an unreadable data folder, a damaged
session. Through the real commands; what is kept on disk is compared byte for byte."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from terminal import run_on_terminal
from typer.testing import CliRunner, Result

from omar_cli import atomic
from omar_cli.cli.app import app
from omar_cli.errors import ExitCode


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def snapshot(home: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file()}


def no_space(*_args: Any, **_kwargs: Any) -> Any:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class HalfWritten:
    """A file whose disk fills up halfway through a write: half the bytes land, then
    ENOSPC, as a real full disk does."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def write(self, data: bytes) -> int:
        self._handle.write(data[: len(data) // 2])
        self._handle.flush()
        no_space()
        return 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def __enter__(self) -> HalfWritten:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()


def half_writes(real: Callable[..., Any]) -> Callable[..., Any]:
    def fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real(fd, mode, *args, **kwargs)
        return HalfWritten(handle) if mode == "wb" else handle

    return fdopen


def stored_home(isolated_dirs: Path, doc: Path) -> None:
    """Two sessions, a config file and one document of the user's, all on disk."""
    assert run("ask", "fallo 2").exit_code == 0
    assert run("ask", "--new", "alarma 2009").exit_code == 0
    assert run("config", "set", "model", "gpt-4o").exit_code == 0
    doc.write_text("# Taller\n\nLa sierra frena con resistencia de 100 ohmios.\n", "utf-8")
    assert run("knowledge", "add", str(doc)).exit_code == 0
    assert run("search", "resistencia").exit_code == 0  # the search index, current


@pytest.mark.parametrize("failure", ["fsync", "half-write"])
def test_a_disk_that_fills_up_mid_write_leaves_every_file_whole(
    isolated_dirs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    stored_home(isolated_dirs, tmp_path / "taller.md")
    before = snapshot(isolated_dirs)
    if failure == "fsync":
        monkeypatch.setattr(os, "fsync", no_space)
    else:
        monkeypatch.setattr(atomic.os, "fdopen", half_writes(os.fdopen))
    second = tmp_path / "otro.md"
    second.write_text("Otro documento con texto suficiente para un fragmento.\n", "utf-8")
    attempts = [
        (("ask", "fallo 3"), ExitCode.STORE),
        (("ask", "--new", "fallo 4"), ExitCode.STORE),
        (("config", "set", "timeout", "12"), ExitCode.CONFIG),
        (("knowledge", "add", str(second)), ExitCode.STORE),
    ]
    for args, code in attempts:
        result = run(*args)
        assert result.exit_code == code, (args, result.stderr)
        assert os.strerror(errno.ENOSPC) in result.stderr
        if args[0] == "ask":  # the answer is printed all the same, and the loss said
            assert f"[{args[-1].replace('fallo ', 'F000')}]" in result.stdout
            assert "omar: aviso: la pregunta y su respuesta no se guardaron" in result.stderr
    monkeypatch.undo()
    after = snapshot(isolated_dirs)
    assert {p: after.get(p) for p in before} == before  # every existing file whole
    assert not [p for p in after if p.name.endswith(".tmp")]  # no half-written leftovers
    # and the store still reads: both sessions listed, nothing reported damaged
    listed = run("sessions", "--json")
    assert listed.exit_code == 0 and "damaged" not in listed.stderr
    assert run("ask", "fallo 3").exit_code == 0


def test_look_ups_answer_with_an_unreadable_data_folder(
    isolated_dirs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    monkeypatch.setenv("OMAR_DATA_DIR", str(blocker / "data"))
    fault = run("fault", "2")
    assert fault.exit_code == 0 and "F0002" in fault.stdout
    found = run("search", "rampa", "aceleración")
    assert found.exit_code == ExitCode.STORE
    assert "2202" in found.stdout  # the built-in knowledge still answers
    assert "sus documentos quedaron fuera de la búsqueda" in found.stderr
    asked = run("ask", "fallo 2")
    assert asked.exit_code == ExitCode.STORE
    assert "[F0002]" in asked.stdout and "5 minutos" in asked.stdout
    assert "la pregunta y su respuesta no se guardaron" in asked.stderr
    assert "sus documentos quedaron fuera de la respuesta" in asked.stderr
    doc = json.loads(run("ask", "fallo 2", "--json").stdout)
    assert doc["answer"] and doc["ok"] is False and doc["question_id"] is None
    assert doc["not_saved"]["code"] == ExitCode.STORE and doc["error"] is None
    as_json = run("search", "rampa", "--json")
    doc = json.loads(as_json.stdout)
    assert as_json.exit_code == ExitCode.STORE and doc["hits"]
    assert "manifest.json" in doc["warnings"][0]
    env = {"OMAR_DATA_DIR": str(blocker / "data"), "OMAR_LANGUAGE": "en"}
    screen = run_on_terminal("search", "rampa", env=env)
    assert screen.returncode == ExitCode.STORE and "2202" in screen.screen
    assert "your documents were left out of the search" in screen.stderr
    screen = run_on_terminal("ask", "fallo 2", env=env)
    assert screen.returncode == ExitCode.STORE and "F0002" in screen.screen
    assert "omar: warning: the question and its answer were not saved" in screen.stderr


def test_a_damaged_active_session_points_to_new_and_hides_no_other(isolated_dirs: Path) -> None:
    assert run("ask", "--new", "alarma 2009").exit_code == 0
    answered = run("ask", "--new", "fallo 2", "--json")
    assert answered.exit_code == 0
    active = (
        isolated_dirs / "data" / "store" / "sessions" / json.loads(answered.stdout)["session_id"]
    )
    (active / "messages-0000.json").write_text("{roto", encoding="utf-8")
    asked = run("ask", "fallo 3")
    assert asked.exit_code == ExitCode.STORE
    assert "[F0003]" in asked.stdout  # answered all the same
    assert "--new" in asked.stderr and "messages-0000.json.corrupt" in asked.stderr
    assert "omar: aviso: la pregunta y su respuesta no se guardaron" in asked.stderr
    assert run("ask", "--new", "fallo 3").exit_code == 0  # the way out the hint names
    listed = run("sessions", "--json")
    assert listed.exit_code == 0
    ids = {s["id"] for s in json.loads(listed.stdout)["sessions"]}
    assert len(ids - {active.name}) == 2  # the others are all listed
    assert "messages-0000.json" in listed.stderr  # and the damaged one is named
    status = run("status", "--no-check", "--json")
    assert any(active.name in path for path in json.loads(status.stdout)["store"]["damaged"])


def test_a_lock_that_cannot_be_taken_does_not_stop_the_answer(isolated_dirs: Path) -> None:
    from filelock import FileLock
    from scripted_support import _Current

    from omar_cli.cli.context import AppState
    from omar_cli.cli.output import Output
    from omar_cli.services import Services
    from omar_cli.settings import load_settings
    from omar_cli.store import SessionStore

    assert run("ask", "fallo 2").exit_code == 0
    services = Services(load_settings())
    root = services.settings.paths.store
    services.__dict__["store"] = SessionStore(root, lock_timeout=0.2)
    with FileLock(root / ".lock"):  # another omar writing, for longer than we wait
        output = Output(stdout=_Current("stdout"), stderr=_Current("stderr"))  # type: ignore[arg-type]
        state = AppState(services=services, output=output)
        result = CliRunner().invoke(app, ["ask", "fallo 3"], obj=state)
    assert result.exit_code == ExitCode.STORE, result.stderr
    assert "[F0003]" in result.stdout, result.stderr
    assert "no se guardaron" in result.stderr and "bloqueado" in result.stderr


def test_online_answers_and_photos_with_an_unreadable_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_openai: Any
) -> None:
    from PIL import Image

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    monkeypatch.setenv("OMAR_DATA_DIR", str(blocker / "data"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-omar-test-nothing-stops-1234")
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    fake_openai.enqueue_answer("Vea [F0002]: sobretensión al frenar.")
    asked = run("ask", "fallo 2 al frenar")
    assert asked.exit_code == ExitCode.STORE, asked.stderr
    assert "Vea [F0002]: sobretensión al frenar." in asked.stdout
    assert "la pregunta y su respuesta no se guardaron" in asked.stderr
    photo = tmp_path / "panel.jpg"
    Image.new("RGB", (64, 48), (200, 10, 10)).save(photo)
    fake_openai.enqueue_answer("La pantalla muestra F0002.")
    seen = run("image", str(photo), "-q", "¿qué muestra?")
    assert seen.exit_code == ExitCode.STORE, seen.stderr
    assert "La pantalla muestra F0002." in seen.stdout
    assert "la pregunta y su respuesta no se guardaron" in seen.stderr
