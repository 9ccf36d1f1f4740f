"""No password, secret access key, MFA seed or MFA code in stdout, stderr, JSON, logs, the
journal or error text, in any mode but the explicit --show-secrets and `secrets show`."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pyotp
import pytest

from remediate.credentials.store import SecretStore
from support.faultproxy import FaultProxy, Faults

ACCOUNT = "123456789012"
FIX = ("--create-admin", "alice", "--access", "both", "--mfa-auto", "--yes")


def _secrets(store: SecretStore, started: float) -> list[str]:
    """Every secret the runs made: password, secret key, seed, and the codes around the runs."""
    values = [store.get(ACCOUNT, "alice", "password")]
    key = store.get(ACCOUNT, "alice", "access-key")
    if key:
        values.append(json.loads(key)["SecretAccessKey"])
    seed = store.get(ACCOUNT, "alice", "mfa-seed")
    if seed:
        values.append(seed)
        totp = pyotp.TOTP(seed)
        values += [totp.at(t) for t in range(int(started) - 90, int(time.time()) + 90, 30)]
    return [v for v in values if v]


def test_no_secret_in_any_output(
    moto: Any,
    cli: Any,
    test_keyring: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    caplog.set_level(logging.DEBUG)
    started = time.time()
    url = moto.endpoint_url
    outputs: list[str] = []

    def run(*args: str) -> Any:
        r = cli(*args)
        outputs.extend([r.out, r.err])
        return r

    run("root-use", "--endpoint-url", url, *FIX, "--dry-run")
    # A run that dies right after CreateAccessKey (the sixth write, after CreateGroup,
    # AttachGroupPolicy, CreateUser, AttachUserPolicy, CreateLoginProfile): its error text is
    # output too.
    with FaultProxy(url, Faults(die_after_writes=6)) as proxy:
        assert run("--debug", "root-use", "--endpoint-url", proxy.endpoint_url, *FIX).code == 3
    assert run("-v", "root-use", "--endpoint-url", url, *FIX, "--output", "json").code == 0
    assert run("--debug", "root-use", "--endpoint-url", url, *FIX).code == 0
    run("secrets", "list")
    run("secrets", "list", "--output", "json")
    run("journal", "--output", "json")

    secrets = _secrets(SecretStore(test_keyring), started)
    assert len(secrets) >= 4  # password, seed, and codes at least
    journal = (tmp_path / "remediate" / "journal.jsonl").read_text()
    logs = "\n".join(r.getMessage() for r in caplog.records)
    haystacks = {"output": "\n".join(outputs), "journal": journal, "logs": logs}
    for where, text in haystacks.items():
        for secret in secrets:
            assert secret not in text, f"a secret reached the {where}"


def test_show_secrets_prints_each_once(moto: Any, cli: Any, test_keyring: Any) -> None:
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, *FIX, "--show-secrets")
    assert r.code == 0
    store = SecretStore(test_keyring)
    password = store.get(ACCOUNT, "alice", "password")
    assert password
    assert (r.out + r.err).count(password) == 1
    shown = cli("secrets", "show", "alice", "--what", "password")
    assert shown.out.strip() == password
