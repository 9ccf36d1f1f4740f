"""No policy `remediate permissions` prints lets its holder gain a permission it does not grant
directly (issue 20, point 1).

Every printed variant (each shipped playbook; --var choices, the explicit wildcard included;
--account; --detect-only; --cloudtrail; --security-hub; --organization; --root-credentials; the
administrative policy) is evaluated with iampolicy.py, an evaluator written from the IAM policy
evaluation logic, against requests built from the Service Authorization Reference (the resource
each action is authorized on, and its condition keys). The known paths to administrator (AWS's
list of IAM privilege escalations) are tried on every variant:

- write a policy the holder may attach (CreatePolicy, CreatePolicyVersion,
  SetDefaultPolicyVersion, DeletePolicyVersion), or attach another policy (AttachUserPolicy,
  AttachGroupPolicy, AttachRolePolicy), or write an inline one (PutUserPolicy, PutGroupPolicy,
  PutRolePolicy);
- take over another user (CreateAccessKey, CreateLoginProfile, UpdateLoginProfile,
  EnableMFADevice, DeactivateMFADevice, a device of theirs deleted) or join another group;
- a role (PassRole, CreateRole, UpdateAssumeRolePolicy).

Where a playbook's own purpose makes its holder powerful, the test says so and proves that path
is the only one: root-use's operator adds a user to the administrators group (IAM authorizes
AddUserToGroup on the group alone), so it is an administrator-maker by design and should be a
short-lived role; onboard-user's operator can reach what the named group grants; --organization
assumes the named role in member accounts; --root-credentials opens root sessions with the audit
and delete task policies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from support.iampolicy import Request, allows, statements_of

ACCOUNT = "111122223333"
MEMBER = "444455556666"
IAM = f"arn:aws:iam::{ACCOUNT}"

# The account's principals: the run's named ones, an administrator, the holder itself.
USERS = ("alice", "dana", "carol", "operator", "alice-ops")
GROUPS = ("Administrators", "Developers", "Ops", "Other")
ROLES = ("AnyRole", "OrganizationAccountAccessRole")
AWS_MANAGED = ("AdministratorAccess", "IAMFullAccess", "IAMUserChangePassword", "PowerUserAccess")
CUSTOMER_MANAGED = ("RemediateSelfServiceMFA", "Anything")
POLICIES = tuple(f"arn:aws:iam::aws:policy/{p}" for p in AWS_MANAGED) + tuple(
    f"{IAM}:policy/{p}" for p in CUSTOMER_MANAGED
)
CHANGE_PASSWORD = "arn:aws:iam::aws:policy/IAMUserChangePassword"
SELF_SERVICE = f"{IAM}:policy/RemediateSelfServiceMFA"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
ANY = "*"

# Writes that give a user's credentials (or a second factor) to whoever makes them.
TAKE_OVER_USER = (
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:EnableMFADevice",
    "iam:DeactivateMFADevice",
    "iam:ResyncMFADevice",
    "iam:DeleteLoginProfile",
    "iam:UpdateUser",
    "iam:DeleteUser",
    "iam:PutUserPolicy",
    "iam:DeleteUserPolicy",
    "iam:DetachUserPolicy",
    "iam:PutUserPermissionsBoundary",
    "iam:DeleteUserPermissionsBoundary",
)
POLICY_WRITES = (
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:DeletePolicyVersion",
    "iam:DeletePolicy",
    "iam:TagPolicy",
)
ROLE_WRITES = (
    "iam:CreateRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:CreateServiceLinkedRole",
    "iam:UpdateRole",
)
GROUP_WRITES = ("iam:PutGroupPolicy", "iam:DetachGroupPolicy", "iam:RemoveUserFromGroup")


def user(name: str) -> str:
    return f"{IAM}:user/{name}"


def group(name: str) -> str:
    return f"{IAM}:group/{name}"


def role(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def attach(action: str, resource: str, policy_arn: str) -> Request:
    # Attach*Policy: authorized on the principal; the policy is the iam:PolicyARN condition key.
    return Request(action, resource, {"iam:PolicyARN": policy_arn})


@dataclass(frozen=True)
class Variant:
    """A printed policy and what its run names: the user and group (``*``: every one), the
    policies it attaches to that user and group, and the by-design paths it holds."""

    args: tuple[str, ...]
    user: str | None = None
    group: str | None = None
    user_policies: frozenset[str] = frozenset()
    group_policy: str | None = None
    # The playbook's purpose makes the holder able to add any user to ``group``.
    group_maker: bool = False
    # Credential writes on the named user (console, keys, MFA device).
    credentials: frozenset[str] = frozenset()
    mfa_device: bool = False
    role: str | None = None  # --organization: the member role it assumes
    root_sessions: bool = False  # --root-credentials
    administrative: bool = False
    security_hub: str | None = None  # "detect" or "remediate"
    warned: bool = False  # a wildcard the command warns about
    extra: dict[str, Any] = field(default_factory=dict)


CONSOLE = frozenset({"iam:CreateLoginProfile", "iam:UpdateLoginProfile"})
KEYS = frozenset({"iam:CreateAccessKey"})
MFA = frozenset({"iam:EnableMFADevice"})


def root_use(*extra: str, **kw: Any) -> Variant:
    named = next((a.split("=", 1)[1] for a in extra if a.startswith("user=")), "alice")
    policies = {CHANGE_PASSWORD} if kw.pop("console", True) else set()
    if kw.pop("self_service", False):
        policies.add(SELF_SERVICE.replace(ACCOUNT, kw.pop("policy_account", ACCOUNT)))
    defaults: dict[str, Any] = {
        "user": named,
        "group": "Administrators",
        "group_policy": ADMIN,
        "group_maker": True,
        "user_policies": frozenset(policies),
        "credentials": CONSOLE | MFA,
        "mfa_device": True,
    }
    defaults.update(kw)
    return Variant(("root-use", *extra), **defaults)


def onboard(*extra: str, **kw: Any) -> Variant:
    defaults: dict[str, Any] = {
        "user": "dana",
        "group": "Developers",
        "group_maker": True,
        "user_policies": frozenset({CHANGE_PASSWORD}),
        "credentials": CONSOLE,
    }
    defaults.update(kw)
    return Variant(("onboard-user", "--var", "user=dana", *extra), **defaults)


A = ("--var", "user=alice")
OU = "ou-abcd-12345678"
FOR = ("--account", ACCOUNT)
VARIANTS: dict[str, Variant] = {
    "root-use": root_use(*A, *FOR),
    "root-use any account": root_use(*A),
    "root-use access both": root_use(
        *A, "--var", "access=both", *FOR, credentials=CONSOLE | KEYS | MFA
    ),
    "root-use keys no mfa": root_use(
        *A,
        "--var",
        "access=programmatic",
        "--var",
        "mfa=false",
        *FOR,
        console=False,
        credentials=KEYS,
        mfa_device=False,
    ),
    "root-use self-service": root_use(
        *A,
        "--var",
        "mfa_self_service=true",
        "--var",
        "mfa=false",
        *FOR,
        self_service=True,
        credentials=CONSOLE,
        mfa_device=False,
    ),
    "root-use other group and policy": root_use(
        *A,
        "--var",
        "group=Ops",
        "--var",
        "policy=PowerUserAccess",
        *FOR,
        group="Ops",
        group_policy="arn:aws:iam::aws:policy/PowerUserAccess",
    ),
    "root-use root keys": root_use(*A, "--var", "delete_root_keys=true", *FOR),
    "root-use every user (warned)": root_use(
        "--var",
        "user=*",
        "--var",
        "access=both",
        *FOR,
        user=ANY,
        credentials=CONSOLE | KEYS | MFA,
        warned=True,
    ),
    "root-use cloudtrail security hub": root_use(
        *A, *FOR, "--cloudtrail", "--security-hub", security_hub="remediate"
    ),
    "root-use organization": root_use(*A, "--organization", role="OrganizationAccountAccessRole"),
    "root-use organization role": root_use(
        *A, "--organization", "--role-name", "RemediateAuditor", role="RemediateAuditor"
    ),
    "detect-only": Variant(("root-use", "--detect-only")),
    "detect-only reporting": Variant(
        ("--detect-only", "--cloudtrail", "--security-hub", *FOR), security_hub="detect"
    ),
    "detect-only organization": Variant(
        ("--detect-only", "--organization"), role="OrganizationAccountAccessRole"
    ),
    "onboard-user": onboard("--var", "group=Developers", *FOR),
    "onboard-user mfa keys": onboard(
        "--var",
        "group=Developers",
        "--var",
        "mfa=true",
        "--var",
        "access=both",
        *FOR,
        credentials=CONSOLE | KEYS | MFA,
        mfa_device=True,
    ),
    "onboard-user self-service": onboard(
        "--var",
        "group=Developers",
        "--var",
        "mfa_self_service=true",
        *FOR,
        user_policies=frozenset({CHANGE_PASSWORD, SELF_SERVICE}),
    ),
    "onboard-user every group (warned)": onboard("--var", "group=*", *FOR, group=ANY, warned=True),
    "centralize": Variant(("root-credentials-centralize",)),
    # root-credentials deny-root: the organization's root by default, or the targets named.
    "deny-root": Variant(("--deny-root",), extra={"deny_root": ("r-abcd",)}),
    "deny-root targets": Variant(
        ("--deny-root", *FOR, "--var", f"targets={OU},{MEMBER}"),
        extra={"deny_root": (OU, MEMBER)},
    ),
    "root-credentials": Variant(("--root-credentials",), root_sessions=True),
    # The step reads whether the run's user has a device already: the user is named.
    "administrative root-use": Variant(
        ("root-use", "--administrative", "--var", "user=alice", *FOR), administrative=True
    ),
    "administrative onboard-user": Variant(
        ("onboard-user", "--administrative", "--var", "user=alice", *FOR), administrative=True
    ),
    "administrative playbook": Variant(
        ("mfa-self-service-policy", "--administrative", *FOR), administrative=True
    ),
    "watch": Variant(("--watch", *FOR)),
    "watch any account": Variant(("--watch",)),
    "watch cis-alarm security hub": Variant(
        # status imports its findings and never updates their workflow.
        ("--watch", "--cis-alarm", "--security-hub", *FOR)
    ),
    "watch organization": Variant(
        ("--watch", "--organization"), role="OrganizationAccountAccessRole"
    ),
    # The forwarding role's trust and inline policy: an administrator's to write.
    "administrative watch": Variant(("--watch", "--administrative", *FOR)),
}


@pytest.fixture(params=sorted(VARIANTS))
def printed(request: pytest.FixtureRequest, cli: Any) -> tuple[Variant, dict[str, Any]]:
    variant = VARIANTS[request.param]
    r = cli("permissions", *variant.args)
    assert r.code == 0, r.err
    if variant.warned:
        assert "Warning: --var" in r.err
    else:
        assert r.err == ""
    return variant, json.loads(r.out)


def _named(name: str | None, candidate: str) -> bool:
    return name is not None and (name == ANY or name.casefold() == candidate.casefold())


# --- the escalation paths ------------------------------------------------------------------------


def _attachable(document: dict[str, Any]) -> set[str]:
    """The policies the holder may attach to some principal of the account."""
    principals = (
        [("iam:AttachUserPolicy", user(name)) for name in (*USERS, "bob")]
        + [("iam:AttachGroupPolicy", group(name)) for name in GROUPS]
        + [("iam:AttachRolePolicy", role(name)) for name in ROLES]
    )
    return {
        policy_arn
        for policy_arn in POLICIES
        for action, resource in principals
        if allows(document, attach(action, resource, policy_arn))
    }


def test_no_policy_it_may_attach_can_be_rewritten(printed: tuple[Variant, dict[str, Any]]) -> None:
    """CreatePolicyVersion (+ SetDefaultPolicyVersion) on a policy its holder may attach is
    administrator: the new default version says what it likes. The operator writes no policy;
    the administrator's policy writes the self-service MFA policy and attaches nothing (the two
    must never be one principal's: together they are that escalation)."""
    variant, document = printed
    attachable = _attachable(document)
    for policy_arn in POLICIES:
        for action in POLICY_WRITES:
            written = allows(document, Request(action, policy_arn))
            if policy_arn in attachable:
                assert not written, (action, policy_arn)
            expected = (
                variant.administrative
                and policy_arn == SELF_SERVICE
                and action == "iam:CreatePolicy"
            )
            assert written is expected, (action, policy_arn)
    assert not allows(document, Request("iam:CreatePolicy", f"{IAM}:policy/Anything"))
    if variant.administrative:
        assert attachable == set()


