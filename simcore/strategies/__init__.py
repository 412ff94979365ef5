"""Strategies shipped with simcore (read them to learn the Strategy API), and ``loading``:
a strategy class found from ``module:Class`` or ``file.py:Class``. Imports: ``engine``."""
