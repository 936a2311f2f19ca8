"""The injected Environment: input fed by a test, terminal flags, colour, clock, variables.

Each test builds the environment it wants instead of patching ``sys`` or ``os.environ``:
that is what lets an interactive loop (the chat, a confirmation, later "press Enter to stop
recording" and the review queue) be tested by typing into it.
"""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scripted_support import scripted_services
from typer.testing import CliRunner

from omar_cli.cli.app import app
from omar_cli.cli.confirm import confirm
from omar_cli.cli.context import AppState
from omar_cli.cli.output import Output
from omar_cli.environment import Environment
from omar_cli.errors import NotFoundError, ServerError
from omar_cli.llm.scripted import ScriptedModel
from omar_cli.results import Problem
from omar_cli.services import Services
from omar_cli.settings import load_settings, resolve_paths


def _env(stdin: str = "", **kwargs: object) -> tuple[Environment, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    env = Environment.create(stdin=stdin, stdout=out, stderr=err, **kwargs)  # type: ignore[arg-type]
    return env, out, err


def test_the_chat_loop_is_driven_by_the_input_a_test_types() -> None:
    env, out, err = _env("¿Qué es F0002?\nfault F0001 otra vez\n\n", stdin_isatty=True)
    result = CliRunner().invoke(app, ["ask", "--offline"], obj=AppState.for_env(env))
    assert result.exit_code == 0, err.getvalue()
    # two questions, then the empty line that ends the chat: three prompts, no fourth
    assert err.getvalue().count("omar> ") == 3
    assert "[F0002]" in out.getvalue() and "[F0001]" in out.getvalue()
    assert "omar>" not in out.getvalue()  # prompts on stderr, answers on stdout


def test_a_failed_answer_in_the_chat_is_reported_and_the_chat_goes_on() -> None:
    model = ScriptedModel()
    model.enqueue_error(ServerError("HTTP 503"))
    model.enqueue("Revise la rampa de deceleración [2203].")
    env, out, err = _env("¿Qué es F0002?\n¿Y la rampa?\n", stdin_isatty=True)
    state = AppState.for_env(env, scripted_services(model))
    result = CliRunner().invoke(app, ["ask"], obj=state)
    assert result.exit_code == 0, err.getvalue()  # Ctrl-D after the second answer
    assert err.getvalue().count("omar: error: HTTP 503") == 1
    assert err.getvalue().count("omar> ") == 3
    assert "[2203]" in out.getvalue()  # the question after the failure was answered


def test_end_of_input_leaves_the_chat() -> None:
    env, out, err = _env("", stdin_isatty=True)
    result = CliRunner().invoke(app, ["ask", "--offline"], obj=AppState.for_env(env))
    assert result.exit_code == 0 and out.getvalue() == ""
    assert "omar> " in err.getvalue()


def test_piped_input_is_the_question_and_no_chat_starts() -> None:
    env, out, err = _env("¿Qué es F0002?\n", stdin_isatty=False)
    result = CliRunner().invoke(app, ["ask", "--offline"], obj=AppState.for_env(env))
    assert result.exit_code == 0 and "[F0002]" in out.getvalue()
    assert "omar> " not in err.getvalue()


def test_an_output_built_from_streams_alone_reads_the_stdin_of_the_run() -> None:
    out = io.StringIO()
    state = AppState(output=Output(stdout=out, stderr=io.StringIO()))
    args = ["ask", "--offline", "-"]
    result = CliRunner().invoke(app, args, input="¿Qué es F0002?\n", obj=state)
    assert result.exit_code == 0 and "[F0002]" in out.getvalue()


def test_a_confirmation_reads_the_environment_and_asks_again_on_nonsense() -> None:
    env, _, err = _env("quizá\nsí\n", stdin_isatty=True)
    assert confirm(Output(env), "¿Borrar?") is True
    assert err.getvalue().count("¿Borrar? [s/N]") == 2
    env, _, _ = _env("", stdin_isatty=True)
    assert confirm(Output(env), "¿Borrar?") is False  # end of input is a no


def test_read_line_strips_the_newline_and_ends_with_eof() -> None:
    env, _, _ = _env("\nalto\r\n")
    assert env.read_line() == ""  # a bare Enter: "press Enter to stop"
    assert env.read_line() == "alto"
    with pytest.raises(EOFError):
        env.read_line()


@pytest.mark.parametrize(
    ("tty", "variables", "styled", "colors"),
    [
        (True, {}, True, True),
        (False, {}, False, False),
        (True, {"NO_COLOR": "1"}, True, False),
        (True, {"NO_COLOR": ""}, True, True),  # empty means unset (no-color.org)
        (False, {"FORCE_COLOR": "1"}, True, True),
        (False, {"FORCE_COLOR": "0"}, False, False),
        (False, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, True, False),
    ],
)
def test_colour_follows_the_terminal_and_the_variables(
    tty: bool, variables: dict[str, str], styled: bool, colors: bool
) -> None:
    env, _, _ = _env(stdout_isatty=tty, vars=variables)
    assert (env.styled_stdout, env.colors) == (styled, colors)
    assert Output(env).rich_stdout is styled
    assert Output(env, json_mode=True).rich_stdout is False


@pytest.mark.parametrize(
    ("tty", "variables", "coloured"),
    [
        (True, {}, True),
        (True, {"NO_COLOR": "1"}, False),
        (False, {"FORCE_COLOR": "1"}, True),  # `FORCE_COLOR=1 omar ... | less -R`
        (False, {}, False),
    ],
)
def test_rich_output_writes_colour_only_when_allowed(
    tty: bool, variables: dict[str, str], coloured: bool
) -> None:
    env, out, _ = _env(stdout_isatty=tty, vars={"TERM": "xterm-256color", **variables})
    Output(env).console().print("[red]F0002[/red]")
    assert ("\x1b[31m" in out.getvalue()) is coloured
    assert "F0002" in out.getvalue()


def test_output_settings_do_not_depend_on_which_is_read_first() -> None:
    env, _, _ = _env(stdout_isatty=True, stderr_isatty=False, vars={"COLUMNS": "52"})

    def read(out: Output, order: list[str]) -> dict[str, object]:
        return {name: getattr(out, name) for name in order}

    names = ["width", "rich_stdout", "rich_stderr", "stdout", "stderr"]
    first, second = read(Output(env), names), read(Output(env), names[::-1])
    assert first == second
    assert first["width"] == 52 and first["rich_stdout"] and not first["rich_stderr"]


def test_a_piped_stdout_has_no_width_and_stays_unfolded() -> None:
    env, _, _ = _env(stdout_isatty=False, vars={"COLUMNS": "30"})
    line = "una línea bastante larga que en una terminal estrecha se doblaría " * 2
    assert Output(env).width is None and Output(env).fold(line) == line


def test_the_error_log_is_stamped_by_the_injected_clock(tmp_path: Path) -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    env, _, err = _env(clock=lambda: moment)
    log = tmp_path / "errors.log"
    Output(env, error_log=log).error_lines(ServerError("HTTP 503", hint="later"))
    assert log.read_text() == "2026-03-04T05:06:07+00:00 exit=12 SERVER: HTTP 503\n"
    assert err.getvalue() == "omar: error: HTTP 503\nomar: sugerencia: later\n"


def test_settings_and_folders_come_from_the_injected_variables(tmp_path: Path) -> None:
    variables = {f"OMAR_{n}_DIR": str(tmp_path / n.lower()) for n in ("DATA", "CONFIG", "LOG")}
    variables |= {"OMAR_CACHE_DIR": str(tmp_path / "cache"), "OMAR_MODEL": "modelo-del-env"}
    env, _, _ = _env(vars=variables)
    assert env.dirs == resolve_paths(variables) and env.dirs.data == tmp_path / "data"
    st = AppState.for_env(env)
    assert st.svc.settings.model == "modelo-del-env"  # os.environ has no OMAR_MODEL
    assert st.svc.settings.paths == env.dirs


def test_the_services_record_time_by_the_injected_clock(tmp_path: Path) -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    variables = {f"OMAR_{n}_DIR": str(tmp_path / n.lower()) for n in ("DATA", "CONFIG", "LOG")}
    env, _, _ = _env(vars=variables, clock=lambda: moment)
    store = AppState.for_env(env).svc.store
    assert store.create_session().created_at == moment


def test_a_problem_renders_as_the_error_it_came_from() -> None:
    for error in (
        ServerError("HTTP 503", hint="later"),
        NotFoundError("no F9999", hint="omar codes"),
    ):
        assert Problem.of(error).to_dict() == error.to_dict()
    unknown = NotFoundError("no F9999")
    unknown.suggestions = ["F0009"]  # type: ignore[attr-defined]
    assert Problem.of(unknown).to_dict()["suggestions"] == ["F0009"]
    assert Problem.of(unknown).to_dict() == unknown.to_dict()


class _EnterAfter(io.StringIO):
    """A keyboard on which Enter is pressed ``delay`` seconds after the program asks."""

    def __init__(self, delay: float) -> None:
        super().__init__("\n")
        self.delay = delay

    def readline(self, size: int | None = -1) -> str:
        time.sleep(self.delay)
        return super().readline(size)


def test_enter_pressed_on_the_environments_stdin_stops_a_recording() -> None:
    from audio_fakes import FakeStream, factory_of, tone

    model = ScriptedModel()
    model.enqueue_transcript("Listo.")
    services = Services(
        load_settings(),
        chat_override=model,
        audio_input=factory_of(FakeStream(tone(90), pace=0.01)),
    )
    out, err = io.StringIO(), io.StringIO()
    env = Environment.create(stdin=_EnterAfter(0.5), stdin_isatty=True, stdout=out, stderr=err)
    args = ["record-and-transcribe", "--max-seconds", "60", "--json"]
    result = CliRunner().invoke(app, args, obj=AppState.for_env(env, services))
    assert result.exit_code == 0, err.getvalue()
    doc = json.loads(out.getvalue())
    assert doc["stop_reason"] == "enter" and 0.3 < doc["duration_s"] < 60
    assert doc["transcript"] == "Listo."
