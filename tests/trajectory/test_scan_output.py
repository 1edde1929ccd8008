"""What `guapai trajectory scan` costs beyond the engine is proportional: the secrets are looked
up once per output, not once per string printed."""
import os

from listing import redact


def test_secrets_are_looked_up_once_per_output_not_per_string(monkeypatch):
    monkeypatch.setenv("GUAPAI_PLATFORM_TOKEN", "tok-SECRET-123")
    calls = []
    real = redact.secret_values
    monkeypatch.setattr(redact, "secret_values", lambda: calls.append(1) or real())
    rows = [{"vehicle": f"V{i}", "note": "token tok-SECRET-123 in text", "url": "https://u:pw-XYZ9@host/x?key=abcd"}
            for i in range(5000)]
    out = redact.scrub(rows)
    assert len(calls) == 1
    assert all("tok-SECRET-123" not in r["note"] and "pw-XYZ9" not in r["url"] and "abcd" not in r["url"] for r in out)
    monkeypatch.setenv("GUAPAI_PLATFORM_TOKEN", "another-secret")  # a new output sees the change
    assert redact.scrub(["another-secret"]) == ["***"] and os.environ["GUAPAI_PLATFORM_TOKEN"]
