"""The emulation of centralized root access and root credentials (remediate.sandbox.root), checked
through boto3 against the test server: botocore parses every answer with its own service models,
so a shape that differs from AWS's fails here.

Expectations come from AWS's documentation (the IAM user guide's task policies, the API
reference's errors), not from the emulator's own constants.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from remediate.sandbox import root as sandbox_root
from remediate.sandbox.server import SANDBOX_ACCOUNT_ID as ACCOUNT_ID
from support.orgs import root_access_key, seed_sandbox_organization
from support.taskpolicies import DELETE_POLICY_ACTIONS

if TYPE_CHECKING:
    from conftest import Moto

TASK = "arn:aws:iam::aws:policy/root-task/"
AUDIT = TASK + "IAMAuditRootUserCredentials"
DELETE = TASK + "IAMDeleteRootUserCredentials"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def status(exc: pytest.ExceptionInfo[ClientError]) -> int:
    return int(exc.value.response["ResponseMetadata"]["HTTPStatusCode"])


def client_with(moto: Moto, service: str, creds: dict[str, Any]) -> Any:
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=moto.endpoint_url,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds.get("SessionToken"),
    )


@pytest.fixture
def ids(moto: Moto) -> dict[str, str]:
    """The sandbox's organization, centralized root access not enabled at all."""
    return seed_sandbox_organization(moto, central_root_access=())


def assume_root(moto: Moto, account_id: str, policy: str = AUDIT, **kwargs: Any) -> Any:
    creds = moto.client("sts").assume_root(
        TargetPrincipal=account_id, TaskPolicyArn={"arn": policy}, **kwargs
    )["Credentials"]
    return creds


def root_iam(moto: Moto, account_id: str, policy: str = AUDIT) -> Any:
    return client_with(moto, "iam", assume_root(moto, account_id, policy))


# --- Organizations features ------------------------------------------------------------------


def test_features_need_an_organization(moto: Moto) -> None:
    iam = moto.client("iam")
    with pytest.raises(iam.exceptions.OrganizationNotFoundException):
        iam.list_organizations_features()


def test_features_need_trusted_access_then_are_enabled_one_by_one(
    moto: Moto, ids: dict[str, str]
) -> None:
    iam = moto.client("iam")
    with pytest.raises(iam.exceptions.ServiceAccessNotEnabledException):
        iam.list_organizations_features()
    with pytest.raises(iam.exceptions.ServiceAccessNotEnabledException):
        iam.enable_organizations_root_sessions()

    moto.client("organizations").enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
    listed = iam.list_organizations_features()
    assert listed["OrganizationId"].startswith("o-")
    assert listed["EnabledFeatures"] == []

    enabled = iam.enable_organizations_root_credentials_management()
    assert enabled["EnabledFeatures"] == ["RootCredentialsManagement"]
    enabled = iam.enable_organizations_root_sessions()
    assert enabled["EnabledFeatures"] == ["RootCredentialsManagement", "RootSessions"]
    # Enabling again changes nothing.
    again = iam.enable_organizations_root_sessions()
    assert again["EnabledFeatures"] == enabled["EnabledFeatures"]
    assert iam.list_organizations_features()["OrganizationId"] == listed["OrganizationId"]


def test_features_from_a_member_account_are_refused(moto: Moto, ids: dict[str, str]) -> None:
    sandbox_root.enable_central_root_access(ACCOUNT_ID)
    role = f"arn:aws:iam::{ids['dev']}:role/OrganizationAccountAccessRole"
    creds = moto.client("sts").assume_role(RoleArn=role, RoleSessionName="test")["Credentials"]
    iam = client_with(moto, "iam", creds)
    with pytest.raises(iam.exceptions.AccountNotManagementOrDelegatedAdministratorException):
        iam.list_organizations_features()
    with pytest.raises(iam.exceptions.CallerIsNotManagementAccountException):
        iam.enable_organizations_root_credentials_management()


