"""The ``simcore`` command: its command groups, and exit codes.

Exit codes: 0 ok, 1 a user error (bad config, bad option, missing file: the message says what),
2 an internal error (a bug: the traceback is shown).
"""

from __future__ import annotations

import sys
import traceback

import typer
from rich.markup import escape

from simcore.app.cli import backtest, data, emulate, live, report, sweep
from simcore.app.cli.common import err
from simcore.errors import UserError

app = typer.Typer(
    name="simcore",
    help="A deterministic session engine for intraday trading.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(backtest.validate)
app.command()(backtest.backtest)
app.command()(live.live)
app.command()(emulate.emulate)
app.command("sweep")(sweep.sweep)
app.command("report")(report.report_command)

data_app = typer.Typer(
    help="The local market-data store: import, inspect, generate, fetch.", no_args_is_help=True
)
data_app.command("info")(data.info)
data_app.command("check")(data.check)
data_app.command("sample")(data.sample)
data_app.command("import")(data.import_data)
data_app.command("synth")(data.synth)
data_app.command("fetch")(data.fetch)
app.add_typer(data_app, name="data")


def main(argv: list[str] | None = None) -> None:
    """Run the CLI with simcore's exit codes.

    The command-line parser exits 2 on a usage error (an unknown option, a missing argument);
    that is the user's mistake, so it becomes 1 here, and 2 is kept for internal errors.
    """
    try:
        app(args=argv, prog_name="simcore")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        sys.exit(1 if code == 2 else code)
    except UserError as exc:
        notes = "".join(f"\n{note}" for note in getattr(exc, "__notes__", ()))
        err.print(f"[red]error:[/] {escape(str(exc) + notes)}")
        sys.exit(1)
    except Exception:
        err.print("[red]internal error[/] (a bug in simcore; please report it with this trace):")
        traceback.print_exc()
        sys.exit(2)
