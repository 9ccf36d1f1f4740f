"""Least privilege, proven: the policy `remediate permissions` prints is enough for the whole fix,
and every action in it is needed (moto enforces IAM policies with INITIAL_NO_AUTH_ACTION_COUNT)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto import settings as moto_settings

from remediate.permissions import DETECTION_ACTIONS, policy
from remediate.steps.base import registry

FULL_FIX = ("--create-admin", "alice", "--access", "both", "--mfa-auto", "--yes", "--tag", "Team=x")


def test_every_step_kind_declares_permissions() -> None:
    for kind, cls in registry().items():
        assert cls.permissions, f"step kind {kind} declares no IAM permissions"
        assert all(a.startswith(("iam:", "organizations:")) for a in cls.permissions), kind


def test_policy_document_shape(cli: Any) -> None:
    r = cli("permissions")
    assert r.code == 0
    doc = json.loads(r.out)
    assert doc["Version"] == "2012-10-17"
    detect, book = doc["Statement"]
    assert detect["Action"] == list(DETECTION_ACTIONS)
    assert "iam:CreateUser" in book["Action"]
    assert "iam:EnableMFADevice" in book["Action"]
    only = json.loads(cli("permissions", "--detect-only").out)
    assert len(only["Statement"]) == 1


@pytest.fixture
def operator(moto: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[list[str]], None]]:
    """Create an operator user holding a given action list, then enforce IAM policies."""
    iam = moto.client("iam")

    def become(actions: list[str]) -> None:
        doc = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
        }
        iam.create_user(UserName="operator")
        iam.put_user_policy(
            UserName="operator", PolicyName="remediate", PolicyDocument=json.dumps(doc)
        )
        key = iam.create_access_key(UserName="operator")["AccessKey"]
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
        monkeypatch.setattr(moto_settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)

    yield become
    monkeypatch.setattr(moto_settings, "INITIAL_NO_AUTH_ACTION_COUNT", float("inf"))


def _all_actions() -> list[str]:
    return sorted({a for s in policy("root-use")["Statement"] for a in s["Action"]})


def _state(moto: Any) -> dict[str, Any]:
    import boto3

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
    }
    if "alice" in users:
        state["keys"] = len(iam.list_access_keys(UserName="alice")["AccessKeyMetadata"])
        state["mfa"] = len(iam.list_mfa_devices(UserName="alice")["MFADevices"])
    return state


def test_generated_policy_is_enough_for_the_whole_fix(moto: Any, cli: Any, operator: Any) -> None:
    operator(_all_actions())
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, *FULL_FIX, "--output", "json")
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["remediation"]["changed"] == 7
    assert doc["mfa"]["enabled"] is True


def _needs_tag_update(moto: Any) -> None:
    moto.client("iam").create_user(UserName="alice", Tags=[{"Key": "Team", "Value": "old"}])


def _needs_stale_device(moto: Any) -> None:
    moto.client("iam").create_virtual_mfa_device(VirtualMFADeviceName="alice")


def _user_and_group_exist(moto: Any) -> None:
    # Reads of a user's or group's parts are skipped while the run itself creates them.
    iam = moto.client("iam")
    iam.create_group(GroupName="Administrators")
    iam.create_user(UserName="alice")


# Actions only some starting states exercise: the setup that makes the run need them.
SETUPS: dict[str, Callable[[Any], None]] = {
    "iam:TagUser": _needs_tag_update,
    "iam:DeleteVirtualMFADevice": _needs_stale_device,
    "iam:ListAttachedGroupPolicies": _user_and_group_exist,
    "iam:ListGroupsForUser": _user_and_group_exist,
    "iam:GetLoginProfile": _user_and_group_exist,
    "iam:ListAccessKeys": _user_and_group_exist,
    "iam:ListMFADevices": _user_and_group_exist,
}


@pytest.mark.parametrize("missing", _all_actions())
def test_each_action_is_needed(moto: Any, cli: Any, operator: Any, missing: str) -> None:
    if missing in SETUPS:
        SETUPS[missing](moto)
    full_state_prefix = _state(moto)
    operator([a for a in _all_actions() if a != missing])
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, *FULL_FIX)
    assert r.code == 3, r.out + r.err
    assert missing in r.err, r.err
    assert "Traceback" not in r.err
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


def test_organization_statements(cli: Any) -> None:
    doc = json.loads(cli("permissions", "--organization", "--role-name", "Auditor").out)
    sids = [s["Sid"] for s in doc["Statement"]]
    assert sids == [
        "DetectRootUse",
        "PlaybookRootUse",
        "ListOrganizationAccounts",
        "AssumeMemberAccountRole",
    ]
    assert doc["Statement"][-1]["Resource"] == "arn:aws:iam::*:role/Auditor"
    assert cli("permissions", "--organization", "--role-name", "bad role").code == 2
