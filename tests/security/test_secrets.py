"""Secrets never appear in output, logs, error messages or tracebacks: the platform token, the
sampling secret, the group-robot webhooks (access_token= / key=) and the DingTalk signing
secret, database passwords in URLs. Every secret is set to a known canary; commands are run,
failing ones included (platform on a closed loopback port, robots failing through
MockTransport, a job crashing with a secret in its message, an unreachable database), and the
canaries are looked for in stdout, stderr, every log record (DEBUG, httpx's included) and
every traceback."""
import dataclasses
import datetime as dt
import logging
import socket
import subprocess
import sys
import traceback
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

import main
from listing.services.users import add_user
from listing.store.db import open_store
from tests.conftest import NOW
from tests.scenario import drivers_on_duty, listed_company, local
from tests.security.test_masking import data_commands

ROOT = Path(__file__).resolve().parents[2]
CANARY = {
    "token": "canary-platform-token-7Qx",
    "sampling": "canary-sampling-secret-4Lw",
    "ding": "canary-dingtalk-access-9Rt",
    "ding_secret": "SECcanary-dingtalk-sign-2Fp",
    "wecom": "canary-wecom-key-5Hm",
    "db": "canary-db-password-8Zk",
}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def canary_env(port: int) -> dict:
    return {
        "GUAPAI_CONFIG": "/nonexistent/guapai.toml",
        "GUAPAI_PLATFORM_URL": f"http://127.0.0.1:{port}",
        "GUAPAI_PLATFORM_TOKEN": CANARY["token"],
        "GUAPAI_SAMPLING_SECRET": CANARY["sampling"],
        "GUAPAI_DINGTALK_WEBHOOK": f"http://127.0.0.1:{port}/robot/send?access_token={CANARY['ding']}",
        "GUAPAI_DINGTALK_SECRET": CANARY["ding_secret"],
        "GUAPAI_WECOM_WEBHOOK": f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key={CANARY['wecom']}",
    }


def leaked(*texts: str) -> list[str]:
    return [name for name, value in CANARY.items() for text in texts if value in (text or "")]


def tb(result) -> str:
    return "".join(traceback.format_exception(*result.exc_info)) if result.exc_info else ""


@pytest.fixture
def world(tmp_path):
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    store = open_store(url)
    with store.session() as s:
        add_user(s, None, "admin", "admin", "信息中心", "*", now=NOW)
        for name in ("police", "transport", "reviewer"):
            add_user(s, "admin", name, name, "处", "*", now=NOW)
    cid, _, vids = listed_company(store, local(2026, 11, 1), vehicles=4)
    drivers_on_duty(store, cid, vids, id_number=lambda i: f"3301061990010100{i}X")
    store.engine.dispose()
    return url


def test_no_secret_in_any_command_output_log_or_traceback_when_everything_fails(world, tmp_path, caplog, monkeypatch):
    port = closed_port()
    env = canary_env(port)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    runner = CliRunner()
    runs = [
        ["--as", "police", "jobs", "run", "sampling", "--date", "2026-11-23", "--json"],  # platform unreachable
        ["--as", "admin", "jobs", "run", "inspections", "--date", "2026-11-25", "--json"],  # robots unreachable
        ["--as", "police", "jobs", "list", "--json"],
        ["--as", "police", "findings", "list", "--state", "all", "--json"],
        ["--as", "police", "sample", "verify", "2026-11-23", "x", "--json"],
    ]
    runs += [["--as", user, *path, "--json"] for path, cmd in data_commands() for user in ("police", "admin")
             if not any(p.required for p in cmd.params)]  # every data command that needs no argument
    bad_urls = [f"postgresql+psycopg://guapai:{CANARY['db']}@127.0.0.1:{port}/guapai"]  # unreachable server
    results = []
    with caplog.at_level(logging.DEBUG):
        for args in runs:
            results.append((args, runner.invoke(main.app, ["--db", world, *args], env=env)))
        for url in bad_urls:
            for args in (["db", "status", "--json"], ["--as", "admin", "users", "list"]):
                results.append((args, runner.invoke(main.app, ["--db", url, *args], env=env)))
    failing = [args for args, r in results if r.exit_code != 0]
    assert len(failing) >= 3  # failing paths were exercised: the unreachable robots, the unreachable database
    # unreachable robots no longer fail the job (the outbox keeps the notice for a later attempt)
    assert ["--as", "admin", "jobs", "run", "inspections", "--date", "2026-11-25", "--json"] not in failing
    for args, r in results:
        assert leaked(r.stdout, r.stderr, tb(r)) == [], args
    assert "HTTP Request" in caplog.text or "connect" in caplog.text.lower()  # httpx/httpcore did log
    assert leaked(caplog.text) == []


