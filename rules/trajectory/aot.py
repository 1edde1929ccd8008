"""Build the ahead-of-time compiled kernels (`guapai trajectory compile`; loaded by compiled.py).

The signatures are the JIT's own: `build` scans a small SIMULATED workload through numba's JIT
(text and coded plates, interleaved and sorted rows, repeated times and GPS jumps, a report
window, read-only Parquet columns) and compiles every signature the JIT compiled, with arrays
declared writable and C-contiguous, into one extension module with numba's AOT compiler
(`numba.pycc`, deprecated by numba but kept working; it needs setuptools and a C compiler). The
exported functions release the GIL, as the JIT's `nogil=True` ones do: the engine runs parts of
vehicles on two threads. A call the build does not cover still goes to the JIT.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import polars as pl

from rules.trajectory import compiled


def _workload() -> None:
    """Run the JIT over every path of the engine that calls a kernel."""
    from rules.trajectory.config import load
    from rules.trajectory.engine import scan, warm
    from rules.trajectory.synthetic import PLANTS, simulated_vehicle_day

    warm()
    rules = load()
    day = dt.date(2026, 11, 23)
    frames, classes = [], {}
    for i, cls in enumerate(("coach", "truck", "bus", "taxi")):
        frame, _ = simulated_vehicle_day(i, f"V{i}", day, cls, list(PLANTS))
        frames.append(frame)
        classes[f"V{i}"] = cls
    frame = pl.concat(frames)
    jumped = frame.with_columns(pl.when(pl.int_range(pl.len()) % 97 == 5).then(pl.col("lat") + 0.5)
                                .otherwise(pl.col("lat")).alias("lat"))
    repeated = pl.concat([frame, frame.head(50)])
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    for points in (frame, frame.sort("time"), jumped, repeated):
        for plates in (pl.String, pl.Categorical):
            data = points.with_columns(pl.col("vehicle").cast(plates))
            scan(data, vehicle_class=classes, rules=rules)
            scan(data, vehicle_class=classes, rules=rules, report_window=(start, start + dt.timedelta(days=1)), workers=2)
    with tempfile.TemporaryDirectory() as folder:  # columns that come in read-only from Parquet
        from rules.trajectory.readers import read

        path = Path(folder) / "day.parquet"
        frame.sort("time").write_parquet(path, row_group_size=5_000)
        for coded in (False, True):
            scan(read(path, coded_plates=coded).points, vehicle_class=classes, rules=rules, workers=2)


def signatures() -> dict[str, list]:
    """kernel name -> the numba signatures (with return types) to compile, from the workload."""
    from numba import types
    from numba.core.registry import CPUDispatcher

    from rules.trajectory import kernels as jit

    before = os.environ.get("GUAPAI_KERNELS")
    os.environ["GUAPAI_KERNELS"] = "jit"  # the workload must reach the JIT, not an earlier build
    compiled.kernels.reset()
    try:
        _workload()
    finally:
        if before is None:
            os.environ.pop("GUAPAI_KERNELS", None)
        else:
            os.environ["GUAPAI_KERNELS"] = before
        compiled.kernels.reset()
    found: dict[str, list] = {}
    for name in dir(jit):
        fn = getattr(jit, name)
        if name.startswith("_") or not isinstance(fn, CPUDispatcher):
            continue
        seen = set()
        for args in list(fn.signatures):
            if any(isinstance(a, types.Array) and (a.layout != "C" or a.ndim != 1) for a in args):
                continue  # compiled.arg_key never matches these: such calls stay with the JIT
            writable = tuple(a.copy(readonly=False) if isinstance(a, types.Array) else a for a in args)
            if writable in seen:
                continue
            seen.add(writable)
            fn.compile(writable)
            found.setdefault(name, []).append(fn.overloads[writable].signature)
    return found


def _key(t) -> str:
    from numba import types
    from numba.np.numpy_support import as_dtype

    if isinstance(t, types.Array):
        d = as_dtype(t.dtype)
        return f"{d.kind}{d.itemsize}d{t.ndim}"
    if isinstance(t, types.Boolean):
        return "b"
    d = as_dtype(t)
    return f"{d.kind}{d.itemsize}"


def build(directory: Path | None = None) -> tuple[Path, int, float]:
    """Compile the kernels ahead of time into `directory` (default: the first writable of
    compiled.directories()); (path of the module, signatures compiled, seconds). The module is
    written under a temporary name and renamed into place: a reader sees a whole module or none.
    Builds of other sources in that folder are deleted."""
    began = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's deprecation notice for pycc
        import numba.pycc.compiler as pycc_compiler
        from numba.pycc import CC

    found = signatures()
    name = compiled.module_name()
    target = directory or _writable(compiled.directories())
    target.mkdir(parents=True, exist_ok=True)
    jit_flags = pycc_compiler.Flags

    class GilFreeFlags(jit_flags):
        """pycc's flags with release_gil set: its wrappers then release the GIL like nogil=True."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.release_gil = True

    from rules.trajectory import kernels as jit

    n = 0
    with tempfile.TemporaryDirectory(dir=target) as scratch:
        cc = CC(name)
        cc.output_dir = scratch
        cc.target_cpu = "host"
        cc.verbose = False
        for kernel, sigs in sorted(found.items()):
            for sig in sigs:
                cc.export(compiled.symbol(kernel, [_key(a) for a in sig.args]), sig)(getattr(jit, kernel).py_func)
                n += 1
        pycc_compiler.Flags = GilFreeFlags
        try:
            cc.compile()
        finally:
            pycc_compiler.Flags = jit_flags
        built = compiled.module_path(Path(scratch), name)
        path = compiled.module_path(target, name)
        os.replace(built, path)
    for old in target.glob(compiled.PREFIX + "*"):  # builds of earlier sources: never loaded again
        if old != path and old.is_file():
            old.unlink(missing_ok=True)
    compiled.kernels.reset()
    return path, n, time.perf_counter() - began


def _writable(candidates: list[Path]) -> Path:
    for directory in candidates:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(directory, os.W_OK):
            return directory
    raise OSError(f"none of {', '.join(map(str, candidates))} is writable; set GUAPAI_KERNELS_DIR")


def remove(directory: Path | None = None) -> list[Path]:
    """Delete the builds in the kernel folders (every version); the paths deleted."""
    gone = []
    for folder in [directory] if directory else compiled.directories():
        for path in folder.glob(compiled.PREFIX + "*") if folder.exists() else []:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            gone.append(path)
    compiled.kernels.reset()
    return gone