def test_it_attaches_only_what_the_playbook_attaches_where_it_attaches_it(
    printed: tuple[Variant, dict[str, Any]],
) -> None:
    variant, document = printed
    for name in (*USERS, "bob"):
        for policy_arn in POLICIES:
            expected = _named(variant.user, name) and policy_arn in variant.user_policies
            got = allows(document, attach("iam:AttachUserPolicy", user(name), policy_arn))
            assert got is expected, (name, policy_arn)
    for name in GROUPS:
        for policy_arn in POLICIES:
            expected = _named(variant.group, name) and policy_arn == variant.group_policy
            if variant.group == ANY:
                expected = False  # onboard-user attaches nothing to its group
            got = allows(document, attach("iam:AttachGroupPolicy", group(name), policy_arn))
            assert got is expected, (name, policy_arn)
    for name in ROLES:
        for policy_arn in POLICIES:
            assert not allows(document, attach("iam:AttachRolePolicy", role(name), policy_arn))


def test_no_inline_policy_no_role_no_pass_role(printed: tuple[Variant, dict[str, Any]]) -> None:
    _, document = printed
    for name in (*USERS, ANY):
        assert not allows(document, Request("iam:PutUserPolicy", user(name)))
    for name in (*GROUPS, ANY):
        for action in GROUP_WRITES:
            assert not allows(document, Request(action, group(name))), (action, name)
    for name in (*ROLES, ANY):
        for action in ROLE_WRITES:
            assert not allows(document, Request(action, role(name))), (action, name)
        for service in ("ec2.amazonaws.com", "lambda.amazonaws.com"):
            passing = Request("iam:PassRole", role(name), {"iam:PassedToService": service})
            assert not allows(document, passing), name


