"""What a load run does: how many officers, how long, how much seeded work."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LoadPlan:
    workers: int = 20
    duration: float = 20.0  # seconds of load, after every process is ready
    companies_per_jurisdiction: int = 4
    vehicles: int = 20  # per company
    findings: int | None = None  # suspected findings seeded (None: enough for the duration)
    problems: int | None = None
    hot: int = 6  # officers choose among the first `hot` items of their list: contention by design
    scheduler: bool = True
    step_hours: float = 24.0  # simulated time per scheduler tick
    seed: int = 7
    start_timeout: float = 240.0  # every process imported and connected by then
    grace: float = 60.0  # after the end of the load, a process still running is hung

    def n_findings(self) -> int:
        return self.findings if self.findings is not None else max(600, int(self.duration * 60))

    def n_problems(self) -> int:
        return self.problems if self.problems is not None else max(200, int(self.duration * 8))
