"""What must never be shown, in one place: secrets always; personal data wherever text goes to
groups of people (logs, notifications, reports) or to a role that does not need it.

Secrets are the platform token, the sampling secret, the group-robot webhooks (their URLs carry
access_token= / key=) and the DingTalk signing secret, and database passwords in URLs. They are
removed by value (from the environment, and whatever the clients `remember` when built) and by
shape (`?access_token=`, `&key=`, `&sign=`, `Bearer ...`, `scheme://user:password@`), so a
secret from the configuration file or one not yet seen is still caught in a URL.

`install()` (idempotent; cli/output.py and the platform/robot clients call it) makes every log
record go through `redact` — message, arguments and traceback — whatever logger or handler
writes it, and makes an uncaught exception's traceback redacted as well.
"""
from __future__ import annotations

import logging
import os
import re
import sys
import threading
import traceback
from typing import Any, Callable

from listing.domain.personal import map_strings, mask_text

MASK = "***"
SECRET_ENV = ("GUAPAI_PLATFORM_TOKEN", "GUAPAI_SAMPLING_SECRET", "GUAPAI_DINGTALK_WEBHOOK", "GUAPAI_DINGTALK_SECRET",
              "GUAPAI_WECOM_WEBHOOK")
URL_ENV = ("GUAPAI_DATABASE_URL", "GUAPAI_PLATFORM_URL", "GUAPAI_TEST_PG")
MIN_SECRET = 4  # shorter values are not replaced by value (they would blank out ordinary words)

_QUERY = re.compile(r"(?i)([?&;](?:access_token|token|key|sign|secret|password|passwd|pwd|api_key|apikey)=)[^&\s'\"<>#]+")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s'\",}]+")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^:/@\s'\"]+:)[^@/\s'\"]+(@)")
_remembered: set[str] = set()
_lock = threading.Lock()


def remember(*values: str | None) -> None:
    """Treat these values (and the secrets inside them, if they are URLs) as secrets from now on."""
    with _lock:
        for value in values:
            _remembered.update(_parts(value))


def remember_in_url(url: str | None) -> None:
    """A URL that is not itself secret (a platform's base URL): remember only the password or
    token inside it."""
    with _lock:
        _remembered.update(p for p in _parts(url) if p != url)  # no secret inside: nothing to remember


def _parts(value: str | None) -> set[str]:
    if not value or len(value) < MIN_SECRET:
        return set()
    inside = {m.group(0)[len(m.group(1)):] for m in _QUERY.finditer(value)}
    inside |= {m.group(0)[len(m.group(1)):-1] for m in _USERINFO.finditer(value)}
    # a URL whose secret is a token or password in it keeps its host and path readable
    return {v for v in (inside or {value}) if len(v) >= MIN_SECRET}


def secret_values() -> list[str]:
    """Every secret value known now, longest first (so a URL goes before the token inside it)."""
    found = set(_remembered)
    for name in SECRET_ENV:
        found.update(_parts(os.environ.get(name)))
    for name in URL_ENV:  # not secrets themselves; only the password inside them
        url = os.environ.get(name) or ""
        found.update(m.group(0)[len(m.group(1)):-1] for m in _USERINFO.finditer(url))
    return sorted((v for v in found if len(v) >= MIN_SECRET), key=len, reverse=True)


def secret_remover() -> Callable[[str], str]:
    """A function that removes secrets from a string, with the set of secret values computed once
    (now): walking a large output calls it per string without reading the environment again."""
    values = secret_values()
    by_value = re.compile("|".join(re.escape(v) for v in values)) if values else None

    def remove(text: str) -> str:
        if not text:
            return text
        if by_value is not None:
            text = by_value.sub(MASK, text)
        if "=" in text:
            text = _QUERY.sub(lambda m: m.group(1) + MASK, text)
        if "bearer" in text.lower():
            text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
        if "://" in text:
            text = _USERINFO.sub(lambda m: m.group(1) + MASK + m.group(2), text)
        return text

    return remove


def redact_secrets(text: str) -> str:
    return secret_remover()(text) if text else text


def redact(text: str) -> str:
    """For text that goes to groups of people (logs, notifications): no secrets, no personal data."""
    return mask_text(redact_secrets(text)) if text else text


def scrub(value: Any, *, personal: bool = True) -> Any:
    """A copy of JSON-like `value` with secrets removed from every string and, if `personal`,
    ID numbers and phone numbers masked. The secrets are looked up once per call, not per string,
    and each distinct string is scrubbed once (a scan's JSON repeats its keys, plates and times
    thousands of times)."""
    remove = secret_remover()
    fn = (lambda text: mask_text(remove(text)) if text else text) if personal else remove
    done: dict[str, str] = {}

    def once(text: str) -> str:
        out = done.get(text)
        if out is None:
            out = done[text] = fn(text)
        return out

    return map_strings(value, once)


# ---- logging and uncaught exceptions -------------------------------------------------------

_installed = {"done": False}


def _redacted_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep the record as logging would
        return record
    record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        record.exc_info = None  # the formatted, redacted text is what handlers print
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install() -> None:
    """Every log record, from any logger (httpx logs request URLs), is redacted when created;
    an uncaught exception prints a redacted traceback."""
    with _lock:
        if _installed["done"]:
            return
        _installed["done"] = True
    base = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        return _redacted_record(base(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    previous = sys.excepthook

    def excepthook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            return previous(exc_type, exc, tb)
        sys.stderr.write(redact("".join(traceback.format_exception(exc_type, exc, tb))))
        sys.stderr.flush()

    sys.excepthook = excepthook
    thread_previous = threading.excepthook

    def thread_hook(args):
        if args.exc_type is SystemExit:
            return thread_previous(args)
        sys.stderr.write(f"Exception in thread {getattr(args.thread, 'name', '?')}:\n")
        sys.stderr.write(redact("".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))))

    threading.excepthook = thread_hook


def format_exception(exc: BaseException) -> str:
    """A traceback as text, redacted (for anything that stores or shows one)."""
    return redact("".join(traceback.format_exception(exc)))