def test_credentials_only_for_the_user_it_names(printed: tuple[Variant, dict[str, Any]]) -> None:
    """CreateAccessKey, a console password or an MFA device of one's own on another user is
    that user's power: only the named user's, and only those the run makes."""
    variant, document = printed
    for name in (*USERS, "bob"):
        for action in TAKE_OVER_USER:
            expected = _named(variant.user, name) and action in variant.credentials
            got = allows(document, Request(action, user(name)))
            assert got is expected, (action, name)


def test_devices_only_of_the_user_it_names(printed: tuple[Variant, dict[str, Any]]) -> None:
    """Another user's pending virtual MFA device (a hand-off on its way) is never deleted; a
    device named after another user is never made."""
    variant, document = printed
    for name in ("alice", "dana", "carol", "alice-ops", "alice-2", "phone"):
        expected = variant.mfa_device and _named(variant.user, name)
        for action in ("iam:CreateVirtualMFADevice", "iam:DeleteVirtualMFADevice"):
            got = allows(document, Request(action, f"{IAM}:mfa/{name}"))
            assert got is expected, (action, name)


def test_it_joins_users_only_to_the_group_it_names(
    printed: tuple[Variant, dict[str, Any]],
) -> None:
    """AddUserToGroup is authorized on the group alone: whoever may add the named user may add
    anybody, itself included. root-use's operator is therefore an administrator-maker by design
    (the group is the administrators group); onboard-user's can reach what the named group
    grants. Nothing beyond that group."""
    variant, document = printed
    for name in GROUPS:
        expected = variant.group_maker and _named(variant.group, name)
        assert allows(document, Request("iam:AddUserToGroup", group(name))) is expected, name
    if variant.args[0] == "root-use" and variant.group_maker:
        # The by-design path, said out loud: the administrators group, AdministratorAccess.
        assert allows(document, Request("iam:AddUserToGroup", group(variant.group or "")))
        assert variant.group_policy is not None


