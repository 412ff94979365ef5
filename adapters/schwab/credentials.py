"""Schwab's credentials: the app's key and secret, and the OAuth token file, all from the
environment (``SCHWAB_API_KEY``, ``SCHWAB_APP_SECRET``, ``SCHWAB_TOKEN_PATH``).

The token file is schwab-py's own (written by its login flow). A missing file or a refresh token
past its seven days is a message saying how to create one, never a traceback; tokens and the
secret are never printed (their holders hide them from ``repr``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from simcore.providers import CredentialsMissing, CredentialsRejected
from simcore.time import LiveClock

KEY_ENV, SECRET_ENV, TOKEN_ENV = "SCHWAB_API_KEY", "SCHWAB_APP_SECRET", "SCHWAB_TOKEN_PATH"
REFRESH_TOKEN_SECONDS = 7 * 86_400  # Schwab's refresh tokens last seven days
LOGIN_FLOW = (
    "create one with schwab-py's login flow: python -c \"import schwab; "
    "schwab.auth.client_from_manual_flow('$SCHWAB_API_KEY', '$SCHWAB_APP_SECRET', "
    "'https://127.0.0.1:8182', '$SCHWAB_TOKEN_PATH')\""
)


@dataclass(frozen=True)
class SchwabCredentials:
    api_key: str = field(repr=False)
    app_secret: str = field(repr=False)
    token_path: Path

    def __repr__(self) -> str:
        return f"SchwabCredentials(<from the environment>, token at {self.token_path})"

    def read_token(self) -> dict:
        """The token file as schwab-py wrote it; a clear message if it cannot serve."""
        if not self.token_path.is_file():
            raise CredentialsMissing(f"no Schwab token file at {self.token_path}: {LOGIN_FLOW}")
        try:
            token = json.loads(self.token_path.read_text())
        except (OSError, ValueError) as exc:
            raise CredentialsMissing(
                f"the Schwab token file {self.token_path} cannot be read ({type(exc).__name__}): "
                f"{LOGIN_FLOW}"
            ) from None
        created = token.get("creation_timestamp") if isinstance(token, dict) else None
        if not isinstance(created, int | float) or "token" not in token:
            raise CredentialsMissing(
                f"{self.token_path} is not a schwab-py token file: {LOGIN_FLOW}"
            )
        if LiveClock().now_ns() / 1e9 - created > REFRESH_TOKEN_SECONDS:  # the wall's time
            raise CredentialsRejected(
                f"the Schwab token in {self.token_path} is older than seven days and its refresh "
                f"token has expired: {LOGIN_FLOW}"
            )
        return token

    def write_token(self, token: dict, *args, **kwargs) -> None:
        """schwab-py's token writer: a refreshed token replaces the file atomically."""
        partial = self.token_path.with_suffix(".partial")
        partial.write_text(json.dumps(token))
        partial.replace(self.token_path)


def credentials_from_env(env: Mapping[str, str] = os.environ) -> SchwabCredentials:
    values = {name: env.get(name, "").strip() for name in (KEY_ENV, SECRET_ENV, TOKEN_ENV)}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise CredentialsMissing(
            f"Schwab's credentials are read from the environment, and {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set: export {KEY_ENV} and {SECRET_ENV} "
            f"(your app's, on developer.schwab.com) and {TOKEN_ENV} (the token file)"
        )
    return SchwabCredentials(values[KEY_ENV], values[SECRET_ENV], Path(values[TOKEN_ENV]))
