"""Least privilege, proven: the policy `remediate permissions` prints is scoped to the users,
groups and MFA devices the playbook touches; it is enough for the whole fix, every action in it is
needed, and it denies the same actions on any other user, group, policy or account.

Enforcement runs on moto's server with INITIAL_NO_AUTH_ACTION_COUNT, taught by iamauth.py to
authorize each IAM action on its resource (and AttachGroupPolicy's iam:PolicyARN condition) as
the IAM service authorization reference says: moto alone checks IAM actions against "*" only.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import settings as moto_settings

from remediate.commands.permissions import permissions_request
from remediate.core.errors import EXIT_INPUT, InputError
from remediate.playbook.binding import policy_steps
from remediate.playbook.loading import load_playbook
from remediate.playbook.permissions import DETECTION_ACTIONS, policy
from remediate.steps.access import ANY_RESOURCE, Arns
from remediate.steps.kind import registry
from support.faultproxy import FaultProxy, Faults, Rule
from support.iamauth import authorize_like_iam
from support.iampolicy import Request, allows

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
FULL_FIX = (
    "--create-admin",
    "alice",
    "--access",
    "both",
    "--mfa-auto",
    "--yes",
    "--tag",
    "Team=x",
    # Harmless where alice does not exist; where a test made her, she is not remediate's.
    "--adopt-existing-user",
)
# The same fix with the self-service MFA policy instead of a device, and console access only:
# with an access key, self-service MFA is refused (its holder could enroll a device first).
SELF_SERVICE_FIX = tuple(
    {"--mfa-auto": "--mfa-self-service", "both": "console"}.get(a, a) for a in FULL_FIX
)
# The --var values that make the printed policy cover FULL_FIX and SELF_SERVICE_FIX.
EVERY_STEP = ("--var", "access=both", "--var", "mfa_self_service=true")
SELF_SERVICE_POLICY = f"arn:aws:iam::{ACCOUNT}:policy/RemediateSelfServiceMFA"
CHANGE_PASSWORD = "arn:aws:iam::aws:policy/IAMUserChangePassword"
DOC = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}],
}
# What IAM cannot scope to a resource: the only actions that may carry Resource "*".
UNSCOPED = {
    "iam:GenerateCredentialReport",
    "iam:GetCredentialReport",
    "iam:GetAccountSummary",
    "iam:GetAccountPasswordPolicy",
    "iam:ListVirtualMFADevices",
}
# Watching root (root-activity watch): the enabled regions and the trails (the service
# authorization reference lists no resource type for either).
UNSCOPED_WATCH = {"ec2:DescribeRegions", "cloudtrail:DescribeTrails"}
# The services step kinds act in: IAM and Organizations, and for watching root EventBridge, SNS,
# CloudTrail (reads), EC2 (the regions), CloudWatch Logs and CloudWatch.
SERVICES = (
    "iam:",
    "organizations:",
    "events:",
    "sns:",
    "cloudtrail:",
    "ec2:",
    "logs:",
    "cloudwatch:",
)
# The organization's own actions, which take no resource ARN (the service authorization
# reference lists no resource type for them).
UNSCOPED_ORGANIZATION = {
    "organizations:DescribeOrganization",
    "organizations:ListAWSServiceAccessForOrganization",
    "organizations:EnableAWSServiceAccess",
    "iam:ListOrganizationsFeatures",
    "iam:EnableOrganizationsRootCredentialsManagement",
    "iam:EnableOrganizationsRootSessions",
    "organizations:ListRoots",
    "organizations:ListPolicies",
}


def statements_by_action(document: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for statement in document["Statement"]:
        for action in statement["Action"]:
            found.setdefault(action, []).append(statement)
    return found


def resources_of(document: dict[str, Any], action: str) -> set[str]:
    found: set[str] = set()
    for statement in statements_by_action(document)[action]:
        resource = statement["Resource"]
        found.update([resource] if isinstance(resource, str) else resource)
    return found


def all_actions(document: dict[str, Any]) -> list[str]:
    return sorted(statements_by_action(document))


# --- the document ---------------------------------------------------------------------------------


def test_every_step_kind_declares_permissions() -> None:
    for kind, cls in registry().items():
        assert cls.permissions, f"step kind {kind} declares no IAM permissions"
        assert all(a.startswith(SERVICES) for a in cls.permissions), kind


@pytest.mark.parametrize("kind", sorted(registry()))
def test_every_kind_grants_exactly_its_permissions_on_scoped_resources(kind: str) -> None:
    cls = registry()[kind]
    params = {"user": "alice", "group": "Admins", "policy": "AdministratorAccess"}
    given = {name: params.get(name, cls.fields[name].default) for name in cls.fields}
    step = cls("s", cls.parameters(**given))
    grants = step.grants(Arns("aws", ACCOUNT))
    granted = [action for grant in grants for action in grant.actions]
    if cls.acts_as_root:
        # Root's own credentials, or a task session whose permissions are its task policy.
        assert granted == [], kind
        return
    assert sorted(granted) == sorted(cls.permissions), kind
    for grant in grants:
        for resource in grant.resources:
            if resource == ANY_RESOURCE:
                assert set(grant.actions) <= UNSCOPED | UNSCOPED_ORGANIZATION | UNSCOPED_WATCH, (
                    grant
                )
            elif all(a.startswith("organizations:") for a in grant.actions):
                # The organization the account manages (service control policies, its root).
                assert resource.startswith(f"arn:aws:organizations::{ACCOUNT}:"), resource
            else:
                # The account's own resources, of whichever service (region may be any).
                assert resource.startswith("arn:aws:"), resource
                assert resource.split(":")[4] == ACCOUNT, resource


def test_root_use_for_alice_in_one_account() -> None:
    every_step = {"user": "alice", "access": "both", "mfa_self_service": "true"}
    doc = policy("root-use", variables=every_step, account=ACCOUNT)
    assert doc["Version"] == "2012-10-17"
    user = f"arn:aws:iam::{ACCOUNT}:user/alice"
    group = f"arn:aws:iam::{ACCOUNT}:group/Administrators"
    mfa = {f"arn:aws:iam::{ACCOUNT}:mfa/alice"}
    expected = {
        "iam:GetUser": {user},
        "iam:CreateUser": {user},
        "iam:TagUser": {user},
        "iam:ListGroupsForUser": {user},
        "iam:GetLoginProfile": {user},
        "iam:CreateLoginProfile": {user},
        "iam:UpdateLoginProfile": {user},
        "iam:ListAttachedUserPolicies": {user},
        "iam:AttachUserPolicy": {user},
        # Read, to compare its document; writing it is an administrator's (--administrative).
        "iam:GetPolicy": {SELF_SERVICE_POLICY},
        "iam:GetPolicyVersion": {SELF_SERVICE_POLICY},
        "iam:ListAccessKeys": {user},
        "iam:CreateAccessKey": {user},
        "iam:DeleteAccessKey": {user},
        "iam:ListMFADevices": {user},
        "iam:EnableMFADevice": {user},
        "iam:DetachUserPolicy": {user},
        "iam:GetGroup": {group},
        "iam:CreateGroup": {group},
        "iam:ListAttachedGroupPolicies": {group},
        "iam:AttachGroupPolicy": {group},
        "iam:AddUserToGroup": {group},
        "iam:CreateVirtualMFADevice": mfa,
        "iam:DeleteVirtualMFADevice": mfa,
        "iam:ListMFADeviceTags": mfa,
        "iam:TagMFADevice": mfa,
        **{action: {"*"} for action in UNSCOPED},
    }
    assert {action: resources_of(doc, action) for action in all_actions(doc)} == expected
    [attach] = statements_by_action(doc)["iam:AttachGroupPolicy"]
    assert attach["Action"] == ["iam:AttachGroupPolicy"]
    assert attach["Condition"] == {
        "ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}
    }
    # AttachUserPolicy only for the two policies the playbook attaches to alice, each in a
    # statement of its own (DetachUserPolicy beside it for the self-service policy alone, which
    # goes once alice has a device); TagMFADevice only with remediate's tag on the device; no
    # other statement has a condition, and only detection and the unscoped ones use "*".
    attach_user = statements_by_action(doc)["iam:AttachUserPolicy"]
    assert sorted(tuple(s["Action"]) for s in attach_user) == [
        ("iam:AttachUserPolicy",),
        ("iam:AttachUserPolicy", "iam:DetachUserPolicy"),
    ]
    assert sorted(s["Condition"]["ArnEquals"]["iam:PolicyARN"] for s in attach_user) == sorted(
        [CHANGE_PASSWORD, SELF_SERVICE_POLICY]
    )
    [detach] = statements_by_action(doc)["iam:DetachUserPolicy"]
    assert detach["Condition"] == {"ArnEquals": {"iam:PolicyARN": SELF_SERVICE_POLICY}}
    [tag] = statements_by_action(doc)["iam:TagMFADevice"]
    assert tag["Action"] == ["iam:TagMFADevice"]
    assert tag["Condition"] == {
        "StringEquals": {"aws:RequestTag/remediate:managed-by": "remediate"}
    }
    conditioned = [s for s in doc["Statement"] if "Condition" in s]
    assert sorted(s["Sid"] for s in conditioned) == sorted(
        s["Sid"] for s in [attach, *attach_user, tag]
    )
    assert doc["Statement"][0] == {
        "Sid": "DetectRootUse",
        "Effect": "Allow",
        "Action": list(DETECTION_ACTIONS),
        "Resource": "*",
    }
    assert len({s["Sid"] for s in doc["Statement"]}) == len(doc["Statement"])


def test_a_required_name_must_be_given_and_star_stands_for_any_inside_its_type() -> None:
    with pytest.raises(InputError, match="variable 'user' is required") as missing:
        policy("root-use")
    assert missing.value.tip is not None
    assert "--var user=NAME" in missing.value.tip
    doc = policy("root-use", variables={"user": "*"})
    assert resources_of(doc, "iam:CreateUser") == {"arn:aws:iam::*:user/*"}
    assert resources_of(doc, "iam:CreateGroup") == {"arn:aws:iam::*:group/Administrators"}
    assert resources_of(doc, "iam:CreateVirtualMFADevice") == {"arn:aws:iam::*:mfa/*"}
    scoped = [
        resource
        for statement in doc["Statement"]
        for resource in (
            [statement["Resource"]]
            if isinstance(statement["Resource"], str)
            else statement["Resource"]
        )
        if resource != "*"
    ]
    assert scoped
    assert all(r.split(":")[5].split("/")[0] in {"user", "group", "mfa", "policy"} for r in scoped)
    assert {a for a in all_actions(doc) if "*" in resources_of(doc, a)} == UNSCOPED


def test_star_is_warned_about_on_stderr(cli: Any) -> None:
    r = cli("permissions", "--var", "user=*", "--var", "access=both")
    assert r.code == 0, r.err
    assert resources_of(json.loads(r.out), "iam:CreateAccessKey") == {"arn:aws:iam::*:user/*"}
    warning = " ".join(r.err.split())
    assert "Warning: --var user='*' grants" in warning
    assert "iam:CreateAccessKey" in warning
    assert "iam:UpdateLoginProfile" in warning
    assert "on every IAM user in the account, administrators included" in warning
    assert "create access keys for and reset the password of any user" in warning
    devices = next(line for line in r.err.splitlines() if "every virtual MFA device" in line)
    assert "iam:DeleteVirtualMFADevice" in devices
    named = cli("permissions", "--var", "user=alice", "--var", "access=both")
    assert named.code == 0, named.err
    assert named.err == ""
    group = cli("permissions", "onboard-user", "--var", "user=dana", "--var", "group=*")
    assert group.code == 0, group.err
    assert "--var group='*' grants iam:AddUserToGroup on every IAM group" in group.err
    assert "can add users to any group, an administrators group included" in group.err


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"group": "*", "user": "a"}, "invalid IAM group name"),  # optional: a default, no "*"
        ({"user": "a*"}, "invalid IAM user name"),  # "*" alone, never a pattern
    ],
)
def test_star_only_for_a_required_name_and_alone(variables: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        policy("root-use", variables=variables)


def test_the_partition_follows_the_region() -> None:
    doc = policy("root-use", variables={"user": "alice"}, partition="aws-cn")
    assert resources_of(doc, "iam:CreateUser") == {"arn:aws-cn:iam::*:user/alice"}
    [attach] = statements_by_action(doc)["iam:AttachGroupPolicy"]
    assert attach["Condition"]["ArnEquals"]["iam:PolicyARN"] == (
        "arn:aws-cn:iam::aws:policy/AdministratorAccess"
    )
    assert permissions_request(region="us-gov-west-1").partition == "aws-us-gov"
    assert permissions_request(region="cn-north-1").partition == "aws-cn"
    assert permissions_request().partition == "aws"


@pytest.mark.parametrize(
    ("env", "config", "partition"),
    [
        ({"AWS_DEFAULT_REGION": "cn-north-1"}, "", "aws-cn"),
        ({"AWS_REGION": "us-gov-west-1", "AWS_DEFAULT_REGION": "us-east-1"}, "", "aws-us-gov"),
        ({"AWS_PROFILE": "china"}, "[profile china]\nregion = cn-northwest-1\n", "aws-cn"),
        ({}, "[default]\nregion = us-gov-east-1\n", "aws-us-gov"),
        ({}, "", "aws"),
    ],
    ids=["AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE", "default-profile", "none"],
)
def test_without_region_the_partition_follows_the_aws_config(
    cli: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    config: str,
    partition: str,
) -> None:
    (tmp_path / "config").write_text(config)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    r = cli("permissions", "--var", "user=alice")
    assert r.code == 0, r.err
    assert resources_of(json.loads(r.out), "iam:CreateUser") == {
        f"arn:{partition}:iam::*:user/alice"
    }
    # --region still wins over the configuration.
    r = cli("permissions", "--var", "user=alice", "--region", "eu-west-1")
    assert resources_of(json.loads(r.out), "iam:CreateUser") == {"arn:aws:iam::*:user/alice"}


def test_an_unknown_profile_naming_the_region_is_an_input_error(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_PROFILE", "nosuch")
    r = cli("permissions")
    assert r.code == EXIT_INPUT, r.err
    assert "AWS profile 'nosuch' not found (named by AWS_PROFILE)" in r.err


def test_variables_choose_the_group_the_policy_and_the_steps() -> None:
    doc = policy(
        "root-use",
        variables={"user": "bob", "group": "Ops", "policy": "PowerUserAccess", "mfa": "false"},
    )
    assert resources_of(doc, "iam:AddUserToGroup") == {"arn:aws:iam::*:group/Ops"}
    [attach] = statements_by_action(doc)["iam:AttachGroupPolicy"]
    assert attach["Condition"]["ArnEquals"]["iam:PolicyARN"].endswith("policy/PowerUserAccess")
    assert "iam:EnableMFADevice" not in all_actions(doc)  # mfa=false: no such step
    # Not given, a variable is what a run takes: access console, no self-service MFA policy.
    assert "iam:CreateLoginProfile" in all_actions(doc)
    assert "iam:CreateAccessKey" not in all_actions(doc)
    assert "iam:AttachUserPolicy" in all_actions(doc)  # IAMUserChangePassword only:
    assert {
        s["Condition"]["ArnEquals"]["iam:PolicyARN"]
        for s in statements_by_action(doc)["iam:AttachUserPolicy"]
    } == {CHANGE_PASSWORD}
    assert "iam:GetPolicy" not in all_actions(doc)
    keys = policy("root-use", variables={"user": "bob", "access": "programmatic"})
    assert "iam:CreateAccessKey" in all_actions(keys)
    assert "iam:CreateLoginProfile" not in all_actions(keys)
    self_service = policy("root-use", variables={"user": "bob", "mfa_self_service": "true"})
    assert resources_of(self_service, "iam:GetPolicy") == {
        "arn:aws:iam::*:policy/RemediateSelfServiceMFA"
    }


def test_onboard_user_scopes_the_existing_group() -> None:
    doc = policy("onboard-user", variables={"user": "dana", "group": "Developers"})
    assert resources_of(doc, "iam:AddUserToGroup") == {"arn:aws:iam::*:group/Developers"}
    assert "iam:AttachGroupPolicy" not in all_actions(doc)
    # The group must exist: it is read, never created.
    assert resources_of(doc, "iam:GetGroup") == {"arn:aws:iam::*:group/Developers"}
    assert "iam:CreateGroup" not in all_actions(doc)
    # mfa defaults to false here: no device unless asked for.
    assert "iam:CreateVirtualMFADevice" not in all_actions(doc)
    with_mfa = policy("onboard-user", variables={"user": "dana", "group": "D", "mfa": "true"})
    assert resources_of(with_mfa, "iam:CreateVirtualMFADevice") == {"arn:aws:iam::*:mfa/dana"}
    with pytest.raises(InputError, match="variables 'group', 'user' are required"):
        policy("onboard-user")
    sids = [s["Sid"] for s in doc["Statement"]]
    assert all(sid.startswith("PlaybookOnboardUser") for sid in sids[1:])


def test_policy_steps_keep_the_playbook_rules() -> None:
    book = load_playbook("root-use")
    with pytest.raises(InputError, match="invalid IAM user name"):
        policy_steps(book, {"user": "a b"})
    with pytest.raises(InputError, match="unknown variable"):
        policy_steps(book, {"colour": "red"})


def test_the_command_prints_the_scoped_policy(cli: Any) -> None:
    r = cli(
        "permissions",
        "root-use",
        "--var",
        "user=alice",
        "--var",
        "access=programmatic",
        "--account",
        ACCOUNT,
        "--region",
        "us-gov-west-1",
    )
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert resources_of(doc, "iam:CreateAccessKey") == {f"arn:aws-us-gov:iam::{ACCOUNT}:user/alice"}
    assert cli("permissions", "--detect-only").json()["Statement"] == [doc["Statement"][0]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--account", "12345"), "invalid --account"),
        (("--var", "user=a b"), "invalid IAM user name"),
        (("--var", "colour=red"), "unknown variable"),
        (("--var", "user=a", "--var", "user=b"), "--var user given twice"),
        (("--detect-only", "--var", "user=a"), "--detect-only prints no playbook statements"),
        (("--organization", "--role-name", "bad role"), "invalid --role-name"),
        ((), "variable 'user' is required"),
        (("--organization",), "variable 'user' is required"),
        (("--var", "access=both"), "variable 'user' is required"),
        (("--administrative", "--security-hub"), "--administrative prints what a playbook's"),
        (("--administrative", "--detect-only"), "--administrative prints what a playbook's"),
        (("--administrative", "--root-credentials"), "--administrative prints what a playbook's"),
        (("--administrative", "--var", "mfa_self_service=false"), "no step of root-use"),
        (("mfa-self-service-policy",), "every step of mfa-self-service-policy is administrative"),
    ],
)
def test_bad_permissions_options(cli: Any, args: tuple[str, ...], message: str) -> None:
    r = cli("permissions", *args)
    assert r.code == 2, r.err
    assert message in r.err
    assert r.out == ""


def test_organization_statements(cli: Any) -> None:
    who = ("--var", "user=alice")
    doc = json.loads(cli("permissions", *who, "--organization", "--role-name", "Auditor").out)
    sids = [s["Sid"] for s in doc["Statement"]]
    assert sids[0] == "DetectRootUse"
    assert all(sid.startswith("PlaybookRootUse") for sid in sids[1:-2])
    assert sids[-2:] == ["ListOrganizationAccounts", "AssumeMemberAccountRole"]
    assert doc["Statement"][-1]["Resource"] == "arn:aws:iam::*:role/Auditor"
    gov = json.loads(cli("permissions", *who, "--organization", "--region", "us-gov-east-1").out)
    assert gov["Statement"][-1]["Resource"] == (
        "arn:aws-us-gov:iam::*:role/OrganizationAccountAccessRole"
    )


def test_role_name_is_the_same_option_as_root_use(cli: Any) -> None:
    """One declaration (cli/options.py): the same help, the same default, where it is given."""
    described = "--role-name <str> Role to assume in member accounts [default: "
    for command in ("permissions", "root-use"):
        text = " ".join(cli(command, "--help").out.split())
        assert described + "OrganizationAccountAccessRole]." in text, command


# --- under enforcement ----------------------------------------------------------------------------


@pytest.fixture
def operator(moto: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """Create an operator user holding exactly the given policies, then enforce IAM policies,
    with resources and conditions evaluated as IAM does. Returns an IAM client of the operator's."""
    iam = moto.client("iam")
    authorize_like_iam(monkeypatch)

    def become(*documents: dict[str, Any]) -> Any:
        iam.create_user(UserName="operator")
        for n, document in enumerate(documents):
            iam.put_user_policy(
                UserName="operator",
                PolicyName=f"remediate-{n}",
                PolicyDocument=json.dumps(document),
            )
        key = iam.create_access_key(UserName="operator")["AccessKey"]
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
        monkeypatch.setattr(moto_settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
        return boto3.client(
            "iam",
            region_name="us-east-1",
            endpoint_url=moto.endpoint_url,
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
        )

    yield become
    monkeypatch.setattr(moto_settings, "INITIAL_NO_AUTH_ACTION_COUNT", float("inf"))


def printed_policy(cli: Any, *args: str, playbook: str = "root-use") -> dict[str, Any]:
    r = cli("permissions", playbook, *args)
    assert r.code == 0, r.err
    document: dict[str, Any] = json.loads(r.out)
    return document


def without(document: dict[str, Any], action: str) -> dict[str, Any]:
    """The policy minus one action (and any statement left with none)."""
    trimmed = copy.deepcopy(document)
    for statement in trimmed["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != action]
    trimmed["Statement"] = [s for s in trimmed["Statement"] if s["Action"]]
    return trimmed


def _state(moto: Any) -> dict[str, Any]:
    # Read as the emulator's admin, with policy enforcement off again.
    moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
    iam = boto3.client(
        "iam",
        region_name="us-east-1",
        endpoint_url=moto.endpoint_url,
        aws_access_key_id="AKIATESTEXAMPLE00000",
        aws_secret_access_key="testing-secret",
    )
    users = {u["UserName"] for u in iam.list_users()["Users"]} - {"operator"}
    state: dict[str, Any] = {
        "users": users,
        "groups": {g["GroupName"] for g in iam.list_groups()["Groups"]},
        "policies": {p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]},
    }
    if "alice" in users:
        state["keys"] = len(iam.list_access_keys(UserName="alice")["AccessKeyMetadata"])
        state["mfa"] = len(iam.list_mfa_devices(UserName="alice")["MFADevices"])
        attached = iam.list_attached_user_policies(UserName="alice")["AttachedPolicies"]
        state["attached"] = {p["PolicyArn"] for p in attached}
    return state


@pytest.mark.parametrize(
    "scope",
    [
        ("--var", "user=alice", "--var", "access=both", "--account", ACCOUNT),
        ("--var", "user=alice", "--var", "access=both"),
        ("--var", "user=*", "--var", "access=both"),
    ],
    ids=["user-and-account", "user", "any-user"],
)
def test_generated_policy_is_enough_for_the_whole_fix(
    moto: Any, cli: Any, operator: Any, scope: tuple[str, ...]
) -> None:
    operator(printed_policy(cli, *scope))
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, *FULL_FIX, "--output", "json")
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["remediation"]["changed"] == 7
    assert doc["mfa"]["enabled"] is True
    # GetAccountSummary answered: no note says it could not be asked.
    assert not [n for n in doc["notes"] if "iam:GetAccountSummary" in n], doc["notes"]


