"""Generated docs (README import columns, docs/cli.md) must match the code."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_generated_docs_are_current():
    out = subprocess.run([sys.executable, "docs/generate.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_readme_documents_both_header_languages():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for header in ("统一社会信用代码", "号牌号码", "违法时间", "`occurred_at`", "`plate`"):
        assert header in readme
