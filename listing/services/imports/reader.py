"""Reading officers' files (CSV or XLSX, Chinese or English headers, UTF-8 or GBK) into a
frame of strings with canonical column names. Typing and checks come after, in validate.py."""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from listing.services.imports.specs import Spec
from messages.errors import ValidationError

ROW = "__row"  # the row number officers see in their spreadsheet (header = row 1 unless titles sit above it)
HEADER_SEARCH_ROWS = 30  # the header row is looked for among this many rows at the top of the sheet
# A file is read whole into a columnar frame (a few times its size in memory while it is checked),
# so refuse, clearly, what would not fit a workstation. A year of a province's violations (~5
# million rows, ~500 MB of CSV) fits the default; GUAPAI_IMPORT_MAX_MB changes it.
DEFAULT_MAX_MB = 1024
_CHUNK = 1 << 24  # files are checked and transcoded 16 MB at a time, never held twice in memory


@dataclass
class Header:
    index: int  # 0-based row of the header in the file (title rows above it are skipped)
    names: list[str]  # per column: the canonical name where recognised, else the header as written


@dataclass
class Table:
    frame: pl.DataFrame  # strings (null for empty) and ROW
    header_row: int  # the header's row in the spreadsheet (1 unless title rows sit above it)
    ignored: list[str] = field(default_factory=list)  # headers of extra columns kept out of the import


def header_key(text: str) -> str:
    """A header as compared: full-width forms folded (（）＊ -> ()*), spaces and line breaks
    inside the cell removed, the * templates put on required columns dropped, lower case."""
    folded = unicodedata.normalize("NFKC", text).replace("\ufeff", "")
    return re.sub(r"\s+", "", folded).strip("*").lower()


def _lookup(spec: Spec) -> dict[str, str]:
    return {header_key(h): col.name for col in spec.columns for h in (col.name, col.zh, *col.aliases)}


def _known(lookup: dict[str, str], cell: str) -> str | None:
    key = header_key(cell)
    if key in lookup:
        return lookup[key]
    unit = re.fullmatch(r"(.+?)\([^()]*\)", key)  # 死亡人数(人), 启用日期(yyyy-mm-dd)
    return lookup.get(unit.group(1)) if unit else None


def find_header(records: list[list[str]], spec: Spec | None) -> Header:
    """The header is the row (among the first few) naming most of the spec's columns; rows above
    it (a title, the unit, a merged group row) are skipped. A header cell left blank under a
    merged cell takes the column name from the nearest cell above it (two-level headers)."""
    records = [[(c or "").strip() for c in r] for r in records]
    if spec is None or not records:
        return Header(0, records[0] if records else [])
    lookup = _lookup(spec)
    scores = [len({_known(lookup, c) for c in r} - {None}) for r in records]
    best = max(range(len(records)), key=lambda i: (scores[i], -i))
    if scores[best] == 0:  # nothing recognised: the first non-blank row is the header (all columns unknown)
        best = next((i for i, r in enumerate(records) if any(r)), 0)
    names = []
    for j, cell in enumerate(records[best]):
        name = _known(lookup, cell)
        if name is None and not cell:
            cell = next((r[j] for r in reversed(records[:best]) if j < len(r) and r[j]), "")
            name = _known(lookup, cell)
        names.append(name or cell)
    recognised = [n for n in names if n in {c.name for c in spec.columns}]
    dupes = sorted({n for n in recognised if recognised.count(n) > 1})
    if dupes:
        raise ValidationError("err.columns_duplicate", columns=", ".join(dupes))
    return Header(best, names)


def max_bytes() -> int:
    raw = os.environ.get("GUAPAI_IMPORT_MAX_MB", "").strip()
    try:
        mb = float(raw) if raw else DEFAULT_MAX_MB
    except ValueError:
        raise ValidationError("err.import_limit", value=raw) from None
    if mb <= 0:
        raise ValidationError("err.import_limit", value=raw)
    return int(mb * 2**20)