def test_the_default_policy_is_enough_for_the_default_fix(
    moto: Any, cli: Any, operator: Any
) -> None:
    # No --var but the user: console access and an MFA device, as `--create-admin alice` does.
    operator(printed_policy(cli, "--var", "user=alice"))
    r = cli(
        "root-use",
        "--endpoint-url",
        moto.endpoint_url,
        "--create-admin",
        "alice",
        "--mfa-auto",
        "--yes",
        "-o",
        "json",
    )
    assert r.code == 0, r.err
    assert r.json()["mfa"]["enabled"] is True


def test_generated_policy_is_enough_for_hand_off_and_reset(
    moto: Any, cli: Any, operator: Any, tmp_path: Path
) -> None:
    # An administrator wrote the self-service policy (the operator may only attach it).
    _self_service_policy_exists(moto)
    operator(printed_policy(cli, "--var", "user=alice", *EVERY_STEP, "--account", ACCOUNT))
    url = ("--endpoint-url", moto.endpoint_url, "-o", "json")
    r = cli("root-use", *url, *SELF_SERVICE_FIX)
    assert r.code == 0, r.err
    # The membership waits for a device alice enables herself: held back, not applied.
    assert r.json()["remediation"]["changed"] == 5
    handoff = tuple(a for a in FULL_FIX if a != "--mfa-auto")
    qr = ("--mfa-handoff", "--qr-file", str(tmp_path / "qr.png"))
    r = cli("root-use", *url, *handoff, *qr)
    assert r.code == 0, r.err
    assert r.json()["mfa"]["enabled"] is False
    r = cli("root-use", *url, *FULL_FIX, "--reset-password")
    assert r.code == 0, r.err
    assert r.json()["mfa"]["enabled"] is True
    # alice has a device now: the self-service policy is detached.
    r = cli("root-use", *url, *SELF_SERVICE_FIX)
    assert r.code == 0, r.err
    steps = {s["id"]: s for s in r.json()["remediation"]["steps"]}
    assert (steps["mfa-self-service"]["change"], steps["mfa-self-service"]["applied"]) == (
        "delete",
        True,
    )


