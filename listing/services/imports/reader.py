"""Reading officers' files (CSV or XLSX, Chinese or English headers, UTF-8 or GBK) into a
frame of strings with canonical column names. Typing and checks come after, in validate.py."""
from __future__ import annotations

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
        "err.file_too_large": ("文件过大({size} MB,上限 {limit} MB)", "file too large ({size} MB, limit {limit} MB)"),
        "err.columns_missing": ("缺少必需的列:{columns}", "missing required columns: {columns}"),
        "err.columns_unknown": ("无法识别的列:{columns}(可用列:{known})", "unknown columns: {columns} (known: {known})"),
        "err.columns_duplicate": ("列重复:{columns}", "duplicate columns: {columns}"),
        "err.file_empty": ("文件没有数据行", "the file has no data rows"),
    }
)

ROW = "__row"  # the row number officers see in their spreadsheet (header = row 1)
MAX_BYTES = 2 * 1024**3  # refuse, clearly, what would not fit a workstation's memory


def decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else GBK/GB18030 as Excel writes it on Chinese Windows."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        raise ValidationError("err.file_encoding") from None
    if "\x00" in text:  # UTF-16 or binary: gb18030 decodes it, wrongly
        raise ValidationError("err.file_encoding")
    return text


def read_table(path: Path) -> pl.DataFrame:
    """All cells as strings (null for empty), headers as written."""
    if not path.is_file():
        raise ValidationError("err.file_missing", path=str(path))
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ValidationError("err.file_too_large", size=size // 2**20, limit=MAX_BYTES // 2**20)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        text = decode(path.read_bytes())
        if "\x00" in text:
            raise ValidationError("err.file_encoding")
        try:
            frame = pl.read_csv(text.encode("utf-8"), infer_schema=False,
                                truncate_ragged_lines=False)
        except pl.exceptions.PolarsError as exc:
            raise ValidationError("err.file_unreadable", reason=str(exc).splitlines()[0][:200]) from None
        frame = frame.with_columns(pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias(ROW))
    elif suffix in (".xlsx", ".xlsm"):
        frame = _read_xlsx(path)
    else:
        raise ValidationError("err.file_type", suffix=suffix or "(none)")
    cells = pl.exclude(ROW)
    return frame.with_columns(cells.str.strip_chars()).with_columns(
        pl.when(cells.str.len_chars() == 0).then(None).otherwise(cells).name.keep()
    )


def _read_xlsx(path: Path) -> pl.DataFrame:
    import datetime as dt

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise ValidationError("err.file_unreadable", reason=str(exc)[:200]) from None
    rows = book.active.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise ValidationError("err.file_empty")
    header = [str(h).strip() if h is not None else "" for h in header]

    def cell(v):
        if v is None:
            return None
        if isinstance(v, dt.datetime):
            return v.strftime("%Y-%m-%d %H:%M:%S") if (v.hour, v.minute, v.second) != (0, 0, 0) else v.strftime("%Y-%m-%d")
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    data = []
    for number, row in enumerate(rows, start=2):
        values = [cell(v) for v in row[: len(header)]] + [None] * (len(header) - len(row))
        if any(v is not None for v in values):  # Excel sheets often end in blank rows
            data.append([*values, number])
    book.close()
    schema = [(h, pl.Utf8) for h in header] + [(ROW, pl.Int64)]
    return pl.DataFrame(data, schema=schema, orient="row")


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
