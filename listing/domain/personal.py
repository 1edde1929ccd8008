"""Driver personal data (个人信息): resident ID numbers (身份证号) and phone numbers.

One place for masking. `mask_ric` / `mask_phone` mask one known value (the services use them
on driver records for roles without `driver.read_personal`); `mask_text` / `mask_data` find
such values inside any text or JSON-like data (free-text reasons and notes, import errors,
notifications, logs) and mask every one. Pure: no I/O, no settings.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from listing.domain.identifiers import mask_phone, mask_ric

__all__ = ["mask_ric", "mask_phone", "mask_text", "mask_data", "map_strings", "find_personal"]

# An 18-character ID number: region (6), birth date YYYYMMDD (8), sequence (3), check digit or X.
# The check digit is deliberately NOT required: a mistyped ID number (an import error) is still
# somebody's personal data. Bounded by non-alphanumerics so credit codes and hashes never match.
_RIC = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9A-Za-z])")
# A mainland mobile number, optionally after +86 / 86; or a landline written with its area code
# and a dash (0571-87654321). Bounded by non-digits so longer numbers (timestamps, JT/T 808
# terminal numbers, record numbers) never match.
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?![0-9])")
_LANDLINE = re.compile(r"(?<![0-9])0\d{2,3}-\d{7,8}(?![0-9])")


def _mobile(m: re.Match) -> str:
    return mask_phone(m.group(1) + m.group(2) + m.group(3))


def mask_text(text: str) -> str:
    """`text` with every ID number and phone number in it masked."""
    if not text or not any(c.isdigit() for c in text):
        return text
    text = _RIC.sub(lambda m: mask_ric(m.group(0)), text)
    text = _MOBILE.sub(_mobile, text)
    return _LANDLINE.sub(lambda m: mask_phone(m.group(0)), text)


def map_strings(value: Any, fn: Callable[[str], str]) -> Any:
    """A copy of JSON-like `value` (dicts, lists, tuples, strings, scalars) with `fn` applied to
    every string, keys included. Other objects are returned unchanged."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {map_strings(k, fn): map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [map_strings(v, fn) for v in value]
    if isinstance(value, tuple):
        return tuple(map_strings(v, fn) for v in value)
    return value


def mask_data(value: Any) -> Any:
    """A copy of JSON-like `value` with personal data in every string masked (keys included)."""
    return map_strings(value, mask_text)


def find_personal(text: str) -> list[str]:
    """The ID numbers and phone numbers found in `text` (for checks and tests)."""
    return [m.group(0) for p in (_RIC, _MOBILE, _LANDLINE) for m in p.finditer(text or "")]
