"""The trajectory engine (轨迹倒查): pure, vectorised code from positions to findings.

Public API: `read` (files), `read_platform_json`, `scan`, `load_rules`, `Finding`, `ScanResult`,
`Zones`, `simulated_vehicle_day` (SIMULATED data for tests and demos).
"""
from rules.trajectory.config import load as load_rules
from rules.trajectory.engine import Coverage, ScanResult, scan
from rules.trajectory.findings import Finding
from rules.trajectory.readers import read, read_platform_json
from rules.trajectory.synthetic import simulated_vehicle_day
from rules.trajectory.zones import Zones

__all__ = ["Coverage", "Finding", "ScanResult", "Zones", "load_rules", "read", "read_platform_json", "scan",
           "simulated_vehicle_day"]