def test_the_operator_attaches_the_self_service_policy_an_administrator_wrote(
    moto: Any, cli: Any, operator: Any
) -> None:
    _self_service_policy_exists(moto)
    operator(printed_policy(cli, "--var", "user=alice", *EVERY_STEP, "--account", ACCOUNT))
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, *SELF_SERVICE_FIX, "-o", "json")
    assert r.code == 0, r.err
    steps = {s["id"]: s["change"] for s in r.json()["remediation"]["steps"]}
    assert steps["mfa-self-service-policy"] == "none"
    assert SELF_SERVICE_POLICY in _state(moto)["attached"]


def test_the_operator_cannot_write_the_self_service_policy_and_stops_before_any_change(
    moto: Any, cli: Any, operator: Any
) -> None:
    operator(printed_policy(cli, "--var", "user=alice", *EVERY_STEP, "--account", ACCOUNT))
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, *SELF_SERVICE_FIX)
    assert r.code == 3, r.err
    err = " ".join(r.err.split())
    assert "step 'mfa-self-service-policy' (mfa-self-service-policy) failed" in err
    assert (
        "writing the customer-managed policy RemediateSelfServiceMFA is an administrator's task"
        in err
    )
    assert "iam:CreatePolicy" in err
    assert "already applied: nothing" in err
    assert "an administrator runs `remediate playbook run mfa-self-service-policy`" in err
    assert "`remediate permissions mfa-self-service-policy --administrative`" in err
    assert _state(moto) == {"users": set(), "groups": set(), "policies": set()}