def _mb(n: int) -> str:
    mb = n / 2**20
    return f"{mb:,.0f}" if mb >= 10 else f"{mb:.3g}"


def _decodes(path: Path, encoding: str, sink=None) -> bool:
    """Whether the whole file decodes (strictly, no NUL character) in `encoding`, chunk by chunk;
    each decoded chunk goes to `sink` as UTF-8 if given."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as fh:
        while True:
            block = fh.read(_CHUNK)
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError:
                return False
            if "\x00" in text:  # UTF-16 or binary: valid bytes, wrong text
                return False
            if sink is not None:
                sink.write(text.encode("utf-8"))
            if not block:
                return True


def _read_csv(path: Path, spec: Spec | None) -> tuple[pl.DataFrame, Header]:
    """UTF-8 (BOM or not) is read in place; GBK/GB18030 is transcoded to a temporary UTF-8 file.
    The header is found among the first rows (title rows above it are skipped)."""
    def parse(source: Path) -> tuple[pl.DataFrame, Header]:
        records, starts = _top_records(source)
        header = find_header(records, spec)
        try:  # skip the lines above the header as lines: polars counts a leading blank line its own way
            frame = pl.read_csv(source, infer_schema=False, truncate_ragged_lines=False,
                                skip_lines=starts[header.index] if header.index < len(starts) else 0)
        except (pl.exceptions.PolarsError, OSError) as exc:  # OSError: bytes polars took for a zlib/gzip stream
            raise ValidationError("err.file_unreadable", reason=str(exc).splitlines()[0][:200]) from None
        # polars names columns itself (renaming repeats); ours come from the detected header, by position
        names = header.names + [""] * (frame.width - len(header.names))
        frame = frame.rename(dict(zip(frame.columns, _unique(names))))
        first = header.index + 2  # spreadsheet row of the first data row (polars keeps blank lines as null rows)
        return frame.with_columns(pl.int_range(first, frame.height + first, dtype=pl.Int64).alias(ROW)), header

    if _decodes(path, "utf-8"):
        return parse(path)
    with tempfile.TemporaryDirectory(prefix="guapai-import-") as folder:
        utf8 = Path(folder) / "utf8.csv"
        with utf8.open("wb") as sink:
            if not _decodes(path, "gb18030", sink):
                raise ValidationError("err.file_encoding")
        return parse(utf8)


def _top_records(path: Path) -> tuple[list[list[str]], list[int]]:
    """The first HEADER_SEARCH_ROWS records of a UTF-8 CSV as the csv module reads them (a
    quoted cell may span lines), and the line each starts on."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        head = fh.read(1 << 16)
    complete = head if len(head) < 1 << 16 else head[: head.rfind("\n") + 1]
    reader = csv.reader(io.StringIO(complete))
    records, starts = [], []
    try:
        while len(records) < HEADER_SEARCH_ROWS:
            starts.append(reader.line_num)
            records.append(next(reader))
    except StopIteration:
        starts.pop()
    except csv.Error:  # an odd quote in a title row: polars reports the file as it finds it
        return [], []
    return records, starts


def read_table(path: Path, spec: Spec | None = None) -> pl.DataFrame:
    """All cells as strings (null for empty), headers as written (see `read` for a spec's file)."""
    return read(path, spec).frame


def read(path: Path, spec: Spec | None = None) -> Table:
    """The file's data rows as strings (null for empty) under its header row, which is found
    among the first rows when `spec` is given (else the first row)."""
    if not path.is_file():
        raise ValidationError("err.file_missing", path=str(path))
    size, limit = path.stat().st_size, max_bytes()
    if size > limit:
        raise ValidationError("err.file_too_large", size=_mb(size), limit=_mb(limit))
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        frame, header = _read_csv(path, spec)
    elif suffix in (".xlsx", ".xlsm"):
        frame, header = _read_xlsx(path, spec)
    else:
        raise ValidationError("err.file_type", suffix=suffix or "(none)")
    cells = pl.exclude(ROW)
    frame = frame.with_columns(cells.str.strip_chars()).with_columns(
        pl.when(cells.str.len_chars() == 0).then(None).otherwise(cells).name.keep()
    )
    # Sheets often end in (or hold) blank rows, and CSV saved from Excel writes them as ",,,": not data.
    if frame.width > 1:
        frame = frame.filter(pl.any_horizontal(cells.is_not_null()))
    return Table(frame, header.index + 1)


