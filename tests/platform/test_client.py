"""The platform client against MockTransport (retries, paging, errors, token hygiene) and the
real client against the SIMULATED platform over loopback, faults included."""
import datetime as dt
import json

import httpx
import pytest

from jobs.platform.client import PlatformClient, PlatformError
from jobs.platform.simulator import Faults, start_simulator

L = dt.timezone(dt.timedelta(hours=8))
DAY = (dt.datetime(2026, 11, 23, tzinfo=L), dt.datetime(2026, 11, 24, tzinfo=L))
TOKEN = "s3cret-token-value"


def client(handler, **kw):
    return PlatformClient("http://platform.test", TOKEN, transport=httpx.MockTransport(handler), backoff=lambda n: 0, **kw)


def test_paging_bearer_token_and_url_encoded_plate():
    seen = []

    def handler(request: httpx.Request):
        seen.append(request)
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        token = request.url.params.get("page_token")
        page = {None: ([{"time": "2026-11-23T08:00:00+08:00"}], "2"), "2": ([{"time": "2026-11-23T08:00:30+08:00"}], None)}[token]
        return httpx.Response(200, json={"vehicle": "浙A12345", "positions": page[0], "next_page_token": page[1]})

    result = client(handler).fetch_positions("浙A12345", *DAY)
    assert (result.status, len(result.positions), result.pages) == ("ok", 2, 2)
    assert seen[0].url.raw_path.startswith(b"/api/v1/vehicles/%E6%B5%99A12345/positions")


def test_retries_5xx_and_connection_errors_then_succeeds():
    calls = {"n": 0}

    def handler(request):
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("refused")
        if calls["n"] == 2:
            return httpx.Response(503)
        return httpx.Response(200, json={"positions": [], "next_page_token": None})

    assert client(handler).fetch_positions("浙A1", *DAY).status == "ok" and calls["n"] == 3


def test_4xx_is_a_clear_error_without_retry_and_404_means_missing():
    calls = {"n": 0}

    def handler(request):
        calls["n"] += 1
        return httpx.Response(403 if "A1" in request.url.path else 404)

    c = client(handler)
    forbidden = c.fetch_positions("浙A1", *DAY)
    assert (forbidden.status, calls["n"]) == ("failed", 1) and "403" in forbidden.error
    assert c.fetch_positions("浙A2", *DAY).status == "missing"


def test_exhausted_retries_and_broken_paging():
    pages = {"n": 0}

    def handler(request):
        if request.url.params.get("page_token"):
            return httpx.Response(500)
        pages["n"] += 1
        return httpx.Response(200, json={"positions": [{"time": "x"}], "next_page_token": "1"})

    result = client(handler, max_retries=3).fetch_positions("浙A1", *DAY)
    assert result.status == "partial" and len(result.positions) == 1 and "retries exhausted" in result.error


def test_the_token_never_appears_in_errors_or_reprs():
    def handler(request):
        return httpx.Response(500, text=f"echo {request.headers['Authorization']}")

    c = client(handler, max_retries=2)
    result = c.fetch_positions("浙A1", *DAY)
    assert TOKEN not in repr(c) and TOKEN not in (result.error or "") and TOKEN not in repr(result)
    with pytest.raises(PlatformError) as err:
        c._get_page("浙A1", *DAY, None)
    assert TOKEN not in str(err.value) and TOKEN not in err.value.message("zh")


def test_real_client_against_the_simulator_over_loopback():
    vehicles = {f"浙A{i:05d}": "truck" for i in range(12)}
    with start_simulator(vehicles, seed=4, token=TOKEN) as sim:
        c = PlatformClient(sim.url, TOKEN, page_size=300, concurrency=4)
        results = c.fetch_many(list(vehicles), *DAY)
        assert {r.status for r in results.values()} == {"ok"} and all(r.pages >= 3 for r in results.values())
        assert PlatformClient(sim.url, "wrong").fetch_positions("浙A00001", *DAY).status == "failed"
        assert c.fetch_positions("浙Z99999", *DAY).status == "missing"


def test_simulator_faults_never_look_like_a_clean_vehicle():
    vehicles = {f"浙A{i:05d}": "truck" for i in range(60)}
    faults = Faults(error_500=0.3, truncated=0.2, missing=0.1, garbage=0.1, offline=0.1)
    with start_simulator(vehicles, seed=9, token=TOKEN, faults=faults) as sim:
        c = PlatformClient(sim.url, TOKEN, page_size=400, concurrency=8, backoff=lambda n: 0)
        results = c.fetch_many(list(vehicles), *DAY)
        p = sim.platform
        day = DAY[0].date()
        for plate, r in results.items():
            if p.fault("missing", plate, day):
                assert r.status == "missing"
            elif p.fault("garbage", plate, day):
                assert r.status == "failed"
            elif p.fault("offline", plate, day):
                assert r.status == "ok" and r.positions == []  # the sampling job turns this into no_data
            elif p.fault("truncated", plate, day):
                assert r.status == "partial" and r.positions
            else:
                assert r.status == "ok" and len(r.positions) > 500  # 500s were retried away
        assert {r.status for r in results.values()} >= {"ok", "missing", "failed", "partial"}