# --- by design, and nothing more -----------------------------------------------------------------


def test_roles_are_assumed_only_where_asked(printed: tuple[Variant, dict[str, Any]]) -> None:
    """--organization assumes the named role in member accounts (by design: its holder gets
    what that role grants there, so name a role holding the printed policy, not the default
    OrganizationAccountAccessRole, which is an administrator). Nothing else is assumed."""
    variant, document = printed
    for name in (*ROLES, "RemediateAuditor"):
        for account in (ACCOUNT, MEMBER):
            expected = variant.role == name
            got = allows(document, Request("sts:AssumeRole", role(name, account)))
            assert got is expected, (name, account)


def test_root_sessions_only_with_the_audit_and_delete_task_policies(
    printed: tuple[Variant, dict[str, Any]],
) -> None:
    variant, document = printed
    root = f"arn:aws:iam::{MEMBER}:root"
    for task in (
        "IAMAuditRootUserCredentials",
        "IAMDeleteRootUserCredentials",
        "IAMCreateRootUserPassword",
        "IAMUnlockS3BucketPolicy",
        "IAMUnlockSQSQueuePolicy",
    ):
        arn = f"arn:aws:iam::aws:policy/root-task/{task}"
        expected = variant.root_sessions and task in (
            "IAMAuditRootUserCredentials",
            "IAMDeleteRootUserCredentials",
        )
        got = allows(document, Request("sts:AssumeRoot", root, {"sts:TaskPolicyArn": arn}))
        assert got is expected, task
    for principal in ("iam.amazonaws.com", "sso.amazonaws.com", "config.amazonaws.com"):
        trust = Request(
            "organizations:EnableAWSServiceAccess",
            "*",
            {"organizations:ServicePrincipal": principal},
        )
        expected = (variant.root_sessions or variant.args[0] == "root-credentials-centralize") and (
            principal == "iam.amazonaws.com"
        )
        assert allows(document, trust) is expected, principal


