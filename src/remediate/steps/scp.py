"""Step kinds that deny the root user of member accounts with a service control policy: the
SCP policy type is enabled in the organization's root, the policy exists with remediate's
document, and it is attached to the organization's root (or to the OUs and accounts named).

They run in the organization's management account, or in the delegated administrator for AWS
Organizations policies (botocore's model: ListRoots, EnablePolicyType, CreatePolicy and
AttachPolicy may be called from either). Organizations ARNs carry the management account and the
organization's id (``arn:aws:organizations::MGMT:policy/o-.../service_control_policy/p-...``):
a policy's ARN holds its id, never its name, so a grant can be scoped to the policy type and the
targets, not to the name of a policy not created yet.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from remediate.aws.calls import call
from remediate.core.errors import AwsError, InputError
from remediate.org.deny_root import (
    DENY_ROOT_DESCRIPTION,
    DENY_ROOT_POLICY_NAME,
    MANAGEMENT_ACCOUNT_NOT_DENIED,
    SERVICE_CONTROL_POLICY,
    PolicySummary,
    attached_policy_ids,
    document_lines,
    document_text,
    find_policy,
    organization_root,
    policy_content,
    policy_type_status,
    same_document,
    wait_for_policy_type,
)
from remediate.org.root_credentials import describe_organization
from remediate.steps.access import Access, Arns, Condition, Grant, anywhere
from remediate.steps.base import Change, StepContext, Unchanged
from remediate.steps.kind import Step, register
from remediate.steps.params import param

# How long a policy just created may stay out of ListPolicies (Organizations is eventually
# consistent, as IAM is).
POLICY_VISIBLE_TIMEOUT = 60.0


def _organizations_arn(arns: Arns, resource: str) -> str:
    """An AWS Organizations ARN of the organization ``arns.account`` manages (``*``: any)."""
    return f"arn:{arns.partition}:organizations::{arns.account}:{resource}"


def _the_root(args: object, arns: Arns) -> str:
    return _organizations_arn(arns, "root/o-*/r-*")


def _scps(args: object, arns: Arns) -> str:
    """Every service control policy of the organization: an SCP's ARN names its id only."""
    return _organizations_arn(arns, "policy/o-*/service_control_policy/p-*")


def _scp_type(args: object, arns: Arns) -> Condition:
    return {"StringEquals": {"organizations:PolicyType": SERVICE_CONTROL_POLICY}}


def target_arn(target: str, arns: Arns) -> str:
    """The ARN of a policy target (a root, an OU, an account), as IAM authorizes it."""
    if target.startswith("r-"):
        return _organizations_arn(arns, f"root/o-*/{target}")
    if target.startswith("ou-"):
        return _organizations_arn(arns, f"ou/o-*/{target}")
    return _organizations_arn(arns, f"account/o-*/{target}")


def targets_of(text: str) -> tuple[str, ...]:
    """The targets a ``targets`` parameter names (comma-separated); empty: the root."""
    return tuple(t.strip() for t in text.split(",") if t.strip())


def _require_all_features(ctx: StepContext, step_id: str) -> str:
    """The organization's management account id, once the organization is known to have all
    features (SCPs need them)."""
    organization = describe_organization(ctx.aws)
    if organization.get("FeatureSet") != "ALL":
        raise InputError(
            f"organization {organization['Id']} has only consolidated billing features: "
            "service control policies need all features",
            tip="enable all features in the AWS Organizations console (Settings), then rerun",
        )
    return str(organization["MasterAccountId"])


@dataclass(frozen=True)
class PolicyTypeArgs:
    policy_type: str = param(default=SERVICE_CONTROL_POLICY)