def test_the_administrator_writes_it_and_the_operator_attaches_it(
    moto: Any, cli: Any, operator: Any
) -> None:
    # Two people, two policies: the administrator's playbook, then the operator's fix.
    administrative = printed_policy(cli, "--administrative", playbook="mfa-self-service-policy")
    # The same grants as root-use's administrative step (only the statement's name differs),
    # which also reads whether the run's user has a device already (then nothing is written).
    root_use = printed_policy(
        cli, "--administrative", "--var", "mfa_self_service=true", "--var", "user=alice"
    )
    unnamed = [{**s, "Sid": ""} for s in root_use["Statement"]]
    reads_devices = {
        "Sid": "",
        "Effect": "Allow",
        "Action": ["iam:ListMFADevices"],
        "Resource": ["arn:aws:iam::*:user/alice"],
    }
    assert [{**s, "Sid": ""} for s in administrative["Statement"]] == [
        s for s in unnamed if s != reads_devices
    ]
    assert reads_devices in unnamed
    operator(
        administrative,
        printed_policy(cli, "--var", "user=alice", *EVERY_STEP, "--account", ACCOUNT),
    )
    r = cli(
        "playbook", "run", "mfa-self-service-policy", "--endpoint-url", moto.endpoint_url, "--yes"
    )
    assert r.code == 0, r.err
    assert _state(moto)["policies"] == {"RemediateSelfServiceMFA"}
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, *SELF_SERVICE_FIX)
    assert r.code == 0, r.err
    assert SELF_SERVICE_POLICY in _state(moto)["attached"]


