"""Faults: a run stopped right after any of its writes converges on rerun; 30% of requests
throttled or dropped still completes with no duplicates; two concurrent runs end consistent."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from support.faultproxy import FaultProxy, Faults
from support.iamstate import snapshot

FIX = ("--create-admin", "alice", "--access", "both", "--mfa-auto", "--yes", "--tag", "Team=sec")


def account_state(moto: Any) -> dict[str, Any]:
    """Everything the playbook manages, comparable across runs (key ids differ: counted)."""
    iam = moto.client("iam")
    devices = iam.list_virtual_mfa_devices()["VirtualMFADevices"]
    return {
        **snapshot(iam, key_ids=False),
        "virtual_mfa_devices": sorted(d["SerialNumber"] for d in devices),
    }


@pytest.fixture(scope="module")
def reference(moto_server: Any) -> dict[str, Any]:
    """The state after one uninterrupted run, and how many writes it made."""
    import keyring

    from remediate.cli import run
    from remediate.credentials.backends import memory_keyring

    # Module-scoped: made before the per-test keyring fixture, so it sets one of its own.
    keyring.set_keyring(memory_keyring())
    moto_server.reset()
    moto_server.set_root(None)
    with FaultProxy(moto_server.endpoint_url, Faults()) as proxy:
        assert run(["root-use", "--endpoint-url", proxy.endpoint_url, *FIX]) == 0
        writes = proxy.faults.writes
    state = account_state(moto_server)
    moto_server.reset()
    return {"state": state, "writes": writes}


def test_reference_run_makes_nine_writes(reference: dict[str, Any]) -> None:
    # CreateGroup, AttachGroupPolicy, CreateUser, AttachUserPolicy (IAMUserChangePassword),
    # CreateLoginProfile, CreateAccessKey, CreateVirtualMFADevice, EnableMFADevice, and last
    # AddUserToGroup
    assert reference["writes"] == 9
    alice = reference["state"]["users"]["alice"]
    assert alice["access_keys"] == 1
    assert alice["login_profile"] is True
    assert alice["mfa"] == 1


@pytest.mark.parametrize("k", range(1, 10))
def test_run_stopped_after_kth_write_converges(
    k: int, moto: Any, cli: Any, reference: dict[str, Any]
) -> None:
    with FaultProxy(moto.endpoint_url, Faults(die_after_writes=k)) as proxy:
        broken = cli("root-use", "--endpoint-url", proxy.endpoint_url, *FIX)
        died_after = proxy.faults.operations[-1]
    assert broken.code == 3, broken.err
    assert "failed" in broken.err, broken.err
    assert "step '" in broken.err
    assert "rerun" in broken.err
    assert "Traceback" not in broken.err
    rerun = cli("root-use", "--endpoint-url", moto.endpoint_url, *FIX)
    assert rerun.code == 0, f"after {died_after}: {rerun.err}"
    assert account_state(moto) == reference["state"], f"diverged after {died_after}"
    third = cli("root-use", "--endpoint-url", moto.endpoint_url, *FIX)
    assert "Nothing needs changing" in third.out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_thirty_percent_faults_still_complete(
    seed: int, moto: Any, cli: Any, reference: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "12")
    faults = Faults(fault_rate=0.3, seed=seed)
    with FaultProxy(moto.endpoint_url, faults) as proxy:
        r = cli("root-use", "--endpoint-url", proxy.endpoint_url, *FIX)
    assert r.code == 0, r.err
    assert faults.injected > 0
    assert account_state(moto) == reference["state"]


def test_two_concurrent_runs_end_consistent(moto: Any, reference: dict[str, Any]) -> None:
    from remediate.cli import run

    codes: list[int] = []
    barrier = threading.Barrier(2)

    def one() -> None:
        barrier.wait()
        codes.append(run(["root-use", "--endpoint-url", moto.endpoint_url, *FIX, "-o", "json"]))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    # One run applies; the other waits for the account lock, then finds nothing to change.
    assert codes == [0, 0]
    assert account_state(moto) == reference["state"]
