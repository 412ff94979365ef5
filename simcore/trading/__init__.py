"""Trading: orders from strategies (``context``, ``orders``), the risk checks of
``trading_config`` (``risk``), the ``trader`` between them and a broker, the paper broker
(``paper``) with ``fees``, the ``portfolio``, and the contract with brokers of the outside world
(``broker``). Imports: ``config``, ``errors``."""
