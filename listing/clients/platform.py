"""Client for the vehicle-monitoring platform's HTTP JSON API (docs/platform-api.md).

What an answer means (a platform failure is never the company's fault):

- `ok`: every page arrived; the positions (maybe none) are the platform's real answer;
- `unknown_vehicle`: the platform answered 404 for the vehicle itself: it does not know it;
- `unavailable`: no real answer: connection errors, timeouts, 429/5xx after retries, bodies that
  are not the API's JSON, paging that broke off, other 4xx. The vehicle-day is asked again later.
- 401/403 is our configuration (the token), not a vehicle's answer: `PlatformAuthError` stops
  the whole fetch at once. So is a 404 for every one of `UNKNOWN_FLEET` or more vehicles asked
  together: a platform that knows none of them is a wrong URL, not a fleet that vanished
  (`PlatformUnknownFleet`); no vehicle of such a batch is "not on the platform".

Bearer token, paging, explicit timeouts, concurrent requests on one connection pool, retries with
exponential backoff (tenacity), a circuit breaker so a platform that is down is not hammered
vehicle by vehicle. Pages are decoded by polars (Rust), never point by point in Python. The token
never appears in errors, reprs or logs. Takes an injected httpx transport for tests; without one,
requests go straight to urllib3's pool (listing/clients/platform_transport.py), whose errors are
httpx's, so the rules above are the same either way.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable
from urllib.parse import quote, urlencode

import httpx
import polars as pl
from tenacity import RetryError, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from listing import redact
from messages.errors import GuapaiError

MAX_PAGES = 1000  # a guard against a platform that pages forever
UNKNOWN_FLEET = 5  # this many vehicles asked together, all unknown to the platform: our URL is wrong
WIRE = {"time": pl.Utf8, "lat": pl.Float64, "lon": pl.Float64, "speed_kmh": pl.Float64, "heading": pl.Float64,
        "status": pl.Int64, "alarm": pl.Int64}

OK, UNKNOWN_VEHICLE, UNAVAILABLE = "ok", "unknown_vehicle", "unavailable"


class PlatformError(GuapaiError):
    """A page the platform did not give (after retries, or a 4xx other than 401/403/429)."""

    def __init__(self, status: int | str, reason: str):
        super().__init__("err.platform_http", status=status, reason=reason)
        self.status = status


class PlatformConfigError(GuapaiError):
    """Our configuration is wrong, never a vehicle's answer: the whole fetch stops."""


class PlatformAuthError(PlatformConfigError):
    """401/403: the platform refuses our token."""

    def __init__(self, status: int):
        super().__init__("err.platform_token", status=status)
        self.status = status


class PlatformUnknownFleet(PlatformConfigError):
    """A 404 for every vehicle of a batch of UNKNOWN_FLEET or more: the platform URL is wrong."""

    def __init__(self, asked: int):
        super().__init__("err.platform_unknown_fleet", asked=asked)
        self.status = 404


