"""The listing criteria as configuration: a versioned TOML file, parsed and checked here."""
from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from messages.errors import ValidationError

DEFAULT_RULES = Path(__file__).with_name("default_rules.toml")
CRITERIA = ("fatal_accidents", "at_fault_per_vehicle", "violations_per_vehicle")
RESPONSIBILITIES = {"full", "main", "equal", "secondary", "none"}


@dataclass(frozen=True)
class Scoring:
    time_weights: tuple[tuple[int, float], ...] = ((6, 3.0), (12, 2.0), (24, 1.0))
    fatal_or_injury: float = 2.0
    property_only: float = 1.0
    dangerous_goods_release: float = 1.0
    severity_by_points: dict[int, float] = field(default_factory=dict)
    severity_by_code: dict[str, float] = field(default_factory=dict)
    size_bands: tuple[float, ...] = (1, 5, 20, 100, 1e6)
    min_vehicles: float = 3
    min_events: float = 3


@dataclass(frozen=True)
class RuleSet:
    version: str
    effective_from: dt.date
    window_months: int
    at_fault: tuple[str, ...]
    fatal_responsibility: tuple[str, ...]
    min_fleet: float
    vehicle_classes: tuple[str, ...]
    thresholds: dict[str, dict[str, float]]  # business type (or "default") -> criterion -> value
    scoring: Scoring
    source: str  # the TOML text, stored with the version
    sha256: str
    # where the look-back starts for a company listed before (listing.domain.lookback)
    relist_lookback: str = "after_last_listing"

    def threshold(self, business_type: str, criterion: str) -> float:
        return self.thresholds.get(business_type, {}).get(criterion, self.thresholds["default"][criterion])


def _field(ok: bool, name: str, reason: str) -> None:
    if not ok:
        raise ValidationError("err.rules_field", field=name, reason=reason)


def parse(text: str) -> RuleSet:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError("err.rules_toml", reason=str(exc)) from None
    _field(isinstance(data.get("version"), str) and data["version"].strip() != "", "version", "a non-empty string")
    _field(isinstance(data.get("effective_from"), dt.date), "effective_from", "a date like 2026-01-01")
    months = data.get("window_months", 12)
    _field(isinstance(months, int) and 1 <= months <= 60, "window_months", "a whole number of months, 1-60")
    at_fault = tuple(data.get("at_fault", ("full", "main", "equal")))
    _field(set(at_fault) <= RESPONSIBILITIES and at_fault != (), "at_fault", f"a list from {sorted(RESPONSIBILITIES)}")
    fatal = tuple(data.get("fatal_responsibility", ("full", "main", "equal", "secondary")))
    _field(set(fatal) <= RESPONSIBILITIES and fatal != (), "fatal_responsibility", f"a list from {sorted(RESPONSIBILITIES)}")
    thresholds = data.get("thresholds", {})
    _field(isinstance(thresholds.get("default"), dict) and set(CRITERIA) <= set(thresholds["default"]),
           "thresholds.default", f"must set {', '.join(CRITERIA)}")
    for group, values in thresholds.items():
        for name, value in values.items():
            _field(name in CRITERIA, f"thresholds.{group}.{name}", f"unknown criterion (use {', '.join(CRITERIA)})")
            _field(isinstance(value, (int, float)) and value > 0, f"thresholds.{group}.{name}", "a positive number")
    classes = tuple(data.get("vehicle_classes", ()))
    _field(len(classes) > 0, "vehicle_classes", "at least one vehicle class")
    relist = data.get("relist_lookback", "after_last_listing")
    _field(relist in ("after_last_listing", "full_window"), "relist_lookback", "after_last_listing or full_window")
    min_fleet = data.get("min_fleet", 5)
    _field(isinstance(min_fleet, (int, float)) and min_fleet >= 0, "min_fleet", "a number >= 0")
    return RuleSet(
        version=data["version"].strip(), effective_from=data["effective_from"], window_months=months,
        at_fault=at_fault, fatal_responsibility=fatal, min_fleet=float(min_fleet), vehicle_classes=classes,
        thresholds={g: {k: float(v) for k, v in vals.items()} for g, vals in thresholds.items()},
        scoring=_scoring(data.get("scoring", {})), source=text, sha256=hashlib.sha256(text.encode()).hexdigest(),
        relist_lookback=relist,
    )


def _scoring(data: dict) -> Scoring:
    sev = data.get("accident_severity", {})
    weights = tuple((int(m), float(w)) for m, w in data.get("time_weights", ((6, 3), (12, 2), (24, 1))))
    _field(all(a[0] < b[0] for a, b in zip(weights, weights[1:])), "scoring.time_weights", "ages must increase")
    bands = tuple(float(b) for b in data.get("size_bands", (1, 5, 20, 100, 1e6)))
    _field(all(a < b for a, b in zip(bands, bands[1:])), "scoring.size_bands", "bands must increase")
    return Scoring(
        time_weights=weights,
        fatal_or_injury=float(sev.get("fatal_or_injury", 2)), property_only=float(sev.get("property_only", 1)),
        dangerous_goods_release=float(sev.get("dangerous_goods_release", 1)),
        severity_by_points={int(k): float(v) for k, v in data.get("violation_severity_by_points", {}).items()},
        severity_by_code={str(k): float(v) for k, v in data.get("violation_severity_by_code", {}).items()},
        size_bands=bands, min_vehicles=float(data.get("min_vehicles", 3)), min_events=float(data.get("min_events", 3)),
    )


def load(path: Path | None = None) -> RuleSet:
    path = path or DEFAULT_RULES
    if not path.is_file():
        raise ValidationError("err.file_missing", path=str(path))
    return parse(path.read_text(encoding="utf-8"))
