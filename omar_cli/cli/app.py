"""The root command: global options, the error boundary, and the sub-commands."""

from __future__ import annotations

import sys
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from omar_cli import __version__
from omar_cli.cli.context import AppState, command_name
from omar_cli.environment import Environment
from omar_cli.errors import ExitCode, Interrupted, OmarError, UsageError
from omar_cli.i18n import _


class OmarGroup(TyperGroup):
    """Turns every OmarError into one line on stderr and its exit code: the one boundary."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        from omar_cli import i18n

        i18n.set_language(None)  # guessed again for each run, set once the settings load
        return super().main(*args, **kwargs)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        # The root's own options are parsed before invoke(): `omar --bogus` lands here.
        given = list(args)  # the parser consumes the list it is handed
        if _wants_help(self, given):  # only then: other runs never load the catalogue
            from omar_cli.cli.helptext import translate_tree
            from omar_cli.i18n import language

            translate_tree(self, language())
        try:
            return list(super().parse_args(ctx, args))
        except typer.TyperException as exc:
            _usage_exit(ctx, exc, given)
        except BrokenPipeError:  # `omar --help | head -1`: the reader had enough
            _reader_left()

    def invoke(self, ctx: Any) -> Any:
        argv = [*getattr(ctx, "_protected_args", []), *ctx.args]  # Click empties these
        try:
            return super().invoke(ctx)
        except OmarError as exc:
            if _debug(ctx):  # the cause behind the one-line message, key redacted
                obj = ctx.obj if isinstance(ctx.obj, AppState) else AppState()
                import traceback

                obj.output.err(traceback.format_exc().rstrip())
            report_error(ctx, exc)
            raise typer.Exit(int(exc.code)) from None
        except KeyboardInterrupt:
            interrupted = Interrupted(_("interrupted"), hint=_("what was stored is kept"))
            report_error(ctx, interrupted)
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except (typer.Exit, typer.Abort):
            raise
        except BrokenPipeError:  # `omar fault --help | head -1`
            _reader_left()
        except typer.TyperException as exc:
            _usage_exit(ctx, exc, argv)
        except Exception as exc:
            if _debug(ctx):
                raise
            error = OmarError(
                _("internal error: {error}").format(error=f"{type(exc).__name__}: {exc}"),
                hint=_("run again with --debug for the traceback and report it"),
            )
            report_error(ctx, error)
            raise typer.Exit(int(ExitCode.ERROR)) from None


def _usage_exit(ctx: Any, exc: Exception, argv: list[str]) -> NoReturn:
    """Usage errors get the same one-line treatment (and JSON) as every other error."""
    code = int(getattr(exc, "exit_code", ExitCode.USAGE))
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    if not message.strip():  # a group called bare: its help is already printed
        raise typer.Exit(code) from None
    failed_ctx = getattr(exc, "ctx", None)
    command = failed_ctx.command_path if failed_ctx is not None else "omar"
    ctx.obj = ctx.obj if isinstance(ctx.obj, AppState) else AppState()
    ctx.obj.output.command = command_name(command)
    ctx.obj.output.json_mode = "--json" in argv
    from omar_cli.cli.usage import translate_usage

    hint = _("see {command} --help").format(command=command)
    report_error(ctx, UsageError(translate_usage(message.rstrip(".")), hint=hint))
    raise typer.Exit(code) from None


def _reader_left() -> NoReturn:
    """stdout's reader closed the pipe: not a failure; keep the exit flush quiet too."""
    from omar_cli.cli.output import silence

    silence(sys.stdout)
    raise typer.Exit(0) from None


def _wants_help(group: TyperGroup, args: list[str]) -> bool:
    """Whether Typer is about to print help: a help flag, no arguments, or a bare group."""
    if not args or "--help" in args or "-h" in args:
        return True
    sub = group.commands.get(args[0]) if len(args) == 1 else None
    return sub is not None and hasattr(sub, "commands")


def _debug(ctx: Any) -> bool:
    obj = ctx.obj
    return isinstance(obj, AppState) and obj.debug


def report_error(ctx: Any, exc: OmarError) -> None:
    from omar_cli.cli.render import render_error

    obj = ctx.obj if isinstance(ctx.obj, AppState) else AppState()
    render_error(obj.output, exc)


def _version(value: bool) -> None:
    if value:
        print(f"omar {__version__}")
        raise typer.Exit()


def root(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """OMAR: field assistant for ABB ACS150 drives.

    Example: omar fault F0002
    """
    if ctx.obj is None:  # built here, once per run; a test may have passed its own
        ctx.obj = AppState.for_env(Environment.create())
    ctx.obj.debug = debug


#: the modules that register each top-level command, in the order `omar --help` lists them:
#: a run builds only the command it invokes, so 30 commands cost `omar fault` nothing
_MODULES: dict[str, tuple[str, ...]] = {
    "ask": ("ask",),
    "image": ("image",),
    "record-and-transcribe": ("record",),
    "transcribe": ("record",),
    "devices": ("record",),
    "fault": ("lookup",),
    "alarm": ("lookup",),
    "param": ("lookup",),
    "search": ("lookup",),
    "show": ("show",),
    "codes": ("codes",),
    "sync": ("sync",),
    "sessions": ("sessions",),
    "status": ("status",),
    "review": ("review", "review_queue", "review_data", "review_field"),
    "note": ("note",),
    "config": ("config",),
    "knowledge": ("knowledge",),
}
_ALL = tuple(dict.fromkeys(name for names in _MODULES.values() for name in names))


def build(modules: tuple[str, ...] = _ALL) -> typer.Typer:
    """The root command with the sub-commands of ``modules`` (all of them by default)."""
    import importlib

    built = typer.Typer(
        cls=OmarGroup,
        name="omar",
        help="OMAR: field assistant for ABB ACS150 drives. Offline look-ups and grounded answers.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    built.callback()(root)
    for name in modules:
        module = importlib.import_module(f"omar_cli.cli.{name}")
        if name in ("config", "knowledge"):
            built.add_typer(module.app, name=name)
        elif hasattr(module, "register"):  # review_queue and review_data join review's group
            module.register(built)
    return built


def _modules_for(args: list[str]) -> tuple[str, ...]:
    """What a run needs: the invoked command's module; everything for the root's help."""
    command = next((arg for arg in args if not arg.startswith("-")), None)
    return _MODULES.get(command or "", _ALL)


def __getattr__(name: str) -> Any:
    # `from omar_cli.cli.app import app` (tests, tools) gets the whole tree, built once
    if name == "app":
        whole = build()
        globals()["app"] = whole
        return whole
    raise AttributeError(name)


def main() -> None:
    was_devnull = _stdout_is_devnull()
    try:
        build(_modules_for(sys.argv[1:]))(prog_name="omar")
    except SystemExit as exc:
        # Rich meets a closed pipe (`omar --help | head -1`) by pointing stdout at
        # /dev/null and exiting 1; the reader leaving early is no failure of ours.
        if exc.code == 1 and not was_devnull and _stdout_is_devnull():
            raise SystemExit(0) from None
        raise


def _stdout_is_devnull() -> bool:
    import os

    try:
        out, null = os.fstat(1), os.stat(os.devnull)
    except OSError:
        return False
    return (out.st_dev, out.st_ino) == (null.st_dev, null.st_ino)
