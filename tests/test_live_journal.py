"""The journal of a live session (``simcore.live.journal``): everything the session received and
did, appended as it happened, holds what its results hold; a session killed with SIGKILL
leaves a journal that holds every bar released and every order it placed up to the kill.

The sessions trade through the Alpaca emulator (a real server on 127.0.0.1 that alpaca-py
talks to) on the rehearsal clock; a killed session is a real ``simcore live`` process.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from simcore.app.cli.main import main
from simcore.engine.analysis import Strategy
from simcore.live.journal import journal_path, read_journal
from tests.alpaca_support import KEYS, et
from tests.test_cli_live import run_cli, serving, write_config

SPEED = 600.0
START = et(12, 0)  # an hour before the early close of 2025-07-03: six seconds at 600x
DAY = START.date()


class FlipsEveryFiveMinutes(Strategy):
    """Buys 10 shares of a symbol on one 5m bar and sells them on the next: an order per
    symbol every five minutes, all session long."""

    subscriptions = ("5m",)

    def on_bar(self, ctx, symbol, interval, bar):
        if ctx.open_orders(symbol):
            return
        held = ctx.position(symbol).quantity
        ctx.order(symbol, -held if held else 10)


STRATEGY = "tests.test_live_journal:FlipsEveryFiveMinutes"


@pytest.fixture
def emulator_at_1200(sample_store, monkeypatch):
    yield from serving(sample_store, monkeypatch, START)


def live_argv(config: Path, out: Path, store: Path) -> list[str]:
    argv = ["live", str(config), "--out", str(out), "--store", str(store)]
    return [*argv, "--clock-start", START.isoformat(), "--clock-speed", str(SPEED)]


def killed(argv: list[str], when) -> None:
    """A `simcore` process run with ``argv``, SIGKILLed as soon as ``when()`` holds."""
    process = subprocess.Popen(
        [sys.executable, "-m", "simcore", *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        while process.poll() is None and not when():
            time.sleep(0.0005)
        process.send_signal(signal.SIGKILL)
        assert process.wait(30) == -signal.SIGKILL, process.stderr.read().decode()[-2000:]
    finally:
        if process.poll() is None:
            process.kill()
        process.stderr.close()


def test_the_journal_holds_what_the_results_hold(emulator_at_1200, tmp_path):
    config = write_config(tmp_path, trade_api="alpaca", strategy=STRATEGY)
    out = tmp_path / "out"
    assert run_cli(live_argv(config, out, tmp_path / "store")) == 0
    records, problem = read_journal(journal_path(out, DAY))
    assert problem is None
    assert records[0]["k"] == "session" and records[-1] == {"k": "end", "why": "close"}
    tag = records[0]["tag"]
    # every bar the results streamed was received, as the journal says, with its values
    bars = pl.read_parquet(out / "bars.parquet").filter(
        (pl.col("source") == "STREAMED") & (pl.col("interval") == "1m")
    )
    received = {
        (r["symbol"], r["t"]): r["v"]
        for r in records
        if r["k"] == "item" and r["kind"] in ("bar", "updated", "fill")
    }
    for row in bars.iter_rows(named=True):
        key = (row["symbol"], int(row["timestamp"].timestamp() * 1e9))
        ohlcv = [row[f] for f in ("open", "high", "low", "close", "volume")]
        assert received[key] == ohlcv
    assert sum(r["k"] == "tick" for r in records) >= 60  # a release per minute at least
    # the results say where they stand in the journal: its end (written after the close)
    position = json.loads((out / "metrics.json").read_text())["live"]["journal"]
    assert position == {
        "file": f"journal/{DAY}.jsonl",
        "bytes": journal_path(out, DAY).stat().st_size,
    }
    # what the session did: the orders, events and fills of the results
    did = [r for r in records if r["k"] == "did"]
    orders = [o for r in did for o in r.get("orders", ())]
    fills = [f for r in did for f in r.get("fills", ())]
    events = [e for r in did for e in r.get("events", ())]
    assert [o["id"] for o in orders] == pl.read_parquet(out / "orders.parquet")[
        "order_id"
    ].to_list()
    assert len(fills) == pl.read_parquet(out / "fills.parquet").height > 10
    assert len(events) == pl.read_parquet(out / "order_events.parquet").height
    # and the emulated account has those orders, by the client order ids the journal implies
    sent = {f"simcore-{tag}-{o['id']}" for o in orders}
    assert sent == set(emulator_at_1200.desk.by_client)


def test_a_killed_session_leaves_every_release_and_order_in_its_journal(
    emulator_at_1200, tmp_path, capsys
):
    """SIGKILL right after the emulator took an order: the journal, read back, holds every
    released minute's bars up to its last tick and every order the account has but those the
    session sent in its very last moment (a resume asks the account for them by client id)."""
    config = write_config(tmp_path, trade_api="alpaca", strategy=STRATEGY)
    out = tmp_path / "out"
    desk = emulator_at_1200.desk
    killed(live_argv(config, out, tmp_path / "store"), lambda: len(desk.by_client) >= 5)
    records, _ = read_journal(journal_path(out, DAY))
    assert records[0]["k"] == "session" and records[-1]["k"] != "end"
    tag = records[0]["tag"]
    journaled = {
        f"simcore-{tag}-{o['id']}" for r in records if r["k"] == "did" for o in r.get("orders", ())
    }
    at_broker = set(desk.by_client)
    assert journaled <= at_broker
    assert len(at_broker - journaled) <= 2  # the orders of the last engine update at most
    ticks = [r["now"] for r in records if r["k"] == "tick"]
    assert ticks and ticks == sorted(ticks)
    for path in out.rglob("*"):  # the keys are in none of it
        if path.is_file():
            text = path.read_bytes().decode("latin-1")
            assert KEYS.secret not in text and KEYS.key not in text
    json.dumps(records)  # every record is plain JSON
    # no results were written: the report says how to get them from the journal
    with pytest.raises(SystemExit) as exited:
        main(["report", str(out)])
    assert exited.value.code == 1
    message = " ".join(capsys.readouterr().err.split())
    assert f"journal of the live session of {DAY}" in message and "--resume" in message


def kill_and_resume(
    emulator, tmp_path: Path, killed_when, refresh: float = 0.0, wait=None, trade_api="alpaca"
) -> Path:
    """A `simcore live` process on the emulator's clock, killed (SIGKILL) when ``killed_when``
    holds, then (after ``wait(out)``, if given) `simcore live --resume` run to the close;
    returns the results folder."""
    config = write_config(tmp_path, trade_api=trade_api, strategy=STRATEGY)
    out = tmp_path / "out"
    argv = live_argv(config, out, tmp_path / "store")
    argv += ["--clock-started-at", repr(emulator.clock.started_at)]
    argv += ["--refresh", str(refresh)] if refresh else ["--no-report"]  # refreshes: reports
    killed(argv, lambda: killed_when(out))
    if wait is not None:
        wait(out)
    resumed = subprocess.run(
        [sys.executable, "-m", "simcore", "live", str(config), "--out", str(out), "--store",
         str(tmp_path / "store"), "--no-report", "--resume"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming the session of" in resumed.stderr
    return out


def assert_resumed_like_the_account(emulator, out: Path) -> None:
    """The results end with the emulated account's orders and fills, no order was sent twice,
    and every minute of the session has its bar or a recorded gap fill."""
    desk = emulator.desk
    # no order sent twice: the account took one order per client order id (a second would be
    # refused, 422) and the session never had one refused; a request cut off by the kill
    # reaches the account's log but not its book
    assert len(desk.book.orders) == len(desk.by_client)
    records, _ = read_journal(journal_path(out, DAY))
    refused = [r for r in records if r["k"] == "io" and r.get("e", {}).get("status") == 422]
    assert refused == []
    orders = pl.read_parquet(out / "orders.parquet")
    assert len(orders) == len(desk.by_client)
    held = pl.read_parquet(out / "positions.parquet").filter(
        (pl.col("session_date") == DAY) & (pl.col("quantity") != 0)
    )
    assert dict(held.select("symbol", "quantity").iter_rows()) == desk.positions()
    fills = pl.read_parquet(out / "fills.parquet")
    at_desk = sum(1 for o in desk.book.orders.values() if o.filled_quantity)
    assert fills["order_id"].n_unique() == at_desk
    assert_every_minute(out)


def assert_every_minute(out: Path) -> None:
    """Every minute of the session has its bar or a recorded gap fill."""
    bars = pl.read_parquet(out / "bars.parquet").filter(
        (pl.col("source") == "STREAMED") & (pl.col("interval") == "1m")
    )
    gap_fills = pl.read_parquet(out / "gap_fills.parquet")
    minutes = pl.datetime_range(START, et(12, 59), "1m", eager=True, time_zone="UTC")
    for symbol in ("ALFA", "BRVO"):
        have = set(bars.filter(pl.col("symbol") == symbol)["timestamp"].to_list())
        filled = set(gap_fills.filter(pl.col("symbol") == symbol)["bar"].to_list())
        missing = [m for m in minutes.to_list() if m not in have and m not in filled]
        assert missing == [], f"{symbol}: {missing[:5]}"


def test_killed_right_after_an_order_and_resumed(emulator_at_1200, tmp_path):
    desk = emulator_at_1200.desk
    out = kill_and_resume(emulator_at_1200, tmp_path, lambda _: len(desk.by_client) >= 3)
    assert_resumed_like_the_account(emulator_at_1200, out)


def test_killed_while_writing_a_refresh_and_resumed(emulator_at_1200, tmp_path):
    """--refresh writes the results so far every half second of wall time: killed while one
    is being written (a file still aside), the resumed session ends like the account."""

    def writing(out: Path) -> bool:
        return out.is_dir() and any(".partial" in p.name for p in out.iterdir())

    out = kill_and_resume(emulator_at_1200, tmp_path, writing, refresh=0.5)
    assert_resumed_like_the_account(emulator_at_1200, out)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_killed_at_a_random_moment_and_resumed(emulator_at_1200, tmp_path, seed):
    """Killed a random number of orders into the session, plus a random delay."""
    generator = random.Random(seed)
    orders, delay = generator.randrange(1, 12), generator.uniform(0, 0.3)
    desk = emulator_at_1200.desk
    moment: list[float] = []

    def due(_: Path) -> bool:
        if not moment and len(desk.by_client) >= orders:
            moment.append(time.monotonic() + delay)
        return bool(moment) and time.monotonic() >= moment[0]

    out = kill_and_resume(emulator_at_1200, tmp_path, due)
    assert_resumed_like_the_account(emulator_at_1200, out)


def test_killed_and_resumed_after_the_close(emulator_at_1200, tmp_path, capsys):
    """A session killed and not resumed until its market has closed: the resume replays the
    journal, asks the account what happened, fills every minute it was down from the
    provider's history, and writes the session's results and record like any other. Before,
    `simcore report` on its folder says it is a killed (or running) session's, and how to
    complete it."""
    desk = emulator_at_1200.desk
    clock = emulator_at_1200.clock
    close = et(13, 0).timestamp() * 1e9

    def killed_then_closed(_: Path) -> bool:
        return len(desk.by_client) >= 2

    def after_close(out: Path) -> None:
        while clock.now_ns() < close + 120e9:  # two session minutes after the close
            time.sleep(0.05)
        capsys.readouterr()
        refreshed = (out / "manifest.json").is_file()  # a --refresh was written before the kill
        with pytest.raises(SystemExit) as exited:
            main(["report", str(out)])
        message = " ".join(capsys.readouterr().err.split())
        assert "--resume" in message
        assert exited.value.code == (0 if refreshed else 1)
        assert ("status 'running'" if refreshed else "killed before it wrote") in message

    out = kill_and_resume(
        emulator_at_1200, tmp_path, killed_then_closed, refresh=0.5, wait=after_close
    )
    assert_resumed_like_the_account(emulator_at_1200, out)
    summary = json.loads((out / "manifest.json").read_text())["summary"]
    assert summary["status"] == "complete"


def test_a_session_on_the_paper_broker_killed_and_resumed(emulator_at_1200, tmp_path):
    """simcore's own paper broker has no outside account to ask: its fills come from the bars,
    so the replay makes them again. The resumed session begins with the orders the killed one
    journaled, the same ids and terms, sends each once, and holds what its fills add up to."""
    journal = journal_path(tmp_path / "out", DAY)
    before: list[dict] = []

    def orders_journaled(_: Path) -> bool:
        if not journal.is_file() or journal.read_bytes().count(b'"orders":') < 3:
            return False
        records, _ = read_journal(journal)
        before[:] = [o for r in records if r["k"] == "did" for o in r.get("orders", ())]
        return True

    out = kill_and_resume(emulator_at_1200, tmp_path, orders_journaled, trade_api="paper")
    assert len(before) >= 3
    assert emulator_at_1200.desk.by_client == {}  # no order left simcore
    orders = pl.read_parquet(out / "orders.parquet")
    assert orders["order_id"].is_unique().all()
    first = orders.head(len(before))
    assert first["order_id"].to_list() == [o["id"] for o in before]
    assert first["symbol"].to_list() == [o["symbol"] for o in before]
    assert first["quantity"].to_list() == [o["quantity"] for o in before]
    fills = pl.read_parquet(out / "fills.parquet")
    signed = fills.with_columns(
        pl.when(pl.col("side") == "buy").then(pl.col("quantity")).otherwise(-pl.col("quantity"))
    )
    bought = dict(signed.group_by("symbol").agg(pl.col("quantity").sum()).iter_rows())
    held = pl.read_parquet(out / "positions.parquet").filter(pl.col("session_date") == DAY)
    assert {s: q for s, q in held.select("symbol", "quantity").iter_rows() if q} == {
        s: q for s, q in bought.items() if q
    }
    assert_every_minute(out)


def test_a_killed_session_written_with_stop_and_not_continued(emulator_at_1200, tmp_path, capsys):
    """`simcore live --resume --stop`: the killed session's results and report, from its
    journal and the account, without going on — nothing streamed, no order sent, every order
    the account has in the results, the positions the account's (after the close, when the
    account has stopped moving); and it is not resumed again."""
    desk = emulator_at_1200.desk
    config = write_config(tmp_path, trade_api="alpaca", strategy=STRATEGY)
    out = tmp_path / "out"
    argv = [*live_argv(config, out, tmp_path / "store")]
    argv += ["--clock-started-at", repr(emulator_at_1200.clock.started_at), "--no-report"]
    killed(argv, lambda: len(desk.by_client) >= 3)
    sent = dict(desk.by_client)
    # written once the market has closed: the account moves no more (while it is open, its
    # working orders fill after the resume asked for them, and the two part)
    close = et(13, 0).timestamp() * 1e9
    while emulator_at_1200.clock.now_ns() < close + 120e9:
        time.sleep(0.05)
    resume = ["live", str(config), "--out", str(out), "--store", str(tmp_path / "store")]
    capsys.readouterr()
    assert run_cli([*resume, "--resume", "--stop"]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "written from its journal and the broker's account, and ended there" in printed
    assert desk.by_client == sent  # no order sent
    assert (out / "report.html").is_file()
    summary = json.loads((out / "manifest.json").read_text())["summary"]
    assert summary["status"] == "stopped"
    records, _ = read_journal(journal_path(out, DAY))
    assert records[-1] == {"k": "end", "why": "written"}
    tag = records[0]["tag"]
    orders = pl.read_parquet(out / "orders.parquet")
    ids = {f"simcore-{tag}-{o}": o for o in orders["order_id"]}
    assert set(sent) <= set(ids)  # every order the account has is in the results
    never = orders.filter(~pl.col("order_id").is_in([ids[c] for c in sent]))
    assert never.filter(pl.col("status") != "rejected").is_empty()  # the rest were not sent
    assert all("not sent" in r for r in never["reason"])
    held = pl.read_parquet(out / "positions.parquet").filter(
        (pl.col("session_date") == DAY) & (pl.col("quantity") != 0)
    )
    assert dict(held.select("symbol", "quantity").iter_rows()) == desk.positions()
    last_release = max(r["now"] for r in records if r["k"] == "tick")
    bars = pl.read_parquet(out / "bars.parquet").filter(pl.col("interval") == "1m")
    assert bars["timestamp"].max().timestamp() * 1e9 < last_release  # nothing past the journal
    assert run_cli([*resume, "--resume"]) == 1
    assert "was resumed with --stop" in " ".join(capsys.readouterr().err.split())