class _Retryable(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class FetchResult:
    vehicle: str
    status: str  # ok / unknown_vehicle / unavailable (see the module doc)
    positions: pl.DataFrame | None = None  # the wire columns (WIRE), every page; None unless ok
    error: str | None = None
    pages: int = 0
    seconds: float = 0.0

    @property
    def answered(self) -> bool:
        """A real answer from the platform (positions, none, or 'unknown vehicle')."""
        return self.status != UNAVAILABLE

    @property
    def points(self) -> int:
        return 0 if self.positions is None else self.positions.height


PAGE = {"vehicle": pl.Utf8, "next_page_token": pl.Utf8, "positions": pl.List(pl.Struct(WIRE))}


def decode_page(body: bytes) -> tuple[pl.DataFrame, str | None]:
    """One page of the API's JSON -> (positions in the WIRE columns, next page token). Decoded by
    polars in Rust against the page's schema; a page with values of other JSON types (numbers as
    text, ...) is read leniently, every value as text cast where it can be, and the trajectory
    reader reports what it cannot use. A body that is not the API's page shape is not an answer:
    _Retryable."""
    try:
        page = pl.read_json(io.BytesIO(body), schema=PAGE)
    except Exception:  # polars raises several kinds; the lenient path decides
        return _lenient_page(body)
    if page.height != 1 or page["positions"].null_count():
        raise _Retryable("a body without a positions list")
    frame = page["positions"][0].struct.unnest()  # the one page's list of positions, as columns
    if any(frame.null_count().row(0)):  # a null or empty position is no position
        frame = frame.filter(~pl.all_horizontal(pl.all().is_null()))
    return frame, page["next_page_token"][0]


def _lenient_page(body: bytes) -> tuple[pl.DataFrame, str | None]:
    import json

    try:
        data = json.loads(body)
    except ValueError:
        raise _Retryable("a body that is not JSON") from None
    positions = data.get("positions") if isinstance(data, dict) else None
    if not isinstance(positions, list) or not all(isinstance(p, dict) for p in positions):
        raise _Retryable("a body without a list of positions")
    text = pl.DataFrame([[None if p.get(k) is None else str(p[k]) for k in WIRE] for p in positions],
                        schema={k: pl.Utf8 for k in WIRE}, orient="row")
    frame = text.with_columns([pl.col(k).str.strip_chars().cast(d, strict=False) for k, d in WIRE.items() if k != "time"])
    token = data.get("next_page_token")
    return frame, None if token is None else str(token)


class PlatformClient:
    def __init__(self, base_url: str | None = None, token: str | None = None, *, transport: httpx.BaseTransport | None = None,
                 timeout: float = 10.0, max_retries: int = 4, concurrency: int = 16, page_size: int = 5000,
                 backoff: Callable[[int], float] | None = None, breaker: int | None = None):
        base_url = base_url or os.environ.get("GUAPAI_PLATFORM_URL")
        if not base_url:
            raise GuapaiError("err.platform_config")
        self.base_url = base_url.rstrip("/")
        self._token = token if token is not None else os.environ.get("GUAPAI_PLATFORM_TOKEN", "")
        redact.install()  # log records (httpx's included) never carry the token
        redact.remember(self._token)
        redact.remember_in_url(base_url)
        self.max_retries, self.concurrency, self.page_size = max_retries, concurrency, page_size
        # this many vehicles in a row without an answer: the platform is down, stop asking
        self.breaker = breaker if breaker is not None else max(8, 2 * concurrency)
        self._wait = wait_exponential(multiplier=0.2, max=5) if backoff is None else (lambda rs: backoff(rs.attempt_number))
        self._timeout = httpx.Timeout(timeout, connect=5.0)
        self._direct = None
        if transport is None:  # the real platform: urllib3's pool, without httpx's per-request work on top
            from listing.clients.platform_transport import Urllib3Transport

            transport = self._direct = Urllib3Transport(maxsize=concurrency)
        self._headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json", "Accept-Encoding": "gzip, deflate"}
        self._http = httpx.Client(base_url=self.base_url, transport=transport, timeout=httpx.Timeout(timeout, connect=5.0),
                                  headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"},
                                  limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency))
        self._lock = threading.Lock()
        self._failures_in_a_row = 0
        self._refused: PlatformAuthError | None = None

    def __repr__(self) -> str:  # never the token
        return f"PlatformClient({redact.redact_secrets(self.base_url)!r}, token={'***' if self._token else '(none)'})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _get_page(self, vehicle: str, start: dt.datetime, end: dt.datetime, token: str | None) -> tuple[pl.DataFrame, str | None]:
        params = {"start": start.isoformat(), "end": end.isoformat(), "page_size": self.page_size}
        if token:
            params["page_token"] = token

        path = f"/api/v1/vehicles/{quote(vehicle, safe='')}/positions"

        def once():
            try:
                status, content = self._get(path, params)
            except httpx.TransportError as exc:  # connect, read, timeouts
                raise _Retryable(type(exc).__name__) from None
            if status in (401, 403):
                raise PlatformAuthError(status)
            if status >= 500 or status == 429:
                raise _Retryable(f"HTTP {status}")
            if status >= 400:
                raise PlatformError(status, httpx.codes.get_reason_phrase(status))
            return decode_page(content)

        try:
            for attempt in Retrying(stop=stop_after_attempt(self.max_retries), wait=self._wait,
                                    retry=retry_if_exception(lambda e: isinstance(e, _Retryable)), reraise=False):
                with attempt:
                    return once()
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise PlatformError("retries exhausted", getattr(last, "reason", str(last))) from None
        raise AssertionError("unreachable")

    def _get(self, path: str, params: dict) -> tuple[int, bytes]:
        """(status, body) of one GET; httpx.TransportError when there is no answer."""
        if self._direct is not None:  # thousands of pages a night: straight to the pool
            url = f"{self.base_url}{path}?{urlencode(params)}"
            return self._direct.get(url, self._headers, connect=self._timeout.connect, read=self._timeout.read)
        response = self._http.get(path, params=params)
        return response.status_code, response.content

    def fetch_positions(self, vehicle: str, start: dt.datetime, end: dt.datetime) -> FetchResult:
        """All pages of one vehicle's positions in [start, end). Paging that breaks off is asked
        again from the first page once; raises PlatformAuthError on 401/403."""
        began = time.perf_counter()
        result = self._fetch_pages(vehicle, start, end)
        if result.status == UNAVAILABLE and result.pages > 0:  # paging broke off: once more from the start
            result = self._fetch_pages(vehicle, start, end)
        result.seconds = time.perf_counter() - began
        return result

    def _fetch_pages(self, vehicle: str, start: dt.datetime, end: dt.datetime) -> FetchResult:
        frames, token, pages = [], None, 0
        try:
            while True:
                frame, token = self._get_page(vehicle, start, end, token)
                pages += 1
                frames.append(frame)
                if not token:
                    return FetchResult(vehicle, OK, pl.concat(frames) if len(frames) > 1 else frames[0], pages=pages)
                if pages >= MAX_PAGES:
                    raise PlatformError("paging", f"more than {MAX_PAGES} pages")
        except PlatformError as exc:
            if exc.status == 404 and pages == 0:
                return FetchResult(vehicle, UNKNOWN_VEHICLE, error=exc.message("en"))
            reason = exc.message("en") if pages == 0 else f"paging broke off after {pages} pages: {exc.message('en')}"
            return FetchResult(vehicle, UNAVAILABLE, error=reason, pages=pages)

    def _fetch_guarded(self, vehicle: str, start: dt.datetime, end: dt.datetime) -> FetchResult:
        with self._lock:
            if self._refused is not None:
                return FetchResult(vehicle, UNAVAILABLE, error=self._refused.message("en"))
            if self._failures_in_a_row >= self.breaker:
                return FetchResult(vehicle, UNAVAILABLE, error=f"not asked: {self._failures_in_a_row} vehicles in a row "
                                                              "had no answer (the platform looks down)")
        try:
            result = self.fetch_positions(vehicle, start, end)
        except PlatformAuthError as exc:
            with self._lock:
                self._refused = exc
            raise
        with self._lock:
            self._failures_in_a_row = 0 if result.answered else self._failures_in_a_row + 1
        return result

    def fetch_many(self, vehicles: list[str], start: dt.datetime, end: dt.datetime,
                   on_done: Callable[[FetchResult], None] | None = None) -> dict[str, FetchResult]:
        """Concurrent fetches (at most `concurrency` in flight, one connection pool). A 401/403
        stops everything and raises PlatformAuthError; a platform that stops answering trips
        the breaker: the remaining vehicles are `unavailable` without being asked. A platform
        that knows none of UNKNOWN_FLEET or more vehicles raises PlatformUnknownFleet."""
        results: dict[str, FetchResult] = {}
        pool = ThreadPoolExecutor(max_workers=self.concurrency)
        try:
            for result in pool.map(lambda v: self._fetch_guarded(v, start, end), vehicles):
                results[result.vehicle] = result
                if on_done:
                    on_done(result)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        if len(results) >= UNKNOWN_FLEET and all(r.status == UNKNOWN_VEHICLE for r in results.values()):
            raise PlatformUnknownFleet(len(results))
        return results

    def reset_breaker(self) -> None:
        with self._lock:
            self._failures_in_a_row = 0
