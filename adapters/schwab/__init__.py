"""Schwab through schwab-py. authlib (under schwab-py) warns on import that its httpx module has
a successor; that is not ours, so it is imported here once with the warning silenced."""

import warnings

with warnings.catch_warnings():
    import authlib.deprecate

    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    import authlib.integrations.httpx_client  # noqa: F401
