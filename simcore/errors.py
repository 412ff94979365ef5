"""Exception types shared across simcore.

They exist so that the CLI can tell a user's mistake (exit 1, a readable message) from a bug in
the engine (exit 2, a traceback).
"""


class SimcoreError(Exception):
    """Base class of every error simcore raises on purpose."""


class UserError(SimcoreError):
    """Something the user supplied (a config, a file, an option) is wrong; the message says what."""


class ConfigError(UserError):
    """A session config is invalid. ``problems`` lists every problem with its JSON path."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        lines = [f"{source}: {len(problems)} problem(s)"]
        lines += [f"  {path}: {message}" for path, message in problems]
        super().__init__("\n".join(lines))


class DataError(UserError):
    """Market data cannot be read or written as asked (missing store, unknown layout, ...)."""


class NotAvailableError(UserError):
    """A feature or provider that the config names is valid but not built into this version."""


class CalendarRangeError(UserError, ValueError):
    """A date lies outside the sessions the trading calendar knows.

    exchange_calendars publishes sessions from its start date to about a year after today; a
    backtest, an import or a generator asked for dates beyond that cannot be placed on the
    calendar. A ValueError too, for callers that treat it as a bad value.
    """


class ClockError(SimcoreError):
    """The virtual clock was asked to do something impossible (go backwards, pass a close)."""
