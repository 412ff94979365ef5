"""Rules of the design that a grep can check: time and timezones only through the TimeManager."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = [p for folder in ("simcore", "adapters") for p in (REPO / folder).rglob("*.py")]
TIME_PACKAGE = REPO / "simcore" / "time"

FORBIDDEN = {
    "reading the clock": re.compile(
        r"datetime\.now\(|datetime\.utcnow\(|time\.time\(\)|date\.today\("
    ),
    "converting timezones": re.compile(
        r"convert_time_zone\(|replace_time_zone\(|ZoneInfo\(|astimezone\(|tz_convert\(|tz_localize\("
    ),
    "hard-coding market hours": re.compile(r"time\(9, ?30\)|time\(16, ?0\)|\b9:30\b|\b16:00\b"),
}


def test_only_the_time_manager_reads_the_clock_or_converts_timezones():
    assert len(SOURCES) > 20
    offenders = []
    for path in SOURCES:
        if TIME_PACKAGE in path.parents:
            continue
        code = "\n".join(
            line.split("#")[0] for line in path.read_text().splitlines()
        )  # not comments
        code = re.sub(r'"""[\s\S]*?"""', "", code)  # nor docstrings
        for rule, pattern in FORBIDDEN.items():
            for match in pattern.finditer(code):
                offenders.append(f"{path.relative_to(REPO)}: {rule}: {match.group(0)}")
    assert offenders == []
