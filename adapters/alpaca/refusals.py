"""What Alpaca's trading API answers when it does not take a request, in the broker's terms: a
refusal (403, 422) the strategy hears of as a rejection, the message and backoff of an error,
and the errors as a session's journal keeps them (``simcore.live.journal.Tape``)."""

from __future__ import annotations

from types import SimpleNamespace

from alpaca.common.exceptions import APIError
from requests.exceptions import RequestException

from simcore.trading.orders import Order, Rejection


class TapeErrors:
    """Alpaca's exceptions as the journal keeps them (``simcore.live.journal.Tape``)."""

    @staticmethod
    def encode(exc: Exception) -> dict | None:
        if isinstance(exc, APIError):
            headers = dict(exc.response.headers) if exc.response is not None else {}
            return {"api": str(exc), "status": exc.status_code, "headers": headers}
        if isinstance(exc, RequestException):
            return {"request": str(exc)}
        return None

    @staticmethod
    def decode(encoded: dict) -> Exception:
        if "request" in encoded:
            return RequestException(encoded["request"])
        response = SimpleNamespace(status_code=encoded["status"], headers=encoded["headers"])
        return APIError(encoded["api"], SimpleNamespace(response=response, request=None))


class Refused(Exception):
    """A request Alpaca would not take (403, 422): the order is rejected by the broker."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message

    def rejection(self, order: Order, now_ns: int) -> Rejection:
        return Rejection(
            order.id, order.symbol, now_ns, "broker", 0.0, float(self.status), self.message
        )


def message_of(exc: APIError) -> str:
    """Alpaca's own message of an error (its JSON's), else the error's text."""
    try:
        return exc.message
    except (ValueError, KeyError, TypeError):
        return str(exc)


def backoff(exc: APIError, attempt: int) -> float:
    """Seconds to wait before the next attempt: Alpaca's Retry-After, else doubling to 10 s."""
    header = exc.response.headers.get("Retry-After") if exc.response is not None else None
    try:
        return float(header) if header is not None else min(10.0, 0.5 * 2**attempt)
    except ValueError:
        return min(10.0, 0.5 * 2**attempt)


CHANGES_ACCOUNT = ("submit_order", "replace_order_by_id", "cancel_order_by_id")


def not_sent_after_stop(request: str) -> None:
    """A request that would change the account, met by a resume that only writes the killed
    session's results (``--resume --stop``) once the journal has no answer for it: not sent.
    An order (or a replace) is rejected; a cancel is dropped (the account keeps the order,
    and so do the results)."""
    if request != "cancel_order_by_id":
        raise Refused(
            0,
            "not sent: the killed session was resumed only to write its results (--stop), "
            "and Alpaca never had this order",
        )