def test_security_hub_only_its_workflow_and_note(printed: tuple[Variant, dict[str, Any]]) -> None:
    variant, document = printed
    hub = f"arn:aws:securityhub:us-east-1:{ACCOUNT}:hub/default"
    path = "securityhub:ASFFSyntaxPath/"
    note = {path + "Note.Text": "remediated", path + "Note.UpdatedBy": "remediate"}
    for status in ("NEW", "RESOLVED", "NOTIFIED", "SUPPRESSED"):
        request = Request(
            "securityhub:BatchUpdateFindings", hub, {path + "Workflow.Status": status, **note}
        )
        expected = (status == "NEW" and variant.security_hub is not None) or (
            status == "RESOLVED" and variant.security_hub == "remediate"
        )
        assert allows(document, request) is expected, status
    severity = Request(
        "securityhub:BatchUpdateFindings",
        hub,
        {path + "Workflow.Status": "NEW", path + "Severity.Label": "INFORMATIONAL", **note},
    )
    assert not allows(document, severity)
    other_product = "arn:aws:securityhub:us-east-1::product/aws/guardduty"
    assert not allows(document, Request("securityhub:BatchImportFindings", other_product))
    for action in ("securityhub:DisableSecurityHub", "securityhub:CreateAutomationRule"):
        assert not allows(document, Request(action, hub)), action


ORG = f"arn:aws:organizations::{ACCOUNT}"
ORG_ID = "o-exampleorgid"


def org_target(target: str) -> str:
    kind = "root" if target.startswith("r-") else "ou" if target.startswith("ou-") else "account"
    return f"{ORG}:{kind}/{ORG_ID}/{target}"


def org_policy(policy_type: str = "service_control_policy") -> str:
    return f"{ORG}:policy/{ORG_ID}/{policy_type}/p-examplepolicy1"


# Organizations writes no printed policy grants on any resource: each would change or remove
# what governs the member accounts (a detached or rewritten SCP lets root act again).
ORGANIZATIONS_NEVER = (
    "organizations:UpdatePolicy",
    "organizations:DeletePolicy",
    "organizations:DetachPolicy",
    "organizations:DisablePolicyType",
    "organizations:PutResourcePolicy",
    "organizations:DeleteResourcePolicy",
    "organizations:RegisterDelegatedAdministrator",
    "organizations:MoveAccount",
    "organizations:RemoveAccountFromOrganization",
    "organizations:CreateAccount",
    "organizations:TagResource",
)


