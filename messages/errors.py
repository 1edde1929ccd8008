"""Errors the services raise. Each carries an i18n message key and its parameters,
so the CLI can say what went wrong in the officer's language."""
from __future__ import annotations


class GuapaiError(Exception):
    """Base error: `key` names a message in messages, `params` fill it in."""

    exit_code = 1

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(key)

    def __str__(self) -> str:
        """The English sentence, never the raw key: logs and stored job errors are read by people."""
        try:
            return self.message("en")
        except Exception:  # noqa: BLE001 - a missing or malformed message must not hide the error
            return self.key

    def message(self, lang: str = "en") -> str:
        """The sentence in `lang`; in Chinese, coded parameters (a role, a state, an action) in its
        words too (English keeps the codes, which are English words and what scripts grep for)."""
        from messages import label, t

        if lang == "en":
            return t(self.key, lang, **self.params)
        return t(self.key, lang, **{k: label(v, _PARAM_LABELS[k], lang) if k in _PARAM_LABELS else v
                                    for k, v in self.params.items()})


# Parameters that carry a code people should read in their language: the message prefixes of its values.
_PARAM_LABELS = {"role": "role.", "action": "action.", "department": "dept.", "event": "event.",
                 "state": ("state.", "pstate.", "fstate.", "ostate.")}


class ValidationError(GuapaiError):
    """Bad input (an identifier, a file, an option)."""

    exit_code = 2


class PermissionDenied(GuapaiError):
    """The acting user may not do this (role or jurisdiction)."""

    exit_code = 3


class NotFound(GuapaiError):
    exit_code = 4


class Conflict(GuapaiError):
    """Illegal state transition, or a concurrent change won first."""

    exit_code = 5


class StoreBusy(Conflict):
    """Another writer held the store's lock longer than the busy timeout: nothing was changed,
    retrying later succeeds (exit code 5, like any concurrent change that won first)."""
