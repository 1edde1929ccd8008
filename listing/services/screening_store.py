"""Screening findings into the store, where they join the officers' review queue marked
source="screening" (no sample). One transaction per partition; at most one finding per
(vehicle, rule, start): a rerun inserts nothing (the store's uq_finding_screening says so too)."""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter

from sqlmodel import Session, select

from listing.domain.policy import Actor, authorize
from listing.store.tables import Company, Finding, Vehicle


def vehicle_classes(session: Session, actor: Actor) -> dict[str, str]:
    """Plate -> vehicle class of the vehicles the actor may see (the screening's classes)."""
    authorize(actor, "sampling.run")
    query = select(Vehicle.plate, Vehicle.vehicle_class).join(Company, Company.id == Vehicle.company_id)
    if not actor.city_level:
        query = query.where(Company.jurisdiction == actor.jurisdiction)
    return {plate: cls for plate, cls in session.exec(query).all() if cls}


class Writer:
    """Writes each screened partition's findings (`write`), counting what it did."""

    def __init__(self, store, actor: Actor, day: dt.date):
        authorize(actor, "sampling.run")
        self.store, self.actor, self.day = store, actor, day
        self.counts: Counter = Counter()

    def write(self, part) -> None:
        plates = sorted({row["vehicle"] for row in part.findings})
        if not plates:
            return
        with self.store.session() as s:
            query = (select(Vehicle.plate, Vehicle.id, Vehicle.company_id).join(Company, Company.id == Vehicle.company_id)
                     .where(Vehicle.plate.in_(plates)))
            if not self.actor.city_level:
                query = query.where(Company.jurisdiction == self.actor.jurisdiction)
            known = {plate: (vid, cid) for plate, vid, cid in s.exec(query).all()}
            ids = [vid for vid, _ in known.values()]
            stored = {(vid, rule, _utc(start)) for vid, rule, start in s.exec(
                select(Finding.vehicle_id, Finding.rule, Finding.start).where(
                    Finding.source == "screening", Finding.vehicle_id.in_(ids))).all()} if ids else set()
            for row in part.findings:
                if row["vehicle"] not in known:
                    self.counts["unknown_vehicle"] += 1  # not in the store (or not in the actor's jurisdiction)
                    continue
                vid, cid = known[row["vehicle"]]
                if (vid, row["rule"], _utc(row["start"])) in stored:
                    self.counts["already_stored"] += 1
                    continue
                s.add(Finding(source="screening", sample_id=None, day=self.day, company_id=cid, vehicle_id=vid,
                              rule=row["rule"], regulation=row["regulation"], start=row["start"], end=row["end"],
                              evidence=json.loads(row["evidence"])))
                self.counts["stored"] += 1

    def summary(self) -> dict:
        return {k: self.counts.get(k, 0) for k in ("stored", "already_stored", "unknown_vehicle")}


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)
