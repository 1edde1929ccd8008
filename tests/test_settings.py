"""Configuration (pydantic-settings): environment over file over defaults, validated, and a bad
value is one line naming the variable and the file key, never its value."""
import pytest

from listing.settings import load
from messages.errors import ValidationError


@pytest.fixture
def config(tmp_path, monkeypatch):
    for name in ("GUAPAI_PLATFORM_URL", "GUAPAI_SAMPLING_FRACTION", "GUAPAI_JOBS__RULES_DAY", "GUAPAI_PLATFORM_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "guapai.toml"
    monkeypatch.setenv("GUAPAI_CONFIG", str(path))
    return path


def test_environment_over_file_over_defaults(config, monkeypatch):
    assert load().sampling_fraction == 0.10 and load().jobs.rules_day == 1
    config.write_text('platform_url = "http://file"\nsampling_fraction = 0.2\n[jobs]\nrules_day = 31\n', encoding="utf-8")
    s = load()
    assert (s.platform_url, s.sampling_fraction, s.jobs.rules_day, s.jobs.sampling) == ("http://file", 0.2, 31, "02:30")
    monkeypatch.setenv("GUAPAI_PLATFORM_URL", "http://env")
    monkeypatch.setenv("GUAPAI_JOBS__RULES_DAY", "28")
    s = load()
    assert (s.platform_url, s.jobs.rules_day, s.sampling_fraction) == ("http://env", 28, 0.2)


@pytest.mark.parametrize("env, value, variable", [
    ("GUAPAI_SAMPLING_FRACTION", "ten percent", "GUAPAI_SAMPLING_FRACTION"),
    ("GUAPAI_SAMPLING_FRACTION", "1.5", "GUAPAI_SAMPLING_FRACTION"),
    ("GUAPAI_JOBS__RULES_DAY", "32", "GUAPAI_JOBS__RULES_DAY"),
])
def test_a_bad_value_names_its_variable(config, monkeypatch, env, value, variable):
    monkeypatch.setenv(env, value)
    with pytest.raises(ValidationError) as err:
        load()
    message = err.value.message("en")
    assert variable in message and str(config) in message and "\n" not in message


def test_a_bad_file_is_one_line_and_a_secret_is_never_echoed(config, monkeypatch):
    config.write_text('[jobs]\nsampling = "25:00"\n', encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        load()
    assert "jobs.sampling" in err.value.message("en")
    config.write_text('platform_token = "tok-123\n', encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        load()
    assert "tok-123" not in err.value.message("en") and str(config) in err.value.message("en")


def test_describe_hides_secrets(config, monkeypatch):
    monkeypatch.setenv("GUAPAI_PLATFORM_TOKEN", "tok-secret")
    described = load().describe()
    assert described["platform_token"] == "(set)" and "tok-secret" not in str(described)
    assert "tok-secret" not in repr(load())
