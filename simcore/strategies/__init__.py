"""Example strategies shipped with simcore: read them to learn the Strategy API."""
