"""The application layer: the `simcore` command line and the Python API."""