def _needs_tag_update(moto: Any) -> None:
    moto.client("iam").create_user(UserName="alice", Tags=[{"Key": "Team", "Value": "old"}])


def _needs_stale_device(moto: Any) -> None:
    # One remediate created (its tag says so), whose seed is lost: read, deleted, made again.
    moto.client("iam").create_virtual_mfa_device(
        VirtualMFADeviceName="alice",
        Tags=[{"Key": "remediate:managed-by", "Value": "remediate"}],
    )


def _user_and_group_exist(moto: Any) -> None:
    # Reads of a user's or group's parts are skipped while the run itself creates them.
    iam = moto.client("iam")
    iam.create_group(GroupName="Administrators")
    iam.create_user(UserName="alice")


def _self_service_policy_exists(moto: Any) -> None:
    # An existing policy of that name is read (and its document checked) before it is attached.
    from remediate.steps.self_service import self_service_document

    moto.client("iam").create_policy(
        PolicyName="RemediateSelfServiceMFA",
        PolicyDocument=json.dumps(self_service_document("aws")),
    )


def _self_service_user_enrolled(moto: Any) -> None:
    # alice has the self-service policy and has enabled a device of her own: it is detached.
    _self_service_policy_exists(moto)
    iam = moto.client("iam")
    iam.create_user(UserName="alice")
    iam.attach_user_policy(UserName="alice", PolicyArn=SELF_SERVICE_POLICY)
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice-phone")["VirtualMFADevice"][
        "SerialNumber"
    ]
    iam.enable_mfa_device(
        UserName="alice",
        SerialNumber=serial,
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )


def _login_profile_exists(moto: Any) -> None:
    # --reset-password sets a new password on the login profile alice has.
    iam = moto.client("iam")
    iam.create_user(UserName="alice", Tags=[{"Key": "remediate:managed-by", "Value": "remediate"}])
    iam.create_login_profile(UserName="alice", Password="Seeded-Pass-123!")


# Actions only some starting states exercise: the setup that makes the run need them.
SETUPS: dict[str, Callable[[Any], None]] = {
    "iam:TagUser": _needs_tag_update,
    "iam:DeleteVirtualMFADevice": _needs_stale_device,
    "iam:ListMFADeviceTags": _needs_stale_device,
    "iam:DetachUserPolicy": _self_service_user_enrolled,
    "iam:ListAttachedGroupPolicies": _user_and_group_exist,
    "iam:ListGroupsForUser": _user_and_group_exist,
    "iam:GetLoginProfile": _user_and_group_exist,
    "iam:ListAccessKeys": _user_and_group_exist,
    "iam:ListMFADevices": _user_and_group_exist,
    "iam:ListAttachedUserPolicies": _user_and_group_exist,
    # The operator reads the policy an administrator wrote (and compares its document).
    "iam:GetPolicy": _self_service_policy_exists,
    "iam:GetPolicyVersion": _self_service_policy_exists,
    "iam:UpdateLoginProfile": _login_profile_exists,
}
# Actions only some runs need: the options that make the run need them.
FIXES: dict[str, tuple[str, ...]] = {
    "iam:GetPolicy": SELF_SERVICE_FIX,
    "iam:GetPolicyVersion": SELF_SERVICE_FIX,
    "iam:DetachUserPolicy": SELF_SERVICE_FIX,
    "iam:UpdateLoginProfile": (*FULL_FIX, "--reset-password"),
}
EVERY_STEP_VARS = {"user": "alice", "access": "both", "mfa_self_service": "true"}
SCOPED_FOR_ALICE = policy("root-use", variables=EVERY_STEP_VARS, account=ACCOUNT)


# Actions needed only when AWS loses an answer: the fault that makes the run need them.
FAULTS: dict[str, Rule] = {
    # A key made by a request whose answer was lost is deleted: nobody holds its secret.
    "iam:DeleteAccessKey": Rule("CreateAccessKey", "lose"),
}


# Actions whose refusal changes the output rather than failing the run: without
# GetAccountSummary, root-mfa-not-active cannot be refined (does root have a password?).
REFINES = {"iam:GetAccountSummary"}


@pytest.mark.parametrize("missing", all_actions(SCOPED_FOR_ALICE))
def test_each_action_is_needed(moto: Any, cli: Any, operator: Any, missing: str) -> None:
    if missing in SETUPS:
        SETUPS[missing](moto)
    full_state_prefix = _state(moto)
    printed = printed_policy(cli, "--var", "user=alice", *EVERY_STEP, "--account", ACCOUNT)
    operator(without(printed, missing))
    with FaultProxy(
        moto.endpoint_url, Faults(rules=[FAULTS[missing]] if missing in FAULTS else [])
    ) as proxy:
        r = cli("root-use", "--endpoint-url", proxy.endpoint_url, *FIXES.get(missing, FULL_FIX))
    assert "Traceback" not in r.err
    if missing in REFINES:
        # Not a failure: detection goes on without it, and says what it could not refine.
        assert r.code == 0, r.out + r.err
        assert missing in r.out, r.out
        assert missing not in r.err, r.err
        return
    assert r.code == 3, r.out + r.err
    assert missing in r.err, r.err
    # The tip says how to get the action, whichever step was refused it.
    assert "`remediate permissions` prints the policy" in " ".join(r.err.split()), r.err
    # Nothing the policy did not allow was written: the state only grew by allowed steps.
    after = _state(moto)
    assert after["users"] >= full_state_prefix["users"]
    if missing == "iam:CreateUser":
        assert "alice" not in after["users"]
    if missing == "iam:CreateGroup":
        assert after["groups"] == set()
    if missing == "iam:CreateAccessKey":
        assert after.get("keys", 0) == 0
    if missing == "iam:EnableMFADevice":
        assert after.get("mfa", 0) == 0


