"""The ahead-of-time compiled kernels (rules/trajectory/aot.py, compiled.py) against numba's JIT
of the same source: the same findings, cleaning and coverage on random vehicle-days; calls the
build does not cover go to the JIT; a build of other source is never loaded; the compiled
functions release the GIL; a scan with a build imports no numba at all."""
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rules.trajectory import aot, compiled, load_rules
from rules.trajectory.engine import scan

from tests.trajectory.test_kernel_equivalence import SETTINGS, day, roster

RULES = load_rules()
ROOT = Path(__file__).resolve().parents[2]


def compile_command(*args: str):
    """`guapai trajectory compile ARGS` in this process; (exit code, stdout, stderr)."""
    import main

    r = CliRunner().invoke(main.app, ["trajectory", "compile", *args])
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    """A build made by the command itself (`guapai trajectory compile --json`) in a folder that
    already holds a build of some earlier source."""
    folder = tmp_path_factory.mktemp("kernels")
    stale = compiled.module_path(folder, compiled.PREFIX + "0" * 20)
    stale.write_bytes(b"old")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GUAPAI_KERNELS_DIR", str(folder))
        code, out, err = compile_command("--json")
    assert code == 0, err
    built = json.loads(out)
    path = Path(built["module"])
    assert path == compiled.module_path(folder) and path.exists() and built["signatures"] >= 15
    assert not stale.exists()
    yield folder
    compiled.kernels.reset()


@pytest.fixture
def kernels_from(monkeypatch, build_dir):
    """kernels_from('aot' | 'jit'): where the engine's kernel calls go from now on."""
    def use(where: str) -> None:
        monkeypatch.setenv("GUAPAI_KERNELS_DIR", str(build_dir))
        monkeypatch.setenv("GUAPAI_KERNELS", where)
        compiled.kernels.reset()
        compiled.calls.clear()
    yield use
    compiled.kernels.reset()


