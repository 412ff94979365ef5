"""The importers against files as users have them: `simcore data import` on generated CSV and
Parquet files ends in a clean import (exit 0) or a user error with its reason (exit 1), never an
internal error; and the store's own rows, exported with Polars' defaults, import back the same.

Generated: column spellings (mapped with --columns or not), numbers and booleans as text, empty
cells, extra and missing columns, duplicate headers, encodings with and without a BOM, line
endings, timestamps as text with and without offsets, as epochs in each unit (as numbers and as
text), as Parquet datetimes with and without a zone, and empty files. `pytest
--hypothesis-show-statistics tests/test_import_fuzz.py` prints how the examples ended.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from simcore.app.cli.main import main
from simcore.store.parquet import BARS_1M, ParquetStore
from simcore.store.synth import SynthSpec, write_synthetic
from simcore.time import TimeManager

OPEN_UTC = datetime(2025, 7, 1, 13, 30, tzinfo=UTC)  # 09:30 in New York
FIELDS = ("open", "high", "low", "close", "volume")


def cli(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    return int(exited.value.code or 0)


@st.composite
def timestamps(draw, n: int):
    """n minute stamps from the open, in one of the forms users' files have, and the
    options the import then needs."""
    minutes = [OPEN_UTC + timedelta(minutes=i) for i in range(n)]
    form = draw(st.sampled_from(["offset", "zulu", "naive-local", "naive-utc", "epoch", "space"]))
    if form == "offset":
        return [m.astimezone().isoformat() for m in minutes], []
    if form == "zulu":
        return [m.strftime("%Y-%m-%dT%H:%M:%SZ") for m in minutes], []
    if form == "space":
        return [m.strftime("%Y-%m-%d %H:%M:%S") for m in minutes], ["--tz", "UTC"]
    if form == "naive-utc":
        return [m.strftime("%Y-%m-%dT%H:%M:%S") for m in minutes], draw(
            st.sampled_from([["--tz", "UTC"], []])  # without --tz: refused, with its reason
        )
    if form == "naive-local":
        local = [(m - timedelta(hours=4)).strftime("%Y-%m-%d %H:%M") for m in minutes]
        return local, draw(st.sampled_from([["--tz", "America/New_York"], ["--tz", "UTC"]]))
    unit = draw(st.sampled_from(["s", "ms", "us", "ns"]))
    scale = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[unit]
    values = [int(m.timestamp()) * scale for m in minutes]
    return values, draw(st.sampled_from([["--epoch-unit", unit], []]))


def cell(draw, value: float):
    """A number as users' files write it: plain, as text, blank, or something else."""
    kind = draw(st.sampled_from(["number", "number", "text", "blank", "bool", "comma", "nan"]))
    return {
        "number": value,
        "text": f"{value}",
        "blank": None,
        "bool": draw(st.sampled_from(["true", "FALSE", "1"])),
        "comma": f"{value:,.2f}".replace(".", ","),
        "nan": "NaN",
    }[kind]


@st.composite
def user_file(draw):
    rows = draw(st.integers(0, 6))
    stamps, options = draw(timestamps(max(rows, 1)))
    stamps = stamps[:rows]
    names = {f: draw(st.sampled_from([f, f.upper(), f[0]])) for f in ("timestamp", *FIELDS)}
    columns = {names["timestamp"]: stamps}
    for f in FIELDS:
        if draw(st.integers(0, 7)) or f == "close":  # now and then a file lacks a column
            columns[names[f]] = [cell(draw, 10.0 + i / 10) for i in range(rows)]
    if draw(st.booleans()):
        columns["comment"] = ["x"] * rows  # an extra column
    mapping = [f"{f}={n}" for f, n in names.items() if n != f and n in columns]
    if mapping and draw(st.booleans()):
        options += ["--columns", ",".join(mapping)]
    return (
        columns,
        options,
        draw(st.sampled_from(["csv", "parquet"])),
        draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1"])),
        draw(st.sampled_from(["\n", "\r\n"])),
        draw(st.booleans()),
    )


def write(path: Path, columns: dict, kind: str, encoding: str, newline: str, twice: bool) -> None:
    if kind == "parquet":  # a column of numbers is numeric there; one with any text, text
        series = []
        for name, values in columns.items():
            numeric = all(v is None or isinstance(v, int | float) for v in values)
            texts = [None if v is None else str(v) for v in values]
            series.append(pl.Series(name, values if numeric else texts))
        pl.DataFrame(series).write_parquet(path)
        return
    header = list(columns) + ([next(iter(columns))] if twice else [])  # a duplicate header
    lines = [",".join(header)]
    rows = len(next(iter(columns.values()))) if columns else 0
    for i in range(rows):
        values = [columns[c][i] for c in columns] + ([columns[header[0]][i]] if twice else [])
        lines.append(
            ",".join("" if v is None else f'"{v}"' if "," in str(v) else str(v) for v in values)
        )
    path.write_bytes((newline.join(lines) + (newline if rows else "")).encode(encoding))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(drawn=user_file())
def test_a_users_file_imports_or_is_refused_with_a_reason(drawn, capsys):
    columns, options, kind, encoding, newline, twice = drawn
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"bars.{kind}"
        write(path, columns, kind, encoding, newline, twice)
        argv = ["data", "import", str(path), "--format", kind, "--symbol", "XYZ"]
        code = cli([*argv, *options, "--store", str(Path(folder) / "store")])
    printed = capsys.readouterr()
    assert code in (0, 1), printed.err[-3000:]  # 2 would be an internal error: a traceback
    if code == 1:
        assert "error:" in printed.err and "Traceback" not in printed.err
        event(f"refused: {printed.err.split(':', 2)[-1].strip()[:40]}")
    else:
        event("imported")


def test_the_stores_rows_exported_with_polars_defaults_import_back_the_same(tmp_path):
    """Round trip: a synthetic day of the store, written out as CSV and as Parquet with
    Polars' defaults, imports into an empty store as exactly the same rows."""
    source = ParquetStore(tmp_path / "source")
    spec = SynthSpec(("ALFA", "BRVO"), OPEN_UTC.date(), OPEN_UTC.date(), seed=11)
    write_synthetic(source, spec, TimeManager())
    rows = source.read(BARS_1M, ["ALFA", "BRVO"]).sort("symbol", "timestamp")
    exported = rows.select("symbol", "timestamp", *FIELDS)
    for kind in ("csv", "parquet"):
        path = tmp_path / f"export.{kind}"
        exported.write_csv(path) if kind == "csv" else exported.write_parquet(path)
        target = tmp_path / f"back-{kind}"
        assert cli(["data", "import", str(path), "--format", kind, "--store", str(target)]) == 0
        back = ParquetStore(target).read(BARS_1M, ["ALFA", "BRVO"]).sort("symbol", "timestamp")
        assert back.select(exported.columns).equals(exported), kind
        assert back["extended"].equals(rows["extended"]), kind
