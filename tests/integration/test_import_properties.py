"""Property tests of every import kind: random files mixing valid and invalid cells, as CSV
(UTF-8, UTF-8 with BOM, GBK, GB18030) or XLSX (text, numbers and real Excel dates), with Chinese
or English headers, title rows above the header and extra columns (left out, and named). Either every row is valid and exactly those rows are stored (a re-import
then changes nothing), or the bad cells are listed and NOTHING is written. Random bytes, truncated
workbooks and wrong extensions only ever raise guapai's own errors.

Each cell is drawn from a pool that knows what it is: `good` (with the value the store must
hold), `bad` (the import must name that row and column) or `noise` (random text: anything goes,
but never a crash or a half import). Budgets come from tests/budget.py (GUAPAI_LONG=1: long run).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from listing.domain.identifiers import ric_check_char, uscc_check_char
from listing.services.imports import import_file
from listing.services.imports.specs import (
    BOOLEANS,
    BUSINESS_TYPES,
    RESPONSIBILITY,
    SPECS,
    VEHICLE_CLASSES,
    VIOLATION_SOURCES,
)
from listing.store.db import open_store
from messages.errors import GuapaiError
from tests.budget import cases
from tests.conftest import NOW, actor

UTC = dt.timezone.utc
BEIJING = dt.timezone(dt.timedelta(hours=8))


def uscc(body9: str) -> str:
    first = "91330106" + body9
    return first + uscc_check_char(first)


def ric(serial: str, born: str = "19800101") -> str:
    first = "330106" + born + serial
    return first + ric_check_char(first)


def wrong_check(code: str) -> str:
    return code[:17] + ("1" if code[17] != "1" else "2")


# The city every file refers to (imported before the fuzz starts), and identifiers kept apart:
# NEW_* may be imported by the fuzz, UNKNOWN_* never are (so they stay unknown references).
BASE_USCC = [uscc("MA27Y5XH8"), uscc("MA2AAAAA1"), uscc("MA2BBBBB2")]
NEW_USCC = [uscc(f"MA3CCCC{i:02d}") for i in range(5)]
UNKNOWN_USCC = [uscc("MA9YYYYY9")]
BASE_PLATES = ["浙A12345", "浙AD12345", "浙A54321D", "浙B0001挂"]
PLATE_COMPANY = dict(zip(BASE_PLATES, [BASE_USCC[0], BASE_USCC[0], BASE_USCC[1], BASE_USCC[2]]))
NEW_PLATES = ["浙C12345", "浙CD88888", "浙C1234学"]
UNKNOWN_PLATES = ["浙Z99999"]
BASE_RIC = [ric("001"), ric("002", "19751231"), ric("003", "20000229")]
NEW_RIC = [ric(f"1{i:02d}", "19900615") for i in range(4)]
UNKNOWN_RIC = [ric("999")]
JUR = ["西湖区", "上城区", "萧山区"]


@dataclass(frozen=True)
class Cell:
    text: str  # what the file holds (as text)
    tag: str  # good / bad / noise
    stored: object = None  # for good cells: the value the store holds (raw SQLite form)
    native: object = None  # a number or datetime an Excel sheet would hold instead of text
    native_tag: str | None = None  # the tag when the sheet holds `native` (an 18-digit number loses digits)


def good(text, stored, native=None):
    return Cell(text, "good", stored, native)


def tag(cell: Cell, as_native: bool) -> str:
    return cell.native_tag if as_native and cell.native is not None and cell.native_tag else cell.tag


def bad(text):
    return Cell(text, "bad")


def _ts(local: dt.datetime) -> str:
    return local.replace(tzinfo=BEIJING).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _datetimes(base: dt.datetime):
    """The same instant written the ways officers' files write it."""
    z = base.replace(tzinfo=BEIJING).astimezone(UTC)
    s = _ts(base)
    return [good(base.strftime("%Y-%m-%d %H:%M:%S"), s, base), good(base.strftime("%Y/%m/%d %H:%M:%S"), s),
            good(base.strftime("%Y-%m-%dT%H:%M:%S"), s), good(base.strftime("%Y-%m-%dT%H:%M:%S+08:00"), s),
            good(z.strftime("%Y-%m-%dT%H:%M:%SZ"), s), good(base.strftime(" %Y-%m-%d %H:%M:%S "), s)]