def test_the_delegated_administrator_for_iam_reads_features_and_assumes_root(
    moto: Moto, ids: dict[str, str]
) -> None:
    sandbox_root.enable_central_root_access(ACCOUNT_ID)
    role = f"arn:aws:iam::{ids['audit']}:role/OrganizationAccountAccessRole"
    creds = moto.client("sts").assume_role(RoleArn=role, RoleSessionName="test")["Credentials"]
    sts = client_with(moto, "sts", creds)
    target = {"TargetPrincipal": ids["dev"], "TaskPolicyArn": {"arn": AUDIT}}
    with pytest.raises(ClientError) as before:
        sts.assume_root(**target)
    assert code(before) == "AccessDenied"

    moto.client("organizations").register_delegated_administrator(
        AccountId=ids["audit"], ServicePrincipal="iam.amazonaws.com"
    )
    iam = client_with(moto, "iam", creds)
    assert "RootCredentialsManagement" in iam.list_organizations_features()["EnabledFeatures"]
    with pytest.raises(iam.exceptions.CallerIsNotManagementAccountException):
        iam.enable_organizations_root_sessions()
    assert sts.assume_root(**target)["Credentials"]["AccessKeyId"].startswith("ASIA")
    # Organizations answers it as AWS answers a delegated administrator: the organization's.
    organizations = client_with(moto, "organizations", creds)
    admins = organizations.list_delegated_administrators(ServicePrincipal="iam.amazonaws.com")
    assert [a["Id"] for a in admins["DelegatedAdministrators"]] == [ids["audit"]]
    listed = {a["Id"] for a in organizations.list_accounts()["Accounts"]}
    assert {ACCOUNT_ID, ids["dev"], ids["audit"]} <= listed


# --- sts:AssumeRoot --------------------------------------------------------------------------


def test_assume_root_needs_root_credentials_management(moto: Moto, ids: dict[str, str]) -> None:
    with pytest.raises(ClientError) as denied:
        assume_root(moto, ids["dev"])
    assert (code(denied), status(denied)) == ("AccessDenied", 403)

    sandbox_root.enable_central_root_access(ACCOUNT_ID, ("RootSessions",))
    with pytest.raises(ClientError) as still:
        assume_root(moto, ids["dev"])
    assert "RootCredentialsManagement" in still.value.response["Error"]["Message"]

    sandbox_root.enable_central_root_access(ACCOUNT_ID, ("RootCredentialsManagement",))
    creds = assume_root(moto, ids["dev"], DurationSeconds=900)
    assert creds["AccessKeyId"].startswith("ASIA")
    assert creds["Expiration"].tzinfo is not None
    me = client_with(moto, "sts", creds).get_caller_identity()
    assert me["Arn"] == f"arn:aws:iam::{ids['dev']}:root"
    assert me["Account"] == ids["dev"]


def test_assume_root_never_targets_the_management_account(moto: Moto, ids: dict[str, str]) -> None:
    sandbox_root.enable_central_root_access(ACCOUNT_ID)
    with pytest.raises(ClientError) as denied:
        assume_root(moto, ACCOUNT_ID)
    assert code(denied) == "AccessDenied"
    assert "management account" in denied.value.response["Error"]["Message"]


def test_assume_root_refuses_outsiders_and_bad_input(moto: Moto, ids: dict[str, str]) -> None:
    sandbox_root.enable_central_root_access(ACCOUNT_ID)
    with pytest.raises(ClientError) as outsider:
        assume_root(moto, "999999999999")
    assert code(outsider) == "AccessDenied"
    with pytest.raises(ClientError) as too_long:
        assume_root(moto, ids["dev"], DurationSeconds=901)
    assert code(too_long) == "ValidationError"
    with pytest.raises(ClientError) as not_a_task:
        assume_root(moto, ids["dev"], "arn:aws:iam::aws:policy/AdministratorAccess")
    assert code(not_a_task) == "ValidationError"
    # The target may be given as the member's root ARN too.
    assume_root(moto, f"arn:aws:iam::{ids['dev']}:root")


def test_root_credentials_cannot_call_assume_root(moto: Moto, ids: dict[str, str]) -> None:
    sandbox_root.enable_central_root_access(ACCOUNT_ID)
    session = client_with(moto, "sts", assume_root(moto, ids["dev"]))
    with pytest.raises(ClientError) as denied:
        session.assume_root(TargetPrincipal=ids["prod"], TaskPolicyArn={"arn": AUDIT})
    assert code(denied) == "AccessDenied"


# --- task sessions ---------------------------------------------------------------------------


