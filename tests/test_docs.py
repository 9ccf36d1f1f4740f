"""The docs site builds, strictly: every link and anchor resolves, every page is in the nav, and
the command-line reference is generated from the CLI itself (docs/hooks/cli_reference.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_docs_build_strictly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    reference = (site / "cli" / "index.html").read_text()
    # Generated, not written: the options of a command are there as its --help gives them.
    assert "--create-admin" in reference
    assert "--mfa-handoff" in reference
    assert "remediate root-credentials delete" in reference