TIMES = [dt.datetime(2026, 10, 1, 8, 30), dt.datetime(2026, 10, 1, 0, 0), dt.datetime(2026, 10, 2, 23, 59, 59),
         dt.datetime(2025, 12, 31, 23, 0)]
BAD_TIMES = ["2026-10-32 08:00:00", "08:30", "2026-10-01 25:00:00", "昨天", "2026-02-29 10:00:00"]
DAYS = [dt.date(2024, 2, 29), dt.date(2025, 3, 1), dt.date(2026, 1, 15)]


def _dates(day: dt.date):
    s = day.isoformat()
    return [good(s, s, dt.datetime.combine(day, dt.time())), good(day.strftime("%Y/%m/%d"), s),
            good(day.strftime("%Y%m%d"), s), good(day.strftime("%Y.%m.%d"), s)]


def _choices(mapping: dict[str, str]):
    out = [good(k, v) for k, v in mapping.items()]
    return out + [good(k.upper(), v) for k, v in mapping.items() if k.isascii()][:2]


def _ints():
    return [good(str(n), n, n) for n in (0, 1, 2, 12)] + [good("3.0", 3)]


BAD_INTS = [bad("-1"), bad("one"), bad("1.5"), bad("1e3"), bad("99999999999999999999999")]
BAD_USCC = [bad(wrong_check(BASE_USCC[0])), bad("9133"), bad("not a code"), bad(BASE_USCC[1][:17] + "O")]
BAD_RIC = [bad(wrong_check(BASE_RIC[0])), bad("33010619801301001X"), bad("12345"), bad("3301061980010100AB")]
BAD_PLATES = [bad("ABC123"), bad("浙I12345"), bad("浙A1234"), bad("京")]


def _codes(values):
    # officers type codes in lower case and with spaces: stored normalised; an all-digit code
    # Excel turned into a number is restored when every digit is there (330106...0012.0) and
    # refused when Excel kept 15 (3.301062E+17, or an 18-digit number in the sheet)
    digits = [v for v in values if v.isdigit()]
    return [Cell(v, "good", v, int(v) if v.isdigit() else None, "bad") for v in values] + \
           [good(v.lower(), v) for v in values[:1]] + [good(v[:4] + " " + v[4:], v) for v in values[:1]] + \
           [good(v + ".0", v) for v in digits[:1]] + [bad(f"{int(v):.6E}") for v in digits[:1]]


NAMES = [good(n, n.strip()) for n in ("杭州甲运输有限公司", "乙运输", "Acme Freight, Ltd.", ' "引号"物流 ', "张 三")]
RECORD_NOS = [good("", None), good("330106202600001", "330106202600001"), good("第1号,补", "第1号,补")]

