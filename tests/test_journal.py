"""The audit trail: one JSON line per applied change, mode 0600, never a secret."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from remediate.secrets import SecretStore


@pytest.fixture
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    return tmp_path / "remediate" / "journal.jsonl"


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_applied_changes_are_journaled_once(
    moto: Any, cli: Any, state_home: Path, test_keyring: Any
) -> None:
    args = ("root-use", "--endpoint-url", moto.endpoint_url, "--create-admin", "alice")
    dry = cli(*args, "--access", "both", "--mfa-auto", "--dry-run")
    assert dry.code == 0
    assert not state_home.exists(), "a dry run wrote to the journal"

    first = cli(*args, "--access", "both", "--mfa-auto", "--yes")
    assert first.code == 0, first.err
    entries = _lines(state_home)
    assert [e["step"] for e in entries] == [
        "admin-group",
        "admin-policy",
        "admin-user",
        "console-access",
        "programmatic-access",
        "mfa",
        "membership",
    ]
    for e in entries:
        assert e["account"] == "123456789012"
        assert e["caller"].startswith("arn:aws:")
        assert e["playbook"] == "root-use"
        assert e["change"] == "create"
        assert set(e) == {
            "time",
            "account",
            "caller",
            "playbook",
            "step",
            "kind",
            "resource",
            "change",
        }
    assert stat.S_IMODE(state_home.stat().st_mode) == 0o600

    text = state_home.read_text()
    store = SecretStore(test_keyring)
    for kind in ("password", "access-key", "mfa-seed"):
        value = store.get("123456789012", "alice", kind)
        assert value
        secret = json.loads(value)["SecretAccessKey"] if kind == "access-key" else value
        assert secret not in text

    again = cli(*args, "--access", "both", "--mfa-auto", "--yes")
    assert again.code == 0
    assert len(_lines(state_home)) == len(entries), "a rerun journaled a change it did not make"

    shown = cli("journal", "--output", "json")
    assert shown.code == 0
    assert [e["step"] for e in shown.json()["entries"]] == [e["step"] for e in entries]
    text_view = cli("journal", "--limit", "2")
    assert text_view.out.count("root-use/") == 2


def test_empty_and_damaged_journal(cli: Any, state_home: Path) -> None:
    r = cli("journal")
    assert r.code == 0
    assert "No changes recorded" in r.out
    state_home.parent.mkdir(parents=True)
    state_home.write_text('{"step": "x"}\nnot json\n')
    bad = cli("journal")
    assert bad.code == 2
    assert "line 2" in bad.err
