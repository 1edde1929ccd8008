"""The stored listing-rule versions (`rule_version` rows), read without the ORM."""
from __future__ import annotations

import datetime as dt

from listing.store.reader import DATE, TIME, Reader, Row, query
from messages.errors import NotFound
from rules.criteria import config
from rules.criteria.config import RuleSet

_IN_FORCE = query("SELECT source FROM rule_version WHERE effective_from <= :on ORDER BY effective_from DESC, id DESC")
_STORED = query("""SELECT version, effective_from, loaded_by, loaded_at, sha256, source FROM rule_version
                     ORDER BY effective_from, id""", effective_from=DATE, loaded_at=TIME)
_VERSION = query("SELECT source FROM rule_version WHERE version = :version ORDER BY id")


def active_rules(db, on: dt.date) -> RuleSet:
    """The stored version in force on `on`; the shipped default while none is stored."""
    row = Reader.of(db).first(_IN_FORCE, on=on)
    return config.parse(row.source) if row else config.load()


def rules_version(db, version: str) -> RuleSet:
    row = Reader.of(db).first(_VERSION, version=version)
    if row is None:
        if version == config.load().version:
            return config.load()
        raise NotFound("err.rules_version_unknown", version=version)
    return config.parse(row.source)


def stored_versions(db) -> list[Row]:
    """Every stored version (version, effective_from, loaded_by, loaded_at, sha256, source), oldest first."""
    return Reader.of(db).rows(_STORED)