# kind -> column name -> (good cells, bad cells); an optional column's empty cell is good (stored null)
POOLS = {
    "companies": {
        "uscc": (_codes(BASE_USCC + NEW_USCC), BAD_USCC + [bad("")]),
        "name": (NAMES, [bad(""), bad("  ")]),
        "business_type": (_choices(BUSINESS_TYPES), [bad("航空"), bad("cargo"), bad("")]),
        "jurisdiction": ([good(j, j) for j in JUR], [bad("")]),
    },
    "vehicles": {
        "plate": (_codes(BASE_PLATES + NEW_PLATES), BAD_PLATES + [bad("")]),
        "company_uscc": (_codes(BASE_USCC), BAD_USCC + [bad(u) for u in UNKNOWN_USCC]),
        "vehicle_class": (_choices(VEHICLE_CLASSES), [bad("飞机"), bad("")]),
        "active_from": ([c for d in DAYS for c in _dates(d)], [bad("2025-13-01"), bad("yesterday"), bad("")]),
        "active_to": ([good("", None)] + [c for d in DAYS for c in _dates(d)], [bad("2025-02-30")]),
    },
    "drivers": {
        "id_number": (_codes(BASE_RIC + NEW_RIC), BAD_RIC + [bad("")]),
        "name": (NAMES, [bad("")]),
        "phone": ([good("", None), good("13800138000", "13800138000", 13800138000), good("138 0013 8000", "13800138000"),
                   good("0571-88889999", "0571-88889999"), good("(0571)88889999", "057188889999")],
                  [bad("12345"), bad("phone"), bad("23800138000")]),
        "company_uscc": (_codes(BASE_USCC), BAD_USCC + [bad(u) for u in UNKNOWN_USCC]),
    },
    "assignments": {
        "driver_id_number": (_codes(BASE_RIC), BAD_RIC + [bad(u) for u in UNKNOWN_RIC] + [bad("")]),
        "plate": (_codes(BASE_PLATES), BAD_PLATES + [bad(p) for p in UNKNOWN_PLATES]),
        "start": ([c for t in TIMES[:2] for c in _datetimes(t)], [bad(b) for b in BAD_TIMES] + [bad("")]),
        "end": ([good("", None)] + [c for t in TIMES for c in _datetimes(t)], [bad(b) for b in BAD_TIMES]),
    },
    "accidents": {
        "occurred_at": ([c for t in TIMES for c in _datetimes(t)], [bad(b) for b in BAD_TIMES] + [bad("")]),
        "plate": (_codes(BASE_PLATES), BAD_PLATES + [bad(p) for p in UNKNOWN_PLATES]),
        "driver_id_number": ([good("", None)] + _codes(BASE_RIC), BAD_RIC + [bad(u) for u in UNKNOWN_RIC]),
        "fatalities": (_ints(), BAD_INTS + [bad("")]),
        "injuries": (_ints(), BAD_INTS),
        "responsibility": (_choices(RESPONSIBILITY), [bad("部分"), bad("")]),
        "dangerous_goods_release": ([good("", 0)] + [good(k, int(v)) for k, v in BOOLEANS.items()], [bad("maybe"), bad("2")]),
        "record_no": (RECORD_NOS, []),
    },
    "violations": {
        "occurred_at": ([c for t in TIMES for c in _datetimes(t)], [bad(b) for b in BAD_TIMES]),
        "plate": (_codes(BASE_PLATES), BAD_PLATES + [bad(p) for p in UNKNOWN_PLATES] + [bad("")]),
        "driver_id_number": ([good("", None)] + _codes(BASE_RIC), BAD_RIC + [bad(u) for u in UNKNOWN_RIC]),
        "code": ([good(c, c) for c in ("1345", "13522", "6046")], [bad("")]),
        "points": (_ints(), BAD_INTS),
        "source": (_choices(VIOLATION_SOURCES), [bad("卫星"), bad("")]),
        "record_no": (RECORD_NOS, []),
    },
}

# What the store holds, in the spec's column order, keyed by the natural key (raw SQLite values).
DUMPS = {
    "companies": ("SELECT uscc, name, business_type, jurisdiction FROM company", (0,)),
    "vehicles": ("SELECT v.plate, c.uscc, v.vehicle_class, v.active_from, v.active_to FROM vehicle v "
                 "JOIN company c ON c.id = v.company_id", (0,)),
    "drivers": ("SELECT d.id_number, d.name, d.phone, c.uscc FROM driver d JOIN company c ON c.id = d.company_id", (0,)),
    "assignments": ('SELECT d.id_number, v.plate, a.start, a."end" FROM assignment a JOIN driver d ON d.id = a.driver_id '
                    "JOIN vehicle v ON v.id = a.vehicle_id", (0, 1, 2)),
    "accidents": ("SELECT a.occurred_at, v.plate, d.id_number, a.fatalities, a.injuries, a.responsibility, "
                  "a.dangerous_goods_release, a.record_no, c.uscc FROM accident a JOIN vehicle v ON v.id = a.vehicle_id "
                  "LEFT JOIN driver d ON d.id = a.driver_id JOIN company c ON c.id = a.company_id", (1, 0)),
    "violations": ("SELECT v.occurred_at, h.plate, d.id_number, v.code, v.points, v.source, v.record_no, c.uscc "
                   "FROM violation v JOIN vehicle h ON h.id = v.vehicle_id LEFT JOIN driver d ON d.id = v.driver_id "
                   "JOIN company c ON c.id = v.company_id", (1, 0, 3)),
}
ORDER_CHECKS = {"vehicles": ("active_from", "active_to", False), "assignments": ("start", "end", True)}


