"""``simcore emulate <provider>``: a provider's loopback emulator serving the store, for
rehearsing ``simcore live`` without an account. What each emulator serves and which variables
a session exports to use it come from the provider's factory (``adapters/<name>/factory.py``)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from simcore.app.cli.common import (
    ClockSpeed,
    ClockStart,
    ClockStartedAt,
    StoreOption,
    clock_flags,
    interruptible,
    out,
    rehearsal_clock,
    store_with_sample,
)


def emulate(
    provider: Annotated[str, typer.Argument(help="alpaca, polygon or schwab.")],
    clock_start: ClockStart = None,
    clock_speed: ClockSpeed = 1.0,
    clock_started_at: ClockStartedAt = None,
    rest_port: Annotated[int, typer.Option(help="REST port on 127.0.0.1 (0: any free).")] = 0,
    stream_port: Annotated[
        int, typer.Option(help="Alpaca: websocket port on 127.0.0.1 (0: any free).")
    ] = 0,
    cash: Annotated[float, typer.Option(help="The emulated account's starting cash.")] = 1e5,
    token: Annotated[
        Path, typer.Option(help="Schwab: write a schwab-py token file for the emulator here.")
    ] = Path("schwab-emulator-token.json"),
    store: StoreOption = None,
) -> None:
    """Serve the store (default: the bundled sample) as a provider's APIs on 127.0.0.1: bars at
    the clock, and for Alpaca and Schwab an account whose orders fill on those bars."""
    from adapters import registry
    from adapters.provider import EmulatorOptions

    chosen = registry.provider(provider)
    clock = rehearsal_clock(clock_start, clock_speed, clock_started_at)
    target = store_with_sample(store)
    options = EmulatorOptions(rest_port, stream_port, cash, token)
    emulator = chosen.emulator(target, clock, options).start()
    try:
        lines, env = chosen.emulator_guide(emulator)
        out.print(f"{chosen.title} emulator serving {escape(str(target.root))} on 127.0.0.1")
        for line in lines:
            out.print(f"  {escape(line)}")
        out.print(
            f"In another terminal (with a config whose api_config.data_api is '{chosen.name}'):"
        )
        for name, value in env.items():
            out.print(f"  export {name}={escape(value)}")
        started_at = clock_started_at or clock.started_at  # when the clock read clock_start
        shared = f" --clock-started-at {started_at:.3f}" if clock_start else ""
        out.print(f"  simcore live CONFIG{clock_flags(clock_start, clock_speed)}{shared}")
        out.print("Ctrl-C stops the emulator.")
        with interruptible():
            threading.Event().wait()
    except KeyboardInterrupt:
        out.print("emulator stopped")
    finally:
        emulator.stop()