def test_service_control_policies_only_on_the_targets_it_names(
    printed: tuple[Variant, dict[str, Any]],
) -> None:
    """--deny-root creates service control policies (a policy's ARN holds its id, not its name:
    the grant is scoped to the SCP type) and attaches them to the targets named, the root by
    default; no other policy type, no other target, nothing that detaches or rewrites a policy.
    An SCP only takes permissions away: attaching one grants its holder nothing."""
    variant, document = printed
    targets = variant.extra.get("deny_root", ())
    # root-activity status reads the SCPs on every account, OU and root above it (a read).
    reads_every_target = "--watch" in variant.args and "--administrative" not in variant.args
    scp = {"organizations:PolicyType": "SERVICE_CONTROL_POLICY"}
    tag = {"organizations:PolicyType": "TAG_POLICY"}
    for candidate in ("r-abcd", OU, "ou-abcd-87654321", MEMBER, "777788889999"):
        resource = org_target(candidate)
        expected = candidate in targets
        got = allows(document, Request("organizations:AttachPolicy", resource, scp))
        assert got is expected, ("organizations:AttachPolicy", candidate)
        listed = Request("organizations:ListPoliciesForTarget", resource, scp)
        assert allows(document, listed) is (expected or reads_every_target), candidate
        for action in ("organizations:AttachPolicy", "organizations:ListPoliciesForTarget"):
            if action == "organizations:ListPoliciesForTarget" and reads_every_target:
                continue  # status's read is not scoped by policy type
            assert not allows(document, Request(action, resource, tag)), (action, candidate)
    deny_root = bool(targets)
    for action in ("organizations:CreatePolicy", "organizations:AttachPolicy"):
        assert allows(document, Request(action, org_policy(), scp)) is deny_root, action
        assert not allows(document, Request(action, org_policy("tag_policy"), tag)), action
    enable = Request("organizations:EnablePolicyType", org_target("r-abcd"), scp)
    assert allows(document, enable) is deny_root
    assert not allows(
        document, Request("organizations:EnablePolicyType", org_target("r-abcd"), tag)
    )
    for action in ORGANIZATIONS_NEVER:
        for resource in (ANY, org_policy(), org_target("r-abcd"), org_target(MEMBER)):
            assert not allows(document, Request(action, resource, scp)), (action, resource)


def test_every_statement_is_an_allow_of_named_actions(
    printed: tuple[Variant, dict[str, Any]],
) -> None:
    """No NotAction or NotResource (they grant everything they do not name), no wildcard in an
    action, and ``*`` only for what IAM scopes to no resource."""
    _, document = printed
    unscoped = {
        "iam:GenerateCredentialReport",
        "iam:GetCredentialReport",
        "iam:GetAccountSummary",
        "iam:GetAccountPasswordPolicy",
        "iam:ListVirtualMFADevices",
        "cloudtrail:LookupEvents",
        "ec2:DescribeRegions",
        "organizations:ListAccounts",
        "organizations:ListDelegatedAdministrators",
        "organizations:DescribeOrganization",
        "organizations:ListAWSServiceAccessForOrganization",
        "organizations:EnableAWSServiceAccess",
        "iam:ListOrganizationsFeatures",
        "iam:EnableOrganizationsRootCredentialsManagement",
        "iam:EnableOrganizationsRootSessions",
        "organizations:ListRoots",
        "organizations:ListPolicies",
        # --watch's status reads: the Service Authorization Reference gives them no resource.
        "cloudtrail:DescribeTrails",
        "events:ListRules",
        "organizations:ListParents",
    }
    for statement in statements_of(document):
        assert statement["Effect"] == "Allow"
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        assert not any("*" in a or "?" in a for a in actions), actions
        if statement["Resource"] == "*":
            assert set(actions) <= unscoped, actions


def test_every_variant_prints(cli: Any) -> None:
    # The list above is every option `permissions` has: a new one must join it.
    text = " ".join(cli("permissions", "--help").out.split())
    options = {
        "--var",
        "--account",
        "--region",
        "--detect-only",
        "--organization",
        "--role-name",
        "--root-credentials",
        "--cloudtrail",
        "--security-hub",
        "--administrative",
        "--deny-root",
        "--watch",
        "--cis-alarm",
    }
    for option in options:
        assert option in text, option
    used = {a for v in VARIANTS.values() for a in v.args if a.startswith("--")}
    assert used >= options - {"--region"}


@pytest.mark.parametrize(
    "args",
    [("root-use",), ("onboard-user",), ("onboard-user", "--var", "user=dana"), ("--organization",)],
)
def test_without_the_names_a_run_uses_nothing_is_printed(cli: Any, args: tuple[str, ...]) -> None:
    r = cli("permissions", *args)
    assert r.code == 2, r.err
    assert r.out == ""
    assert "is required" in r.err or "are required" in r.err
    assert "Tip: --var" in r.err
