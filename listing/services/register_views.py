"""Read views of the company and driver register (企业、驾驶员台账) with personal data masked unless the acting
role needs it (driver ID numbers and phones: police only)."""
from __future__ import annotations

from sqlmodel import Session, select

from listing.domain.identifiers import mask_phone, mask_ric
from listing.domain.policy import Actor, authorize, can
from listing.store.tables import Company, Driver


def drivers(session: Session, actor: Actor, company: str | None = None, limit: int = 500) -> list[dict]:
    authorize(actor, "data.read")
    query = select(Driver, Company).join(Company, Company.id == Driver.company_id).order_by(Company.uscc, Driver.name)
    if company:
        query = query.where(Company.uscc == company)
    if not actor.city_level:
        query = query.where(Company.jurisdiction == actor.jurisdiction)
    personal = can(actor, "driver.read_personal")
    return [{"name": d.name, "id_number": d.id_number if personal else mask_ric(d.id_number),
             "phone": d.phone if personal else mask_phone(d.phone), "company": c.name, "uscc": c.uscc}
            for d, c in session.exec(query.limit(limit)).all()]
