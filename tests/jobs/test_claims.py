"""The (job, period) claim: once done, never again; a crashed run is taken over exactly once."""
import datetime as dt
import threading

import pytest

from listing.services import job_runs
from tests.conftest import NOW


def test_claim_done_and_rerun_does_nothing(store):
    c = job_runs.claim(store, "deadlines", "2026-11-24", now=NOW, owner="a")
    assert c and c.attempt == 1 and not c.resumed
    assert job_runs.claim(store, "deadlines", "2026-11-24", now=NOW, owner="b") is None  # a is alive
    job_runs.finish(store, c, NOW, result={"ok": 1})
    assert job_runs.claim(store, "deadlines", "2026-11-24", now=NOW + dt.timedelta(days=1), owner="b") is None


def test_crashed_run_is_resumed_once_after_heartbeats_stop(store):
    c = job_runs.claim(store, "sampling", "2026-11-23", now=NOW, owner="dead")
    later = NOW + job_runs.STALE_AFTER + dt.timedelta(seconds=1)
    assert job_runs.claim(store, "sampling", "2026-11-23", now=NOW + dt.timedelta(minutes=1), owner="b") is None
    taken = job_runs.claim(store, "sampling", "2026-11-23", now=later, owner="b")
    assert taken and taken.resumed and taken.attempt == 2
    assert job_runs.claim(store, "sampling", "2026-11-23", now=later, owner="c") is None
    assert job_runs.heartbeat(store, c, later) is False  # the old worker, if it wakes up, is told to stop
    job_runs.finish(store, c, later, result={"stale": True})  # and cannot mark it done
    with store.session() as s:
        (run,) = job_runs.runs(s, "sampling")
    assert (run.state, run.owner) == ("running", "b")


def test_failed_run_is_retried(store):
    c = job_runs.claim(store, "rules", "2026-11", now=NOW, owner="a")
    job_runs.finish(store, c, NOW, error="boom")
    again = job_runs.claim(store, "rules", "2026-11", now=NOW, owner="a")
    assert again and again.attempt == 2


def race(store, now, prefix, workers=8) -> list[int]:
    """`workers` threads claim the same period at once; the ones that got it."""
    wins, barrier = [], threading.Barrier(workers)

    def worker(i):
        barrier.wait()
        if job_runs.claim(store, "sampling", "2026-11-23", now=now, owner=f"{prefix}{i}"):
            wins.append(i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return wins


@pytest.mark.postgres
def test_many_workers_race_for_one_period_on_postgres(pg_url):
    from listing.store.db import open_store

    store = open_store(pg_url)
    assert len(race(store, NOW, "w")) == 1
    # and the takeover of a stale run is won by exactly one as well
    assert len(race(store, NOW + job_runs.STALE_AFTER * 2, "t")) == 1
    store.engine.dispose()
