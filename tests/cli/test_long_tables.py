"""A long table (more than cli.output.LONG_TABLE rows) is printed as plain aligned columns, one row
a line, with the same headers and labelled values as a framed table."""
from __future__ import annotations

from rich.cells import cell_len

from cli import output


def test_a_long_table_is_one_aligned_row_a_line(capsys, monkeypatch):
    monkeypatch.setitem(output._state, "lang", "zh")
    rows = [{"id": i, "company": "杭州甲运输有限公司" if i % 2 else "乙", "state": "listed" if i % 3 else "delisted",
             "active": i % 2 == 0} for i in range(output.LONG_TABLE + 5)]
    output.show(rows, [("id", "col.id"), ("company", "col.company"), ("state", "col.state"), ("active", "col.active")],
                as_json=False)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 + len(rows)  # header, rule, one line per row
    assert lines[0].split() == [output.tr("col.id"), output.tr("col.company"), output.tr("col.state"), output.tr("col.active")]
    assert lines[2].split() == ["0", "乙", output.tr("state.delisted"), output.tr("yes")]
    assert lines[3].split() == ["1", "杭州甲运输有限公司", output.tr("state.listed"), output.tr("no")]
    starts = {cell_len(line[:line.index(output.tr("state.listed" if i % 3 else "state.delisted"))])
              for i, line in enumerate(lines[2:])}
    assert len(starts) == 1  # the state column starts at the same display column on every line


def test_a_short_table_keeps_its_frame(capsys):
    output.show([{"id": 1}], [("id", "col.id")], as_json=False)
    assert "┏" in capsys.readouterr().out


USERS = [{"name": n, "role": r, "department": d, "jurisdiction": j, "active": True, "db_role": None}
         for n, r, d, j in (("reviewer.zhao", "reviewer", "市交通安全委员会", "*"), ("police.xihu", "police", "西湖交警大队", "西湖区"),
                            ("transport.li", "transport", "运管处", "*"))]
COLUMNS = [("name", "col.name"), ("role", "col.role"), ("department", "col.department"), ("jurisdiction", "col.jurisdiction"),
           ("active", "col.active"), ("db_role", "col.db_role")]


def test_a_framed_table_keeps_names_whole_and_fits_the_terminal(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    output.show(USERS, COLUMNS, as_json=False)
    out = capsys.readouterr().out
    assert all(cell_len(line) <= 80 for line in out.splitlines())
    for user in USERS:
        assert user["name"] in out  # reviewer.zhao, never reviewer.zha / o


def test_on_a_narrow_terminal_the_table_still_fits(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")  # no room to keep the names whole: they wrap like the rest
    output.show(USERS, COLUMNS, as_json=False)
    assert all(cell_len(line) <= 40 for line in capsys.readouterr().out.splitlines())