ADMINISTRATIVE = policy("mfa-self-service-policy", administrative=True, account=ACCOUNT)
# What makes the administrator's run need each action.
ADMINISTRATIVE_SETUPS: dict[str, Callable[[Any], None]] = {
    "iam:GetPolicyVersion": _self_service_policy_exists,
}


def test_the_administrative_policy_is_that_one_policy_and_no_attach() -> None:
    assert ADMINISTRATIVE == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AdministrativeMfaSelfServicePolicyPolicies",
                "Effect": "Allow",
                "Action": [
                    "iam:CreatePolicy",
                    "iam:GetPolicy",
                    "iam:GetPolicyVersion",
                ],
                "Resource": [SELF_SERVICE_POLICY],
            }
        ],
    }
    # And the operator's never holds any of its writes.
    operator_actions = set(all_actions(SCOPED_FOR_ALICE))
    assert not operator_actions & {
        "iam:CreatePolicy",
        "iam:CreatePolicyVersion",
        "iam:DeletePolicyVersion",
        "iam:SetDefaultPolicyVersion",
    }


@pytest.mark.parametrize("missing", all_actions(ADMINISTRATIVE))
def test_each_administrative_action_is_needed(
    moto: Any, cli: Any, operator: Any, missing: str
) -> None:
    if missing in ADMINISTRATIVE_SETUPS:
        ADMINISTRATIVE_SETUPS[missing](moto)
    elif missing == "iam:GetPolicy":
        pass  # read first, whatever the state
    before = _state(moto)
    operator(without(ADMINISTRATIVE, missing))
    r = cli(
        "playbook", "run", "mfa-self-service-policy", "--endpoint-url", moto.endpoint_url, "--yes"
    )
    assert "Traceback" not in r.err
    assert r.code == 3, r.out + r.err
    assert missing in r.err, r.err
    if missing == "iam:CreatePolicy":
        assert _state(moto)["policies"] == before["policies"] == set()


def test_the_administrative_policy_is_enough_to_write_the_policy(
    moto: Any, cli: Any, operator: Any
) -> None:
    operator(ADMINISTRATIVE)
    url = ("--endpoint-url", moto.endpoint_url)
    r = cli("playbook", "run", "mfa-self-service-policy", *url, "--yes", "-o", "json")
    assert r.code == 0, r.err
    assert r.json()["remediation"]["changed"] == 1
    again = cli("playbook", "run", "mfa-self-service-policy", *url, "--yes", "-o", "json")
    assert again.code == 0, again.err
    assert again.json()["remediation"]["changed"] == 0


# --- what the scoped policy denies ----------------------------------------------------------------


def _others(moto: Any) -> dict[str, str]:
    """An administrator carol with a pending MFA device, and a group Other: not alice's. Users
    alice-2 and alice-ops, whose names start with alice's, each with a pending device of their
    own name (the name the console gives, and remediate). The self-service MFA policy, as an
    administrator wrote it."""
    iam = moto.client("iam")
    iam.create_user(UserName="carol")
    iam.create_user(UserName="alice")
    iam.create_group(GroupName="Administrators")
    iam.create_group(GroupName="Other")
    iam.add_user_to_group(UserName="carol", GroupName="Administrators")
    _self_service_policy_exists(moto)
    serials = {}
    for user in ("carol", "alice-2", "alice-ops"):
        if user != "carol":
            iam.create_user(UserName=user)
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]
        serials[f"{user}_mfa"] = device["SerialNumber"]
    return serials


ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
EVERYTHING = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
# The writes the policy grants on alice and Administrators, tried on others; and the issue's
# repro: rewriting the policy the operator may attach, then attaching it anywhere.
ELSEWHERE: dict[str, Callable[[Any, dict[str, str]], Any]] = {
    "CreateAccessKey for carol": lambda iam, o: iam.create_access_key(UserName="carol"),
    "CreateLoginProfile for carol": lambda iam, o: iam.create_login_profile(
        UserName="carol", Password="Pa55-word!xyz", PasswordResetRequired=False
    ),
    "TagUser carol": lambda iam, o: iam.tag_user(
        UserName="carol", Tags=[{"Key": "k", "Value": "v"}]
    ),
    "CreateUser bob": lambda iam, o: iam.create_user(UserName="bob"),
    "EnableMFADevice for carol": lambda iam, o: iam.enable_mfa_device(
        UserName="carol",
        SerialNumber=o["carol_mfa"],
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    ),
    "CreateVirtualMFADevice carol-2": lambda iam, o: iam.create_virtual_mfa_device(
        VirtualMFADeviceName="carol-2"
    ),
    "DeleteVirtualMFADevice of carol": lambda iam, o: iam.delete_virtual_mfa_device(
        SerialNumber=o["carol_mfa"]
    ),
    "CreateVirtualMFADevice alicebob": lambda iam, o: iam.create_virtual_mfa_device(
        VirtualMFADeviceName="alicebob"
    ),
    # mfa/alice-* would match these: the devices of users alice-2 and alice-ops.
    "CreateVirtualMFADevice alice-ops2": lambda iam, o: iam.create_virtual_mfa_device(
        VirtualMFADeviceName="alice-ops2"
    ),
    "CreateVirtualMFADevice alice-3": lambda iam, o: iam.create_virtual_mfa_device(
        VirtualMFADeviceName="alice-3"
    ),
    "DeleteVirtualMFADevice of alice-ops": lambda iam, o: iam.delete_virtual_mfa_device(
        SerialNumber=o["alice-ops_mfa"]
    ),
    "DeleteVirtualMFADevice of alice-2": lambda iam, o: iam.delete_virtual_mfa_device(
        SerialNumber=o["alice-2_mfa"]
    ),
    "ListAccessKeys of carol": lambda iam, o: iam.list_access_keys(UserName="carol"),
    "CreateGroup Other2": lambda iam, o: iam.create_group(GroupName="Other2"),
    "AddUserToGroup Other": lambda iam, o: iam.add_user_to_group(
        UserName="carol", GroupName="Other"
    ),
    "AttachGroupPolicy admin to Other": lambda iam, o: iam.attach_group_policy(
        GroupName="Other", PolicyArn=ADMIN
    ),
    "AttachGroupPolicy IAMFullAccess to Administrators": lambda iam, o: iam.attach_group_policy(
        GroupName="Administrators", PolicyArn="arn:aws:iam::aws:policy/IAMFullAccess"
    ),
    # The two policies the playbook attaches to alice, and no other: not to carol either.
    "AttachUserPolicy AdministratorAccess to alice": lambda iam, o: iam.attach_user_policy(
        UserName="alice", PolicyArn=ADMIN
    ),
    "AttachUserPolicy IAMUserChangePassword to carol": lambda iam, o: iam.attach_user_policy(
        UserName="carol", PolicyArn=CHANGE_PASSWORD
    ),
    "AttachUserPolicy the self-service policy to carol": lambda iam, o: iam.attach_user_policy(
        UserName="carol", PolicyArn=SELF_SERVICE_POLICY
    ),
    "CreatePolicy of another name": lambda iam, o: iam.create_policy(
        PolicyName="Anything", PolicyDocument=json.dumps({"Version": "2012-10-17"})
    ),
    "UpdateLoginProfile of carol": lambda iam, o: iam.update_login_profile(
        UserName="carol", Password="Pa55-word!xyz"
    ),
    # Issue 20's repro: a new default version saying "Action": "*" of the policy the operator
    # may attach would make everyone it is attached to an administrator.
    "CreatePolicyVersion of the self-service policy": lambda iam, o: iam.create_policy_version(
        PolicyArn=SELF_SERVICE_POLICY, PolicyDocument=EVERYTHING, SetAsDefault=True
    ),
    "DeletePolicyVersion of the self-service policy": lambda iam, o: iam.delete_policy_version(
        PolicyArn=SELF_SERVICE_POLICY, VersionId="v1"
    ),
    "SetDefaultPolicyVersion of the self-service policy": (
        lambda iam, o: iam.set_default_policy_version(PolicyArn=SELF_SERVICE_POLICY, VersionId="v1")
    ),
    "PutUserPolicy on alice": lambda iam, o: iam.put_user_policy(
        UserName="alice", PolicyName="x", PolicyDocument=EVERYTHING
    ),
    "PutGroupPolicy on Administrators": lambda iam, o: iam.put_group_policy(
        GroupName="Administrators", PolicyName="x", PolicyDocument=EVERYTHING
    ),
}


