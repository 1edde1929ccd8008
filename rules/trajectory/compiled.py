"""The trajectory kernels as the engine calls them (`from rules.trajectory.compiled import kernels`):
ahead of time compiled where a build of this very source exists for this numba, numpy, Python
and CPU (`guapai trajectory compile`, see aot.py), numba's JIT otherwise.

Why: numba's JIT loads the kernels from its on-disk cache, but only after importing numba and
installing its typing registries, about 0.7 s of CPU that holds the GIL at every process start:
most of the fixed cost of a one-shot `guapai trajectory scan`. The same kernels compiled once by
numba's AOT compiler into an extension module load in under a millisecond and import no numba.

A call goes to the compiled function whose signature matches its arguments exactly (each array
one-dimensional, C-contiguous, aligned, in native byte order and of the dtype compiled; each
scalar of the kind compiled); any other call, and every call when no build is there, goes to the
JIT: the same source, the same results (tests/trajectory/test_compiled_kernels.py). `calls`
counts where calls went. A build lives in GUAPAI_KERNELS_DIR when that is set, else in this
package's __pycache__/ (where numba keeps its own cache) or, when that is not writable, in
~/.cache/guapai/kernels; GUAPAI_KERNELS=jit turns the compiled module off.
"""
from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import platform
import sys
import threading
from collections import Counter
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SOURCES = ("kernels.py", "geo.py")  # what the kernels are compiled from (kernels imports geo's constant)
PREFIX = "_guapai_kernels_"
calls: Counter = Counter()  # ("aot" | "jit", kernel name) -> calls


def directories() -> list[Path]:
    """Where builds are looked for, the first being where one is written."""
    if os.environ.get("GUAPAI_KERNELS_DIR"):
        return [Path(os.environ["GUAPAI_KERNELS_DIR"])]
    return [HERE / "__pycache__", Path.home() / ".cache" / "guapai" / "kernels"]


def _cpu() -> bytes:
    """What the build's machine code depends on: the CPU's model and features (it is compiled
    for the host CPU, like numba's JIT)."""
    try:
        with open("/proc/cpuinfo", "rb") as f:
            block = f.read(1 << 16).split(b"\n\n", 1)[0]
        return b"\n".join(line for line in block.splitlines() if line.split(b":")[0].strip() in (b"model name", b"flags"))
    except OSError:
        return f"{platform.machine()} {platform.processor()}".encode()


def module_name() -> str:
    """The build's module name: a digest of the kernels' source, numba's and numpy's versions,
    the Python version and the CPU. A change to any of them makes another name, so a build that
    no longer matches is never loaded."""
    h = hashlib.sha256()
    for name in SOURCES:
        h.update((HERE / name).read_bytes())
    spec = importlib.util.find_spec("numba")
    if spec and spec.origin:
        version = Path(spec.origin).with_name("_version.py")
        h.update(version.read_bytes() if version.exists() else b"?")
    h.update(np.__version__.encode())
    h.update(sys.version.encode())
    h.update(_cpu())
    return PREFIX + h.hexdigest()[:20]


def module_path(directory: Path, name: str | None = None) -> Path:
    return directory / ((name or module_name()) + importlib.machinery.EXTENSION_SUFFIXES[0])


def load():
    """The compiled module for this source and machine, or None."""
    if os.environ.get("GUAPAI_KERNELS", "").lower() == "jit":
        return None
    name = module_name()
    if name in sys.modules:
        return sys.modules[name]
    for directory in directories():
        path = module_path(directory, name)
        if path.exists():
            loader = importlib.machinery.ExtensionFileLoader(name, str(path))
            spec = importlib.util.spec_from_file_location(name, path, loader=loader)
            module = importlib.util.module_from_spec(spec)
            loader.exec_module(module)
            sys.modules[name] = module
            return module
    return None


def arg_key(value) -> str | None:
    """One argument's part of a signature key ('f8d1': a 1-d float64 array; 'i8': an int64;
    'b': a bool), or None when no compiled function can take it."""
    if isinstance(value, np.ndarray):
        flags = value.flags
        if not (flags.c_contiguous and flags.aligned and value.dtype.isnative) or value.dtype.kind not in "biuf":
            return None
        return f"{value.dtype.kind}{value.dtype.itemsize}d{value.ndim}"
    if isinstance(value, (bool, np.bool_)):
        return "b"
    if isinstance(value, np.generic):
        return f"{value.dtype.kind}{value.dtype.itemsize}" if value.dtype.kind in "iuf" else None
    if isinstance(value, int):
        return "i8"
    if isinstance(value, float):
        return "f8"
    return None


def symbol(kernel: str, keys: list[str]) -> str:
    """The exported name of one compiled signature, e.g. 'totals__i4d1_f8d1_i8'."""
    return f"{kernel}__{'_'.join(keys)}"


class _Kernel:
    """One kernel: its compiled signatures by key, and the JIT for anything else."""

    __slots__ = ("name", "table")

    def __init__(self, name: str, table: dict[str, object]):
        self.name, self.table = name, table

    def __call__(self, *args):
        keys = [arg_key(a) for a in args]
        fn = None if None in keys else self.table.get("_".join(keys))
        if fn is None:
            calls["jit", self.name] += 1
            return getattr(_jit(), self.name)(*args)
        calls["aot", self.name] += 1
        return fn(*args)


def _jit():
    from rules.trajectory import kernels as jit  # imports numba

    return jit


class _Kernels:
    """`kernels.<name>`: a compiled kernel when a build is there (resolved on first use), else
    numba's dispatcher itself."""

    _lock = threading.Lock()  # the engine's threads may ask for a kernel first at the same time

    def __init__(self):
        self._module = False  # not looked for yet

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        with self._lock:  # once per kernel: afterwards the attribute is found without __getattr__
            if name in self.__dict__:
                return self.__dict__[name]
            if self._module is False:
                self._module = load()
            if self._module is None:
                value = getattr(_jit(), name)
            else:
                table = {sym.partition("__")[2]: getattr(self._module, sym)
                         for sym in dir(self._module) if sym.partition("__")[0] == name and "__" in sym}
                value = _Kernel(name, table)
            setattr(self, name, value)
            return value

    def reset(self) -> None:
        """Forget what was resolved (after a build, or when GUAPAI_KERNELS* changed)."""
        with self._lock:
            self.__dict__.clear()
            self._module = False


kernels = _Kernels()
