"""The trajectory engine (轨迹倒查): pure, vectorised code from positions to findings.

Public API: `read` (files), `read_platform_json`, `scan`, `load_rules`, `Finding`, `ScanResult`,
`Zones`, `simulated_vehicle_day` (SIMULATED data for tests and demos).

The names are imported on first use (PEP 562), so reading a file does not wait for the compiled
kernels (numba) to load: `guapai trajectory scan` loads them while the file is read.
"""
from importlib import import_module

_WHERE = {"load_rules": ("config", "load"), "Coverage": ("engine", "Coverage"), "ScanResult": ("engine", "ScanResult"),
          "scan": ("engine", "scan"), "Finding": ("findings", "Finding"), "read": ("readers", "read"),
          "read_platform_json": ("readers", "read_platform_json"), "simulated_vehicle_day": ("synthetic", "simulated_vehicle_day"),
          "Zones": ("zones", "Zones")}

__all__ = ["Coverage", "Finding", "ScanResult", "Zones", "load_rules", "read", "read_platform_json", "scan",
           "simulated_vehicle_day"]


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attr = _WHERE[name]
    value = getattr(import_module(f"{__name__}.{module}"), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
