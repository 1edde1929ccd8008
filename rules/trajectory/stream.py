"""Scanning a large Parquet file of positions (sorted by vehicle) in bounded memory: row groups
are read one at a time and scanned per completed vehicle batch."""
from __future__ import annotations

from pathlib import Path

import polars as pl

from rules.trajectory.config import TrajectoryRules
from rules.trajectory.engine import scan


def scan_parquet(path: Path, *, vehicle_class, rules: TrajectoryRules, on_findings=None) -> tuple[int, int]:
    """(points scanned, findings). The last vehicle of a row group is held back until its rows
    are complete, so no vehicle is split across scans."""
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    carry = None
    points = findings = 0
    for i in range(file.num_row_groups):
        batch = pl.from_arrow(file.read_row_group(i))
        if carry is not None:
            batch = pl.concat([carry, batch])
        last = batch["vehicle"][-1]
        carry = batch.filter(pl.col("vehicle") == last)
        ready = batch.filter(pl.col("vehicle") != last)
        if ready.height:
            result = scan(ready, vehicle_class=vehicle_class, rules=rules)
            points += ready.height
            findings += len(result.findings)
            if on_findings:
                on_findings(result.findings)
    if carry is not None and carry.height:
        result = scan(carry, vehicle_class=vehicle_class, rules=rules)
        points += carry.height
        findings += len(result.findings)
        if on_findings:
            on_findings(result.findings)
    return points, findings
