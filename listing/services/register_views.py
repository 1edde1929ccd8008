"""Read views of the register: now read without the ORM, in listing.services.read.register
(re-exported here for existing callers)."""
from listing.services.read.register import drivers  # noqa: F401 - re-exported