def _cell(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime):  # the time is kept even at midnight: a date column accepts 00:00:00
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        # Excel keeps 15 significant digits: beyond them a number is shown as Excel shows it
        # (9.13307E+17), so an identifier that lost its last digits is refused, not guessed.
        return str(int(v)) if abs(v) < 1e15 else f"{v:.15G}"
    return str(v)


def _read_xlsx(path: Path, spec: Spec | None) -> tuple[pl.DataFrame, Header]:
    from openpyxl import load_workbook

    # openpyxl parses the sheet lazily (read-only mode): a broken workbook can fail at any row,
    # with any of zipfile's, zlib's, XML's or its own exceptions.
    try:
        book = load_workbook(path, read_only=True, data_only=True)
        try:
            rows = book.active.iter_rows(values_only=True)
            top = [[_cell(v) or "" for v in row] for row in itertools.islice(rows, HEADER_SEARCH_ROWS)]
            if not any(any(r) for r in top):
                raise ValidationError("err.file_empty")
            header = find_header(top, spec)
            width = len(header.names)
            data = []
            below = itertools.chain(([v or None for v in r] for r in top[header.index + 1:]),
                                    ([_cell(v) for v in r] for r in rows))
            for number, values in enumerate(below, start=header.index + 2):
                values = list(values[:width]) + [None] * (width - len(values))
                if any(v is not None for v in values):  # Excel sheets often end in blank rows
                    data.append([*values, number])
        finally:
            book.close()
    except ValidationError:
        raise
    except Exception as exc:  # noqa: BLE001 - see above: every failure is "cannot read the file"
        raise ValidationError("err.file_unreadable", reason=(str(exc) or type(exc).__name__)[:200]) from None
    # Blank header cells over empty columns are formatting, not data; over data they are extra columns.
    keep = [j for j, h in enumerate(header.names) if h or any(r[j] is not None for r in data)]
    names = _unique([header.names[j] for j in keep])
    schema = [(n, pl.Utf8) for n in names] + [(ROW, pl.Int64)]
    return pl.DataFrame([[r[j] for j in keep] + [r[-1]] for r in data], schema=schema, orient="row"), header


def _unique(names: list[str]) -> list[str]:
    """Column names polars accepts: a blank header is named by its column letter, a repeat
    gets a suffix (a repeat of a recognised column was refused by find_header)."""
    out: list[str] = []
    for j, name in enumerate(names):
        name = name or f"({_column_letter(j)})"
        candidate, n = name, 1
        while candidate in out:
            n += 1
            candidate = f"{name}#{n}"
        out.append(candidate)
    return out


def _column_letter(j: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(j + 1)


def canonical_columns(table: Table, spec: Spec) -> Table:
    """Keep the spec's columns (named canonically by find_header) in its order; extra columns
    are kept out and listed in `ignored`; missing required columns are refused."""
    frame = table.frame
    known = {c.name for c in spec.columns}
    present = [c for c in frame.columns if c in known]
    ignored = [c for c in frame.columns if c != ROW and c not in known]
    missing = [c.name for c in spec.columns if c.required and c.name not in present]
    if missing and ignored:
        raise ValidationError("err.columns_missing_seen", columns=", ".join(missing), row=table.header_row,
                              unknown=", ".join(ignored))
    if missing:
        raise ValidationError("err.columns_missing", columns=", ".join(missing))
    absent = [pl.lit(None, dtype=pl.Utf8).alias(c.name) for c in spec.columns if c.name not in present]
    frame = frame.with_columns(absent).select([ROW, *(c.name for c in spec.columns)])
    if frame.height == 0:
        raise ValidationError("err.file_empty")
    return Table(frame, table.header_row, ignored)
