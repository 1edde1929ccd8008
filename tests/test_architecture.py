"""The layers of docs/architecture.md hold: import-linter's contracts in pyproject.toml (also run
by .ci/run), and the wheel ships the product only, never a test or operations harness."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    out = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_the_wheel_ships_no_harness():
    from setuptools import find_packages

    shipped = find_packages(str(ROOT), include=["listing*", "rules*", "jobs*", "cli*", "messages*"])
    assert "listing.domain" in shipped and "messages" in shipped
    assert not [p for p in shipped if p.startswith(("tests", "tools", "benchmarks"))]
    assert not [p for p in shipped if "load" in p.split(".") or "drill" in p.split(".")]
