"""SystemManager: the owner of a session's config and of the TimeManager.

The seed's system API is the only way to change the market of a running system: changing
``exchange_group`` or ``asset_class`` here re-derives the timezone and calendar in the
TimeManager; nobody sets a timezone directly. The session lifecycle (``start``/``stop``) is
built with the backtest engine.
"""

from __future__ import annotations

from simcore.config import SessionConfig
from simcore.time import TimeManager, market_for


class SystemManager:
    def __init__(self, config: SessionConfig):
        self._config = config
        self._time_manager = TimeManager(config.exchange_group, config.asset_class, config.mode)

    @property
    def config(self) -> SessionConfig:
        return self._config

    def get_time_manager(self) -> TimeManager:
        return self._time_manager

    @property
    def timezone(self) -> str:
        """The system timezone, derived from exchange_group + asset_class (read-only)."""
        return self._time_manager.timezone

    @property
    def exchange_group(self) -> str:
        return self._config.exchange_group

    @property
    def asset_class(self) -> str:
        return self._config.asset_class

    def set_exchange_group(self, exchange_group: str) -> None:
        self._set_market(exchange_group, self.asset_class)

    def set_asset_class(self, asset_class: str) -> None:
        self._set_market(self.exchange_group, asset_class)

    def set_market(self, exchange_group: str, asset_class: str) -> None:
        """Change both at once (needed when only the pair is valid, e.g. to CRYPTO/CRYPTO)."""
        self._set_market(exchange_group, asset_class)

    def _set_market(self, exchange_group: str, asset_class: str) -> None:
        market_for(exchange_group, asset_class)  # a clear ValueError for an invalid pair
        self._config = self._config.model_copy(
            update={"exchange_group": exchange_group, "asset_class": asset_class}
        )
        self._time_manager.set_market(exchange_group, asset_class)
