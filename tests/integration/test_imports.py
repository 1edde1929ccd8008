"""Imports on SQLite and PostgreSQL: all-or-nothing, every bad row reported, idempotent."""
import datetime as dt

import polars as pl
import pytest
from sqlmodel import func, select

from listing.services.imports import import_file
from listing.simulation.city import CityPlan, synthetic_city
from listing.store import tables
from messages.errors import PermissionDenied, ValidationError
from tests.conftest import NOW, actor

SMALL = CityPlan(companies=12, mean_fleet=4, bad_companies=2)
ORDER = ["companies", "vehicles", "drivers", "assignments", "accidents", "violations"]
TABLES = [tables.Company, tables.Vehicle, tables.Driver, tables.Assignment, tables.Accident, tables.Violation,
          tables.AuditEvent]


@pytest.fixture
def city():
    return synthetic_city(11, dt.date(2026, 11, 24), SMALL)


def counts(store):
    with store.session() as s:
        return {t.__name__: s.exec(select(func.count()).select_from(t)).one() for t in TABLES}


def run(store, who, kind, path, **kw):
    with store.session() as s:
        return import_file(s, actor(store, who), kind, path, now=NOW, **kw)


def load_all(store, city, tmp_path, upto="violations"):
    for kind in ORDER:
        path = tmp_path / f"{kind}.csv"
        city[kind].write_csv(path)
        who = "police" if kind in ("accidents", "violations") else "transport"
        result = run(store, who, kind, path)
        assert result.ok, result.errors[:3]
        if kind == upto:
            return


def test_whole_city_imports_and_reimport_changes_nothing(people, city, tmp_path):
    load_all(people, city, tmp_path)
    first = counts(people)
    for kind, table in zip(ORDER, TABLES):
        assert first[table.__name__] == city[kind].height, kind
    for kind in ORDER:
        who = "police" if kind in ("accidents", "violations") else "transport"
        result = run(people, who, kind, tmp_path / f"{kind}.csv")
        assert (result.inserted, result.updated, result.unchanged) == (0, 0, city[kind].height)
    assert counts(people) == first  # not even an audit event for a no-op


def test_one_bad_row_rejects_the_file_and_writes_nothing(people, city, tmp_path):
    load_all(people, city, tmp_path, upto="vehicles")
    before = counts(people)
    bad = city["vehicles"].with_columns(
        pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("浙AI2345")).otherwise(pl.col("plate")).alias("plate"),
        pl.when(pl.int_range(pl.len()) == 5).then(pl.lit("2026-13-01")).otherwise(pl.col("active_from")).alias("active_from"),
    ).with_columns(pl.col("active_to").cast(pl.Utf8))
    new = bad.with_columns(pl.col("plate").str.replace("浙A", "浙B"))  # all other rows would be new
    path = tmp_path / "vehicles_bad.csv"
    new.write_csv(path)
    result = run(people, "transport", "vehicles", path)
    assert not result.ok
    assert [(e["row"], e["column"], e["reason"]) for e in result.errors] == [
        (5, "plate", "id.plate.format"), (7, "active_from", "imp.date")]
    assert counts(people) == before
    fixed = new.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("浙B99999")).otherwise(pl.col("plate")).alias("plate"),
                             pl.col("active_from").str.replace("2026-13-01", "2026-01-13"))
    fixed.write_csv(path)
    result = run(people, "transport", "vehicles", path)
    assert result.ok and result.inserted == new.height
    assert run(people, "transport", "vehicles", path).inserted == 0


def test_chinese_headers_gbk_and_xlsx(people, city, tmp_path):
    from listing.services.imports.specs import SPECS

    zh = {c.name: c.zh for c in SPECS["companies"].columns}
    frame = city["companies"].rename(zh)
    gbk = tmp_path / "企业.csv"
    gbk.write_bytes(frame.write_csv().encode("gbk"))
    assert run(people, "transport", "companies", gbk).inserted == frame.height
    xlsx = tmp_path / "vehicles.xlsx"
    vzh = {c.name: c.zh for c in SPECS["vehicles"].columns}
    city["vehicles"].rename(vzh).write_excel(xlsx)
    result = run(people, "transport", "vehicles", xlsx)
    assert result.ok and result.inserted == city["vehicles"].height


