"""DingTalk (signed) and WeCom robots against a local receiver; exactly-once via the sent log."""
import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from jobs.notify import DingTalkRobot, WeComRobot, dingtalk_sign
from listing.services.notifications import deliver, queue_notice
from messages.errors import GuapaiError
from tests.conftest import NOW

SECRET = "SECabcdef0123456789"


@pytest.fixture
def receiver():
    got, fail = [], {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if fail["n"]:
                fail["n"] -= 1
                self.send_response(502)
                self.end_headers()
                return
            got.append((self.path, body))
            data = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", got, fail
    server.shutdown()


def test_dingtalk_signed_message_and_retry(receiver):
    url, got, fail = receiver
    fail["n"] = 1  # one 502 first: retried
    DingTalkRobot(f"{url}/robot/send?access_token=abc", SECRET).send("k", "标题", "正文")
    (path, body), = got
    query = urllib.parse.parse_qs(urllib.parse.urlparse(path).query)
    ts = int(query["timestamp"][0])
    expected = base64.b64encode(hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()).decode()
    assert query["sign"][0] == expected and query["access_token"] == ["abc"]
    assert body == {"msgtype": "markdown", "markdown": {"title": "标题", "text": "### 标题\n正文"}}
    assert urllib.parse.unquote_plus(dingtalk_sign(SECRET, ts)) == expected


def test_wecom_message(receiver):
    url, got, _ = receiver
    WeComRobot(f"{url}/cgi-bin/webhook/send?key=k1").send("k", "提醒", "内容")
    assert got[0][1] == {"msgtype": "markdown", "markdown": {"content": "**提醒**\n内容"}}


def test_errors_are_clear_and_hold_no_secret():
    def handler(request):
        return httpx.Response(200, json={"errcode": 310000, "errmsg": "sign not match"})

    robot = DingTalkRobot("https://oapi.example/robot/send?access_token=TOKEN123", SECRET, transport=httpx.MockTransport(handler))
    with pytest.raises(GuapaiError) as err:
        robot.send("k", "t", "x")
    text = err.value.message("en") + repr(robot)
    assert "310000" in text and SECRET not in text and "TOKEN123" not in text


def test_queue_notice_sends_once_per_key(store):
    sent = []

    class Channel:
        name = "test"

        def send(self, key, title, text):
            sent.append(key)

    for _ in range(3):
        with store.session() as s:
            queue_notice(s, Channel(), "remind:1:2026-11:police", "t", "x", now=NOW)
        deliver(store, Channel(), now=NOW)
    assert sent == ["remind:1:2026-11:police"]
