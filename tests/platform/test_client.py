"""The platform client against MockTransport (retries, paging, errors, token hygiene) and the
real client against the SIMULATED platform over loopback, faults included."""
import datetime as dt
import json

import httpx
import pytest

from listing.clients.platform import (
    UNKNOWN_FLEET,
    WIRE,
    PlatformAuthError,
    PlatformClient,
    PlatformError,
    PlatformUnknownFleet,
    _Retryable,
    decode_page,
)
from listing.simulation.platform import Faults, start_simulator

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
    assert (result.status, result.points, result.pages) == ("ok", 2, 2)
    assert seen[0].url.raw_path.startswith(b"/api/v1/vehicles/%E6%B5%99A12345/positions")


def test_retries_429_5xx_and_connection_errors_then_succeeds():
    calls = {"n": 0}

    def handler(request):
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("refused")
        if calls["n"] == 2:
            return httpx.Response(503)
        if calls["n"] == 3:
            return httpx.Response(429)
        return httpx.Response(200, json={"positions": [{"time": "2026-11-23T08:00:00+08:00", "lat": 30.1, "lon": 120.1}],
                                         "next_page_token": None})

    result = client(handler, max_retries=4).fetch_positions("浙A1", *DAY)
    assert (result.status, result.points, calls["n"]) == ("ok", 1, 4)


@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), 500, 502, 503, 429,
                                     b"<html>gateway</html>", b'{"positions": "none"}', 400])
def test_no_real_answer_is_unavailable_never_no_data(failure):
    """Whatever goes wrong on the way, the vehicle-day is `unavailable` (asked again later): not an
    answer, so neither `ok` with no positions nor `unknown_vehicle`."""
    def handler(request):
        if isinstance(failure, Exception):
            raise failure
        if isinstance(failure, bytes):
            return httpx.Response(200, content=failure)
        return httpx.Response(failure)

    result = client(handler, max_retries=3).fetch_positions("浙A1", *DAY)
    assert result.status == "unavailable" and not result.answered and result.positions is None and result.error


@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_stop_everything_with_one_line_about_the_token(status):
    calls = {"n": 0}

    def handler(request):
        calls["n"] += 1
        return httpx.Response(status)

    c = client(handler, concurrency=4)
    with pytest.raises(PlatformAuthError) as err:
        c.fetch_many([f"浙A{i:05d}" for i in range(200)], *DAY)
    text = err.value.message("en")
    assert "token" in text and "\n" not in text and TOKEN not in text and str(status) in text
    assert "令牌" in err.value.message("zh")
    assert calls["n"] <= 8  # the 200 vehicles were not all asked: the first refusal stops the rest


@pytest.mark.parametrize("known", [0, 1])
def test_a_platform_that_knows_none_of_a_batch_is_a_wrong_url_not_a_fleet_off_the_platform(known):
    """A 404 for every vehicle asked together is our URL (a gateway's 404 for a path it does not
    have): the fetch stops with one line naming GUAPAI_PLATFORM_URL and no vehicle is "unknown".
    One vehicle the platform knows makes the others' 404s real answers again."""
    plates = [f"浙A{i:05d}" for i in range(UNKNOWN_FLEET)]

    def handler(request):
        if known and plates[0] in request.url.path:
            return httpx.Response(200, json={"positions": [], "next_page_token": None})
        return httpx.Response(404, json={"error": "not found"})

    c = client(handler, concurrency=2)
    if known:
        results = c.fetch_many(plates, *DAY)
        assert [results[p].status for p in plates] == ["ok"] + ["unknown_vehicle"] * (UNKNOWN_FLEET - 1)
        return
    with pytest.raises(PlatformUnknownFleet) as err:
        c.fetch_many(plates, *DAY)
    text = err.value.message("en")
    assert "GUAPAI_PLATFORM_URL" in text and str(UNKNOWN_FLEET) in text and "\n" not in text
    assert "未知车辆" in err.value.message("zh")
    # fewer vehicles than that: each 404 stays the platform's answer about that vehicle
    few = c.fetch_many(plates[:UNKNOWN_FLEET - 1], *DAY)
    assert {r.status for r in few.values()} == {"unknown_vehicle"}


