"""Live latency on loopback: from the emulator sending a minute's bar frame to ``on_bars``.

    python -m benchmarks.live_latency                  # 10 and 100 symbols, 30 session minutes
    python -m benchmarks.live_latency --symbols 10 --minutes 10 --provider polygon
    python -m benchmarks.live_latency --symbols 10 --minutes 5 --provider polygon --interval 1s

The benchmark workload's first day is served by the provider's emulator (Alpaca's: msgpack
frames through alpaca-py's stream client; Polygon's: JSON frames through massive's
WebSocketClient; Schwab's: JSON through schwab-py's StreamClient); ``simcore``'s live session
connects to it, takes each bar into the
session grid, releases the minute when every symbol's bar is in, and the analysis engine calls a
strategy subscribed to 1m bars. The clock is a rehearsal clock at 60x (a session minute a wall
second), joined 30 minutes before the close; gap filling is off so that nothing else runs.
The latency of a bar is the wall time from the emulator's ``send`` of the frame that carried it
to the strategy's call. With ``--interval 1s`` (Polygon only: second aggregates) the session
streams 1s bars from a one-day store with second bars, and a strategy subscribed to 1s is
called every second. Wall-clock figures: measured here, never asserted by a test.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from adapters.alpaca.emulator.server import AlpacaEmulator
from adapters.alpaca.feed import AlpacaFeed
from adapters.alpaca.keys import AlpacaKeys
from adapters.polygon.emulator.server import PolygonEmulator
from adapters.polygon.feed import PolygonFeed
from adapters.polygon.history_api import STREAMS as POLYGON_STREAMS
from adapters.polygon.keys import PolygonKey
from adapters.schwab.client import schwab_client
from adapters.schwab.credentials import SchwabCredentials
from adapters.schwab.emulator.server import SchwabEmulator
from adapters.schwab.feed import SchwabFeed
from adapters.schwab.history_api import STREAMS as SCHWAB_STREAMS
from benchmarks.workload import SEED, START, make, symbols
from simcore.config import SessionConfig
from simcore.engine.analysis import Strategy
from simcore.engine.metrics import percentiles
from simcore.live.session import LiveOptions, run_live
from simcore.runtime.system import SystemManager
from simcore.store.parquet import ParquetStore
from simcore.store.source import LIVE_STREAMS, LocalDataSource
from simcore.store.synth import SynthSpec, write_synthetic
from simcore.time import LiveClock, TimeManager

SPEED = 60.0
STREAMS = {"alpaca": LIVE_STREAMS, "polygon": POLYGON_STREAMS, "schwab": SCHWAB_STREAMS}
KEYS = AlpacaKeys("bench-key", "bench-secret")


class CallTimes(Strategy):
    subscriptions: tuple[str, ...] = ("1m",)

    def on_start(self, ctx) -> None:
        self.calls: dict[tuple[str, int], float] = {}

    def on_bars(self, ctx, interval, indices) -> None:
        now = time.perf_counter()
        stamps = ctx.last_bars(interval, indices, ("timestamp",))["timestamp"]
        for i, ns in zip(indices.tolist(), stamps.tolist(), strict=True):
            self.calls[(ctx.symbols[i], ns)] = now


@contextlib.contextmanager
def _serve(provider: str, store: ParquetStore, clock: LiveClock):
    """A feed connected to the provider's emulator, and what the emulator sent:
    {(symbol, bar ns): perf_counter of the send}."""
    if provider == "polygon":
        with PolygonEmulator(store, clock, key=KEYS.key) as emulator:
            feed = PolygonFeed(PolygonKey(KEYS.key), url=emulator.stream_url, clock_speed=SPEED)
            yield feed, lambda: {(s, ns): wall for wall, s, ns in emulator.sent}
        return
    if provider == "schwab":
        with SchwabEmulator(store, clock) as emulator, tempfile.TemporaryDirectory() as tmp:
            token = emulator.token_file(Path(tmp) / "token.json")
            client = schwab_client(SchwabCredentials("key", "secret", token), emulator.rest_url)
            feed = SchwabFeed(client, clock_speed=SPEED)
            yield feed, lambda: {(s, ns): wall for wall, s, ns in emulator.sent}
        return
    with AlpacaEmulator(store, clock, key=KEYS.key, secret=KEYS.secret) as emulator:
        feed = AlpacaFeed(KEYS, url=emulator.stream_url, clock_speed=SPEED)
        yield feed, lambda: {(m.symbol, m.time_ns): m.wall for m in emulator.sent if m.kind == "b"}


def make_seconds(count: int, folder: Path) -> Path:
    """The workload's first day with 1s bars that add up to its 1m bars (the synth's)."""
    root = folder / f"w{count}-seconds"
    if not (root / "bars").is_dir():
        spec = SynthSpec(tuple(symbols(count)), START, START, seed=SEED, seconds=True)
        write_synthetic(ParquetStore(root), spec, TimeManager())
    return root


def measure(
    root: Path, count: int, minutes: int, provider: str = "alpaca", interval: str = "1m"
) -> dict[str, float]:
    tm = TimeManager()
    close = tm.get_trading_session(START).regular_close
    start = close - timedelta(minutes=minutes, seconds=20)
    clock = LiveClock(start, SPEED)
    store = ParquetStore(root)
    config = SessionConfig.model_validate(
        {
            "session_name": "live latency",
            "mode": "live",
            "session_data_config": {
                "symbols": symbols(count),
                "streams": [interval],
                "gap_filler": {"enable_session_quality": False},
            },
            "trading_config": {"max_buying_power": 1e6, "max_per_trade": 1e4,
                               "max_per_symbol": 1e5, "max_open_positions": 10},
            "api_config": {"data_api": "local", "trade_api": "paper"},
        }
    )  # fmt: skip
    strategy = CallTimes()
    strategy.subscriptions = (interval,)
    with _serve(provider, store, clock) as (feed, sent_bars):
        system = SystemManager(config, clock)
        run_live(
            system,
            store,
            strategy,
            LocalDataSource(store, system.get_time_manager(), live_streams=STREAMS[provider]),
            feed,
            clock,
            None,
            None,
            LiveOptions(sessions=1, lead_seconds=10),
        )
        sent = sent_bars()
    latencies = [
        (strategy.calls[key] - wall) * 1e3 for key, wall in sent.items() if key in strategy.calls
    ]
    figures = percentiles(latencies)
    figures["bars_sent"] = len(sent)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, nargs="*", default=[10, 100])
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--provider", choices=["alpaca", "polygon", "schwab"], default="alpaca")
    parser.add_argument("--interval", choices=["1m", "1s"], default="1m")
    args = parser.parse_args()
    if args.interval == "1s" and args.provider != "polygon":
        parser.error("--interval 1s: only Polygon streams second bars")
    with tempfile.TemporaryDirectory() as tmp:
        print(
            f"{args.provider}: frame sent -> on_bars, loopback, {SPEED:g}x rehearsal clock, "
            f"{args.minutes} minutes of {args.interval} bars"
        )
        print(f"{'symbols':>8} {'bars':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for count in args.symbols:
            build = make_seconds if args.interval == "1s" else make
            root = build(count, Path(tmp))
            r = measure(root, count, args.minutes, args.provider, args.interval)
            print(
                f"{count:>8} {r['count']:>7} {r['p50']:>8.3f} {r['p99']:>8.3f} {r['max']:>8.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