def test_audit_session_reads_root_credentials_without_user_name(
    moto: Moto, ids: dict[str, str]
) -> None:
    sandbox_root.enable_central_root_access(ACCOUNT_ID)
    dev = root_iam(moto, ids["dev"])
    profile = dev.get_login_profile()["LoginProfile"]
    assert profile["CreateDate"].tzinfo is not None
    keys = dev.list_access_keys()["AccessKeyMetadata"]
    assert [k["Status"] for k in keys] == ["Active"]
    certs = dev.list_signing_certificates()["Certificates"]
    assert len(certs) == 1
    assert certs[0]["CertificateBody"].startswith("-----BEGIN CERTIFICATE-----")
    assert dev.list_mfa_devices()["MFADevices"] == []

    prod = root_iam(moto, ids["prod"])
    [device] = prod.list_mfa_devices()["MFADevices"]
    assert device["SerialNumber"].startswith(f"arn:aws:iam::{ids['prod']}:mfa/")

    audit = root_iam(moto, ids["audit"])
    with pytest.raises(audit.exceptions.NoSuchEntityException):
        audit.get_login_profile()


@pytest.mark.parametrize(
    "call",
    [
        lambda iam: iam.delete_login_profile(),  # outside the audit task policy
        lambda iam: iam.list_users(),
        lambda iam: iam.create_user(UserName="mallory"),
        lambda iam: iam.list_access_keys(UserName="alice"),  # an IAM user, not root
    ],
    ids=["delete-login-profile", "list-users", "create-user", "names-a-user"],
)
def test_audit_session_is_denied_what_its_task_policy_does_not_allow(
    moto: Moto, ids: dict[str, str], call: Any
) -> None:
    sandbox_root.enable_central_root_access(ACCOUNT_ID)
    iam = root_iam(moto, ids["dev"])
    with pytest.raises(ClientError) as denied:
        call(iam)
    assert (code(denied), status(denied)) == ("AccessDenied", 403)
    assert "session policy" in denied.value.response["Error"]["Message"]
    # Nothing changed: dev's root still has its password.
    assert root_iam(moto, ids["dev"]).get_login_profile()["LoginProfile"]


def test_delete_session_allows_exactly_the_documented_actions() -> None:
    assert sandbox_root.TASK_POLICIES["IAMDeleteRootUserCredentials"][0] == DELETE_POLICY_ACTIONS


def test_delete_session_deletes_and_the_credential_report_follows(
    moto: Moto, ids: dict[str, str]
) -> None:
    sandbox_root.enable_central_root_access(ACCOUNT_ID)
    dev = root_iam(moto, ids["dev"], DELETE)
    [key] = dev.list_access_keys()["AccessKeyMetadata"]
    [cert] = dev.list_signing_certificates()["Certificates"]
    dev.delete_access_key(AccessKeyId=key["AccessKeyId"])
    dev.delete_signing_certificate(CertificateId=cert["CertificateId"])
    dev.delete_login_profile()
    with pytest.raises(dev.exceptions.NoSuchEntityException):
        dev.delete_login_profile()
    with pytest.raises(dev.exceptions.NoSuchEntityException):
        dev.delete_access_key(AccessKeyId=key["AccessKeyId"])
    assert dev.list_access_keys()["AccessKeyMetadata"] == []

    prod = root_iam(moto, ids["prod"], DELETE)
    [device] = prod.list_mfa_devices()["MFADevices"]
    prod.deactivate_mfa_device(SerialNumber=device["SerialNumber"])
    assert prod.list_mfa_devices()["MFADevices"] == []

    for name, column in (("dev", "access_key_1_active"), ("prod", "mfa_active")):
        role = f"arn:aws:iam::{ids[name]}:role/OrganizationAccountAccessRole"
        creds = moto.client("sts").assume_role(RoleArn=role, RoleSessionName="test")
        iam = client_with(moto, "iam", creds["Credentials"])
        iam.generate_credential_report()
        header, root_row = iam.get_credential_report()["Content"].decode().splitlines()[:2]
        row = dict(zip(header.split(","), root_row.split(","), strict=True))
        assert row["user"] == "<root_account>"
        assert row[column] == "false"
        if name == "dev":
            assert row["cert_1_active"] == "false"
            assert row["access_key_1_last_used_date"] == "N/A"


def test_a_session_expires(moto: Moto, ids: dict[str, str]) -> None:
    sandbox_root.enable_central_root_access(ACCOUNT_ID)
    iam = client_with(moto, "iam", assume_root(moto, ids["dev"], DurationSeconds=0))
    with pytest.raises(ClientError) as expired:
        iam.list_access_keys()
    assert code(expired) == "ExpiredToken"


# --- root's own access keys ------------------------------------------------------------------


