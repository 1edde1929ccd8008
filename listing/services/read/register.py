"""Read views of the company and driver register (企业、驾驶员台账) with personal data masked unless the acting
role needs it (driver ID numbers and phones: police only): `guapai drivers list`."""
from __future__ import annotations

from listing.domain.identifiers import mask_phone, mask_ric
from listing.domain.policy import Actor, authorize, can
from listing.services.read.sql import where
from listing.store.reader import Reader, query


def _drivers(company: bool, everywhere: bool):
    return query(f"""
        SELECT d.name, d.id_number, d.phone, c.name AS company, c.uscc
        FROM driver d JOIN company c ON c.id = d.company_id
        {where(company and "c.uscc = :company", not everywhere and "c.jurisdiction = :jurisdiction")}
        ORDER BY c.uscc, d.name
        LIMIT :limit""")


def drivers(db, actor: Actor, company: str | None = None, limit: int = 500) -> list[dict]:
    """`db`: a Reader or an ORM session."""
    authorize(actor, "data.read")
    personal = can(actor, "driver.read_personal")
    rows = Reader.of(db).rows(_drivers(bool(company), actor.city_level), company=company,
                              jurisdiction=actor.jurisdiction, limit=limit)
    return [{"name": d["name"], "id_number": d["id_number"] if personal else mask_ric(d["id_number"]),
             "phone": d["phone"] if personal else mask_phone(d["phone"]), "company": d["company"], "uscc": d["uscc"]}
            for d in rows]
