"""Officers' files through the CLI: GBK from Excel on Chinese Windows imports; a file in no
encoding guapai reads, or over the size limit (GUAPAI_IMPORT_MAX_MB), is refused with exit code 2,
a message naming the problem, and nothing written."""
import json

import pytest
from typer.testing import CliRunner

import main
from listing.services.imports import reader

HEADER = "统一社会信用代码,企业名称,业务类型,辖区\n"
ROWS = "91330106MA27Y5XH8W,杭州甲运输有限公司,货运,西湖区\n91330102MA2AAAAA1B,萧山乙客运(集团)有限公司,客运,萧山区\n"


@pytest.fixture
def cli(sqlite_url, monkeypatch):
    monkeypatch.delenv("GUAPAI_USER", raising=False)
    monkeypatch.delenv("GUAPAI_IMPORT_MAX_MB", raising=False)
    runner = CliRunner()

    def run(*args, user="li", env=None):
        return runner.invoke(main.app, ["--db", sqlite_url, "--lang", "en", "--as", user, *args], env=env)

    runner.invoke(main.app, ["--db", sqlite_url, "users", "add", "admin", "--role", "admin", "--department", "x", "--jurisdiction", "*"])
    run("users", "add", "li", "--role", "transport", "--department", "运管", "--jurisdiction", "*", user="admin")
    return run


def companies(cli):
    r = cli("audit", "log", "--json", "--action", "import.companies", user="admin")
    return json.loads(r.stdout)


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_excel_encodings_import_the_same_rows(cli, tmp_path, encoding):
    path = tmp_path / "企业.csv"
    path.write_bytes((HEADER + ROWS).replace("\n", "\r\n").encode(encoding))
    r = cli("import", "companies", str(path), "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["inserted"] == 2
    [event] = companies(cli)
    assert event["after"]["rows"] == 2
    r = cli("import", "companies", str(path), "--json")  # the same file again: nothing changes
    assert (json.loads(r.stdout)["inserted"], json.loads(r.stdout)["unchanged"]) == (0, 2)


def test_gbk_is_decoded_across_read_chunks(tmp_path, monkeypatch):
    """Large files are checked and transcoded in chunks: a character cut by a chunk boundary stays whole."""
    monkeypatch.setattr(reader, "_CHUNK", 7)
    path = tmp_path / "c.csv"
    path.write_bytes((HEADER + ROWS * 20).encode("gbk"))
    frame = reader.read_table(path)
    assert frame.height == 40 and frame["企业名称"].to_list()[:2] == ["杭州甲运输有限公司", "萧山乙客运(集团)有限公司"]


@pytest.mark.parametrize("content", [
    (HEADER + ROWS).encode("utf-16"),  # neither UTF-8 nor GBK: NUL bytes
    (HEADER + ROWS).encode("utf-8")[:-30] + b"\xff\xfe\x80" + b"\n",  # bytes no encoding guapai reads maps
], ids=["utf-16", "invalid-bytes"])
def test_a_file_in_no_readable_encoding_is_refused_clearly(cli, tmp_path, content):
    path = tmp_path / "c.csv"
    path.write_bytes(content)
    r = cli("import", "companies", str(path))
    assert r.exit_code == 2
    assert "cannot decode the file (save it as a UTF-8 or GBK CSV)" in r.stderr
    assert companies(cli) == []


def test_a_file_over_the_size_limit_is_refused_naming_size_and_limit(cli, tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes((HEADER + ROWS * 40).encode("utf-8"))  # ~5.6 KB
    size = path.stat().st_size
    r = cli("import", "companies", str(path), env={"GUAPAI_IMPORT_MAX_MB": "0.004"})  # ~4.1 KB
    assert r.exit_code == 2
    assert f"file too large ({size / 2**20:.3g} MB, limit 0.004 MB; split it, or raise the limit with GUAPAI_IMPORT_MAX_MB)" in r.stderr
    assert companies(cli) == []
    r = cli("import", "companies", str(path), env={"GUAPAI_IMPORT_MAX_MB": "lots"})
    assert r.exit_code == 2 and "GUAPAI_IMPORT_MAX_MB must be a positive number of MB, not lots" in r.stderr
    r = cli("import", "companies", str(path), env={"GUAPAI_IMPORT_MAX_MB": "0.006"})
    assert r.exit_code == 2 and "duplicate in the file" in r.stdout + r.stderr  # read now; its repeated rows are refused
    assert companies(cli) == []


def test_the_default_limit_allows_a_year_of_a_province(monkeypatch):
    monkeypatch.delenv("GUAPAI_IMPORT_MAX_MB", raising=False)
    assert reader.max_bytes() == reader.DEFAULT_MAX_MB * 2**20 >= 500 * 2**20  # ~5 M violations as CSV


def test_bytes_polars_takes_for_a_compressed_stream_are_refused_clearly(cli, tmp_path):
    """Found by the long trajectory fuzz: valid UTF-8 starting like a zlib stream made polars
    raise a bare OSError (corrupt deflate stream)."""
    path = tmp_path / "c.csv"
    path.write_bytes(b"x\x01\x02\x01")
    r = cli("import", "companies", str(path))
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "cannot read the file" in " ".join(r.stderr.split())
    assert companies(cli) == []
