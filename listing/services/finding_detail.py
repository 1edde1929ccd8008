"""One finding as a person reads it (线索详情): now read without the ORM, in
listing.services.read.findings (re-exported here for existing callers)."""
from listing.services.read.findings import (  # noqa: F401 - re-exported
    BUCKETS,
    MARGIN,
    SPARK,
    Positions,
    detail,
    speed_sparkline,
)