@pytest.mark.parametrize("attempt", sorted(ELSEWHERE))
def test_the_scoped_policy_denies_other_users_groups_and_policies(
    moto: Any, cli: Any, operator: Any, attempt: str
) -> None:
    others = _others(moto)
    iam = operator(printed_policy(cli, "--var", "user=alice", *EVERY_STEP, "--account", ACCOUNT))
    with pytest.raises(ClientError) as denied:
        ELSEWHERE[attempt](iam, others)
    assert denied.value.response["Error"]["Code"] == "AccessDenied", attempt


def test_the_same_writes_on_alice_are_allowed(moto: Any, cli: Any, operator: Any) -> None:
    # The control for the denials above: the policy does allow them on alice.
    _self_service_policy_exists(moto)
    iam = operator(printed_policy(cli, "--var", "user=alice", *EVERY_STEP, "--account", ACCOUNT))
    iam.create_user(UserName="alice")
    iam.create_group(GroupName="Administrators")
    iam.attach_group_policy(GroupName="Administrators", PolicyArn=ADMIN)
    iam.add_user_to_group(UserName="alice", GroupName="Administrators")
    iam.create_access_key(UserName="alice")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]
    iam.delete_virtual_mfa_device(SerialNumber=serial["SerialNumber"])
    iam.create_login_profile(UserName="alice", Password="Pa55-word!xyz")
    iam.update_login_profile(UserName="alice", Password="Pa55-word!xyz2")
    iam.attach_user_policy(UserName="alice", PolicyArn=CHANGE_PASSWORD)
    iam.get_policy(PolicyArn=SELF_SERVICE_POLICY)
    iam.attach_user_policy(UserName="alice", PolicyArn=SELF_SERVICE_POLICY)


def test_by_design_the_operator_can_make_any_user_an_administrator(
    moto: Any, cli: Any, operator: Any
) -> None:
    # AddUserToGroup is authorized on the group alone (IAM has no condition key for the user):
    # whoever may add alice to Administrators may add anybody, the operator included. Hence
    # the README's advice: run the root-use playbook from a short-lived role.
    _others(moto)
    iam = operator(printed_policy(cli, "--var", "user=alice", "--account", ACCOUNT))
    iam.add_user_to_group(UserName="operator", GroupName="Administrators")


def test_a_policy_for_another_account_denies_this_one(moto: Any, cli: Any, operator: Any) -> None:
    operator(printed_policy(cli, "--var", "user=alice", *EVERY_STEP, "--account", OTHER_ACCOUNT))
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, *FULL_FIX)
    assert r.code == 3, r.err
    assert "access denied" in r.err
    assert _state(moto)["users"] == set()


def test_a_policy_for_another_user_cannot_fix_alice(moto: Any, cli: Any, operator: Any) -> None:
    operator(printed_policy(cli, "--var", "user=bob", *EVERY_STEP, "--account", ACCOUNT))
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, *FULL_FIX)
    assert r.code == 3, r.err
    assert "iam:GetUser" in r.err
    assert "alice" not in _state(moto)["users"]


# --- --cloudtrail and --security-hub under enforcement --------------------------------------------

DETECT_AND_REPORT = ("--detect-only", "--cloudtrail", "--security-hub", "--account", ACCOUNT)
REPORT_RUN = ("--cloudtrail", "--cloudtrail-regions", "all", "--security-hub", "-o", "json")


@pytest.fixture
def hub(moto: Any) -> Any:
    from remediate.sandbox import securityhub as sandbox_securityhub

    sandbox_securityhub.enable(ACCOUNT, "us-east-1")
    return moto


def test_the_printed_policy_is_enough_for_cloudtrail_and_security_hub(
    hub: Any, cli: Any, operator: Any
) -> None:
    operator(printed_policy(cli, *DETECT_AND_REPORT))
    r = cli("root-use", "--endpoint-url", hub.endpoint_url, *REPORT_RUN)
    assert r.code == 1, r.err  # root in use, and everything asked for was done
    doc = r.json()
    assert len(doc["cloudtrail"]["regions"]) == 17
    assert doc["security_hub"]["imported"] == 4


HUB = f"arn:aws:securityhub:us-east-1:{ACCOUNT}:hub/default"
ASFF = "securityhub:ASFFSyntaxPath/"


def _update(**fields: str) -> Request:
    """A BatchUpdateFindings request on this account's hub setting these ASFF fields."""
    context = {ASFF + name.replace("_", "."): value for name, value in fields.items()}
    return Request("securityhub:BatchUpdateFindings", HUB, context)


NOTE = {"Note_Text": "remediated by remediate", "Note_UpdatedBy": "remediate"}


def test_a_detection_only_policy_may_reopen_a_finding_and_never_resolve_one(cli: Any) -> None:
    # Detection reopens (root used after a recorded remediation); only a remediation resolves.
    document = printed_policy(cli, *DETECT_AND_REPORT)
    assert allows(document, _update(Workflow_Status="NEW", **NOTE))
    assert not allows(document, _update(Workflow_Status="RESOLVED", **NOTE))
    assert allows(document, Request("securityhub:GetFindings", HUB))
    import_ = Request(
        "securityhub:BatchImportFindings",
        f"arn:aws:securityhub:eu-west-1:{ACCOUNT}:product/{ACCOUNT}/default",
    )
    assert allows(document, import_)