@settings(SETTINGS, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # kernels_from resets per example
@given(seed=st.integers(0, 10_000), vehicles=st.integers(1, 5), with_roster=st.booleans(), coded=st.booleans(),
       workers=st.sampled_from([1, 2]))
def test_compiled_ahead_of_time_the_scan_is_the_jits_exactly(kernels_from, seed, vehicles, with_roster, coded, workers):
    rng = np.random.default_rng(seed)
    points, classes = day(seed, vehicles, rng)
    if coded:
        points = points.with_columns(pl.col("vehicle").cast(pl.Categorical))
    table = roster(points, rng) if with_roster else None
    results = {}
    for where in ("jit", "aot"):
        kernels_from(where)
        results[where] = scan(points, vehicle_class=classes, rules=RULES, assignments=table, workers=workers).as_dict()
        if where == "aot":
            assert compiled.calls["aot", "prepare"] >= 1 and compiled.calls["aot", "over_limit"] >= 1
            assert not [k for k in compiled.calls if k[0] == "jit" and k[1] in ("prepare", "over_limit", "stops", "stretches")]
        else:
            assert not compiled.calls  # the JIT's dispatchers are called directly: nothing counted
    assert results["aot"] == results["jit"]


def test_a_call_the_build_does_not_cover_goes_to_the_jit(kernels_from):
    kernels_from("aot")
    k = compiled.kernels
    vid = np.repeat(np.arange(3, dtype=np.int32), 4)
    values = np.linspace(0.0, 11.0, 12)
    expected = np.array([values[:4].sum(), values[4:8].sum(), values[8:].sum()])
    np.testing.assert_array_equal(k.totals(vid, values, 3), expected)
    assert compiled.calls["aot", "totals"] == 1 and not compiled.calls["jit", "totals"]
    # The build compiles every signature the JIT holds in the building process: in a test run that
    # can include what earlier tests compiled, so where each call must go is read off the build.
    covered = set(k.totals.table)
    wide = np.zeros(24)
    wide[::2] = values
    variants = [(vid, values.astype(np.float32)), (vid.astype(np.int64), values), (vid.astype(np.uint16), values),
                (vid, wide[::2])]  # the last is not contiguous: never compiled
    for codes, column in variants:
        before = compiled.calls.copy()
        np.testing.assert_array_equal(k.totals(codes, column, 3), expected)
        key = "_".join(str(compiled.arg_key(a)) for a in (codes, column, 3))
        where = "aot" if key in covered else "jit"
        assert compiled.calls[where, "totals"] == before[where, "totals"] + 1, key
    assert compiled.arg_key(wide[::2]) is None and compiled.calls["jit", "totals"] >= 1


def test_a_build_of_other_source_is_never_loaded(monkeypatch, tmp_path, build_dir):
    monkeypatch.setenv("GUAPAI_KERNELS_DIR", str(build_dir))
    monkeypatch.delenv("GUAPAI_KERNELS", raising=False)
    assert compiled.load() is not None
    source = tmp_path / "trajectory"
    source.mkdir()
    for name in compiled.SOURCES:
        shutil.copy(compiled.HERE / name, source / name)
    monkeypatch.setattr(compiled, "HERE", source)
    assert compiled.load() is not None  # the same bytes elsewhere: the same build
    with open(source / "kernels.py", "a") as f:
        f.write("\n# changed\n")
    assert compiled.load() is None
    monkeypatch.setenv("GUAPAI_KERNELS", "jit")
    monkeypatch.setattr(compiled, "HERE", ROOT / "rules" / "trajectory")
    assert compiled.load() is None


def test_the_compiled_kernels_release_the_gil(kernels_from):
    kernels_from("aot")
    fn = compiled.kernels.totals
    n = 30_000_000
    vid, values = np.zeros(n, dtype=np.int32), np.ones(n)
    started, done = threading.Event(), threading.Event()

    def work():
        started.set()
        fn(vid, values, 1)
        done.set()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(5.0)  # no forced switch: only a kernel that releases the GIL lets this thread on
    try:
        thread = threading.Thread(target=work)
        thread.start()
        started.wait()
        meanwhile = 0
        while not done.is_set():
            meanwhile += 1
        thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert compiled.calls["aot", "totals"] == 1
    assert meanwhile > 1000  # holding the GIL, the kernel would let this loop run only once it is done


def test_a_scan_with_a_build_imports_no_numba_and_prints_the_same(build_dir, tmp_path):
    points, classes = day(7, 3, np.random.default_rng(7))
    path = tmp_path / "day.parquet"
    points.write_parquet(path)
    probe = ("import sys; from typer.testing import CliRunner; from main import app; "
             f"r = CliRunner().invoke(app, ['trajectory', 'scan', {str(path)!r}, '--vehicle-class', 'coach', '--json']); "
             "sys.stderr.write(f'{r.exit_code} numba={\"numba\" in sys.modules}'); sys.stdout.write(r.stdout)")
    out = {}
    for where in ("aot", "jit"):
        env = {**os.environ, "GUAPAI_KERNELS_DIR": str(build_dir), "GUAPAI_KERNELS": where}
        proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
        assert proc.stderr.strip().endswith(f"0 numba={where == 'jit'}"), proc.stderr[-2000:]
        out[where] = json.loads(proc.stdout)
    assert out["aot"] == out["jit"] and out["aot"]["findings"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_without_a_compiler_the_command_says_why_and_scans_keep_the_jit(monkeypatch, tmp_path, lang):
    monkeypatch.setenv("GUAPAI_KERNELS_DIR", str(tmp_path))
    monkeypatch.setenv("GUAPAI_LANG", lang)

    def no_compiler(directory=None):
        raise FileNotFoundError("[Errno 2] No such file or directory: 'gcc'")

    monkeypatch.setattr(aot, "build", no_compiler)
    code, out, err = compile_command()
    assert code == 1 and not out
    assert "'gcc'" in err and ("numba" in err) and (("即时编译" in err) if lang == "zh" else ("JIT" in err))
    assert not list(tmp_path.iterdir())


def test_remove_deletes_every_build_in_the_folder_and_says_which(monkeypatch, tmp_path):
    monkeypatch.setenv("GUAPAI_KERNELS_DIR", str(tmp_path))
    builds = [compiled.module_path(tmp_path), compiled.module_path(tmp_path, compiled.PREFIX + "1" * 20)]
    for path in builds:
        path.write_bytes(b"x")
    other = tmp_path / "notes.txt"
    other.write_text("kept")
    code, out, err = compile_command("--remove", "--json")
    assert code == 0, err
    assert sorted(json.loads(out)["removed"]) == sorted(map(str, builds))
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_threads_asking_for_kernels_first_together_load_the_build_once(kernels_from, monkeypatch):
    kernels_from("aot")
    real, loads = compiled.load, []

    def slow_load():
        loads.append(threading.get_ident())
        time.sleep(0.05)  # every thread is at the door meanwhile
        return real()

    monkeypatch.setattr(compiled, "load", slow_load)
    vid, values = np.repeat(np.arange(3, dtype=np.int32), 4), np.linspace(0.0, 11.0, 12)
    gate, results = threading.Barrier(6), []

    def first_call(name):
        gate.wait()
        kernel = getattr(compiled.kernels, name)
        results.append((name, kernel))

    threads = [threading.Thread(target=first_call, args=(name,)) for name in ("totals", "totals", "totals", "coverage", "prepare", "totals")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1
    assert len({id(k) for name, k in results if name == "totals"}) == 1
    np.testing.assert_array_equal(compiled.kernels.totals(vid, values, 3), [6.0, 22.0, 38.0])
    assert compiled.calls["aot", "totals"] == 1
