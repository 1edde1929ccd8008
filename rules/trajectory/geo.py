"""Vectorised geodesy on numpy arrays (WGS84 sphere approximation; metres)."""
from __future__ import annotations

import numpy as np

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi * 0.5) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb * 0.5) ** 2
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def offset(lat, lon, north_m, east_m) -> tuple[np.ndarray, np.ndarray]:
    """Move points by metres north/east (small distances)."""
    dlat = np.degrees(np.asarray(north_m) / EARTH_RADIUS_M)
    dlon = np.degrees(np.asarray(east_m) / (EARTH_RADIUS_M * np.cos(np.radians(lat))))
    return np.asarray(lat) + dlat, np.asarray(lon) + dlon


def step_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Distance between consecutive fixes: the equirectangular approximation, within 0.1% of
    haversine for steps under 100 km and several times cheaper; haversine beyond."""
    k = np.pi / 180.0
    mid = ((lat1 + lat2) * (0.5 * k)).astype(np.float32)  # float32 cos: ample for a scale factor
    x = (lon2 - lon1) * k * np.cos(mid)
    y = (lat2 - lat1) * k
    d = EARTH_RADIUS_M * np.sqrt(x * x + y * y)
    far = d > 100_000
    if far.any():
        d[far] = haversine_m(np.asarray(lat1)[far], np.asarray(lon1)[far], np.asarray(lat2)[far], np.asarray(lon2)[far])
    return d
