"""Real IAM at its worst, through the fault proxy: answers lost after the write was applied,
stale "no such entity" reads, new entities invisible for a while, 409 conflicts. In every case
the whole fix completes in one run with no duplicate, no key or device whose secret the keyring
does not hold, and the keyring never loses the secret that is actually set."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from faultproxy import FaultProxy, Faults, Rule
from remediate.sandbox import SANDBOX_ACCOUNT_ID as ACCOUNT
from remediate.secrets import SecretStore

FIX = ("--create-admin", "alice", "--access", "both", "--mfa-auto", "--yes", "--tag", "Team=sec")
CREATES = ["CreateAccessKey", "CreateVirtualMFADevice", "EnableMFADevice", "CreateLoginProfile"]
READS = [
    "GetGroup",
    "ListAttachedGroupPolicies",
    "GetUser",
    "ListGroupsForUser",
    "GetLoginProfile",
    "ListAccessKeys",
    "ListMFADevices",
]


@pytest.fixture(autouse=True)
def faithful_login_profiles(monkeypatch: pytest.MonkeyPatch) -> None:
    """IAM dates a login profile from its own creation; moto answers the user's creation date.
    Make moto faithful here, where a step tells its own login profile from an older one."""
    from moto.core.utils import utcnow
    from moto.iam.models import IAMBackend
    from moto.iam.responses import IamResponse

    create = IAMBackend.create_login_profile

    def create_login_profile(self: Any, user_name: str, password: str) -> Any:
        user = create(self, user_name, password)
        user.login_profile_created = utcnow()
        return user

    def answer(self: Any, method: str) -> Any:
        result = getattr(IamResponse, f"_original_{method}")(self)
        user = self.backend.get_user(self._get_param("UserName"))
        created = getattr(user, "login_profile_created", None)
        if created is not None:
            result.result["LoginProfile"]["CreateDate"] = created
        return result

    monkeypatch.setattr(IAMBackend, "create_login_profile", create_login_profile)
    for method in ("create_login_profile", "get_login_profile"):
        monkeypatch.setattr(
            IamResponse, f"_original_{method}", getattr(IamResponse, method), raising=False
        )
        monkeypatch.setattr(
            IamResponse, method, lambda self, m=method: answer(self, m), raising=True
        )


@pytest.fixture
def short_read_timeout(monkeypatch: pytest.MonkeyPatch) -> float:
    """A client read timeout short enough for a held answer to outlast it in a test."""
    import remediate.aws.session

    monkeypatch.setattr(remediate.aws.session, "READ_TIMEOUT", 0.5)
    return 0.5


@pytest.fixture
def proxied(moto: Any) -> Iterator[Any]:
    """Start a fault proxy in front of moto with the given faults; yields a starter."""
    started: list[FaultProxy] = []

    def start(faults: Faults) -> FaultProxy:
        proxy = FaultProxy(moto.endpoint_url, faults).__enter__()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.__exit__(None, None, None)


def fix(cli: Any, endpoint: str, *extra: str) -> Any:
    return cli("root-use", "--endpoint-url", endpoint, *FIX, "-o", "json", *extra)


def converged(moto: Any, keyring: Any) -> dict[str, Any]:
    """The account holds exactly what one clean run leaves, and the keyring holds the secrets
    that are in effect there (and nothing pending). Returns the secrets."""
    from moto.iam.models import iam_backends

    iam = moto.client("iam")
    store = SecretStore(keyring)
    assert [g["GroupName"] for g in iam.list_groups()["Groups"]] == ["Administrators"]
    members = iam.get_group(GroupName="Administrators")["Users"]
    assert [u["UserName"] for u in members] == ["alice"]
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["alice"]
    tags = iam.list_user_tags(UserName="alice")["Tags"]
    assert sorted(tags, key=lambda t: t["Key"]) == [
        {"Key": "Team", "Value": "sec"},
        {"Key": "remediate:managed-by", "Value": "remediate"},
    ]
    attached = iam.list_attached_user_policies(UserName="alice")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["IAMUserChangePassword"]

    keys = iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]
    assert len(keys) == 1, keys
    kept_key = json.loads(store.get(ACCOUNT, "alice", "access-key") or "{}")
    assert kept_key.get("AccessKeyId") == keys[0]["AccessKeyId"]

    user = iam_backends[ACCOUNT]["global"].users["alice"]
    assert user.password is not None
    assert store.get(ACCOUNT, "alice", "password") == user.password
    assert store.get(ACCOUNT, "alice", "pending-password") is None

    devices = iam.list_virtual_mfa_devices()["VirtualMFADevices"]
    assert len(devices) == 1, devices
    assert devices[0]["User"]["UserName"] == "alice"
    serial = devices[0]["SerialNumber"]
    assert [d["SerialNumber"] for d in iam.list_mfa_devices(UserName="alice")["MFADevices"]] == [
        serial
    ]
    backend_device = iam_backends[ACCOUNT]["global"].virtual_mfa_devices[serial]
    seed = backend_device.base32_string_seed
    seed = seed.decode("ascii") if isinstance(seed, bytes) else str(seed)
    assert store.get(ACCOUNT, "alice", "mfa-seed") == seed
    return {"password": user.password, "key": kept_key, "seed": seed}


# --- an answer lost after the create was applied ------------------------------------------------


@pytest.mark.parametrize("action", ["lose", "timeout"])
@pytest.mark.parametrize("operation", CREATES)
def test_a_lost_answer_to_a_create_converges_in_one_run(
    moto: Any,
    cli: Any,
    proxied: Any,
    test_keyring: Any,
    short_read_timeout: float,
    operation: str,
    action: Any,
) -> None:
    rule = Rule(operation, action)
    proxy = proxied(Faults(rules=[rule], hold_seconds=short_read_timeout * 3))

    r = fix(cli, proxy.endpoint_url)

    assert rule.hits == 1, "the fault was never injected"
    assert r.code == 0, r.err
    converged(moto, test_keyring)
    doc = r.json()
    assert doc["mfa"]["enabled"] is True
    # Each create reached AWS at most twice: once lost, once known.
    assert proxy.faults.operations.count(operation) <= 2


def test_a_lost_access_key_is_deleted_and_said(
    moto: Any, cli: Any, proxied: Any, test_keyring: Any
) -> None:
    proxy = proxied(Faults(rules=[Rule("CreateAccessKey", "lose")]))

    r = fix(cli, proxy.endpoint_url)

    assert r.code == 0, r.err
    assert proxy.faults.operations.count("CreateAccessKey") == 2
    assert proxy.faults.operations.count("DeleteAccessKey") == 1
    assert "AWS created it but its answer, with the secret, was lost" in r.err
    converged(moto, test_keyring)


def test_a_lost_enable_is_success_when_the_device_is_assigned(
    moto: Any, cli: Any, proxied: Any, test_keyring: Any
) -> None:
    proxy = proxied(Faults(rules=[Rule("EnableMFADevice", "lose")]))

    r = fix(cli, proxy.endpoint_url)

    assert r.code == 0, r.err
    assert proxy.faults.operations.count("EnableMFADevice") == 1  # looked, did not resend
    steps = {s["id"]: s for s in r.json()["remediation"]["steps"]}
    assert steps["mfa"]["applied"] is True
    converged(moto, test_keyring)


# --- stale reads ------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", READS)
def test_a_stale_read_on_a_rerun_changes_nothing(
    moto: Any, cli: Any, proxied: Any, test_keyring: Any, operation: str
) -> None:
    assert fix(cli, moto.endpoint_url).code == 0
    before = converged(moto, test_keyring)
    rule = Rule(operation, "stale")
    proxy = proxied(Faults(rules=[rule]))

    r = fix(cli, proxy.endpoint_url)

    assert rule.hits == 1
    assert r.code == 0, r.err
    # Reads naming what the plan just saw wait out the lag; a create that finds its entity
    # there changes nothing. The secrets in effect are the ones the keyring still holds.
    assert converged(moto, test_keyring) == before
    assert set(proxy.faults.operations) <= {
        "CreateGroup",
        "AttachGroupPolicy",
        "CreateUser",
        "TagUser",
        "AddUserToGroup",
        "AttachUserPolicy",
        "CreateLoginProfile",
    }


def test_a_stale_login_profile_read_keeps_the_password_in_effect(
    moto: Any, cli: Any, proxied: Any, test_keyring: Any
) -> None:
    assert fix(cli, moto.endpoint_url).code == 0
    password = converged(moto, test_keyring)["password"]
    proxy = proxied(Faults(rules=[Rule("GetLoginProfile", "stale")]))

    r = fix(cli, proxy.endpoint_url)

    assert r.code == 0, r.err
    assert proxy.faults.operations.count("CreateLoginProfile") == 1  # refused: it exists
    steps = {s["id"]: s for s in r.json()["remediation"]["steps"]}
    assert steps["console-access"]["change"] == "none"
    assert steps["console-access"]["applied"] is False
    assert "already had a login profile" in " ".join(steps["console-access"]["details"])
    assert SecretStore(test_keyring).get(ACCOUNT, "alice", "password") == password
    assert converged(moto, test_keyring)["password"] == password


# --- eventual consistency and conflicts -----------------------------------------------------------


def test_new_entities_invisible_for_a_while_still_complete_in_one_run(
    moto: Any, cli: Any, proxied: Any, test_keyring: Any, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = proxied(Faults(invisible_for=1.0))

    r = fix(cli, proxy.endpoint_url)

    assert r.code == 0, r.err
    assert proxy.faults.invisible_hits > 0
    converged(moto, test_keyring)
    assert any("IAM is eventually consistent" in m for m in caplog.messages)


@pytest.mark.parametrize(
    "operation",
    ["AttachGroupPolicy", "AddUserToGroup", "TagUser", "CreateAccessKey", "EnableMFADevice"],
)
def test_conflicts_are_tried_again(
    moto: Any, cli: Any, proxied: Any, test_keyring: Any, operation: str
) -> None:
    if operation == "TagUser":
        # A user remediate created (its tag says so) that lacks the Team tag.
        managed = [{"Key": "remediate:managed-by", "Value": "remediate"}]
        moto.client("iam").create_user(UserName="alice", Tags=managed)
    rule = Rule(operation, "conflict", times=2)
    proxy = proxied(Faults(rules=[rule]))

    r = fix(cli, proxy.endpoint_url)

    assert rule.hits == 2
    assert r.code == 0, r.err
    converged(moto, test_keyring)


def test_a_clean_run_makes_no_reconciliation_read(moto: Any, cli: Any, proxied: Any) -> None:
    proxy = proxied(Faults())
    assert fix(cli, proxy.endpoint_url).code == 0
    # Every write once; no read after the plan beyond what the clean run needs.
    assert sorted(proxy.faults.operations) == sorted(
        [
            "CreateGroup",
            "AttachGroupPolicy",
            "CreateUser",
            "AttachUserPolicy",
            "CreateLoginProfile",
            "CreateAccessKey",
            "CreateVirtualMFADevice",
            "EnableMFADevice",
            "AddUserToGroup",
        ]
    )
    assert proxy.faults.requests == 3 + 4 + 9  # detection, the plan's reads, the writes