def dump(store, kind: str) -> dict:
    sql, key = DUMPS[kind]
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(sql).fetchall()
    return {tuple(r[i] for i in key): tuple(r) for r in rows}


def table_counts(store) -> dict:
    names = ["company", "vehicle", "driver", "assignment", "accident", "violation", "audit_event", "user"]
    with store.engine.connect() as conn:
        return {n: conn.exec_driver_sql(f'SELECT count(*) FROM "{n}"').scalar_one() for n in names}


def _base_store(folder: Path):
    from listing.services.users import add_user

    store = open_store(f"sqlite:///{folder / 'fuzz.sqlite'}")
    with store.session() as s:
        add_user(s, None, "admin", "admin", "信息中心", "*", now=NOW)
        add_user(s, "admin", "li", "transport", "运管处", "*", now=NOW)
        add_user(s, "admin", "wang", "police", "交警支队", "*", now=NOW)
    base = {
        "companies": [[u, f"基础公司{i}", "货运", JUR[i]] for i, u in enumerate(BASE_USCC)],
        "vehicles": [[p, PLATE_COMPANY[p], "货车", "2024-01-01", ""] for p in BASE_PLATES],
        "drivers": [[r, f"司机{i}", "", BASE_USCC[i]] for i, r in enumerate(BASE_RIC)],
    }
    for kind, rows in base.items():
        path = folder / f"base_{kind}.csv"
        write_csv(path, [c.name for c in SPECS[kind].columns], rows, "utf-8")
        with store.session() as s:
            assert import_file(s, actor(store, "li"), kind, path, now=NOW).ok
    return store


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str, newline: str = "\n",
              top: list[list[str]] = ()) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=newline)
    writer.writerows(top)  # title rows above the header
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding, errors="replace"))


def write_xlsx(path: Path | io.BytesIO, header: list[str], rows: list[list[Cell]], native: list[list[bool]],
               top: list[list[str]] = ()) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(path if isinstance(path, io.BytesIO) else str(path), {"in_memory": True})
    sheet = book.add_worksheet("数据")
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for i, title in enumerate(top):  # title rows above the header
        for j, text in enumerate(title):
            if text:
                sheet.write_string(i, j, text)
    for j, h in enumerate(header):
        sheet.write_string(len(top), j, h)
    for i, (row, as_native) in enumerate(zip(rows, native), start=len(top) + 1):
        for j, (cell, use) in enumerate(zip(row, as_native)):
            if use and isinstance(cell.native, dt.datetime):
                sheet.write_datetime(i, j, cell.native, stamp)
            elif use and isinstance(cell.native, int):
                sheet.write_number(i, j, cell.native)
            elif cell.text != "":
                sheet.write_string(i, j, cell.text)
    if rows and any(r for r in rows):
        sheet.write_blank(len(top) + len(rows) + 3, 0, None)  # Excel sheets often end in blank rows
    book.close()


noise = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12).map(lambda s: Cell(s, "noise"))
TITLES = [["杭州市挂牌整治台账(2026年10月)"], [], ["基本信息", "", "登记信息"], ["单位:辆、人"]]
EXTRA_HEADERS = ["序号", "备注", "联系人", "Remark"]  # columns officers add; none is an import column


@st.composite
def layouts(draw, width: int):
    """Rows above the header (a title, a blank row, a merged group row) and extra columns
    (position, header) that the import leaves out and names in a warning."""
    top = draw(st.lists(st.sampled_from(TITLES), max_size=3))
    extras = draw(st.lists(st.tuples(st.integers(0, width), st.sampled_from(EXTRA_HEADERS)), max_size=2,
                           unique_by=lambda e: e[1]))
    return top, extras


