"""Fee models of the paper broker (``trading_config.fees``)."""

from __future__ import annotations

from simcore.config.models import FeeConfig


def order_fee(config: FeeConfig, quantity: float, price: float) -> float:
    """The fee of one fill of ``quantity`` shares at ``price``.

    ``per_share`` charges per share, at least ``minimum`` and at most ``maximum_pct`` percent of
    the fill's value (the IB-like $0.005 a share, $1 minimum, 1% maximum); a fill smaller than
    the minimum's worth pays the percentage cap when that is lower, as IB does.
    """
    if config.model == "zero" or quantity == 0:
        return 0.0
    if config.model == "flat":
        return config.flat
    value = abs(quantity) * price
    fee = max(config.per_share * abs(quantity), config.minimum)
    return round(min(fee, value * config.maximum_pct / 100.0), 10)
