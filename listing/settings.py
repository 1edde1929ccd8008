"""Configuration: a TOML file (GUAPAI_CONFIG, default guapai.toml in the user config dir) with
environment overrides. Secrets come from the environment or the file, never from the code, and
are never printed (`describe()` shows only whether they are set)."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path


@dataclass(frozen=True)
class JobTimes:
    sampling: str = "02:30"  # daily, for the previous day's trajectories
    deadlines: str = "00:10"  # daily
    inspections: str = "09:00"  # daily
    rules: str = "08:00"  # monthly, on rules_day
    rules_day: int = 1


@dataclass(frozen=True)
class Settings:
    platform_url: str | None = None
    platform_token: str | None = field(default=None, repr=False)
    sampling_secret: str | None = field(default=None, repr=False)
    sampling_fraction: float = 0.10
    sampling_batch: int = 200  # vehicles fetched and scanned together (each batch commits)
    sampling_context_hours: float = 24.0  # fetched before the day: "> 8 h in 24 h", the evening's drive
    sampling_after_hours: float = 4.0  # fetched after the day: an episode going on past midnight, whole
    sampling_min_moving_coverage: float = 0.9  # positions cover less of the moving time: partial data
    sampling_retry_minutes: float = 15.0  # a day the platform left unanswered is retried after this, doubling
    sampling_retry_max_minutes: float = 240.0  # ... up to this
    sampling_notice_hours: float = 6.0  # still waiting for the platform after this long: a notice
    remind_from_day: int = 20
    catch_up_days: int = 7
    dingtalk_webhook: str | None = field(default=None, repr=False)
    dingtalk_secret: str | None = field(default=None, repr=False)
    wecom_webhook: str | None = field(default=None, repr=False)
    notify_lang: str = "zh"
    jobs: JobTimes = JobTimes()

    SECRETS = ("platform_token", "sampling_secret", "dingtalk_webhook", "dingtalk_secret", "wecom_webhook")

    def describe(self) -> dict:
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in self.SECRETS:
                out[f.name] = "(set)" if value else "(not set)"
            elif isinstance(value, JobTimes):
                out[f.name] = {g.name: getattr(value, g.name) for g in fields(value)}
            else:
                out[f.name] = value
        return out


ENV = {
    "platform_url": "GUAPAI_PLATFORM_URL", "platform_token": "GUAPAI_PLATFORM_TOKEN",
    "sampling_secret": "GUAPAI_SAMPLING_SECRET", "dingtalk_webhook": "GUAPAI_DINGTALK_WEBHOOK",
    "dingtalk_secret": "GUAPAI_DINGTALK_SECRET", "wecom_webhook": "GUAPAI_WECOM_WEBHOOK",
}


def config_path() -> Path:
    if os.environ.get("GUAPAI_CONFIG"):
        return Path(os.environ["GUAPAI_CONFIG"])
    from platformdirs import user_config_dir

    return Path(user_config_dir("guapai", appauthor=False)) / "guapai.toml"


def load(path: Path | None = None) -> Settings:
    path = path or config_path()
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    jobs = JobTimes(**data.pop("jobs", {}))
    known = {f.name for f in fields(Settings)}
    values = {k: v for k, v in data.items() if k in known}
    for name, env in ENV.items():
        if os.environ.get(env):
            values[name] = os.environ[env]
    return Settings(**values, jobs=jobs)