@register
class PolicyTypeStep(Step[str]):
    """A policy type (service control policies) is enabled in the organization's root.

    ```yaml
    - id: scp-policy-type
      kind: organizations-policy-type
      with: {policy_type: SERVICE_CONTROL_POLICY}
    ```
    EnablePolicyType completes in the background: the step waits until ListRoots shows the type
    ENABLED (at most two minutes). Needs an organization with all features.
    """

    kind = "organizations-policy-type"
    args: PolicyTypeArgs
    access = (
        # Organizations scopes neither to a resource.
        Access(("organizations:DescribeOrganization", "organizations:ListRoots"), anywhere),
        Access(("organizations:EnablePolicyType",), _the_root, _scp_type),
    )

    def resource(self, ctx: StepContext) -> str:
        return f"{self.args.policy_type} policy type in the organization's root"

    def plan(self, ctx: StepContext) -> Change[str]:
        if self.args.policy_type != SERVICE_CONTROL_POLICY:
            raise InputError(
                f"step {self.id!r}: policy type {self.args.policy_type!r} is not supported",
                tip=f"this step enables {SERVICE_CONTROL_POLICY}",
            )
        _require_all_features(ctx, self.id)
        root = organization_root(ctx.aws)
        root_id = str(root["Id"])
        status = policy_type_status(root, self.args.policy_type)
        if status == "ENABLED":
            return Change(self.resource(ctx), "none", [f"enabled in root {root_id}"])
        if status == "PENDING_ENABLE":
            # Enabled by an earlier run (or someone else) a moment ago: wait, write nothing.
            wait_for_policy_type(ctx.aws, self.args.policy_type)
            return Change(self.resource(ctx), "none", [f"enabled in root {root_id}"])
        if status == "PENDING_DISABLE":
            raise AwsError(
                f"AWS Organizations is disabling {self.args.policy_type} in root {root_id}",
                tip="rerun once ListRoots no longer shows it PENDING_DISABLE",
            )
        return Change(
            self.resource(ctx),
            "create",
            [
                f"enable {self.args.policy_type} in root {root_id} "
                "(organizations:EnablePolicyType), then wait until AWS shows it ENABLED"
            ],
            state=root_id,
        )

    def apply(self, ctx: StepContext, change: Change[str]) -> Unchanged | None:
        try:
            call(
                ctx.aws.client("organizations"),
                "EnablePolicyType",
                RootId=change.planned,
                PolicyType=self.args.policy_type,
            )
        except AwsError as exc:
            if exc.code != "PolicyTypeAlreadyEnabledException":
                raise
            # Enabled since the plan (a concurrent run), or by a first attempt whose answer was
            # lost and that botocore sent again: either way, wait for it to show.
            wait_for_policy_type(ctx.aws, self.args.policy_type)
            return Unchanged(f"{self.args.policy_type} was already enabled")
        wait_for_policy_type(ctx.aws, self.args.policy_type)
        return None


@dataclass(frozen=True)
class DenyRootPolicyArgs:
    name: str = param(format="organizations-policy-name", default=DENY_ROOT_POLICY_NAME)


@register
class DenyRootPolicyStep(Step[None]):
    """The service control policy that denies member accounts' root user exists, saying
    remediate's document (AWS's sample, which exempts sts:AssumeRoot sessions).

    ```yaml
    - id: deny-root-policy
      kind: organizations-deny-root-policy
      with: {name: RemediateDenyRootUser}
    ```
    A policy of that name saying anything else is refused (exit 2, before any write), never
    overwritten; one saying the same is used as it is.
    """

    kind = "organizations-deny-root-policy"
    args: DenyRootPolicyArgs
    access = (
        Access(("organizations:ListPolicies",), anywhere, _scp_type),
        Access(("organizations:DescribePolicy", "organizations:CreatePolicy"), _scps, _scp_type),
    )
    reads_per_plan = 2  # the policies by name, and that one's document

    def resource(self, ctx: StepContext) -> str:
        return f"service control policy {self.args.name}"

    def plan(self, ctx: StepContext) -> Change[None]:
        name = self.args.name
        found = find_policy(ctx.aws, name)
        if found is None:
            ctx.plan_create("policy", f"scp/{name}")
            return Change(
                self.resource(ctx),
                "create",
                [
                    f"create the service control policy {name} (organizations:CreatePolicy), "
                    "saying:",
                    *document_lines(),
                ],
            )
        content = policy_content(ctx.aws, str(found["Id"]))
        if not same_document(content):
            raise InputError(
                f"a service control policy named {name} ({found['Id']}) exists with another "
                "document: refused, not overwritten",
                tip="compare it (`aws organizations describe-policy --policy-id "
                f"{found['Id']}`) with `remediate root-credentials deny-root --dry-run`; "
                "delete or rename it if it is an old one, or keep it and deny root yourself",
            )
        return Change(self.resource(ctx), "none", [f"{found['Id']} says remediate's document"])

    def apply(self, ctx: StepContext, change: Change[None]) -> Unchanged | None:
        try:
            call(
                ctx.aws.client("organizations"),
                "CreatePolicy",
                Content=document_text(),
                Description=DENY_ROOT_DESCRIPTION,
                Name=self.args.name,
                Type=SERVICE_CONTROL_POLICY,
            )
        except AwsError as exc:
            if exc.code != "DuplicatePolicyException":
                raise
            # Made since the plan, or by a first attempt whose answer was lost and that botocore
            # sent again: used only if it says this document.
            found = _wait_for_policy(ctx, self.args.name)
            if not same_document(policy_content(ctx.aws, str(found["Id"]))):
                raise InputError(
                    f"a service control policy named {self.args.name} was created meanwhile "
                    "with another document: refused, not overwritten",
                    tip="find out who created it, then rerun",
                ) from exc
            return Unchanged(f"{found['Id']} already existed, saying remediate's document")
        return None


def _wait_for_policy(
    ctx: StepContext,
    name: str,
    *,
    timeout: float = POLICY_VISIBLE_TIMEOUT,
    sleep: Any = time.sleep,
    clock: Any = time.monotonic,
) -> PolicySummary:
    """The summary of the policy named ``name``, waiting while ListPolicies does not show one
    just created."""
    deadline = clock() + timeout
    delay = 0.25
    while True:
        found = find_policy(ctx.aws, name)
        if found is not None:
            return found
        if clock() + delay > deadline:
            raise AwsError(
                f"AWS Organizations does not list the service control policy {name}",
                tip="rerun: it continues from where this run stopped",
            )
        sleep(delay)
        delay = min(delay * 2, 8.0)


