"""`guapai import KIND FILE`: all-or-nothing, idempotent imports of officers' files.

Every bad row is reported at once (row, column, reason); nothing is written unless every row is
valid; re-importing the same file changes nothing (upsert on natural keys, only changed rows
updated); the import is one audit event with the file's SHA-256 and the counts.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import polars as pl
from sqlmodel import Session

from listing.domain.policy import Actor, authorize
from listing.services import audit
from listing.services.imports import reader, resolve, validate
from listing.services.imports.specs import SPECS
from listing.store.bulk import upsert
from messages import t
from messages.errors import ValidationError


@dataclass
class ImportResult:
    kind: str
    file: str
    rows: int
    inserted: int = 0
    updated: int = 0
    dry_run: bool = False
    errors: list[dict] = field(default_factory=list)
    header_row: int = 1  # the spreadsheet row the header was found on (title rows above it skipped)
    ignored_columns: list[str] = field(default_factory=list)  # extra columns kept out of the import

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def unchanged(self) -> int:
        return self.rows - self.inserted - self.updated if self.ok and not self.dry_run else 0

    def as_dict(self) -> dict:
        return {"kind": self.kind, "file": self.file, "rows": self.rows, "inserted": self.inserted,
                "updated": self.updated, "unchanged": self.unchanged, "dry_run": self.dry_run,
                "ok": self.ok, "errors": self.errors, "header_row": self.header_row,
                "ignored_columns": self.ignored_columns}

    def warnings(self, lang: str) -> list[str]:
        """What was read differently from a plain table, for the officer to check."""
        out = []
        if self.header_row > 1:
            out.append(t("msg.import_header_row", lang, row=self.header_row))
        if self.ignored_columns:
            out.append(t("msg.import_ignored", lang, columns=", ".join(self.ignored_columns)))
        return out


def import_file(session: Session, actor: Actor, kind: str, path: Path, *, now: dt.datetime,
                dry_run: bool = False, lang: str = "en",
                on_progress: Callable[[int], None] | None = None) -> ImportResult:
    """Validate the whole file, then (unless dry_run or any error) upsert it in the session's
    transaction. Errors are returned, not raised, so all of them can be shown."""
    spec = SPECS.get(kind)
    if spec is None:
        raise ValidationError("err.import_kind", kind=kind, kinds=", ".join(SPECS))
    authorize(actor, f"import.{kind}")
    table = reader.canonical_columns(reader.read(path, spec), spec)
    raw = table.frame
    typed, errors = validate.check(raw, spec)
    frame, ref_errors = resolve.resolve(session.connection(), kind, typed)
    stored = resolve.STORED[kind]
    key_frame = frame.select(reader.ROW, *stored)
    dup = validate.duplicates(key_frame, list(spec.key), spec.columns[0].name)
    error_frame = validate.collect([errors, *ref_errors, dup])
    result = ImportResult(kind=kind, file=path.name, rows=raw.height, dry_run=dry_run,
                          header_row=table.header_row, ignored_columns=table.ignored)
    if error_frame.height:
        result.errors = _describe(error_frame, lang)
        return result
    authorize(actor, f"import.{kind}", resolve.jurisdictions(frame))
    if dry_run:
        return result
    result.inserted, result.updated = upsert(session, spec.table, frame.select(stored), spec.key, on_progress)
    if result.inserted or result.updated:
        audit.record(session, actor, f"import.{kind}", spec.table, None, at=now, after={
            "file": path.name, "sha256": _sha256(path), "rows": result.rows,
            "inserted": result.inserted, "updated": result.updated})
    return result


def _describe(errors: pl.DataFrame, lang: str) -> list[dict]:
    from listing.domain.identifiers import normalise

    out = []
    for row in errors.iter_rows(named=True):
        params = {"choices": row["choices"]} if row["reason"] == "imp.enum" else {}
        if row["reason"] == "imp.duplicate_key":
            params = {"first": row["choices"]}
        if row["reason"] in ("id.plate.format", "imp.digits_lost"):
            params = {"value": row["value"]}
        if row["reason"] in ("id.uscc.length", "id.ric.length"):
            params = {"n": len(normalise(row["value"] or ""))}
        if row["reason"] == "id.uscc.checksum" or row["reason"] == "id.ric.checksum":
            params = {"expected": _expected_check(row["reason"], row["value"] or "")}
        out.append({"row": row["row"], "column": row["column"], "value": row["value"],
                    "reason": row["reason"], "message": t(row["reason"], lang, **params)})
    return out


def _expected_check(reason: str, value: str) -> str:
    from listing.domain.identifiers import normalise, ric_check_char, uscc_check_char

    code = normalise(value)
    return uscc_check_char(code[:17]) if reason == "id.uscc.checksum" else ric_check_char(code[:17])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