def test_404_on_the_vehicle_is_the_platforms_answer_and_a_lost_page_is_asked_again():
    asked = []

    def handler(request):
        token = request.url.params.get("page_token")
        asked.append(token)
        if "A2" in request.url.path:
            return httpx.Response(404, json={"error": "unknown vehicle"})
        if token == "2" and asked.count("2") == 1:
            return httpx.Response(404, json={"error": "page token expired"})
        page = {None: ([{"time": "2026-11-23T08:00:00+08:00", "lat": 30.1, "lon": 120.1}], "2"),
                "2": ([{"time": "2026-11-23T08:00:30+08:00", "lat": 30.1, "lon": 120.1}], None)}[token]
        return httpx.Response(200, json={"positions": page[0], "next_page_token": page[1]})

    c = client(handler)
    assert c.fetch_positions("浙A2", *DAY).status == "unknown_vehicle"
    result = c.fetch_positions("浙A1", *DAY)
    assert (result.status, result.points) == ("ok", 2) and asked[1:] == [None, "2", None, "2"]


def test_a_platform_that_is_down_trips_the_breaker_instead_of_being_asked_vehicle_by_vehicle():
    calls = {"n": 0}

    def handler(request):
        calls["n"] += 1
        return httpx.Response(503)

    c = client(handler, concurrency=2, max_retries=2, breaker=5)
    results = c.fetch_many([f"浙A{i:05d}" for i in range(100)], *DAY)
    assert {r.status for r in results.values()} == {"unavailable"} and len(results) == 100
    assert calls["n"] <= 2 * (5 + 2)  # about `breaker` vehicles asked (plus those in flight), 2 attempts each


def test_pages_decode_into_columns_and_numbers_as_text_are_read():
    frame, token = decode_page(json.dumps({"vehicle": "浙A1", "next_page_token": "7", "positions": [
        {"time": "2026-11-23T08:00:00+08:00", "lat": 30.1, "lon": 120.1, "speed_kmh": 40, "status": 3, "extra": "x"},
        {"time": "2026-11-23T08:00:30+08:00", "lat": "30.2", "lon": 120.2, "speed_kmh": None}]}).encode())
    assert token == "7" and frame.columns == list(WIRE) and frame["lat"].to_list() == [30.1, 30.2]
    empty, token = decode_page(b'{"vehicle": "x", "positions": [], "next_page_token": null}')
    assert empty.height == 0 and token is None and empty.columns == list(WIRE)
    for body in (b'{"vehicle": "x"}', b"[1, 2]", b'{"positions": [1, 2]}', b"", b"null"):
        with pytest.raises(_Retryable):
            decode_page(body)


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
        with pytest.raises(PlatformAuthError):
            PlatformClient(sim.url, "wrong").fetch_positions("浙A00001", *DAY)
        assert c.fetch_positions("浙Z99999", *DAY).status == "unknown_vehicle"


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
                assert r.status == "unknown_vehicle"
            elif p.fault("garbage", plate, day):
                assert r.status == "unavailable"  # asked again later, never held against the company
            elif p.fault("offline", plate, day):
                assert r.status == "ok" and r.points == 0  # the sampling job turns this into no_data
            else:  # 500s and broken paging were retried away
                assert r.status == "ok" and r.points > 500
        assert {r.status for r in results.values()} == {"ok", "unknown_vehicle", "unavailable"}


def test_the_real_transport_turns_refused_connections_and_timeouts_into_unavailable():
    """urllib3 under httpx (listing/clients/platform_transport.py): its errors are httpx's, so they stay platform failures."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    refused = PlatformClient(f"http://127.0.0.1:{port}", TOKEN, backoff=lambda n: 0, max_retries=2).fetch_positions("浙A1", *DAY)
    assert (refused.status, refused.error) == ("unavailable", "the platform answered retries exhausted: ConnectError")
    vehicles = {"浙A00001": "truck"}
    with start_simulator(vehicles, seed=4, token=TOKEN, faults=Faults(slow=1.0, slow_seconds=1.5)) as sim:
        slow = PlatformClient(sim.url, TOKEN, timeout=0.3, backoff=lambda n: 0, max_retries=2).fetch_positions("浙A00001", *DAY)
        assert (slow.status, slow.error) == ("unavailable", "the platform answered retries exhausted: ReadTimeout")
