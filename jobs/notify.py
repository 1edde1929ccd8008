"""Group-robot notifications: DingTalk (钉钉, optionally signed) and WeCom (企业微信).

DingTalk signing: timestamp in ms and sign = urlencode(base64(HMAC-SHA256(key=secret,
msg="timestamp\\nsecret"))) appended to the webhook URL. Retries on 5xx and connection errors;
secrets and webhook keys never appear in errors or reprs. An injected httpx transport lets
tests use a local receiver or MockTransport.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from listing import redact
from messages.errors import GuapaiError


class _Retry(Exception):
    pass


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


class _Robot:
    name = "robot"

    def __init__(self, webhook: str, *, transport: httpx.BaseTransport | None = None, timeout: float = 5.0):
        redact.install()  # httpx logs request URLs, which carry the access token
        redact.remember(webhook)
        self._webhook = webhook
        self._http = httpx.Client(transport=transport, timeout=timeout)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(webhook=***)"

    def _url(self) -> str:
        return self._webhook

    def _payload(self, title: str, text: str) -> dict:
        raise NotImplementedError

    @retry(retry=retry_if_exception_type(_Retry), stop=stop_after_attempt(3), wait=wait_exponential(multiplier=0.2, max=2),
           reraise=True)
    def _post(self, payload: dict) -> None:
        try:
            response = self._http.post(self._url(), json=payload)
        except httpx.TransportError as exc:
            raise _Retry(type(exc).__name__) from None
        if response.status_code >= 500:
            raise _Retry(f"HTTP {response.status_code}")
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if response.status_code >= 400 or body.get("errcode", 0) != 0:
            raise GuapaiError("err.notify", channel=self.name, reason=f"HTTP {response.status_code} errcode {body.get('errcode')}")

    def send(self, key: str, title: str, text: str) -> None:
        try:  # a group of people reads this: never personal data or a secret, whoever calls
            self._post(self._payload(redact.redact(title), redact.redact(text)))
        except _Retry as exc:
            raise GuapaiError("err.notify", channel=self.name, reason=str(exc)) from None


class DingTalkRobot(_Robot):
    name = "dingtalk"

    def __init__(self, webhook: str, secret: str | None = None, **kw):
        super().__init__(webhook, **kw)
        redact.remember(secret)
        self._secret = secret

    def _url(self) -> str:
        if not self._secret:
            return self._webhook
        ts = int(time.time() * 1000)
        sep = "&" if "?" in self._webhook else "?"
        return f"{self._webhook}{sep}timestamp={ts}&sign={dingtalk_sign(self._secret, ts)}"

    def _payload(self, title: str, text: str) -> dict:
        return {"msgtype": "markdown", "markdown": {"title": title, "text": f"### {title}\n{text}"}}


class WeComRobot(_Robot):
    name = "wecom"

    def _payload(self, title: str, text: str) -> dict:
        return {"msgtype": "markdown", "markdown": {"content": f"**{title}**\n{text}"}}


class Fanout:
    """Every configured robot gets the message; the log keeps a copy."""

    def __init__(self, channels: list):
        self.channels = channels
        self.name = "+".join(c.name for c in channels)

    def send(self, key: str, title: str, text: str) -> None:
        for channel in self.channels:
            channel.send(key, title, text)