def with_extras(cells: list, extras: list[tuple[int, str]], value) -> list:
    out = list(cells)
    for at, name in sorted(extras, reverse=True):
        out.insert(at, value(name))
    return out


@st.composite
def import_files(draw, kind: str):
    """(format, header language, encoding, rows of cells, which cells an XLSX writes natively)."""
    columns = SPECS[kind].columns
    mode = draw(st.sampled_from(["clean", "clean", "some_bad", "noise"]))
    bad_p = {"clean": 0.0, "some_bad": 0.15, "noise": 0.1}[mode]
    n = draw(st.integers(1, 6))
    rows = []
    for _ in range(n):
        row = []
        for col in columns:
            goods, bads = POOLS[kind][col.name]
            roll = draw(st.floats(0, 1))
            if mode == "noise" and roll < 0.15:
                row.append(draw(noise))
            elif roll > 1 - bad_p and bads:
                row.append(draw(st.sampled_from(bads)))
            else:
                row.append(draw(st.sampled_from(goods)))
        rows.append(row)
    fmt = draw(st.sampled_from(["csv", "csv", "csv", "xlsx"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gbk", "gb18030"])) if fmt == "csv" else None
    native = [[draw(st.booleans()) for _ in columns] for _ in rows] if fmt == "xlsx" else None
    zh = draw(st.booleans())
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return fmt, zh, encoding, rows, native, newline, draw(layouts(len(columns)))


def _expected(kind: str, rows: list[list[Cell]]):
    """For files of good cells: the rows the store must hold, and the rows that must be refused
    (a natural key repeated in the file, an end before its start)."""
    spec = SPECS[kind]
    names = [c.name for c in spec.columns]
    _, key = DUMPS[kind]
    stored, refused, seen = {}, set(), {}
    for number, row in enumerate(rows, start=2):
        values = [c.stored for c in row]
        if kind in ("accidents", "violations"):
            values.append(PLATE_COMPANY[values[1]])
        k = tuple(values[i] for i in key)
        if k in seen:
            refused.add(number)
        seen.setdefault(k, number)
        if kind in ORDER_CHECKS:
            first, last, strict = ORDER_CHECKS[kind]
            a, b = values[names.index(first)], values[names.index(last)]
            if b is not None and (b <= a if strict else b < a):
                refused.add(number)
        stored.setdefault(k, tuple(values))
    return stored, refused


def _blank(row: list[Cell]) -> bool:
    return all(c.text.strip() == "" for c in row)


def _run(store, who, kind, path):
    with store.session() as s:
        return import_file(s, who, kind, path, now=NOW)


@pytest.mark.parametrize("kind", list(SPECS))
def test_random_files_of_every_kind_import_whole_or_not_at_all(kind):
    spec = SPECS[kind]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = _base_store(folder)
        who = actor(store, "wang" if kind in ("accidents", "violations") else "li")
        seen = {"ok": 0, "refused": 0, "raised": 0}

        @settings(max_examples=cases(ci=300, long=6000), deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(drawn=import_files(kind))
        def check(drawn):
            fmt, zh, encoding, rows, native, newline, (top, extras) = drawn
            header = with_extras([c.zh if zh else c.name for c in spec.columns], extras, lambda name: name)
            path = folder / f"{kind}.{fmt}"
            filled = [with_extras(r, extras, lambda name: Cell(f"{name}值", "extra")) for r in rows]
            if fmt == "csv":
                write_csv(path, header, [[c.text for c in r] for r in filled], encoding, newline, top)
            else:
                write_xlsx(path, header, filled, [with_extras(n, extras, lambda _: False) for n in native], top)
            native = native or [[False] * len(spec.columns) for _ in rows]
            tags = {tag(c, n) for r, ns in zip(rows, native) for c, n in zip(r, ns)}
            off = len(top)  # the header is on row off + 1; data from off + 2
            blank = [_blank(r) and not extras for r in rows]
            before, counts = dump(store, kind), table_counts(store)
            try:
                result = _run(store, who, kind, path)
            except GuapaiError:
                assert "noise" in tags, "a file of known cells must be read, not refused"
                assert (dump(store, kind), table_counts(store)) == (before, counts)
                seen["raised"] += 1
                return
            errors = {(e["row"], e["column"]) for e in result.errors}
            assert all(off + 2 <= e["row"] <= off + len(rows) + 1 and e["message"] for e in result.errors)
            assert result.header_row == off + 1
            assert result.ignored_columns == [h for h in header if h in EXTRA_HEADERS], "extra columns are named"
            bad_cells = {(off + i, col.name) for i, (r, ns, b) in enumerate(zip(rows, native, blank), start=2)
                         for col, c, n in zip(spec.columns, r, ns) if tag(c, n) == "bad" and not b}  # blank rows are skipped
            assert bad_cells <= errors, "every bad cell is named"
            if tags == {"good"}:
                stored, refused = _expected(kind, rows)
                assert {r for r, _ in errors} == {off + r for r in refused}
            if not result.ok:
                assert (dump(store, kind), table_counts(store)) == (before, counts), "a refused file writes nothing"
                seen["refused"] += 1
                return
            seen["ok"] += 1
            after = dump(store, kind)
            assert result.inserted == len(after) - len(before)
            if "noise" not in tags:
                assert result.rows == len(rows) - sum(blank)
            if tags == {"good"}:
                assert after == {**before, **stored}, "exactly the file's rows are stored, with their values"
            audit = table_counts(store)["audit_event"]
            assert audit == counts["audit_event"] + (1 if result.inserted or result.updated else 0)
            again = _run(store, who, kind, path)
            assert (again.ok, again.inserted, again.updated, again.unchanged) == (True, 0, 0, result.rows)
            assert dump(store, kind) == after and table_counts(store)["audit_event"] == audit

        check()
        store.engine.dispose()
    assert seen["ok"] and seen["refused"], seen  # both outcomes were exercised


def _store_with_people(folder: Path):
    from listing.services.users import add_user

    store = open_store(f"sqlite:///{folder / 'p.sqlite'}")
    with store.session() as s:
        add_user(s, None, "admin", "admin", "x", "*", now=NOW)
        add_user(s, "admin", "li", "transport", "x", "*", now=NOW)
    return store


def _valid_xlsx(kind: str) -> bytes:
    buf = io.BytesIO()
    goods = [POOLS[kind][c.name][0][1] for c in SPECS[kind].columns]
    write_xlsx(buf, [c.zh for c in SPECS[kind].columns], [goods], [[False] * len(goods)])
    return buf.getvalue()


VALID_XLSX = {kind: _valid_xlsx(kind) for kind in ("companies", "violations")}


def _with_sheet(xlsx: bytes, how: str, draw) -> bytes:
    src, out = zipfile.ZipFile(io.BytesIO(xlsx)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in src.namelist():
            data = src.read(name)
            if name == "xl/worksheets/sheet1.xml":
                if how == "cut":
                    data = data[: draw(st.integers(0, len(data) - 1))]
                elif how == "splice":
                    at = draw(st.integers(0, len(data)))
                    data = data[:at] + draw(st.binary(min_size=1, max_size=12)) + data[at:]
                else:  # header cells moved right: blank headers, or two columns named alike
                    target = draw(st.sampled_from([b'r="E1"', b'r="F1"', b'r="B1"']))
                    data = data.replace(b'r="A1"', target, 1)
            z.writestr(name, data)
    return out.getvalue()


@st.composite
def broken_files(draw):
    """Random bytes, a valid workbook cut short or with bytes flipped, zip archives that are not
    workbooks, a CSV under an .xlsx name and a workbook under a .csv name."""
    kind = draw(st.sampled_from(["companies", "violations"]))
    how = draw(st.sampled_from(["bytes", "truncated", "flipped", "sheet", "zip", "renamed"]))
    xlsx = VALID_XLSX[kind]
    if how == "bytes":
        content = draw(st.binary(max_size=600))
        suffix = draw(st.sampled_from([".csv", ".xlsx", ".txt", ".xlsm", ".xls", ""]))
    elif how == "truncated":
        content, suffix = xlsx[: draw(st.integers(0, len(xlsx) - 1))], ".xlsx"
    elif how == "flipped":
        data = bytearray(xlsx)
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        content, suffix = bytes(data), ".xlsx"
    elif how == "sheet":  # a well-formed archive whose sheet XML is cut, spliced or has blank/duplicate headers
        content, suffix = _with_sheet(xlsx, draw(st.sampled_from(["cut", "splice", "headers"])), draw), ".xlsx"
    elif how == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for name in draw(st.lists(st.sampled_from(["[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml",
                                                        "xl/_rels/workbook.xml.rels", "_rels/.rels", "x.txt"]), max_size=4, unique=True)):
                z.writestr(name, draw(st.binary(max_size=80)))
        content, suffix = buf.getvalue(), ".xlsx"
    else:
        content, suffix = draw(st.sampled_from([(xlsx, ".csv"), ("uscc,name\n1,2\n".encode(), ".xlsx")]))
    return kind, content, suffix


def test_random_bytes_truncated_workbooks_and_wrong_extensions_are_refused_clearly():
    with tempfile.TemporaryDirectory() as folder:
        store = _store_with_people(Path(folder))
        who = {"companies": actor(store, "li"), "violations": actor(store, "admin")}

        @settings(max_examples=cases(ci=600, long=20_000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(drawn=broken_files())
        def check(drawn):
            kind, content, suffix = drawn
            path = Path(folder) / f"f{suffix}"
            path.write_bytes(content)
            before = table_counts(store)
            try:
                with store.session() as s:
                    result = import_file(s, who[kind], kind, path, now=NOW)
                assert not result.ok or result.inserted + result.updated + result.unchanged == result.rows
            except GuapaiError as exc:
                assert exc.message("en") and exc.message("zh")  # a clear message in both languages
            if kind == "violations":
                assert table_counts(store) == before  # nothing could be valid: no vehicle exists
            else:
                after = table_counts(store)
                assert after["company"] - before["company"] <= 1 and after["user"] == before["user"]

        check()
        store.engine.dispose()


def test_excel_dates_and_midnight_times_import_as_written(tmp_path):
    """Excel holds dates and times as numbers: a date column gets a midnight time stamp, and an
    accident at 00:00:00 must keep its time (it was refused as "bad time" before)."""
    store = _base_store(tmp_path)
    midnight, day = dt.datetime(2026, 10, 1, 0, 0), dt.datetime(2025, 3, 1)
    vehicle = [good("浙C12345", "浙C12345"), good(BASE_USCC[0], BASE_USCC[0]), good("货车", "truck"),
               good("", "2025-03-01", day), good("", "2026-01-15", dt.datetime(2026, 1, 15))]
    write_xlsx(tmp_path / "v.xlsx", [c.zh for c in SPECS["vehicles"].columns], [vehicle], [[False, False, False, True, True]])
    assert _run(store, actor(store, "li"), "vehicles", tmp_path / "v.xlsx").ok
    assert dump(store, "vehicles")[("浙C12345",)] == ("浙C12345", BASE_USCC[0], "truck", "2025-03-01", "2026-01-15")
    accident = [good("", None, midnight), good("浙A12345", None), good("", None), good("", None, 0), good("", None, 2),
                good("全责", None), good("否", None), good("", None)]
    write_xlsx(tmp_path / "a.xlsx", [c.zh for c in SPECS["accidents"].columns], [accident], [[True, False, False, True, True, False, False, False]])
    result = _run(store, actor(store, "wang"), "accidents", tmp_path / "a.xlsx")
    assert result.ok, result.errors
    assert list(dump(store, "accidents").values()) == [
        ("2026-09-30 16:00:00.000000", "浙A12345", None, 0, 2, "full", 0, None, BASE_USCC[0])]
    store.engine.dispose()
