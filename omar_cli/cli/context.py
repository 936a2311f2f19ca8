"""What every command receives through ``ctx.obj``: the services, the output and the
environment (streams, terminal flags, colour, clock, variables, folders) they both use.

The root callback builds one ``AppState`` per run when ``ctx.obj`` is empty; a test passes
its own, e.g. ``CliRunner().invoke(app, args, obj=AppState.for_env(Environment.create(
stdin="sí\n", stdin_isatty=True)))`` to answer a prompt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

import typer

from omar_cli import i18n
from omar_cli.cli.output import Output
from omar_cli.environment import Environment
from omar_cli.i18n import _

#: the `--json` flag every command that prints a result takes
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]

if TYPE_CHECKING:
    from omar_cli.services import Services
    from omar_cli.settings import Settings


@dataclass
class AppState:
    services: Services | None = None
    output: Output = field(default_factory=Output)
    debug: bool = False
    #: look-ups must work at the cabinet even with a broken config file: defaults then
    lenient: bool = False

    @classmethod
    def for_env(cls, env: Environment, services: Services | None = None) -> AppState:
        return cls(services=services, output=Output(env))

    @property
    def env(self) -> Environment:
        """The run's environment: the one the output writes through."""
        return self.output.env

    @property
    def svc(self) -> Services:
        if self.services is None:
            from omar_cli.services import Services

            self.services = Services(self._settings(), clock=self.env.clock)
            settings = self.services.settings
            i18n.set_language(settings.language)
            self.output.secrets = tuple(filter(None, [settings.api_key]))
            self.output.error_log = settings.paths.log / "errors.log"
        return self.services

    def _settings(self) -> Settings:
        from omar_cli.errors import ConfigError
        from omar_cli.settings import Settings, load_settings

        env = self.env.vars
        try:
            return load_settings(env)
        except ConfigError as exc:
            if not self.lenient:
                raise
            self.output.warn(_("{problem}; ignoring the config file").format(problem=exc.message))
        try:
            return load_settings(env, config_file=False)
        except ConfigError:  # a bad variable too: defaults, still with the right folders
            return Settings(paths=self.env.dirs)


def warn_damaged(st: AppState) -> None:
    """Sessions skipped because a file is damaged: said on stderr, never silently."""
    for damaged in st.svc.store.damaged_sessions():
        st.output.warn(damaged.problem)


def state(ctx: typer.Context, *, json_mode: bool = False, lenient: bool = False) -> AppState:
    """The shared state; commands call this first, saying whether they print JSON and
    whether they can do their job on default settings when the configuration is broken."""
    obj = ctx.find_root().obj
    assert isinstance(obj, AppState)
    obj.output.json_mode = json_mode
    obj.lenient = lenient
    obj.output.command = command_name(ctx.command_path)
    return obj


def command_name(command_path: str) -> str:
    return command_path.split(" ", 1)[1] if " " in command_path else command_path
