"""The sheets officers actually have: a title row and a merged two-level header above the data,
extra columns (序号, 备注), identifiers Excel turned into numbers, everyday words (抓拍, 电子警察).
They import — the extras left out and named in a warning — and what cannot be trusted (an ID
shown as 9.13307E+17: its last digits are gone) is refused with its row."""
from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

import main
from listing.domain.identifiers import ric_check_char, uscc_check_char
from listing.services.imports import import_file
from listing.services.imports.reader import header_key
from listing.services.imports.specs import SPECS
from listing.services.imports.validate import enum_key, excel_digits
from listing.store.db import open_store
from tests.conftest import NOW, actor

DIGITS_USCC = "91330106" + "123456700"
DIGITS_USCC += uscc_check_char(DIGITS_USCC)  # all digits: the kind Excel turns into a number
LETTERS_USCC = "91330106MA27Y5XH8"
LETTERS_USCC += uscc_check_char(LETTERS_USCC)
RIC = "330106198001010" + "00"
RIC += ric_check_char(RIC)
assert DIGITS_USCC.isdigit() and RIC.isdigit()


@pytest.fixture
def cli(sqlite_url, monkeypatch):
    monkeypatch.delenv("GUAPAI_USER", raising=False)
    runner = CliRunner()

    def run(*args, user="li"):
        return runner.invoke(main.app, ["--db", sqlite_url, "--lang", "en", "--as", user, *args])

    runner.invoke(main.app, ["--db", sqlite_url, "users", "add", "admin", "--role", "admin", "--department", "x", "--jurisdiction", "*"])
    run("users", "add", "li", "--role", "transport", "--department", "运管", "--jurisdiction", "*", user="admin")
    run("users", "add", "wang", "--role", "police", "--department", "交警", "--jurisdiction", "*", user="admin")
    return run


class Exact(int):
    """A number a sheet holds with every digit (as exports from other systems write it; Excel
    and openpyxl themselves keep 15 significant digits)."""


def _xlsx(path, rows, merges=()):
    """rows: lists of cell values (None = empty); numbers stay numbers, as a sheet holds them."""
    import re
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append([f"EXACT:{int(v)}" if isinstance(v, Exact) else v for v in row])
    for first_row, first_col, last_row, last_col, text in merges:
        sheet.cell(first_row + 1, first_col + 1, text)
        sheet.merge_cells(start_row=first_row + 1, start_column=first_col + 1, end_row=last_row + 1, end_column=last_col + 1)
    book.save(path)
    parts = {n: zipfile.ZipFile(path).read(n) for n in zipfile.ZipFile(path).namelist()}
    name = "xl/worksheets/sheet1.xml"
    parts[name] = re.sub(rb'<c r="([A-Z]+[0-9]+)" t="inlineStr"><is><t>EXACT:([0-9]+)</t></is></c>',
                         rb'<c r="\1" t="n"><v>\2</v></c>', parts[name])
    with zipfile.ZipFile(path, "w") as z:
        for n, data in parts.items():
            z.writestr(n, data)
    return path


