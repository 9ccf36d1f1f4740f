"""The docs site builds, strictly: every link and anchor resolves, every page is in the nav, and
the command-line reference is generated from the CLI itself (docs/hooks/cli_reference.py)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

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


def _examples(page: str) -> list[str]:
    """The Python blocks of a docs page, in order."""
    text = (ROOT / "docs" / page).read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def _module(name: str, source: str, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """The example as the module ``name`` (in sys.modules for the length of the test)."""
    module = types.ModuleType(name)
    monkeypatch.setitem(sys.modules, name, module)
    # The page's own example, run as written: the docs cannot drift from the code.
    exec(compile(source, f"docs/development.md:{name}", "exec"), module.__dict__)  # noqa: S102
    return module


def test_the_worked_findings_format_registers_and_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    from remediate.detect.judge import judge_root_use
    from remediate.findings import formats
    from remediate.findings.checks import check_results

    source = _examples("development.md")[0]
    _module("remediate.findings.rows", source, monkeypatch)
    monkeypatch.setitem(
        formats.FORMATS,
        "rows",
        formats.FindingsFormat("rows", "flat rows", "remediate.findings.rows", "rows"),
    )
    now = datetime.now(UTC)
    verdict = judge_root_use(None, now=now, days=7, caller_arn="arn:aws:iam::123456789012:root")
    built = formats.build("rows", check_results(verdict), region="us-east-1", now=now)
    assert {
        "account": "123456789012",
        "check": "root-user-in-use",
        "status": "FAILED",
        "region": "us-east-1",
    } in built


def test_the_worked_step_kind_registers_and_runs_in_a_playbook(
    monkeypatch: pytest.MonkeyPatch, moto: Any, cli: Any, tmp_path: Path
) -> None:
    import boto3

    from remediate.steps import kind

    monkeypatch.setattr(kind, "REGISTRY", dict(kind.registry()))
    _module("remediate.steps.alias", _examples("development.md")[1], monkeypatch)
    step = kind.REGISTRY["iam-account-alias"]
    assert set(step.fields) == {"alias"}
    assert step.permissions == ("iam:ListAccountAliases", "iam:CreateAccountAlias")

    book = tmp_path / "alias.yaml"
    book.write_text(
        "name: alias\ndescription: the account has an alias\nsteps:\n"
        "  - id: alias\n    kind: iam-account-alias\n    with: {alias: example-corp}\n"
    )
    run = ("playbook", "run", str(book), "--endpoint-url", moto.endpoint_url, "--yes")
    assert cli(*run).code == 0
    iam = boto3.client("iam", endpoint_url=moto.endpoint_url, region_name="us-east-1")
    assert iam.list_account_aliases()["AccountAliases"] == ["example-corp"]
    again = cli(*run)
    assert again.code == 0
    assert "Nothing needs changing" in again.out


def _sandbox_examples() -> list[str]:
    """Every command in README.md and docs/ that runs on the built-in sandbox, as written."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    found = set()
    for page in pages:
        for command in re.findall(
            r"remediate [a-z-]+ [^`|\n]*--sandbox[^`|\n#]*", page.read_text()
        ):
            found.add(" ".join(command.split()))
    return sorted(found)


@pytest.mark.parametrize("command", _sandbox_examples())
def test_the_sandbox_examples_of_the_docs_run(command: str, tmp_path: Path) -> None:
    """Each in a process of its own, as a reader runs it (a sandbox lives as long as its
    command). Exit 1 is detection's "root in use" (and the audit's "root credentials found"):
    the sandbox's root is in use by design. Anything else is a broken example."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "REMEDIATE_"))}
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    r = subprocess.run(
        [sys.executable, "-m", "remediate", *shlex.split(command)[1:]],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert r.returncode in (0, 1), (command, r.stderr)
    assert "error:" not in r.stderr, (command, r.stderr)


def test_the_docs_have_sandbox_examples() -> None:
    assert len(_sandbox_examples()) >= 4
