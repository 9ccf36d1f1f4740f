"""Real IAM at its worst, through the fault proxy: answers lost after the write was applied,
stale "no such entity" reads, new entities invisible for a while, 409 conflicts. In every case
the whole fix completes in one run with no duplicate, no key or device whose secret the keyring
does not hold, and the keyring never loses the secret that is actually set."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from remediate.credentials.store import SecretStore
from remediate.playbook.journal import read_journal
from remediate.sandbox.server import SANDBOX_ACCOUNT_ID as ACCOUNT
from support.faultproxy import FaultProxy, Faults, Rule

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


@pytest.mark.parametrize("action", ["lose", "timeout"])
def test_a_lost_detach_of_the_self_service_policy_converges(
    moto: Any, cli: Any, proxied: Any, short_read_timeout: float, action: Any
) -> None:
    """The rerun that finds alice's own device detaches the self-service policy, then adds her
    to the group: a detach whose answer was lost is resent, and its "no such entity" (the first
    one worked) is the end state, not an error."""
    import time

    import pyotp

    from remediate.credentials import totp as mfa

    self_service = ("--create-admin", "alice", "--mfa-self-service", "--yes", "-o", "json")
    assert cli("root-use", "--endpoint-url", moto.endpoint_url, *self_service).code == 0
    iam = moto.client("iam")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice-phone")["VirtualMFADevice"]
    totp, step = pyotp.TOTP(device["Base32StringSeed"].decode()), mfa.totp_step(time.time())
    iam.enable_mfa_device(
        UserName="alice",
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1=totp.at(step * 30),
        AuthenticationCode2=totp.at((step + 1) * 30),
    )
    rule = Rule("DetachUserPolicy", action)
    proxy = proxied(Faults(rules=[rule], hold_seconds=short_read_timeout * 3))

    r = cli("root-use", "--endpoint-url", proxy.endpoint_url, *self_service)

    assert rule.hits == 1, "the fault was never injected"
    assert r.code == 0, r.err
    assert proxy.faults.operations.count("DetachUserPolicy") <= 2
    attached = iam.list_attached_user_policies(UserName="alice")["AttachedPolicies"]
    assert "RemediateSelfServiceMFA" not in {p["PolicyName"] for p in attached}
    members = iam.get_group(GroupName="Administrators")["Users"]
    assert [u["UserName"] for u in members] == ["alice"]


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
    journaled = len(read_journal().entries)

    r = fix(cli, proxy.endpoint_url)

    assert r.code == 0, r.err
    assert proxy.faults.operations.count("CreateLoginProfile") == 1  # refused: it exists
    # Every write call is journaled with its outcome, a refused one too.
    creates = [
        e["outcome"]
        for e in read_journal().entries[journaled:]
        if e["action"] == "iam:CreateLoginProfile"
    ]
    assert creates == ["failed (EntityAlreadyExists)"]
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
    ("operation", "action"),
    [
        ("AttachGroupPolicy", "conflict"),
        ("AddUserToGroup", "conflict"),
        ("TagUser", "conflict"),
        ("CreateAccessKey", "conflict"),
        ("EnableMFADevice", "conflict"),
        # The other 409: the consistency wait (a retried call) and call_once (a create) alike.
        ("AddUserToGroup", "unmodifiable"),
        ("CreateLoginProfile", "unmodifiable"),
    ],
)
def test_conflicts_are_tried_again(
    moto: Any, cli: Any, proxied: Any, test_keyring: Any, operation: str, action: Any
) -> None:
    if operation == "TagUser":
        # A user remediate created (its tag says so) that lacks the Team tag.
        managed = [{"Key": "remediate:managed-by", "Value": "remediate"}]
        moto.client("iam").create_user(UserName="alice", Tags=managed)
    rule = Rule(operation, action, times=2)
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
    # Detection (caller, report twice, and the account summary: root has a password and no
    # MFA here), the plan's reads, the writes.
    assert proxy.faults.requests == 4 + 4 + 9


@pytest.mark.parametrize("action", ["conflict", "unmodifiable"])
def test_conflicts_on_root_credentials_and_organization_features_are_tried_again(
    moto: Any, cli: Any, proxied: Any, action: Any
) -> None:
    from remediate.sandbox import root as sandbox_root
    from support.orgs import seed_sandbox_organization

    ids = seed_sandbox_organization(moto, central_root_access=("RootCredentialsManagement",))
    rules = [Rule("EnableOrganizationsRootSessions", action), Rule("DeleteAccessKey", action)]
    proxy = proxied(Faults(rules=rules))

    enabled = cli("root-credentials", "centralize", "--endpoint-url", proxy.endpoint_url, "--yes")
    deleted = cli(
        "root-credentials", "delete", "--accounts", ids["dev"], "--yes",
        "--endpoint-url", proxy.endpoint_url,
    )  # fmt: skip

    assert [r.hits for r in rules] == [1, 1]
    assert enabled.code == 0, enabled.err
    assert deleted.code == 0, deleted.err
    features = moto.client("iam").list_organizations_features()["EnabledFeatures"]
    assert "RootSessions" in features
    creds = sandbox_root.root_credentials(ids["dev"])
    assert creds is not None
    assert creds.access_keys == []


# --- the consistency helpers, with a clock of their own -----------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def _not_found(name: str) -> Any:
    from remediate.core.errors import AwsError

    return AwsError(
        f"iam:AddUserToGroup failed: NoSuchEntity: The user with name {name} cannot be found.",
        code="NoSuchEntity",
    )


def test_consistent_waits_out_no_such_entity_about_a_named_entity() -> None:
    from remediate.aws.calls import consistent

    clock, answers = FakeClock(), [_not_found("alice"), _not_found("alice"), {"ok": 1}]

    def attempt() -> Any:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert consistent("user alice", attempt, names=("alice",), sleep=clock.sleep, clock=clock)
    assert clock.slept == [0.25, 0.5]


def test_consistent_does_not_wait_for_another_entity() -> None:
    from remediate.aws.calls import consistent
    from remediate.core.errors import AwsError

    clock = FakeClock()

    def attempt() -> Any:
        raise _not_found("bob")  # a missing policy, a user this run never made...

    with pytest.raises(AwsError):
        consistent("user alice", attempt, names=("alice",), sleep=clock.sleep, clock=clock)
    assert clock.slept == []


def test_consistent_gives_up_after_its_timeout() -> None:
    from remediate.aws.calls import consistent
    from remediate.core.errors import AwsError

    clock = FakeClock()

    def attempt() -> Any:
        raise AwsError("409", code="ConcurrentModification")

    with pytest.raises(AwsError, match="409"):
        consistent("x", attempt, timeout=20, sleep=clock.sleep, clock=clock)
    assert sum(clock.slept) <= 20
    assert clock.slept[:4] == [0.25, 0.5, 1.0, 2.0]
    assert max(clock.slept) == 8.0


def test_eventually_returns_none_when_iam_never_shows_it() -> None:
    from remediate.aws.calls import eventually

    clock = FakeClock()
    assert eventually("key", lambda: None, timeout=10, sleep=clock.sleep, clock=clock) is None
    assert 0 < sum(clock.slept) <= 10
    shown = iter([None, None, "there"])
    assert eventually("key", lambda: next(shown), sleep=clock.sleep, clock=clock) == "there"


def test_eventually_says_its_first_wait_on_stderr_and_each_later_one_with_v(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from remediate.aws.calls import eventually

    caplog.set_level(logging.INFO)
    clock, shown = FakeClock(), iter([None, None, None, "there"])
    assert eventually("key", lambda: next(shown), sleep=clock.sleep, clock=clock) == "there"
    said = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert [level for level, _ in said] == [logging.WARNING, logging.INFO, logging.INFO]
    assert "waiting for IAM to show key (IAM is eventually consistent)" in said[0][1]


# --- partitions, from AWS ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "partition", "iam_endpoint"),
    [
        ("us-east-1", "aws", "https://iam.amazonaws.com"),
        ("eu-west-1", "aws", "https://iam.amazonaws.com"),
        ("us-gov-west-1", "aws-us-gov", "https://iam.us-gov.amazonaws.com"),
        ("cn-north-1", "aws-cn", "https://iam.cn-north-1.amazonaws.com.cn"),
        ("eusc-de-east-1", "aws-eusc", "https://iam.eusc-de-east-1.amazonaws.eu"),
        ("us-iso-east-1", "aws-iso", "https://iam.us-iso-east-1.c2s.ic.gov"),
        ("us-isob-east-1", "aws-iso-b", "https://iam.us-isob-east-1.sc2s.sgov.gov"),
        ("eu-isoe-west-1", "aws-iso-e", "https://iam.eu-isoe-west-1.cloud.adc-e.uk"),
    ],
)
def test_partition_and_iam_endpoint_come_from_botocore(
    region: str, partition: str, iam_endpoint: str
) -> None:
    from remediate.aws.loader import partition_of_region
    from remediate.aws.options import AwsOptions
    from remediate.aws.session import Aws

    assert partition_of_region(region) == partition
    aws = Aws.from_credentials(
        AwsOptions(region=region), {"AccessKeyId": "A", "SecretAccessKey": "s"}
    )
    assert aws.partition == partition
    assert aws.iam.meta.endpoint_url == iam_endpoint  # building a client sends nothing


@pytest.mark.parametrize(
    ("arn", "policy_arn", "sign_in"),
    [
        (
            "arn:aws:iam::111122223333:user/ops",
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "https://111122223333.signin.aws.amazon.com/console",
        ),
        (
            "arn:aws-us-gov:iam::111122223333:user/ops",
            "arn:aws-us-gov:iam::aws:policy/AdministratorAccess",
            "https://111122223333.signin.amazonaws-us-gov.com/console",
        ),
        (
            "arn:aws-eusc:sts::111122223333:assumed-role/Admin/ops",
            "arn:aws-eusc:iam::aws:policy/AdministratorAccess",
            None,  # no documented per-account sign-in page: none is made up
        ),
        (
            "arn:aws-iso-b:iam::111122223333:user/ops",
            "arn:aws-iso-b:iam::aws:policy/AdministratorAccess",
            None,
        ),
    ],
)
def test_the_callers_partition_names_policies_and_sign_in(
    arn: str, policy_arn: str, sign_in: str | None
) -> None:
    from remediate.aws.identity import Identity
    from remediate.steps.iam import console_sign_in_url, managed_policy_arn

    identity = Identity("111122223333", arn)
    assert managed_policy_arn("AdministratorAccess", identity.partition) == policy_arn
    assert console_sign_in_url("111122223333", identity.partition) == sign_in


def test_the_run_takes_its_partition_from_the_callers_arn(
    moto: Any, cli: Any, proxied: Any
) -> None:
    # The caller's ARN says aws-cn, the region says aws: the ARN, which is AWS's word, wins.
    proxy = proxied(Faults(rewrite={"GetCallerIdentity": (b"<Arn>arn:aws:", b"<Arn>arn:aws-cn:")}))

    r = fix(cli, proxy.endpoint_url, "--dry-run")

    assert r.code == 0, r.err
    assert proxy.faults.writes == 0
    steps = {s["id"]: s for s in r.json()["remediation"]["steps"]}
    assert steps["admin-policy"]["resource"] == "arn:aws-cn:iam::aws:policy/AdministratorAccess"


# --- names and tag keys as IAM compares them ------------------------------------------------------


def test_a_group_named_in_another_case_is_no_perpetual_change(moto: Any, cli: Any) -> None:
    iam = moto.client("iam")
    iam.create_group(GroupName="administrators")
    iam.attach_group_policy(
        GroupName="administrators", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    )
    iam.create_user(
        UserName="alice",
        Tags=[
            {"Key": "team", "Value": "sec"},
            {"Key": "remediate:managed-by", "Value": "remediate"},  # made by an earlier run
        ],
    )
    iam.add_user_to_group(UserName="alice", GroupName="administrators")
    r = cli(
        "root-use",
        "--endpoint-url",
        moto.endpoint_url,
        "--create-admin",
        "alice",
        "--group",
        "Administrators",
        "--tag",
        "Team=sec",
        "--no-mfa",
        "--access",
        "programmatic",
        "--yes",
        "-o",
        "json",
    )
    assert r.code == 0, r.err
    changes = {s["id"]: s["change"] for s in r.json()["remediation"]["steps"]}
    assert changes["membership"] == "none"
    assert changes["admin-user"] == "none"  # tag key "team" is "Team" to IAM


def test_tag_keys_that_differ_only_in_case_are_refused() -> None:
    from remediate.core import validate
    from remediate.core.errors import InputError

    with pytest.raises(InputError, match="differ only in case"):
        validate.tag_options(["Team=a", "team=b"])
    assert validate.tag_options(["Team=a", "Team=b"]) == {"Team": "b"}  # a later value wins


def test_tag_changes_compare_keys_without_case() -> None:
    from remediate.steps.iam import tag_changes

    assert tag_changes({"team": "sec"}, {"Team": "sec"}) == {}
    assert tag_changes({"team": "sec"}, {"Team": "ops"}) == {"Team": "ops"}


def test_device_names_compare_without_case() -> None:
    from remediate.steps.mfa_device import named_after

    assert named_after("arn:aws:iam::123456789012:mfa/Alice", "alice")
    assert named_after("arn:aws:iam::123456789012:mfa/ALICE", "Alice")


# --- Organizations: State, not the retired Status -------------------------------------------------


@pytest.mark.parametrize(
    ("account", "active"),
    [
        ({"Id": "1", "State": "ACTIVE", "Status": "ACTIVE"}, True),
        ({"Id": "1", "State": "SUSPENDED", "Status": "ACTIVE"}, False),
        ({"Id": "1", "State": "PENDING_CLOSURE"}, False),
        ({"Id": "1", "State": "CLOSED"}, False),
        ({"Id": "1", "State": "PENDING_ACTIVATION"}, False),
        ({"Id": "1", "Status": "ACTIVE"}, True),  # an older model: Status stands in
        ({"Id": "1", "Status": "SUSPENDED"}, False),
    ],
)
def test_accounts_are_judged_active_by_state(account: dict[str, str], active: bool) -> None:
    from remediate.org.accounts import is_active

    assert is_active(account) is active


def test_an_account_with_neither_state_nor_status_is_an_error(
    moto: Any, cli: Any, org: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.organizations.models import FakeAccount

    describe = FakeAccount.describe

    def without_state(self: Any) -> Any:
        answer = dict(describe(self))
        answer.pop("State", None)
        answer.pop("Status", None)
        return answer

    monkeypatch.setattr(FakeAccount, "describe", without_state)
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, "--all-accounts")
    assert r.code == 3, r.err
    assert "with neither State nor Status" in r.err


# --- a lost create, then a read that lags ---------------------------------------------------------


def test_a_lost_login_profile_create_then_a_stale_read_keeps_the_password_in_effect(
    moto: Any, cli: Any, proxied: Any, test_keyring: Any
) -> None:
    # The create is applied but its answer lost; the resend finds it there; the read that
    # tells whose it is lags once. A "no such entity" then is no proof it is someone else's.
    lose, lag = Rule("CreateLoginProfile", "lose"), Rule("GetLoginProfile", "stale")
    proxy = proxied(Faults(rules=[lose, lag]))

    r = fix(cli, proxy.endpoint_url)

    assert (lose.hits, lag.hits) == (1, 1), "the faults were never injected"
    assert r.code == 0, r.err
    assert "did not create" not in r.err
    secrets = converged(moto, test_keyring)  # the keyring holds the password in effect
    assert SecretStore(test_keyring).get(ACCOUNT, "alice", "password") == secrets["password"]


def test_a_login_profile_iam_never_shows_after_a_lost_create_stays_pending(
    moto: Any, cli: Any, proxied: Any, test_keyring: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whose the login profile is cannot be told: the password sent stays pending, and the
    # rerun, which sees the profile, takes it as the password in effect.
    from moto.iam.models import iam_backends

    import remediate.aws.calls
    import remediate.steps.login_profile

    eventually = remediate.aws.calls.eventually
    monkeypatch.setattr(
        remediate.steps.login_profile,
        "eventually",
        lambda what, check: eventually(what, check, timeout=1),
    )
    lose, lag = Rule("CreateLoginProfile", "lose"), Rule("GetLoginProfile", "stale", times=99)
    proxy = proxied(Faults(rules=[lose, lag]))

    r = fix(cli, proxy.endpoint_url)

    assert r.code == 3, r.err
    assert "does not show it" in r.err
    in_effect = iam_backends[ACCOUNT]["global"].get_user("alice").password
    pending = SecretStore(test_keyring).get(ACCOUNT, "alice", "pending-password")
    assert pending is not None
    assert json.loads(pending)["password"] == in_effect
    assert fix(cli, moto.endpoint_url).code == 0
    assert converged(moto, test_keyring)["password"] == in_effect


def test_a_lost_device_create_while_the_device_is_invisible_converges(
    moto: Any, cli: Any, proxied: Any, test_keyring: Any
) -> None:
    # The device just made is invisible: deleting it answers "no such entity", yet creating it
    # again answers "already exists". That is the lost device: deleted (waiting it out), made again.
    lose = Rule("CreateVirtualMFADevice", "lose")
    proxy = proxied(Faults(rules=[lose], invisible_for=1.0))

    r = fix(cli, proxy.endpoint_url)

    assert lose.hits == 1
    assert r.code == 0, r.err
    ops = proxy.faults.operations
    assert ops.count("CreateVirtualMFADevice") == 3  # lost, refused (it exists), made
    assert "AWS created it but its answer, with the seed, was lost" in r.err
    converged(moto, test_keyring)


@pytest.mark.parametrize("invisible_for", [0.0, 1.0])
def test_a_device_create_lost_every_time_leaves_no_device(
    moto: Any, cli: Any, proxied: Any, test_keyring: Any, invisible_for: float
) -> None:
    # The last lost request's device is deleted too (waited for while IAM does not show it),
    # so the message that says so is true: no device whose seed nobody holds is left.
    lose = Rule("CreateVirtualMFADevice", "lose", times=3)
    proxy = proxied(Faults(rules=[lose], invisible_for=invisible_for))

    r = fix(cli, proxy.endpoint_url)

    assert lose.hits == 3
    assert r.code == 3, r.err
    assert "lost the answer to CreateVirtualMFADevice alice 3 times" in r.err
    assert "mfa/alice, made by a lost request, was deleted" in " ".join(r.err.split())
    assert moto.client("iam").list_virtual_mfa_devices()["VirtualMFADevices"] == []


def test_a_failed_delete_after_a_lost_create_names_the_device_left(
    moto: Any, cli: Any, proxied: Any, test_keyring: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.iam.exceptions import DeleteConflictException
    from moto.iam.models import IAMBackend

    def refused(self: Any, serial_number: str) -> None:
        raise DeleteConflictException("refused")

    monkeypatch.setattr(IAMBackend, "delete_virtual_mfa_device", refused)
    lose = Rule("CreateVirtualMFADevice", "lose")
    proxy = proxied(Faults(rules=[lose]))

    r = fix(cli, proxy.endpoint_url)

    assert r.code == 3, r.err
    serial = f"arn:aws:iam::{ACCOUNT}:mfa/alice"
    assert f"device {serial} may remain" in " ".join(r.err.split())
    assert [
        d["SerialNumber"]
        for d in moto.client("iam").list_virtual_mfa_devices()["VirtualMFADevices"]
    ] == [serial]


def test_mfa_auto_computes_fresh_codes_for_every_send(
    moto: Any, cli: Any, proxied: Any, test_keyring: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # TOTP codes expire, and IAM refuses a code it has seen: a resend after a 409 (call_once)
    # or a stale "no such entity" (the consistency wait) carries codes computed for it.
    import remediate.credentials.totp

    computed: list[float] = []
    auto_codes = remediate.credentials.totp.auto_codes

    def counted(seed: str, *, now: float) -> tuple[str, str]:
        computed.append(now)
        return auto_codes(seed, now=now)

    monkeypatch.setattr(remediate.credentials.totp, "auto_codes", counted)
    conflict = Rule("EnableMFADevice", "conflict", times=2)
    stale = Rule("EnableMFADevice", "stale")
    proxy = proxied(Faults(rules=[conflict, stale]))

    r = fix(cli, proxy.endpoint_url)

    assert (conflict.hits, stale.hits) == (2, 1)
    assert r.code == 0, r.err
    assert len(computed) == 4  # two 409s, one stale answer, one that went through
    assert proxy.faults.operations.count("EnableMFADevice") == 1
    converged(moto, test_keyring)


def waits(caplog: pytest.LogCaptureFixture, what: str) -> list[int]:
    """The levels of the log records that say a wait for ``what``: WARNING is on stderr
    without -v (pytest's handlers stand in for the CLI's, which writes to stderr), INFO with it."""
    return [r.levelno for r in caplog.records if f"to show {what}" in r.getMessage()]


def test_a_lost_enable_resent_while_the_device_list_lags_is_success(
    moto: Any, cli: Any, proxied: Any, test_keyring: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # The enable was applied; ListMFADevices lags, so the step sends it again and IAM answers
    # "already exists": for this user and device that is success, once IAM lists it.
    caplog.set_level(logging.INFO)  # what -v shows
    lose, lag = Rule("EnableMFADevice", "lose"), Rule("ListMFADevices", "lag", times=3)
    proxy = proxied(Faults(rules=[lose, lag]))

    r = cli("-v", "root-use", "--endpoint-url", proxy.endpoint_url, *FIX, "-o", "json")

    assert (lose.hits, lag.hits) == (1, 3)
    assert r.code == 0, r.err
    assert proxy.faults.operations.count("EnableMFADevice") == 2  # lost, then "already exists"
    steps = {s["id"]: s for s in r.json()["remediation"]["steps"]}
    assert steps["mfa"]["applied"] is True
    # The first wait is said on stderr, and each later one with -v.
    assert waits(caplog, "MFA device") == [logging.WARNING, logging.INFO]
    converged(moto, test_keyring)


def test_a_key_the_lagging_list_hid_is_deleted_once_iam_lists_the_held_one(
    moto: Any, cli: Any, proxied: Any, test_keyring: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # After a lost CreateAccessKey, ListAccessKeys lags: it hides the lost request's key from
    # the step that deletes it, then hides the new key. Once IAM lists the key whose secret the
    # keyring holds, the other newcomer is the lost request's: deleted.
    lose, lag = Rule("CreateAccessKey", "lose"), Rule("ListAccessKeys", "lag", times=2)
    proxy = proxied(Faults(rules=[lose, lag]))

    r = fix(cli, proxy.endpoint_url)

    assert (lose.hits, lag.hits) == (1, 2)
    assert r.code == 0, r.err
    assert proxy.faults.operations.count("CreateAccessKey") == 2
    assert proxy.faults.operations.count("DeleteAccessKey") == 1
    assert "AWS created it but its answer, with the secret, was lost" in r.err
    assert waits(caplog, "access key") == [logging.WARNING]  # said on stderr
    converged(moto, test_keyring)
