"""Speed-limit zones from GeoJSON polygons (lowest limit wins), vectorised with shapely 2."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from messages.errors import ValidationError

LIMIT_KEYS = ("speed_limit", "limit_kmh", "maxspeed", "限速")


class Zones:
    def __init__(self, polygons: list, limits: list[float]):
        self.polygons, self.limits = polygons, np.asarray(limits, dtype=np.float64)

    @classmethod
    def from_geojson(cls, data: dict) -> "Zones":
        from shapely.geometry import shape

        polygons, limits = [], []
        try:
            features = data["features"] if data.get("type") == "FeatureCollection" else [data]
            for feature in features:
                props = feature.get("properties") or {}
                limit = next((props[k] for k in LIMIT_KEYS if k in props), None)
                if limit is None:
                    raise ValueError(f"a zone without a speed limit property ({', '.join(LIMIT_KEYS)})")
                geom = shape(feature["geometry"])
                if geom.geom_type not in ("Polygon", "MultiPolygon"):
                    raise ValueError(f"zones must be polygons, not {geom.geom_type}")
                polygons.append(geom)
                limits.append(float(limit))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValidationError("err.zones", reason=str(exc)) from None
        return cls(polygons, limits)

    @classmethod
    def load(cls, path: Path) -> "Zones":
        if not path.is_file():
            raise ValidationError("err.file_missing", path=str(path))
        try:
            return cls.from_geojson(json.loads(path.read_text(encoding="utf-8")))
        except json.JSONDecodeError as exc:
            raise ValidationError("err.zones", reason=str(exc)) from None

    def limit_at(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """The lowest zone limit containing each point (inf outside every zone)."""
        import shapely

        out = np.full(len(lat), np.inf)
        for polygon, limit in zip(self.polygons, self.limits):
            inside = shapely.contains_xy(polygon, lon, lat)  # GeoJSON is lon/lat
            out = np.where(inside, np.minimum(out, limit), out)
        return out
