"""Property tests: random valid and invalid import files never crash and never half-import."""
import datetime as dt
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlmodel import func, select

from listing.domain.identifiers import uscc_check_char
from listing.errors import ValidationError
from listing.services.imports import import_file
from listing.store import tables
from listing.store.db import open_store
from tests.conftest import NOW, actor

JUR = ["西湖区", "上城区", "萧山区"]
good_uscc = st.builds(lambda d: d + uscc_check_char(d), st.text("0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=9, max_size=9)
                      .map(lambda s: "91330106" + s))
any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)
cell = lambda good: st.one_of(good, good, good, any_text, st.just(""), st.just(" "))  # noqa: E731
row = st.tuples(cell(good_uscc), cell(st.sampled_from(["杭州甲公司", "乙运输", "Acme Freight"])),
                cell(st.sampled_from(["货运", "客运", "passenger", "危货", "bus"])), cell(st.sampled_from(JUR)))


def _store_with_people(folder: Path):
    from listing.services.users import add_user

    store = open_store(f"sqlite:///{folder / 'p.sqlite'}")
    with store.session() as s:
        add_user(s, None, "admin", "admin", "x", "*", now=NOW)
        add_user(s, "admin", "li", "transport", "x", "*", now=NOW)
    return store


def _count(store):
    with store.session() as s:
        return (s.exec(select(func.count()).select_from(tables.Company)).one(),
                s.exec(select(func.count()).select_from(tables.AuditEvent)).one())


def test_random_company_files_import_whole_or_not_at_all():
    with tempfile.TemporaryDirectory() as folder:
        store = _store_with_people(Path(folder))
        who = actor(store, "li")

        @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(rows=st.lists(row, min_size=1, max_size=12), zh=st.booleans(), encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
        def check(rows, zh, encoding):
            headers = ["统一社会信用代码", "企业名称", "业务类型", "辖区"] if zh else ["uscc", "name", "business_type", "jurisdiction"]
            frame = pl.DataFrame(rows, schema=headers, orient="row")
            path = Path(folder) / "c.csv"
            path.write_bytes(frame.write_csv().encode(encoding, errors="replace"))
            before = _count(store)
            try:
                with store.session() as s:
                    result = import_file(s, who, "companies", path, now=NOW)
            except ValidationError:
                assert _count(store) == before  # a refused file writes nothing
                return
            after = _count(store)
            if not result.ok:
                assert after == before and result.errors
                assert all(2 <= e["row"] <= len(rows) + 1 for e in result.errors)
            else:
                assert after[0] == before[0] + result.inserted
                assert result.inserted + result.updated + result.unchanged == len(rows)
                assert after[1] == before[1] + (1 if result.inserted or result.updated else 0)

        check()
        store.engine.dispose()


def test_random_bytes_are_refused_clearly_never_crash():
    with tempfile.TemporaryDirectory() as folder:
        store = _store_with_people(Path(folder))
        who = actor(store, "li")

        @settings(max_examples=120, deadline=None)
        @given(content=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".xlsx"]), kind=st.sampled_from(["companies", "violations"]))
        def check(content, suffix, kind):
            path = Path(folder) / f"f{suffix}"
            path.write_bytes(content)
            before = _count(store)
            try:
                with store.session() as s:
                    who_ = who if kind == "companies" else actor(store, "admin")
                    result = import_file(s, who_, kind, path, now=NOW)
                assert not result.ok or result.inserted == 0
            except ValidationError:
                pass
            assert _count(store) == before

        check()
        store.engine.dispose()
