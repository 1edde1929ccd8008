"""How hard the reliability tests try: a CI budget by default, the long variant with
GUAPAI_LONG=1 (more fuzz cases, longer load and fault runs). Tests ask, they never guess:

    from tests.budget import cases, LONG
    @settings(max_examples=cases(ci=300, long=20_000))
"""
from __future__ import annotations

import os

LONG = os.environ.get("GUAPAI_LONG", "").strip() not in ("", "0", "false", "no")


def cases(ci: int, long: int) -> int:
    """`ci` normally, `long` when GUAPAI_LONG=1."""
    return long if LONG else ci
