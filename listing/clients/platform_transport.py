"""An httpx transport on urllib3's connection pool, for the platform client's bulk fetches.

The client stays an httpx client (tests inject `httpx.MockTransport`); only the wire work moves
to urllib3, whose response reading costs about half of httpx's own transport per page (a
vehicle-day with its context is ~200 KB of JSON, fetched thousands of times a night). The
client's bulk path calls `get` directly, without building httpx's request and response objects
(about a third of the client's CPU per page went there). One pool,
at most `maxsize` connections, blocking when all are busy; no retries here (the client retries,
with backoff, what deserves it). urllib3's errors become httpx's, so the client's rules about
what is a platform failure hold whichever transport is used.
"""
from __future__ import annotations

import httpx
import urllib3
from urllib3 import exceptions as u3

_ERRORS = (  # most specific first: urllib3's NewConnectionError is a ConnectTimeoutError
    (u3.NewConnectionError, httpx.ConnectError),
    (u3.ConnectTimeoutError, httpx.ConnectTimeout),
    (u3.ReadTimeoutError, httpx.ReadTimeout),
    (u3.ProtocolError, httpx.RemoteProtocolError),
    (u3.HTTPError, httpx.TransportError),
)


class Urllib3Transport(httpx.BaseTransport):
    def __init__(self, maxsize: int = 16):
        self._pool = urllib3.PoolManager(num_pools=4, maxsize=maxsize, block=True, retries=False)

    def _request(self, method: str, url: str, headers: dict, body: bytes | None, connect, read,
                 request: httpx.Request | None = None) -> urllib3.BaseHTTPResponse:
        try:
            return self._pool.request(method, url, body=body, headers=headers, timeout=urllib3.Timeout(connect=connect, read=read),
                                      redirect=False, preload_content=True, decode_content=True)
        except u3.HTTPError as exc:
            for theirs, ours in _ERRORS:
                if isinstance(exc, theirs):
                    raise ours(type(exc).__name__, request=request) from None
            raise

    def get(self, url: str, headers: dict, *, connect: float | None, read: float | None) -> tuple[int, bytes]:
        """(status, body) of a GET, without building httpx's request and response (the client's
        bulk path: this costs about a third of going through handle_request)."""
        response = self._request("GET", url, headers, None, connect, read)
        return response.status, response.data

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {})
        response = self._request(request.method, str(request.url), dict(request.headers), request.read() or None,
                                 timeout.get("connect"), timeout.get("read"), request)
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
        return httpx.Response(response.status, headers=headers, content=response.data, request=request)

    def close(self) -> None:
        self._pool.clear()