def test_a_ledger_with_a_title_a_two_level_header_and_extra_columns_imports(cli, tmp_path):
    companies = tmp_path / "企业.csv"
    companies.write_text("杭州市挂牌整治企业名单(2026年10月)\n\n"  # a title, a blank row
                         "序号,统一社会信用代码,企业名称,业务类型,辖区,备注\n"
                         f"1,{LETTERS_USCC},甲运输,班线客运,西湖区,重点\n"
                         f"2,{DIGITS_USCC}.0,乙物流,普货,上城区,\n", encoding="utf-8")
    r = cli("import", "companies", str(companies), "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert (out["inserted"], out["header_row"], out["ignored_columns"]) == (2, 3, ["序号", "备注"])
    assert "columns not recognised were left out (not imported): 序号, 备注" in " ".join(r.stderr.split())
    assert "the header is on row 3" in r.stderr
    # rows 1-2: a title merged across the sheet; 2-3: a two-level header whose 号牌号码 and
    # 车辆类型 cells are merged down over both rows; 登记信息 groups the two dates.
    vehicles = _xlsx(tmp_path / "车辆.xlsx", [
        [None] * 7,
        [None, None, "所属企业", None, None, None, None],
        [None, None, "统一社会信用代码", None, "启用日期", "停用日期", "备注"],
        ["浙A12345", 1, LETTERS_USCC, "大型客车", "2025-01-01", None, "新车"],
        ["浙A54321", 2, Exact(DIGITS_USCC), "重型半挂牵引车", "2025/02/01", None, None],
    ], merges=[(0, 0, 0, 6, "2026年10月 车辆台账"), (1, 0, 2, 0, "号牌号码"), (1, 1, 2, 1, "序号"),
               (1, 3, 2, 3, "车辆类型"), (1, 4, 1, 5, "登记信息")])
    r = cli("import", "vehicles", str(vehicles), "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert (out["inserted"], out["header_row"], out["ignored_columns"]) == (2, 3, ["序号", "备注"])
    r = cli("import", "vehicles", str(vehicles), "--json")  # the same ledger again: nothing changes
    assert (json.loads(r.stdout)["unchanged"], json.loads(r.stdout)["inserted"]) == (2, 0)


def test_everyday_words_are_values_and_lost_digits_are_refused_with_their_row(cli, tmp_path):
    companies = tmp_path / "c.csv"
    companies.write_text(f"uscc,name,business_type,jurisdiction\n{DIGITS_USCC},甲,危化品运输,西湖区\n", encoding="utf-8")
    assert cli("import", "companies", str(companies)).exit_code == 0
    vehicles = tmp_path / "v.csv"
    vehicles.write_text(f"plate,company_uscc,vehicle_class,active_from\n浙A12345,{DIGITS_USCC},槽罐车,2025-01-01\n", encoding="utf-8")
    assert cli("import", "vehicles", str(vehicles)).exit_code == 0
    violations = tmp_path / "违法.csv"
    violations.write_text("违法时间,号牌号码,违法代码,记分,来源\n"
                          "2026-10-01 08:00:00,浙A12345,1345,3,抓拍\n"
                          "2026-10-02 08:00:00,浙A12345,1345,3,电子警察\n"
                          "2026-10-03 08:00:00,浙A12345,6046,0,路面执法\n"
                          "2026-10-04 08:00:00,浙A12345,6046,0, 北 斗 \n", encoding="utf-8")
    r = cli("import", "violations", str(violations), "--json", user="wang")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["inserted"] == 4
    drivers = _xlsx(tmp_path / "d.xlsx", [
        ["身份证号", "姓名", "手机号", "统一社会信用代码"],
        [Exact(RIC), "张三", 13800138000, Exact(DIGITS_USCC)],  # every digit there: restored
        [int(RIC), "李四", None, int(DIGITS_USCC)],  # as Excel (and openpyxl) store it: 15 digits kept
    ])
    r = cli("import", "drivers", str(drivers), "--json")
    assert r.exit_code == 2
    errors = json.loads(r.stdout)["errors"]
    assert {(e["row"], e["column"], e["reason"]) for e in errors} == {
        (3, "id_number", "imp.digits_lost"), (3, "company_uscc", "imp.digits_lost")}
    lost = next(e for e in errors if e["column"] == "id_number")
    assert lost["value"] == f"{float(RIC):.15G}" and "lost its last digits" in lost["message"]


def test_excel_numbers_are_restored_only_when_every_digit_is_there():
    s = pl.Series("v", ["9.13307E+17", f"{RIC}.0", f"{RIC[0]}.{RIC[1:]}E+17", f"{RIC[0]}.{RIC[1:]}0e17",
                        "12.5", RIC, "33010619800101001X", None, "1.38001E+10", "13800138000.00"])
    value, lost = excel_digits(s)
    assert value.to_list() == ["9.13307E+17", RIC, RIC, RIC, "12.5", RIC, "33010619800101001X", None,
                               "1.38001E+10", "13800138000"]
    assert lost.to_list() == [True, False, False, False, False, False, False, False, True, False]


def test_headers_are_compared_the_way_templates_write_them():
    lookup = {header_key(h) for c in SPECS["accidents"].columns for h in (c.name, c.zh, *c.aliases)}
    for written in ("*号牌号码", "号牌\n号码", " 事故时间 ", "ＰＬＡＴＥ", "＊死亡人数"):
        assert header_key(written) in lookup, written
    from listing.services.imports.reader import find_header

    header = find_header([["事故统计表"], ["事故时间", "号牌号码", "死亡人数(人)", "受伤人数(人)", "事故责任", "说明"]],
                         SPECS["accidents"])
    assert header.index == 1 and header.names == ["occurred_at", "plate", "fatalities", "injuries", "responsibility", "说明"]


@pytest.mark.parametrize("kind,column", [(k, c.name) for k, s in SPECS.items() for c in s.columns if c.kind == "enum"])
def test_every_everyday_word_means_one_value(kind, column):
    """Words compared without case or spaces must not collide (one word, two meanings)."""
    choices = next(c for c in SPECS[kind].columns if c.name == column).choices
    keys = pl.select(enum_key(pl.lit(pl.Series(list(choices))))).to_series().to_list()
    meaning: dict[str, str] = {}
    for key, value in zip(keys, choices.values()):
        assert meaning.setdefault(key, value) == value, key


def test_a_repeated_known_column_is_still_refused(tmp_path):
    from listing.services.users import add_user
    from messages.errors import ValidationError

    store = open_store(f"sqlite:///{tmp_path / 's.sqlite'}")
    with store.session() as s:
        add_user(s, None, "admin", "admin", "x", "*", now=NOW)
    path = tmp_path / "c.csv"
    path.write_text(f"统一社会信用代码,企业名称,业务类型,辖区,企业名称\n{LETTERS_USCC},甲,货运,西湖区,乙\n", encoding="utf-8")
    with pytest.raises(ValidationError) as err, store.session() as s:
        import_file(s, actor(store, "admin"), "companies", path, now=NOW)
    assert err.value.key == "err.columns_duplicate" and "name" in err.value.message("en")
    store.engine.dispose()
