"""Contingent orders through Schwab: a bracket (a TRIGGER of an OCO, built with schwab-py's
order builders), a replace of its stop-loss (a cancel and a new order) and an OCO pair, placed
by schwab-py's real client in the emulator's account during a rehearsed live session; the fills
are those of the data-driven backtest. A trailing stop is refused before anything is sent."""

from __future__ import annotations

import json

import polars as pl
import pytest

from adapters.schwab.broker import SchwabBroker
from adapters.schwab.emulator.server import SchwabEmulator
from simcore.app.backtest import run_backtest
from simcore.time import LiveClock
from simcore.trading.order_terms import OrderError, require
from tests.alpaca_support import et, live_config
from tests.test_alpaca_contingent import FROM, MINUTE, EachKind
from tests.test_alpaca_trading import FILL_COLUMNS, assert_same, backtest_config, trading_config
from tests.test_cli_live import run_cli
from tests.test_schwab import rehearse


class SchwabKinds(EachKind):
    """EachKind without what Schwab is not sent from here (its trailing stop, the replace of a
    bracket's leg); it replaces a limit sell of BRVO instead."""

    trailing = False
    replace_leg = False

    def on_bar(self, ctx, symbol, interval, bar):
        super().on_bar(ctx, symbol, interval, bar)
        if symbol == "BRVO" and bar.timestamp == FROM + 4 * MINUTE:
            self.far = ctx.sell("BRVO", 10, type="limit", limit_price=round(bar.close + 5, 2))
        if symbol == "BRVO" and bar.timestamp == FROM + 6 * MINUTE:
            ctx.replace(self.far.id, limit_price=round(bar.close + 0.05, 2))


def test_contingent_orders_through_schwab_fill_as_the_backtest(sample_store, tmp_path, monkeypatch):
    live = live_config(trade_api="schwab").model_dump(mode="json")
    live["api_config"]["data_api"] = "schwab"
    live["trading_config"] = trading_config()
    live["metadata"]["strategy"] = "tests.test_schwab_contingent:SchwabKinds"
    (tmp_path / "live.json").write_text(json.dumps(live))
    speed = 150.0
    with SchwabEmulator(sample_store, LiveClock(et(12, 35), speed)) as emu:
        rehearse(monkeypatch, emu, tmp_path)
        argv = ["live", str(tmp_path / "live.json"), "--store", str(tmp_path / "s"), "--out",
                str(tmp_path / "out"), "--clock-start", "2025-07-03T12:35:00-04:00",
                "--clock-speed", str(speed)]  # fmt: skip
        assert run_cli(argv) == 0
        account = emu.desk.positions()
        placed = [r for r in emu.desk.book.orders.values()]
    orders = pl.read_parquet(tmp_path / "out" / "orders.parquet")
    assert {"bracket", "oco"} <= set(orders["order_class"])
    assert (orders["status"] == "replaced").sum() == 1
    assert orders.filter(pl.col("leg").is_not_null() & (pl.col("status") == "filled")).height
    expected = run_backtest(backtest_config(), sample_store, SchwabKinds())
    fills = pl.read_parquet(tmp_path / "out" / "fills.parquet").select(FILL_COLUMNS)
    assert_same(fills, expected.tables["fills"].select(FILL_COLUMNS))
    held = pl.read_parquet(tmp_path / "out" / "positions.parquet").filter(pl.col("quantity") != 0)
    assert dict(held.select("symbol", "quantity").iter_rows()) == account
    assert len(placed) == orders.height  # every order once at Schwab, none twice


def test_what_schwab_is_not_sent_is_refused_before_sending():
    with pytest.raises(
        OrderError, match="A trailing stop is not available through the schwab broker"
    ):
        require(SchwabBroker, "trailing_stop")
    with pytest.raises(OrderError, match="Replacing a leg of a bracket, OTO or OCO group is not"):
        require(SchwabBroker, "replace_leg")
    for kind in ("bracket", "oto", "oco"):
        require(SchwabBroker, kind)
