"""Configuration, one `Settings` (pydantic-settings): a TOML file (GUAPAI_CONFIG, default
guapai.toml in the user config dir) under environment variables GUAPAI_<NAME> (job times as
GUAPAI_JOBS__SAMPLING, ...). Every value is validated; a bad one is one line that names the
variable and the file key (`load()`). Secrets come from the environment or the file, never from
the code, and are never printed (`describe()` shows only whether they are set)."""
from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from messages.errors import ValidationError as GuapaiValidationError

ENV_PREFIX = "GUAPAI_"
SECRETS = ("platform_token", "sampling_secret", "dingtalk_webhook", "dingtalk_secret", "wecom_webhook")


class JobTimes(BaseModel):
    """When the scheduler runs each job (Asia/Shanghai)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sampling: str = "02:30"  # daily, for the previous day's trajectories
    deadlines: str = "00:10"  # daily
    inspections: str = "09:00"  # daily
    rules: str = "08:00"  # monthly, on rules_day
    rules_day: int = Field(1, ge=1, le=31)  # 29-31: the month's last day in shorter months

    @field_validator("sampling", "deadlines", "inspections", "rules")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        hour, _, minute = value.partition(":")
        if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            raise ValueError(f"a time of day HH:MM, not {value!r}")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", frozen=True,
                                      extra="ignore", hide_input_in_errors=True)

    platform_url: str | None = None
    platform_token: str | None = Field(None, repr=False)
    sampling_secret: str | None = Field(None, repr=False)
    sampling_fraction: float = Field(0.10, gt=0, le=1)
    sampling_batch: int = Field(200, ge=1)  # vehicles fetched and scanned together (each batch commits)
    sampling_context_hours: float = Field(24.0, ge=0)  # fetched before the day: "> 8 h in 24 h", the evening's drive
    sampling_after_hours: float = Field(4.0, ge=0)  # fetched after the day: an episode going on past midnight, whole
    sampling_min_moving_coverage: float = Field(0.9, ge=0, le=1)  # positions cover less of the moving time: partial data
    sampling_retry_minutes: float = Field(15.0, gt=0)  # a day the platform left unanswered is retried after this, doubling
    sampling_retry_max_minutes: float = Field(240.0, gt=0)  # ... up to this
    sampling_notice_hours: float = Field(6.0, ge=0)  # still waiting for the platform after this long: a notice
    remind_from_day: int = Field(20, ge=1, le=31)
    catch_up_days: int = Field(7, ge=0)
    # a restarted scheduler samples every day a listing now in force has owed since its confirmation,
    # back this far at most: the platform keeps positions six months (道路运输车辆动态监督管理办法)
    sampling_catch_up_days: int = Field(180, ge=0)
    dingtalk_webhook: str | None = Field(None, repr=False)
    dingtalk_secret: str | None = Field(None, repr=False)
    wecom_webhook: str | None = Field(None, repr=False)
    notify_lang: str = Field("zh", pattern="^(zh|en)$")
    jobs: JobTimes = JobTimes()

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, then the configuration file."""
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=config_path())

    def describe(self) -> dict:
        out = self.model_dump()
        for name in SECRETS:
            out[name] = "(set)" if out[name] else "(not set)"
        return out


def config_path() -> Path:
    if os.environ.get("GUAPAI_CONFIG"):
        return Path(os.environ["GUAPAI_CONFIG"])
    from platformdirs import user_config_dir

    return Path(user_config_dir("guapai", appauthor=False)) / "guapai.toml"


def load() -> Settings:
    """The settings in force: environment over the file over the defaults. A bad value is one
    clear error naming the variable and the file key (never its value: it may be a secret)."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(part) for part in first["loc"]]
        raise GuapaiValidationError("err.settings", variable=ENV_PREFIX + "__".join(loc).upper(),
                                    setting=".".join(loc), file=str(config_path()), reason=first["msg"]) from None
    except (OSError, ValueError) as exc:  # an unreadable or malformed TOML file
        raise GuapaiValidationError("err.settings_file", file=str(config_path()), reason=str(exc).splitlines()[0]) from None