@pytest.mark.parametrize("detect_only", [True, False], ids=["detect-only", "remediation"])
@pytest.mark.parametrize(
    "field",
    [
        {"Severity_Label": "INFORMATIONAL"},
        {"Severity_Normalized": "0"},
        {"VerificationState": "BENIGN_POSITIVE"},
        {"Confidence": "0"},
        {"Criticality": "0"},
        {"Types": ["Software and Configuration Checks"]},
        {"UserDefinedFields_key": ["k"], "UserDefinedFields_value": ["v"]},
        {"RelatedFindings": ['{"Id": "x", "ProductArn": "y"}']},
        {"Workflow_Status": "SUPPRESSED"},
        {"Workflow_Status": "NOTIFIED"},
    ],
    ids=lambda f: next(iter(f)),
)
def test_the_security_hub_grant_updates_the_workflow_and_a_note_only(
    cli: Any, detect_only: bool, field: dict[str, Any]
) -> None:
    """Issue 20: BatchUpdateFindings with no condition let the holder change Severity or
    VerificationState of any product's findings. Now only Workflow.Status (NEW, and RESOLVED
    after a remediation) and Note."""
    args = ("--detect-only",) if detect_only else ("--var", "user=alice")
    document = printed_policy(cli, *args, "--security-hub", "--account", ACCOUNT)
    status = {} if "Workflow_Status" in field else {"Workflow_Status": "NEW"}
    assert allows(document, _update(Workflow_Status="NEW", **NOTE))
    assert not allows(document, _update(**status, **NOTE, **field))
    # Another account's hub: never.
    elsewhere = Request(
        "securityhub:BatchUpdateFindings",
        HUB.replace(ACCOUNT, OTHER_ACCOUNT),
        _update(Workflow_Status="NEW").context,
    )
    assert not allows(document, elsewhere)


@pytest.mark.parametrize(
    "missing", ["cloudtrail:LookupEvents", "ec2:DescribeRegions", "securityhub:BatchImportFindings"]
)
def test_each_reporting_action_is_needed(hub: Any, cli: Any, operator: Any, missing: str) -> None:
    operator(without(printed_policy(cli, *DETECT_AND_REPORT), missing))
    r = cli("root-use", "--endpoint-url", hub.endpoint_url, *REPORT_RUN)
    assert r.code == 3, r.out + r.err
    assert missing in r.err
    assert "Traceback" not in r.err


def test_the_printed_policy_is_enough_to_resolve_the_finding_after_a_fix(
    hub: Any, cli: Any, operator: Any
) -> None:
    printed = ("--var", "user=alice", "--var", "access=both", "--account", ACCOUNT)
    operator(printed_policy(cli, *printed, "--security-hub"))
    r = cli(
        "root-use", "--endpoint-url", hub.endpoint_url, *FULL_FIX, "--security-hub", "-o", "json"
    )
    assert r.code == 0, r.err
    assert (r.json()["security_hub"]["imported"], r.json()["security_hub"]["resolved"]) == (4, 1)


def test_resolving_needs_batch_update_findings(hub: Any, cli: Any, operator: Any) -> None:
    """A role from an older printed policy: the fix and the import succeed, so the run exits 0;
    the workflow left unresolved is a warning naming the action and the finding."""
    printed = printed_policy(
        cli, "--var", "user=alice", "--var", "access=both", "--account", ACCOUNT, "--security-hub"
    )
    operator(without(printed, "securityhub:BatchUpdateFindings"))
    r = cli(
        "root-use", "--endpoint-url", hub.endpoint_url, *FULL_FIX, "--security-hub", "-o", "json"
    )
    assert r.code == 0, r.err
    doc = r.json()["security_hub"]
    assert (doc["imported"], doc["resolved"], doc["failed"]) == (4, 0, [])
    [failed] = doc["resolve_failed"]
    assert (failed["action"], failed["code"]) == ("resolve", "AccessDeniedException")
    assert "securityhub:BatchUpdateFindings" in failed["message"]
    in_use = f"remediate/{ACCOUNT}/root-user-in-use"
    assert f"Warning: securityhub:BatchUpdateFindings did not mark {in_use} (" in r.err
    assert "not marked resolved" in r.err


def test_a_refused_import_after_a_fix_exits_3(hub: Any, cli: Any, operator: Any) -> None:
    printed = printed_policy(
        cli, "--var", "user=alice", "--var", "access=both", "--account", ACCOUNT, "--security-hub"
    )
    operator(without(printed, "securityhub:BatchImportFindings"))
    r = cli(
        "root-use", "--endpoint-url", hub.endpoint_url, *FULL_FIX, "--security-hub", "-o", "json"
    )
    assert r.code == 3, r.err
    assert r.json()["remediation"]["changed"] == 7
    doc = r.json()["security_hub"]
    assert doc["imported"] == 0
    assert {(f["action"], f["code"]) for f in doc["failed"]} == {
        ("import", "AccessDeniedException")
    }


def test_a_security_hub_statement_for_another_account_denies_this_one(
    hub: Any, cli: Any, operator: Any
) -> None:
    operator(printed_policy(cli, "--detect-only", "--security-hub", "--account", OTHER_ACCOUNT))
    r = cli("root-use", "--endpoint-url", hub.endpoint_url, "--security-hub", "-o", "json")
    assert r.code == 3
    failed = r.json()["security_hub"]["failed"]
    assert len(failed) == 4
    assert {f["code"] for f in failed} == {"AccessDeniedException"}


@pytest.mark.parametrize(
    "field",
    [
        {"Severity": {"Label": "INFORMATIONAL"}},
        {"VerificationState": "BENIGN_POSITIVE"},
        {"Workflow": {"Status": "SUPPRESSED"}},
    ],
    ids=["Severity", "VerificationState", "SUPPRESSED"],
)
def test_security_hub_refuses_an_update_the_printed_policy_does_not_grant(
    hub: Any, cli: Any, operator: Any, field: dict[str, Any]
) -> None:
    # Under enforcement, as Security Hub authorizes BatchUpdateFindings (iamauth.py): the
    # workflow and note pass, a severity, a verification state or another status does not.
    printed = ("--var", "user=alice", "--account", ACCOUNT, "--security-hub")
    operator(printed_policy(cli, *printed))
    securityhub = boto3.client(
        "securityhub",
        region_name="us-east-1",
        endpoint_url=hub.endpoint_url,
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],  # the operator's (see operator)
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    )
    finding = {
        "Id": "remediate/x",
        "ProductArn": f"arn:aws:securityhub:us-east-1:{ACCOUNT}:product/{ACCOUNT}/default",
    }
    note = {"Text": "remediated", "UpdatedBy": "remediate"}
    allowed = securityhub.batch_update_findings(
        FindingIdentifiers=[finding], Workflow={"Status": "RESOLVED"}, Note=note
    )
    assert allowed["UnprocessedFindings"][0]["ErrorCode"] == "FindingNotFound"  # authorized
    update = {"Workflow": {"Status": "RESOLVED"}, "Note": note, **field}
    with pytest.raises(ClientError) as denied:
        securityhub.batch_update_findings(FindingIdentifiers=[finding], **update)
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
