"""What `guapai trajectory scan` costs beyond the engine is proportional: the secrets are looked
up once per output, not once per string printed."""
import os

from listing import redact


def test_secrets_are_looked_up_once_per_output_not_per_string(monkeypatch):
    monkeypatch.setenv("GUAPAI_PLATFORM_TOKEN", "tok-SECRET-123")
    calls = []
    real = redact.secret_values
    monkeypatch.setattr(redact, "secret_values", lambda: calls.append(1) or real())
    rows = [{"vehicle": f"V{i}", "note": "token tok-SECRET-123 in text", "url": "https://u:pw-XYZ9@host/x?key=abcd"}
            for i in range(5000)]
    out = redact.scrub(rows)
    assert len(calls) == 1
    assert all("tok-SECRET-123" not in r["note"] and "pw-XYZ9" not in r["url"] and "abcd" not in r["url"] for r in out)
    monkeypatch.setenv("GUAPAI_PLATFORM_TOKEN", "another-secret")  # a new output sees the change
    assert redact.scrub(["another-secret"]) == ["***"] and os.environ["GUAPAI_PLATFORM_TOKEN"]


def test_a_large_scan_in_vehicle_parts_gives_the_same_result(monkeypatch):
    import datetime as dt

    import polars as pl

    from rules.trajectory import engine, load_rules, simulated_vehicle_day
    from rules.trajectory.synthetic import PLANTS

    day = dt.date(2026, 11, 23)
    classes = ["truck", "coach", "bus", "taxi"]
    frames = [simulated_vehicle_day(4, f"V{i:03d}", day, classes[i % 4], [PLANTS[i % 4]])[0] for i in range(12)]
    points = pl.concat(frames).sort("time")
    by_class = {f"V{i:03d}": classes[i % 4] for i in range(12)}
    window = (dt.datetime(2026, 11, 23, tzinfo=dt.timezone(dt.timedelta(hours=8))),
              dt.datetime(2026, 11, 24, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    kw = {"vehicle_class": by_class, "rules": load_rules(), "report_window": window, "expected_vehicles": ["V000", "NONE"]}
    whole = engine.scan(points, **kw)
    monkeypatch.setattr(engine, "BATCH_POINTS", points.height // 4)
    parts = engine.scan(points, **kw)
    assert parts.as_dict()["findings"] == whole.as_dict()["findings"] and whole.findings
    assert parts.as_dict()["cleaning"] == whole.as_dict()["cleaning"]
    assert parts.as_dict()["coverage"] == whole.as_dict()["coverage"]


def test_a_scan_on_two_threads_gives_the_same_result_as_on_one(monkeypatch):
    import datetime as dt

    import polars as pl

    from rules.trajectory import engine, load_rules, simulated_vehicle_day
    from rules.trajectory.synthetic import PLANTS

    day = dt.date(2026, 11, 23)
    classes = ["truck", "coach", "bus", "taxi"]
    frames = [simulated_vehicle_day(5, f"V{i:03d}", day, classes[i % 4], [PLANTS[i % 5]])[0] for i in range(16)]
    points = pl.concat(frames).sort("time")  # in time order across vehicles: gathered per group
    kw = {"vehicle_class": {f"V{i:03d}": classes[i % 4] for i in range(16)}, "rules": load_rules()}
    monkeypatch.setattr(engine, "BATCH_POINTS", points.height // 16)
    monkeypatch.setattr(engine, "GATHER_POINTS", points.height // 5)
    one, two = engine.scan(points, **kw), engine.scan(points, workers=2, **kw)
    assert one.findings and one.as_dict() == two.as_dict()
