"""A finding: one suspected violation (or data problem) with the evidence behind it."""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Finding:
    rule: str  # overspeed / night_overspeed / fatigue_continuous / fatigue_daily / fatigue_weekly / early_morning / signal_gap / driver_unknown / no_data / partial_data
    regulation: str
    vehicle: str
    start: dt.datetime  # aware UTC
    end: dt.datetime
    breach: dt.datetime | None = None  # aware UTC: the moment the limit was crossed (the day a finding belongs to)
    start_lat: float | None = None
    start_lon: float | None = None
    end_lat: float | None = None
    end_lon: float | None = None
    duration_s: float = 0.0
    distance_m: float = 0.0
    max_speed_kmh: float | None = None
    mean_speed_kmh: float | None = None
    limit_kmh: float | None = None
    band: str | None = None
    point_count: int = 0
    driver: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["start"], out["end"] = self.start.isoformat(), self.end.isoformat()
        out["breach"] = (self.breach or self.start).isoformat()
        for key in ("start_lat", "start_lon", "end_lat", "end_lon"):
            if out[key] is not None:
                out[key] = round(out[key], 6)
        for key in ("duration_s", "distance_m", "max_speed_kmh", "mean_speed_kmh"):
            if out[key] is not None:
                out[key] = round(float(out[key]), 1)
        return out


def utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(round(float(seconds), 6), tz=dt.timezone.utc)


from listing.i18n import register  # noqa: E402

register(
    {
        "rule.overspeed": ("超速", "overspeed"),
        "rule.night_overspeed": ("夜间超速(客运)", "night overspeed (passenger)"),
        "rule.fatigue_continuous": ("连续驾驶超时", "continuous driving too long"),
        "rule.fatigue_daily": ("24小时累计驾驶超时", "over 8 h driving in 24 h"),
        "rule.fatigue_weekly": ("7日累计驾驶超时", "over 44 h driving in 7 days"),
        "rule.early_morning": ("凌晨2-5时违规运行", "moving 02:00-05:00 (coach)"),
        "rule.signal_gap": ("信号中断", "signal gap"),
        "rule.driver_unknown": ("驾驶员不明", "driver unknown"),
        "rule.no_data": ("无轨迹数据", "no trajectory data"),
        "rule.partial_data": ("轨迹数据不完整", "partial trajectory data"),
        "title.trajectory": ("轨迹倒查结果", "Trajectory findings"),
        "col.vehicle": ("车辆", "vehicle"),
        "col.rule": ("规则", "rule"),
        "col.start": ("开始", "start"),
        "col.duration_s": ("持续(秒)", "seconds"),
        "col.max_speed": ("最高速度", "max km/h"),
        "col.limit": ("限速", "limit"),
        "col.band": ("超速幅度", "band"),
        "col.driver": ("驾驶员", "driver"),
        "msg.trajectory_scanned": ("读取 {points} 点,保留 {kept};发现 {n} 条;速度来源 {source};剔除 {dropped};无法解析 {errors}",
                                   "{points} points read, {kept} kept; {n} findings; speed from {source}; dropped: {dropped}; unreadable records: {errors}"),
    }
)
