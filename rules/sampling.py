"""The daily 10% sample (每日抽查10%车辆): verifiable, unpredictable, fair.

n = ceil(fraction x active vehicles), at least one. Vehicles never sampled, or sampled longest
ago, come first (so every vehicle is drawn within ceil(N / n) days); ties are broken by a keyed
hash HMAC-SHA256(secret, "day|company|vehicle"): an auditor with the secret recomputes the
choice, a company without it cannot predict it. Pure: same inputs, same sample.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
from typing import Mapping, Sequence


def sample_size(active: int, fraction: float = 0.10) -> int:
    return 0 if active <= 0 else max(1, math.ceil(active * fraction - 1e-9))


def draw_key(secret: bytes, day: dt.date, company: str, vehicle: str) -> str:
    return hmac.new(secret, f"{day.isoformat()}|{company}|{vehicle}".encode(), hashlib.sha256).hexdigest()


def select_sample(vehicles: Sequence[str], last_sampled: Mapping[str, dt.date | None], day: dt.date, company: str,
                  secret: bytes, fraction: float = 0.10) -> list[str]:
    """The vehicles to sample on `day`, in selection order."""
    unique = sorted(set(vehicles))
    never = dt.date.min

    def order(vehicle: str):
        return (last_sampled.get(vehicle) or never, draw_key(secret, day, company, vehicle))

    return sorted(unique, key=order)[: sample_size(len(unique), fraction)]
