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


def test_the_console_command_ends_without_teardown_and_loses_no_output(tmp_path):
    """`guapai trajectory scan` in its own process leaves without the interpreter's teardown
    (cli.context.end_process_now): the JSON on a pipe is whole and equal to what the same
    command prints under the test runner (which never ends the process), the exit code is 0,
    and the table form's summary on stderr is there too."""
    import datetime as dt
    import json
    import subprocess
    import sys
    from pathlib import Path

    import polars as pl
    from typer.testing import CliRunner

    import main
    from rules.trajectory import simulated_vehicle_day
    from rules.trajectory.synthetic import PLANTS

    day = dt.date(2026, 11, 23)
    # a few vehicles: JSON under the 8 KB a pipe buffers (a larger single write goes straight out)
    frames = [simulated_vehicle_day(7, f"V{i:03d}", day, "truck", [PLANTS[i % len(PLANTS)]])[0] for i in range(4)]
    path = tmp_path / "day.parquet"
    pl.concat(frames).sort("time").write_parquet(path)
    args = ["trajectory", "scan", str(path), "--vehicle-class", "truck", "--json"]
    root = Path(main.__file__).parent
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # output on a pipe is block-buffered
    proc = subprocess.run([sys.executable, "main.py", *args], cwd=root, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    in_process = CliRunner().invoke(main.app, args)
    assert in_process.exit_code == 0
    printed = json.loads(proc.stdout)
    assert printed == json.loads(in_process.stdout) and len(printed["coverage"]) == 4 and printed["findings"]
    assert len(proc.stdout) < 8192
    table = subprocess.run([sys.executable, "main.py", *args[:-1]], cwd=root, capture_output=True, text=True, timeout=300, env=env)
    assert table.returncode == 0 and "V0" in table.stdout and str(pl.concat(frames).height) in table.stderr.replace(",", "")
