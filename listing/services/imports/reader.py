"""Reading officers' files (CSV or XLSX, Chinese or English headers, UTF-8 or GBK) into a
frame of strings with canonical column names. Typing and checks come after, in validate.py."""
from __future__ import annotations

import codecs
import datetime as dt
import os
import tempfile
from pathlib import Path

import polars as pl

from listing.errors import ValidationError
from listing.i18n import register
from listing.services.imports.specs import Spec

register(
    {
        "err.file_type": ("不支持的文件类型 {suffix}(支持 .csv 与 .xlsx)", "unsupported file type {suffix} (use .csv or .xlsx)"),
        "err.file_encoding": ("文件编码无法识别(请另存为 UTF-8 或 GBK 编码的 CSV)", "cannot decode the file (save it as a UTF-8 or GBK CSV)"),
        "err.file_unreadable": ("文件无法读取:{reason}", "cannot read the file: {reason}"),
        "err.file_too_large": ("文件过大({size} MB,上限 {limit} MB;可用 GUAPAI_IMPORT_MAX_MB 调整上限,或拆分文件)", "file too large ({size} MB, limit {limit} MB; split it, or raise the limit with GUAPAI_IMPORT_MAX_MB)"),
        "err.import_limit": ("GUAPAI_IMPORT_MAX_MB 应为正数(MB),而不是 {value}", "GUAPAI_IMPORT_MAX_MB must be a positive number of MB, not {value}"),
        "err.columns_missing": ("缺少必需的列:{columns}", "missing required columns: {columns}"),
        "err.columns_unknown": ("无法识别的列:{columns}(可用列:{known})", "unknown columns: {columns} (known: {known})"),
        "err.columns_duplicate": ("列重复:{columns}", "duplicate columns: {columns}"),
        "err.file_empty": ("文件没有数据行", "the file has no data rows"),
    }
)

ROW = "__row"  # the row number officers see in their spreadsheet (header = row 1)
# A file is read whole into a columnar frame (a few times its size in memory while it is checked),
# so refuse, clearly, what would not fit a workstation. A year of a province's violations (~5
# million rows, ~500 MB of CSV) fits the default; GUAPAI_IMPORT_MAX_MB changes it.
DEFAULT_MAX_MB = 1024
_CHUNK = 1 << 24  # files are checked and transcoded 16 MB at a time, never held twice in memory


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


def _read_csv(path: Path) -> pl.DataFrame:
    """UTF-8 (BOM or not) is read in place; GBK/GB18030 is transcoded to a temporary UTF-8 file."""
    def parse(source) -> pl.DataFrame:
        try:
            return pl.read_csv(source, infer_schema=False, truncate_ragged_lines=False)
        except (pl.exceptions.PolarsError, OSError) as exc:  # OSError: bytes polars took for a zlib/gzip stream
            raise ValidationError("err.file_unreadable", reason=str(exc).splitlines()[0][:200]) from None

    if _decodes(path, "utf-8"):
        return parse(path)
    with tempfile.TemporaryDirectory(prefix="guapai-import-") as folder:
        utf8 = Path(folder) / "utf8.csv"
        with utf8.open("wb") as sink:
            if not _decodes(path, "gb18030", sink):
                raise ValidationError("err.file_encoding")
        return parse(utf8)


def read_table(path: Path) -> pl.DataFrame:
    """All cells as strings (null for empty), headers as written."""
    if not path.is_file():
        raise ValidationError("err.file_missing", path=str(path))
    size, limit = path.stat().st_size, max_bytes()
    if size > limit:
        raise ValidationError("err.file_too_large", size=_mb(size), limit=_mb(limit))
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        frame = _read_csv(path)
        frame = frame.with_columns(pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias(ROW))
    elif suffix in (".xlsx", ".xlsm"):
        frame = _read_xlsx(path)
    else:
        raise ValidationError("err.file_type", suffix=suffix or "(none)")
    cells = pl.exclude(ROW)
    return frame.with_columns(cells.str.strip_chars()).with_columns(
        pl.when(cells.str.len_chars() == 0).then(None).otherwise(cells).name.keep()
    )


def _cell(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime):  # the time is kept even at midnight: a date column accepts 00:00:00
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _read_xlsx(path: Path) -> pl.DataFrame:
    from openpyxl import load_workbook

    # openpyxl parses the sheet lazily (read-only mode): a broken workbook can fail at any row,
    # with any of zipfile's, zlib's, XML's or its own exceptions.
    try:
        book = load_workbook(path, read_only=True, data_only=True)
        try:
            rows = book.active.iter_rows(values_only=True)
            header = next(rows, None)
            if header is None:
                raise ValidationError("err.file_empty")
            header = [str(h).strip() if h is not None else "" for h in header]
            data = []
            for number, row in enumerate(rows, start=2):
                values = [_cell(v) for v in row[: len(header)]] + [None] * (len(header) - len(row))
                if any(v is not None for v in values):  # Excel sheets often end in blank rows
                    data.append([*values, number])
        finally:
            book.close()
    except ValidationError:
        raise
    except Exception as exc:  # noqa: BLE001 - see above: every failure is "cannot read the file"
        raise ValidationError("err.file_unreadable", reason=(str(exc) or type(exc).__name__)[:200]) from None
    # Blank header cells over empty columns are formatting, not data; over data they are unknown columns.
    keep = [j for j, h in enumerate(header) if h or any(r[j] is not None for r in data)]
    names = [header[j] or f"({_column_letter(j)})" for j in keep]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValidationError("err.columns_duplicate", columns=", ".join(dupes))
    schema = [(n, pl.Utf8) for n in names] + [(ROW, pl.Int64)]
    return pl.DataFrame([[r[j] for j in keep] + [r[-1]] for r in data], schema=schema, orient="row")


def _column_letter(j: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(j + 1)


def canonical_columns(frame: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """Rename Chinese/English/alias headers to the canonical names; refuse unknown or missing."""
    lookup: dict[str, str] = {}
    for col in spec.columns:
        for header in (col.name, col.zh, *col.aliases):
            lookup[header.strip().lower()] = col.name
    renamed, unknown = {}, []
    for header in frame.columns:
        if header == ROW:
            continue
        target = lookup.get(header.strip().lower().replace("\ufeff", ""))
        if target is None:
            unknown.append(header)
        else:
            renamed[header] = target
    if unknown:
        known = ", ".join(f"{c.name}/{c.zh}" for c in spec.columns)
        raise ValidationError("err.columns_unknown", columns=", ".join(unknown), known=known)
    targets = list(renamed.values())
    dupes = sorted({t for t in targets if targets.count(t) > 1})
    if dupes:
        raise ValidationError("err.columns_duplicate", columns=", ".join(dupes))
    missing = [c.name for c in spec.columns if c.required and c.name not in targets]
    if missing:
        raise ValidationError("err.columns_missing", columns=", ".join(missing))
    frame = frame.rename(renamed)
    absent = [pl.lit(None, dtype=pl.Utf8).alias(c.name) for c in spec.columns if c.name not in frame.columns]
    frame = frame.with_columns(absent).select([ROW, *(c.name for c in spec.columns)])
    if frame.height == 0:
        raise ValidationError("err.file_empty")
    return frame
