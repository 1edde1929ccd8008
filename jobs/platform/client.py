"""Client for the vehicle-monitoring platform's HTTP JSON API (docs/platform-api.md).

Bearer token, paging, explicit timeouts, bounded concurrency, retries with exponential backoff
on 5xx, 429 and connection errors (tenacity), a clear error on other 4xx. The token never
appears in errors, reprs or logs. Takes an injected httpx transport for tests.
"""
from __future__ import annotations

import datetime as dt
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import quote

import httpx
from tenacity import RetryError, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from listing import redact
from listing.errors import GuapaiError
from listing.i18n import register

register(
    {
        "err.platform_config": ("未配置车辆监控平台地址(GUAPAI_PLATFORM_URL)", "no vehicle-monitoring platform configured (GUAPAI_PLATFORM_URL)"),
        "err.platform_http": ("监控平台返回 {status}:{reason}", "the platform answered {status}: {reason}"),
    }
)

MAX_PAGES = 1000  # a guard against a platform that pages forever


class PlatformError(GuapaiError):
    """A definitive answer from the platform (4xx other than 429), or retries exhausted."""

    def __init__(self, status: int | str, reason: str):
        super().__init__("err.platform_http", status=status, reason=reason)
        self.status = status


class _Retryable(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class FetchResult:
    vehicle: str
    status: str  # ok / missing (404) / failed / partial (paging broke off)
    positions: list[dict] = field(default_factory=list)
    error: str | None = None
    pages: int = 0
    seconds: float = 0.0


class PlatformClient:
    def __init__(self, base_url: str | None = None, token: str | None = None, *, transport: httpx.BaseTransport | None = None,
                 timeout: float = 10.0, max_retries: int = 4, concurrency: int = 16, page_size: int = 2000,
                 backoff: Callable[[int], float] | None = None):
        base_url = base_url or os.environ.get("GUAPAI_PLATFORM_URL")
        if not base_url:
            raise GuapaiError("err.platform_config")
        self.base_url = base_url.rstrip("/")
        self._token = token if token is not None else os.environ.get("GUAPAI_PLATFORM_TOKEN", "")
        redact.install()  # log records (httpx's included) never carry the token
        redact.remember(self._token)
        redact.remember_in_url(base_url)
        self.max_retries, self.concurrency, self.page_size = max_retries, concurrency, page_size
        self._wait = wait_exponential(multiplier=0.2, max=5) if backoff is None else (lambda rs: backoff(rs.attempt_number))
        self._http = httpx.Client(base_url=self.base_url, transport=transport, timeout=httpx.Timeout(timeout, connect=5.0),
                                  headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"},
                                  limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency))

    def __repr__(self) -> str:  # never the token
        return f"PlatformClient({redact.redact_secrets(self.base_url)!r}, token={'***' if self._token else '(none)'})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _get_page(self, vehicle: str, start: dt.datetime, end: dt.datetime, token: str | None) -> dict:
        params = {"start": start.isoformat(), "end": end.isoformat(), "page_size": self.page_size}
        if token:
            params["page_token"] = token

        def once() -> dict:
            try:
                response = self._http.get(f"/api/v1/vehicles/{quote(vehicle, safe='')}/positions", params=params)
            except httpx.TransportError as exc:  # connect, read, timeouts
                raise _Retryable(type(exc).__name__) from None
            if response.status_code >= 500 or response.status_code == 429:
                raise _Retryable(f"HTTP {response.status_code}")
            if response.status_code >= 400:
                raise PlatformError(response.status_code, response.reason_phrase)
            try:
                data = response.json()
            except ValueError:
                raise _Retryable("a body that is not JSON") from None
            if not isinstance(data, dict) or not isinstance(data.get("positions"), list):
                raise _Retryable("a body without a positions list")
            return data

        try:
            for attempt in Retrying(stop=stop_after_attempt(self.max_retries), wait=self._wait,
                                    retry=retry_if_exception(lambda e: isinstance(e, _Retryable)), reraise=False):
                with attempt:
                    return once()
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise PlatformError("retries exhausted", getattr(last, "reason", str(last))) from None
        raise AssertionError("unreachable")

    def fetch_positions(self, vehicle: str, start: dt.datetime, end: dt.datetime) -> FetchResult:
        """All pages of one vehicle's positions in [start, end)."""
        import time

        began = time.perf_counter()
        positions, token, pages = [], None, 0
        try:
            while True:
                page = self._get_page(vehicle, start, end, token)
                pages += 1
                positions.extend(page["positions"])
                token = page.get("next_page_token")
                if not token:
                    return FetchResult(vehicle, "ok", positions, pages=pages, seconds=time.perf_counter() - began)
                if pages >= MAX_PAGES:
                    raise PlatformError("paging", f"more than {MAX_PAGES} pages")
        except PlatformError as exc:
            status = "partial" if positions else ("missing" if exc.status == 404 else "failed")
            return FetchResult(vehicle, status, positions, error=exc.message("en"), pages=pages,
                               seconds=time.perf_counter() - began)

    def fetch_many(self, vehicles: list[str], start: dt.datetime, end: dt.datetime,
                   on_done: Callable[[FetchResult], None] | None = None) -> dict[str, FetchResult]:
        """Bounded concurrency: at most `concurrency` requests in flight."""
        results: dict[str, FetchResult] = {}
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for result in pool.map(lambda v: self.fetch_positions(v, start, end), vehicles):
                results[result.vehicle] = result
                if on_done:
                    on_done(result)
        return results