def test_robots_failing_never_show_their_webhook_or_secret(caplog):
    from jobs.notify import DingTalkRobot, WeComRobot
    from messages.errors import GuapaiError

    answers = iter([httpx.Response(500), httpx.Response(500), httpx.Response(500),  # retried, then given up
                    httpx.Response(400, json={"errcode": 300001, "errmsg": f"token {CANARY['ding']} invalid"}),
                    httpx.Response(200, json={"errcode": 93000, "errmsg": f"invalid webhook url, key={CANARY['wecom']}"})])
    seen = []

    def handler(request):
        seen.append(str(request.url))
        return next(answers)

    transport = httpx.MockTransport(handler)
    ding = DingTalkRobot(f"https://oapi.dingtalk.com/robot/send?access_token={CANARY['ding']}", CANARY["ding_secret"],
                         transport=transport)
    wecom = WeComRobot(f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={CANARY['wecom']}", transport=transport)
    errors = []
    with caplog.at_level(logging.DEBUG):
        for robot in (ding, ding, wecom):
            with pytest.raises(GuapaiError) as raised:
                robot.send("k", "标题", "正文")
            errors.append(str(raised.value) + raised.value.message("zh") + "".join(traceback.format_exception(raised.value)))
        errors.append(repr(ding) + repr(wecom))
    assert CANARY["ding"] in seen[0] and "sign=" in seen[0]  # the robots did get their token...
    assert leaked(*errors, caplog.text) == []  # ...nobody else did
    assert "HTTP Request: POST https://oapi.dingtalk.com/robot/send?access_token=***&timestamp=" in caplog.text
    assert "HTTP Request: POST https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=*** " in caplog.text


def test_platform_client_failing_never_shows_the_token(caplog):
    from listing.clients.platform import PlatformClient

    def handler(request):
        assert request.headers["Authorization"] == f"Bearer {CANARY['token']}"
        if "V1" in request.url.path:
            return httpx.Response(401, text=f"bad token {CANARY['token']}")
        return httpx.Response(503)

    start, end = dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc), dt.datetime(2026, 11, 24, tzinfo=dt.timezone.utc)
    from listing.clients.platform import PlatformAuthError

    with caplog.at_level(logging.DEBUG):
        client = PlatformClient("http://platform.test", CANARY["token"],
                                transport=httpx.MockTransport(handler), max_retries=2, backoff=lambda n: 0)
        results = client.fetch_many(["浙AV2"], start, end)
        with pytest.raises(PlatformAuthError) as refused:  # 401: our token, one line about it
            client.fetch_many(["浙AV1"], start, end)
        unreachable = PlatformClient(f"http://127.0.0.1:{closed_port()}", CANARY["token"], max_retries=1, backoff=lambda n: 0)
        results |= {"down": unreachable.fetch_positions("浙A1", start, end)}
        texts = [repr(client), repr(unreachable), *(str(r) for r in results.values()), str(refused.value),
                 refused.value.message("en"), refused.value.message("zh")]
    assert {r.status for r in results.values()} == {"unavailable"}
    assert leaked(*texts, caplog.text) == []


def test_a_database_password_is_never_in_the_error_line(tmp_path):
    runner = CliRunner()
    outs = []
    for url in (f"mysql://guapai:{CANARY['db']}@127.0.0.1/guapai",  # unsupported: the error names the URL
                f"postgresql+psycopg://guapai:{CANARY['db']}@127.0.0.1:notaport/guapai"):
        for args in (["db", "status", "--json"], ["--as", "admin", "users", "list"]):
            r = runner.invoke(main.app, ["--db", url, *args], env={"GUAPAI_CONFIG": str(tmp_path / "none.toml")})
            assert r.exit_code != 0
            outs += [r.stdout, r.stderr, tb(r)]
    assert leaked(*outs) == []


def test_a_job_crashing_with_a_secret_in_its_message_shows_it_nowhere(world, caplog, monkeypatch):
    from jobs import definitions

    env = canary_env(closed_port())
    for k, v in env.items():
        monkeypatch.setenv(k, v)

    def crash(ctx, period):
        raise RuntimeError(f"cannot post to {env['GUAPAI_DINGTALK_WEBHOOK']} with Bearer {CANARY['token']}")

    monkeypatch.setitem(definitions.JOBS, "deadlines", dataclasses.replace(definitions.JOBS["deadlines"], work=crash))
    runner = CliRunner()
    with caplog.at_level(logging.DEBUG):
        ran = runner.invoke(main.app, ["--db", world, "--as", "admin", "jobs", "run", "deadlines", "--date", "2026-11-23", "--json"],
                            env=env)
        listed = runner.invoke(main.app, ["--db", world, "--as", "police", "jobs", "list", "--json"], env=env)
    assert ran.exit_code == 1 and '"status": "failed"' in ran.stdout and "cannot post to" in ran.stdout
    assert "cannot post to" in listed.stdout  # the stored error is shown, redacted
    assert leaked(ran.stdout, ran.stderr, listed.stdout, listed.stderr, caplog.text) == []
    assert "job deadlines 2026-11-23 failed" in caplog.text


def test_an_uncaught_crash_in_a_real_process_prints_a_redacted_traceback(tmp_path):
    port = closed_port()
    env = {**canary_env(port), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    url = f"postgresql+psycopg://guapai:{CANARY['db']}@127.0.0.1:{port}/guapai"
    crash = subprocess.run([sys.executable, "main.py", "--db", url, "--as", "admin", "users", "list"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
    assert crash.returncode != 0 and "127.0.0.1" in crash.stderr  # the failure is reported, with the host
    code = ("import logging, sys; from listing import redact; redact.install(); logging.basicConfig(level=logging.DEBUG);"
            "import os; logging.getLogger('x').warning('token %s', os.environ['GUAPAI_PLATFORM_TOKEN']);"
            "raise RuntimeError('webhook ' + os.environ['GUAPAI_WECOM_WEBHOOK'] + ' secret ' + os.environ['GUAPAI_SAMPLING_SECRET'])")
    raw = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert "RuntimeError: webhook http://127.0.0.1" in raw.stderr and "token ***" in raw.stderr
    assert leaked(crash.stdout, crash.stderr, raw.stdout, raw.stderr) == []
