"""schwab-py's ``Client`` on the user's token, optionally routed to a loopback emulator.

The client's REST host is fixed in its code (``https://api.schwabapi.com``). To reach the
emulator, the HTTP client under it (authlib's ``OAuth2Client``, an ``httpx.Client``) is built
with a mount for that host whose transport sends each request to the emulator's address instead:
the library is not patched, its requests are carried elsewhere. Token refreshes take the same
route and are written back to the token file.
"""

from __future__ import annotations

import httpx
from authlib.integrations.httpx_client import OAuth2Client
from schwab.auth import TOKEN_ENDPOINT, TokenMetadata
from schwab.client import Client

from adapters.schwab.credentials import SchwabCredentials

SCHWAB_HOST = "https://api.schwabapi.com"


class ForwardingTransport(httpx.BaseTransport):
    """Sends every request to ``target`` (scheme, host, port), keeping its path and query."""

    def __init__(self, target: str):
        self.target = httpx.URL(target)
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(
            scheme=self.target.scheme, host=self.target.host, port=self.target.port
        )
        request.headers["Host"] = request.url.netloc.decode()
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def schwab_client(credentials: SchwabCredentials, url: str | None = None) -> Client:
    """The client schwab-py's ``client_from_token_file`` would build, with the transport
    routed to ``url`` when one is given (the emulator)."""
    metadata = TokenMetadata.from_loaded_token(credentials.read_token(), credentials.write_token)
    mounts = {SCHWAB_HOST: ForwardingTransport(url)} if url else None
    session = OAuth2Client(
        credentials.api_key,
        client_secret=credentials.app_secret,
        token=metadata.token,
        token_endpoint=TOKEN_ENDPOINT,
        update_token=metadata.wrapped_token_write_func(),
        leeway=300,
        mounts=mounts,
    )
    return Client(credentials.api_key, session, token_metadata=metadata, enforce_enums=False)
