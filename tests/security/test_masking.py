"""Driver ID numbers and phones are masked in tables and JSON for roles that do not need them."""
import json

from typer.testing import CliRunner

import main
from listing.services.demo import build_city
from listing.simulation.city import CityPlan, synthetic_city
from listing.store.db import open_store
from tests.conftest import NOW


def test_driver_personal_data_masked_unless_police(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    build_city(open_store(url), seed=8, as_of=NOW.date(), now=NOW, plan=CityPlan(companies=5, mean_fleet=3))
    raw = synthetic_city(8, NOW.date(), CityPlan(companies=5, mean_fleet=3))["drivers"]
    ids, phones = set(raw["id_number"]), set(raw["phone"])
    runner = CliRunner()
    for user in ("transport.li", "reviewer.zhao"):
        for fmt in (["--json"], []):
            r = runner.invoke(main.app, ["--db", url, "--as", user, "drivers", "list", *fmt])
            assert r.exit_code == 0
            assert not any(i in r.stdout for i in ids) and not any(p in r.stdout for p in phones)
    r = runner.invoke(main.app, ["--db", url, "--as", "police.wang", "drivers", "list", "--json"])
    shown = json.loads(r.stdout)
    assert {d["id_number"] for d in shown} == ids
    masked = json.loads(runner.invoke(main.app, ["--db", url, "--as", "transport.li", "drivers", "list", "--json"]).stdout)
    assert all(d["id_number"][6:-2] == "*" * 10 for d in masked)
