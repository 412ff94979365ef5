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


PACKAGES = [
    p.parent for folder in ("simcore", "adapters") for p in (REPO / folder).rglob("__init__.py")
]


def test_the_top_of_simcore_is_folders_by_role_with_a_few_modules():
    """The tree reads like the architecture: simcore/ holds packages by role, and only the
    modules every layer shares (errors, the provider contract) and the package's own."""
    modules = sorted(p.name for p in (REPO / "simcore").glob("*.py"))
    assert len(modules) <= 8, modules
    assert {"config", "time", "store", "engine", "runtime", "live", "trading", "results",
            "sweep", "app"} <= {p.name for p in (REPO / "simcore").iterdir() if p.is_dir()}  # fmt: skip


def test_no_module_is_over_450_lines():
    long = {
        str(p.relative_to(REPO)): n for p in SOURCES if (n := len(p.read_text().splitlines())) > 450
    }
    assert long == {}


def test_every_package_says_what_lives_there_and_what_it_may_import():
    import ast

    missing = []
    for package in PACKAGES:
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text())) or ""
        if len(doc) < 60:
            missing.append(str(package.relative_to(REPO)))
    assert missing == []
    top = [p for p in PACKAGES if p.parent in (REPO / "simcore", REPO / "adapters", REPO)]
    silent = [
        str(p.relative_to(REPO))
        for p in top
        if "import"
        not in (ast.get_docstring(ast.parse((p / "__init__.py").read_text())) or "").lower()
    ]
    assert silent == []