def test_dry_run_validates_only(people, city, tmp_path):
    path = tmp_path / "companies.csv"
    city["companies"].write_csv(path)
    before = counts(people)
    result = run(people, "transport", "companies", path, dry_run=True)
    assert result.ok and result.rows == city["companies"].height
    assert counts(people) == before


def test_updates_are_counted_and_audited(people, city, tmp_path):
    load_all(people, city, tmp_path, upto="companies")
    changed = city["companies"].with_columns(pl.when(pl.int_range(pl.len()) < 2).then(pl.lit("改名公司")).otherwise(pl.col("name")).alias("name"))
    path = tmp_path / "companies.csv"
    changed.write_csv(path)
    result = run(people, "transport", "companies", path)
    assert (result.inserted, result.updated) == (0, 2)
    with people.session() as s:
        last = s.exec(select(tables.AuditEvent).order_by(tables.AuditEvent.seq.desc())).first()
    assert last.action == "import.companies" and last.after["updated"] == 2


def test_unknown_references_and_in_file_duplicates_are_reported(people, city, tmp_path):
    load_all(people, city, tmp_path, upto="drivers")
    v = city["violations"].head(4)
    v = pl.concat([v, v.head(1)])  # row 6 repeats row 2
    v = v.with_columns(pl.when(pl.int_range(pl.len()) == 1).then(pl.lit("浙A00000")).otherwise(pl.col("plate")).alias("plate"))
    path = tmp_path / "v.csv"
    v.write_csv(path)
    result = run(people, "police", "violations", path)
    reasons = {(e["row"], e["reason"]) for e in result.errors}
    assert (3, "imp.unknown_vehicle") in reasons and (6, "imp.duplicate_key") in reasons


def test_role_and_jurisdiction_are_enforced(people, city, tmp_path):
    path = tmp_path / "companies.csv"
    city["companies"].write_csv(path)
    with pytest.raises(PermissionDenied):
        run(people, "police", "companies", path)
    with pytest.raises(PermissionDenied) as err:
        run(people, "xihu", "companies", path)  # a district officer importing other districts
    assert err.value.key == "err.jurisdiction_denied"
    assert counts(people)["Company"] == 0
    mine = city["companies"].with_columns(pl.lit("西湖区").alias("jurisdiction"))
    mine.write_csv(path)
    assert run(people, "xihu", "companies", path).inserted == mine.height


@pytest.mark.parametrize("content,key", [
    (b"uscc,name\n1,2\n", "err.columns_missing"),
    (b"uscc,name,business_typ,jurisdiction\n1,2,3,4\n", "err.columns_missing_seen"),  # a misspelt header: named
    (b"uscc,name,business_type,jurisdiction\n", "err.file_empty"),
    ("uscc,name\n".encode("utf-16"), "err.file_encoding"),
])
def test_bad_files_are_refused_clearly(people, tmp_path, content, key):
    path = tmp_path / "c.csv"
    path.write_bytes(content)
    with pytest.raises(ValidationError) as err:
        run(people, "transport", "companies", path)
    assert err.value.key == key


def test_a_count_beyond_a_database_integer_is_a_clear_error_not_a_database_crash(people, city, tmp_path):
    """Found by review of the fuzz: PostgreSQL's integer columns end at 2**31 - 1."""
    load_all(people, city, tmp_path, upto="accidents")
    before = counts(people)
    huge = city["violations"].head(3).with_columns(
        pl.when(pl.int_range(pl.len()) == 1).then(pl.lit(2**31)).otherwise(pl.col("points")).alias("points"))
    path = tmp_path / "violations_huge.csv"
    huge.write_csv(path)
    result = run(people, "police", "violations", path)
    assert [(e["row"], e["column"], e["reason"]) for e in result.errors] == [(3, "points", "imp.too_large")]
    assert counts(people) == before
