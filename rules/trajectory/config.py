"""Trajectory rules as configuration: the shipped defaults, deep-merged with a user's TOML."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from messages.errors import ValidationError

DEFAULT = Path(__file__).with_name("default_rules.toml")


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return out


def _clock(text: str) -> int:
    """'22:00' -> seconds after local midnight."""
    hh, mm = text.split(":")
    return int(hh) * 3600 + int(mm) * 60


@dataclass(frozen=True)
class TrajectoryRules:
    raw: dict[str, Any]

    @property
    def version(self) -> str:
        return self.raw["version"]

    def section(self, name: str) -> dict[str, Any]:
        return self.raw[name]

    def limit_kmh(self, vehicle_class: str) -> float:
        limits = self.raw["overspeed"]["limits_kmh"]
        return float(limits.get(vehicle_class, limits["other"]))

    def window(self, name: str) -> tuple[int, int]:
        sec = self.raw[name]
        return _clock(sec["start"]), _clock(sec["end"])

    def is_passenger(self, vehicle_class: str) -> bool:
        return vehicle_class in self.raw["night"]["passenger_classes"]


def parse(text: str, base: dict | None = None) -> TrajectoryRules:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError("err.trajectory_rules", reason=str(exc)) from None
    merged = _merge(base or {}, data)
    try:
        rules = TrajectoryRules(merged)
        for name in ("night", "early_morning"):
            rules.window(name)
        assert merged["cleaning"]["speed_source"] in ("reported", "derived", "max"), "cleaning.speed_source"
        for section, key in (("overspeed", "min_duration_s"), ("fatigue", "rest_min_s"), ("signal_gap", "max_gap_s")):
            assert float(merged[section][key]) > 0, f"{section}.{key} must be positive"
    except (KeyError, ValueError, AssertionError) as exc:
        raise ValidationError("err.trajectory_rules", reason=str(exc)) from None
    return rules


def load(path: Path | None = None) -> TrajectoryRules:
    base = tomllib.loads(DEFAULT.read_text(encoding="utf-8"))
    if path is None:
        return TrajectoryRules(base)
    if not path.is_file():
        raise ValidationError("err.file_missing", path=str(path))
    return parse(path.read_text(encoding="utf-8"), base)
