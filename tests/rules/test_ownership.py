"""Vehicle ownership is a history: a vehicle sold to another company keeps its exposure and its
violations with the old company for the time before the move (numerators and denominators)."""
import datetime as dt

from sqlmodel import select

from listing.services import imports, rules
from listing.store import tables
from rules.criteria import config
from tests.conftest import NOW, actor
from tests.rules.test_criteria import uscc

AS_OF = dt.date(2026, 6, 30)  # a 12-month window: 2025-07-01 .. 2026-06-30 (365 days)
MOVE = dt.date(2026, 4, 1)


def _vehicles_csv(path, owner_uscc, active_from):
    path.write_text(f"号牌号码,企业统一社会信用代码,车辆类型,启用日期\n浙A12345,{owner_uscc},truck,{active_from}\n", encoding="utf-8")
    return path


def test_a_sold_vehicle_keeps_its_past_with_the_old_company(people, tmp_path):
    admin = actor(people, "admin")
    with people.session() as s:
        for n in (1, 2):
            s.add(tables.Company(uscc=uscc(n), name=f"公司{n}", business_type="freight", jurisdiction="西湖区"))
    with people.session() as s:
        imports.import_file(s, admin, "vehicles", _vehicles_csv(tmp_path / "v1.csv", uscc(1), "2025-01-01"), now=NOW)
    with people.session() as s:  # sold on 1 April 2026: the register now names company 2 from that day
        imports.import_file(s, admin, "vehicles", _vehicles_csv(tmp_path / "v2.csv", uscc(2), MOVE), now=NOW)
    with people.session() as s:
        a, b = (s.exec(select(tables.Company.id).where(tables.Company.uscc == uscc(n))).one() for n in (1, 2))
        vehicle = s.exec(select(tables.Vehicle)).one()
        history = s.exec(select(tables.VehicleOwnership).order_by(tables.VehicleOwnership.start)).all()
        assert [(h.company_id, h.start, h.end) for h in history] == [(a, dt.date(2025, 1, 1), MOVE), (b, MOVE, None)]
        # violations recorded against the vehicle's current company, before and after the move
        for day in (dt.date(2026, 1, 10), dt.date(2026, 3, 31), dt.date(2026, 5, 5)):
            s.add(tables.Violation(occurred_at=dt.datetime.combine(day, dt.time(10), tzinfo=dt.timezone.utc),
                                   vehicle_id=vehicle.id, company_id=b, code="1352", source="camera"))
    ruleset = config.load()
    with people.session() as s:
        frame = rules.aggregates(s, ruleset, rules.Window.ending(AS_OF, 12), [a, b]).sort("company_id")
    got = {r["company_id"]: (r["vehicle_days"], r["violations"]) for r in frame.to_dicts()}
    before = (MOVE - dt.date(2025, 7, 1)).days  # 274 days with company 1 inside the window
    assert got == {a: (before, 2), b: (365 - before, 1)}
    # re-importing the same register changes nothing in the history
    with people.session() as s:
        imports.import_file(s, admin, "vehicles", _vehicles_csv(tmp_path / "v3.csv", uscc(2), MOVE), now=NOW)
        assert len(s.exec(select(tables.VehicleOwnership)).all()) == 2
