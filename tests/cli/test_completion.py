"""Shell completion: typer's --install-completion and --show-completion, and the completions a
shell then gets from `remediate` (through the run the CLI has, not click's main)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

COMPLETE_VAR = "_REMEDIATE_COMPLETE"


@pytest.fixture
def no_shell_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    """--install-completion and --show-completion take the shell's name instead of detecting
    the shell the tests run under (typer's own switch for it)."""
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")


def test_the_options_are_listed(cli: Any) -> None:
    out = cli("--help").out
    assert "--install-completion" in out
    assert "--show-completion" in out


def test_show_completion_prints_the_script(cli: Any, no_shell_detection: None) -> None:
    r = cli("--show-completion", "bash")
    assert r.code == 0, r.err
    assert f"{COMPLETE_VAR}=complete_bash" in r.out
    assert "complete -o default -F _remediate_completion remediate" in r.out


def test_install_completion_writes_the_script_where_bash_reads_it(
    cli: Any, no_shell_detection: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    r = cli("--install-completion", "bash")
    assert r.code == 0, r.err
    assert "bash completion installed" in r.out
    script = tmp_path / ".bash_completions" / "remediate.sh"
    assert f"{COMPLETE_VAR}=complete_bash" in script.read_text()
    assert f"source '{script}'" in (tmp_path / ".bashrc").read_text()


def test_a_shell_asking_gets_the_options_of_the_command(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(COMPLETE_VAR, "complete_bash")
    monkeypatch.setenv("COMP_WORDS", "remediate root-use --mfa-")
    monkeypatch.setenv("COMP_CWORD", "2")
    r = cli()
    assert r.code == 0, r.err
    assert set(r.out.split()) == {
        "--mfa-auto",
        "--mfa-codes",
        "--mfa-handoff",
        "--mfa-self-service",
    }


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completes_a_choice_with_the_installed_script(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1",
    }
    if not (Path(sys.executable).parent / "remediate").exists():
        pytest.skip("remediate is not installed next to this Python")
    script = (
        "source <(remediate --show-completion bash)\n"
        "COMP_WORDS=(remediate secrets show alice --what mfa-); COMP_CWORD=5\n"
        # As bash calls it for `remediate secrets show alice --what mfa-<TAB>`.
        "_remediate_completion remediate mfa- --what\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["mfa-qr", "mfa-secret"]