def test_root_access_key_signs_as_root(moto: Moto, ids: dict[str, str]) -> None:
    key_id, secret = root_access_key(ids["dev"])
    creds = {"AccessKeyId": key_id, "SecretAccessKey": secret}
    me = client_with(moto, "sts", creds).get_caller_identity()
    assert me["Arn"] == f"arn:aws:iam::{ids['dev']}:root"

    iam = client_with(moto, "iam", creds)
    # Root is not limited by any task policy: it manages its own account's IAM.
    iam.create_group(GroupName="Admins")
    assert [k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]] == [key_id]
    iam.delete_access_key(AccessKeyId=key_id)
    # The key just deleted no longer signs anything.
    with pytest.raises(ClientError) as refused:
        iam.list_groups()
    assert (code(refused), status(refused)) == ("InvalidClientTokenId", 403)
    with pytest.raises(ClientError) as assume:
        client_with(moto, "sts", creds).get_caller_identity()
    assert code(assume) == "InvalidClientTokenId"


@pytest.mark.parametrize(
    "call",
    [
        lambda iam: iam.get_login_profile(),
        lambda iam: iam.delete_login_profile(),
        lambda iam: iam.deactivate_mfa_device(
            SerialNumber=f"arn:aws:iam::{ACCOUNT_ID}:mfa/root-account-mfa-device"
        ),
    ],
    ids=["get-login-profile", "delete-login-profile", "deactivate-mfa-device"],
)
def test_root_own_keys_need_an_assume_root_session_to_omit_user_name(moto: Moto, call: Any) -> None:
    """botocore's IAM model: "When you make this request with root user credentials, you must use
    an AssumeRoot session to omit the user name." (the error code is our assumption)"""
    from remediate.sandbox.server import RootState

    moto.set_root(RootState(key_1_active=True, mfa_active=True))
    key_id, secret = root_access_key(ACCOUNT_ID)
    iam = client_with(moto, "iam", {"AccessKeyId": key_id, "SecretAccessKey": secret})
    with pytest.raises(ClientError) as refused:
        call(iam)
    assert (code(refused), status(refused)) == ("ValidationError", 400)
    assert "AssumeRoot" in refused.value.response["Error"]["Message"]
    creds = sandbox_root.root_credentials(ACCOUNT_ID)
    assert creds is not None
    assert creds.login_profile is not None
    assert creds.mfa_devices
    # What root's own keys may do: list its MFA devices, list and delete its keys.
    assert iam.list_mfa_devices()["MFADevices"]
    assert [k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]] == [key_id]


def test_account_summary_answers_for_root(moto: Moto, ids: dict[str, str]) -> None:
    """moto has no AccountPasswordPresent and always 0 for AccountMFAEnabled: filled in from the
    root user's credentials, as IAM answers (1 or 0)."""
    sandbox_root.enable_central_root_access(ACCOUNT_ID)
    keys = ("AccountPasswordPresent", "AccountMFAEnabled", "AccountAccessKeysPresent")
    expected = {"dev": (1, 0, 1), "prod": (1, 1, 0), "audit": (0, 0, 0)}
    for name, facts in expected.items():
        summary = root_iam(moto, ids[name]).get_account_summary()["SummaryMap"]
        assert tuple(summary[k] for k in keys) == facts, name
    root_iam(moto, ids["prod"], DELETE).delete_login_profile()
    summary = root_iam(moto, ids["prod"]).get_account_summary()["SummaryMap"]
    assert summary["AccountPasswordPresent"] == 0


# S3UnlockBucketPolicy, as the IAM user guide prints it (README: emulation notes).
S3_UNLOCK_ACTIONS = {
    "s3:DeleteBucketPolicy",
    "s3:PutBucketPolicy",
    "s3:GetBucketPolicy",
    "s3:ListAllMyBuckets",
}


def test_unlock_tasks_are_as_the_readme_says(moto: Moto, ids: dict[str, str]) -> None:
    assert sandbox_root.TASK_POLICIES["S3UnlockBucketPolicy"][0] == S3_UNLOCK_ACTIONS
    # SQS's task actions are not reproduced: a session may open, and every call is denied.
    sandbox_root.enable_central_root_access(ACCOUNT_ID)
    sqs = client_with(moto, "sqs", assume_root(moto, ids["dev"], TASK + "SQSUnlockQueuePolicy"))
    with pytest.raises(ClientError) as denied:
        sqs.list_queues()
    assert code(denied) in {"AccessDenied", "AccessDeniedException"}