@dataclass(frozen=True)
class AttachmentArgs:
    policy: str = param(format="organizations-policy-name", default=DENY_ROOT_POLICY_NAME)
    # Comma-separated roots, OUs and account ids; empty: the organization's root.
    targets: str = param(format="organization-targets", default="")


@register
class PolicyAttachmentStep(Step[tuple[str, tuple[str, ...]]]):
    """A service control policy is attached to the organization's root, or to each target named.

    ```yaml
    - id: attach
      kind: organizations-policy-attachment
      with: {policy: RemediateDenyRootUser, targets: ""}
    ```
    ``targets``: roots (``r-...``), OUs (``ou-...``) and member account ids, comma-separated;
    empty for the organization's root (every member account). The management account is refused
    as a target: SCPs never apply to it.
    """

    kind = "organizations-policy-attachment"
    args: AttachmentArgs
    access = (
        # Resolving the default target.
        Access(("organizations:DescribeOrganization", "organizations:ListRoots"), anywhere),
        Access(("organizations:ListPolicies",), anywhere, _scp_type),
        # AttachPolicy is authorized on the policy and on the target: grants() adds each target
        # named (the root when none is).
        Access(("organizations:AttachPolicy",), _scps, _scp_type),
        Access(("organizations:ListPoliciesForTarget",), _the_root, _scp_type),
    )

    def grants(self, arns: Arns) -> list[Grant]:
        """The table above, with the targets named (the root when none is) where a target is
        what the action is authorized on."""
        targets = targets_of(self.args.targets)
        on = tuple(target_arn(t, arns) for t in targets) or (_the_root(None, arns),)
        result = []
        for grant in super().grants(arns):
            if "organizations:AttachPolicy" in grant.actions:
                grant = Grant(grant.actions, (*grant.resources, *on), grant.condition)
            elif "organizations:ListPoliciesForTarget" in grant.actions:
                grant = Grant(grant.actions, on, grant.condition)
            result.append(grant)
        return result

    def resource(self, ctx: StepContext) -> str:
        return f"service control policy {self.args.policy} attached"

    def plan(self, ctx: StepContext) -> Change[tuple[str, tuple[str, ...]]]:
        management = _require_all_features(ctx, self.id)
        note = MANAGEMENT_ACCOUNT_NOT_DENIED.format(account=management)
        targets = targets_of(self.args.targets)
        if management in targets:
            raise InputError(
                f"target {management} is the organization's management account, which SCPs "
                "never apply to",
                tip="watch its root user instead: `remediate root-activity watch --notify EMAIL`",
            )
        default = not targets
        if default:
            targets = (str(organization_root(ctx.aws)["Id"]),)
        creating = ctx.will_create("policy", f"scp/{self.args.policy}")
        policy_id = ""
        if not creating:
            found = find_policy(ctx.aws, self.args.policy)
            if found is None:
                raise InputError(
                    f"step {self.id!r}: no service control policy named {self.args.policy}",
                    tip="create it first: an organizations-deny-root-policy step before this one",
                )
            policy_id = str(found["Id"])
        # Read every target, also when the policy is new: a target not in the organization is
        # refused now, before anything is written.
        attached = {t: attached_policy_ids(ctx.aws, t) for t in targets}
        pending = tuple(t for t in targets if creating or policy_id not in attached[t])
        where = ", ".join(_described(t, default) for t in targets)
        if not pending:
            return Change(self.resource(ctx), "none", [f"attached to {where}"], warnings=[note])
        return Change(
            self.resource(ctx),
            "create",
            [
                f"attach {self.args.policy} to {_described(t, default)} "
                "(organizations:AttachPolicy)"
                for t in pending
            ],
            state=(policy_id, pending),
            warnings=[note],
        )

    def apply(
        self, ctx: StepContext, change: Change[tuple[str, tuple[str, ...]]]
    ) -> Unchanged | None:
        policy_id, pending = change.planned
        if not policy_id:
            policy_id = str(_wait_for_policy(ctx, self.args.policy)["Id"])
        attached_now = 0
        for target in pending:
            try:
                call(
                    ctx.aws.client("organizations"),
                    "AttachPolicy",
                    PolicyId=policy_id,
                    TargetId=target,
                )
                attached_now += 1
            except AwsError as exc:
                # Attached since the plan, or by a first attempt whose answer was lost.
                if exc.code != "DuplicatePolicyAttachmentException":
                    raise
        if not attached_now:
            return Unchanged(f"{self.args.policy} was already attached")
        return None


def _described(target: str, default: bool) -> str:
    if target.startswith("r-"):
        return f"root {target}" + (" (the organization's root: every member account)" * default)
    if target.startswith("ou-"):
        return f"organizational unit {target}"
    return f"account {target}"
