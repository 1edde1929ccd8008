"""The ORM-free reader (listing.store.reader) reads what the ORM wrote, the same on SQLite and on
PostgreSQL, directly and inside an ORM session: dates, times, booleans and JSON come back typed;
list parameters expand for IN; None is NULL (also in `:x IS NULL OR ...`); times compare as the
ORM stored them."""
from __future__ import annotations

import datetime as dt

import pytest

from listing.store import tables
from listing.store.db import open_store
from listing.store.reader import BOOL, DATE, JSON, TIME, Reader, query, reading

LISTINGS = query("""
    SELECT l.id, l.state, l.cycle_start, l.escalated, l.explanation, l.proposed_at, c.name
    FROM listing l JOIN company c ON c.id = l.company_id
    WHERE (:state IS NULL OR l.state = :state) AND l.id IN :ids AND l.proposed_at >= :since
      AND (:everywhere OR c.jurisdiction = :place)
    ORDER BY l.id""", cycle_start=DATE, escalated=BOOL, explanation=JSON, proposed_at=TIME)
AT = dt.datetime(2026, 11, 20, 1, 2, 3, 456789, tzinfo=dt.timezone.utc)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, sqlite_url):
    if request.param == "sqlite":
        return sqlite_url
    return request.getfixturevalue("pg_url")


def _fill(url: str) -> None:
    store = open_store(url)
    with store.session() as s:
        s.add(tables.Company(id=1, uscc="91330106000000001X", name="甲", business_type="freight", jurisdiction="西湖区"))
        s.add(tables.Company(id=2, uscc="91330106000000002X", name="乙", business_type="freight", jurisdiction="上城区"))
        for i, (cid, state, esc, expl) in enumerate([(1, "listed", True, {"criteria": [1, "二"]}),
                                                     (2, "proposed", False, None), (1, "delisted", False, [])], 1):
            s.add(tables.Listing(id=i, company_id=cid, state=state, cycle=1, cycle_start=dt.date(2026, 5, i),
                                 escalated=esc, rules_version="r", explanation=expl, proposed_at=AT + dt.timedelta(days=i)))
    store.engine.dispose()


def _read(reader: Reader, **params) -> list[dict]:
    base = {"state": None, "ids": [1, 2, 3], "since": AT, "everywhere": True, "place": "西湖区"}
    return [dict(r) for r in reader.rows(LISTINGS, **(base | params))]


def test_typed_rows_the_same_directly_and_in_a_session(url):
    _fill(url)
    with reading(url) as direct:
        assert direct.dialect in ("sqlite", "postgresql")
        rows = _read(direct)
        assert [r["id"] for r in rows] == [1, 2, 3]
        first = rows[0]
        assert first["cycle_start"] == dt.date(2026, 5, 1) and first["escalated"] is True
        assert first["explanation"] == {"criteria": [1, "二"]} and first["proposed_at"] == AT + dt.timedelta(days=1)
        assert rows[1]["explanation"] is None and rows[1]["escalated"] is False and rows[2]["explanation"] == []
        assert [r["id"] for r in _read(direct, state="listed")] == [1]
        assert [r["id"] for r in _read(direct, ids=[2, 3])] == [2, 3]
        assert _read(direct, ids=[]) == []
        assert [r["id"] for r in _read(direct, since=AT + dt.timedelta(days=2))] == [2, 3]  # microseconds compare right
        beijing = dt.timezone(dt.timedelta(hours=8))
        assert [r["id"] for r in _read(direct, since=(AT + dt.timedelta(days=2, microseconds=1)).astimezone(beijing))] == [3]
        assert [r["id"] for r in _read(direct, everywhere=False)] == [1, 3]
    store = open_store(url)
    with store.session(readonly=True) as s:
        assert _read(Reader.of(s)) == rows
    store.engine.dispose()


def test_percent_signs_and_like_patterns_reach_the_database_as_written(url):
    _fill(url)

    def check(reader: Reader) -> None:
        assert reader.scalar(query("SELECT COUNT(*) AS n FROM company WHERE name LIKE '%'")) == 2
        assert reader.scalar(query("SELECT COUNT(*) AS n FROM company WHERE name LIKE '%' AND id IN :ids"), ids=[1]) == 1
        assert reader.scalar(query("SELECT COUNT(*) AS n FROM company WHERE uscc LIKE :p"), p="%2X") == 1
        assert reader.scalar(query("SELECT '50%' AS p")) == "50%"

    with reading(url) as direct:
        check(direct)
    store = open_store(url)
    with store.session(readonly=True) as s:
        check(Reader.of(s))
    store.engine.dispose()


def test_json_with_nan_as_python_writes_it_is_read(sqlite_url):
    from listing.store.reader import _json

    assert _json('{"a": NaN, "b": [1, Infinity]}')["b"] == [1, float("inf")]
    assert _json('{"a": 1}') == {"a": 1} and _json(None) is None and _json({"a": 1}) == {"a": 1}


def test_a_new_database_is_created_and_migrated_through_the_orm(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    with reading(url) as reader:
        assert reader.rows(query("SELECT COUNT(*) AS n FROM listing")) == [{"n": 0}]
    assert (tmp_path / "new.sqlite").exists()


def test_a_missing_parameter_is_an_error_not_a_null(sqlite_url):
    _fill(sqlite_url)
    with reading(sqlite_url) as reader, pytest.raises(KeyError, match="since"):
        reader.rows(LISTINGS, state=None, ids=[1], everywhere=True, place="x")


def test_an_unreachable_postgresql_is_one_clear_error():
    from messages.errors import GuapaiError

    with pytest.raises(GuapaiError) as err, reading("postgresql+psycopg://nobody:secret@127.0.0.1:1/x"):
        pass
    assert err.value.key == "err.db_unreachable" and "secret" not in str(err.value.params)
