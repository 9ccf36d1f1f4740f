"""Step kinds that centralize root access for an organization: AWS Organizations trusts IAM,
and the organization's root credentials management and root sessions are enabled. Each runs in
the organization's management account, which must have all features enabled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from remediate.aws.calls import call
from remediate.core.errors import InputError
from remediate.org.root_credentials import (
    IAM_SERVICE_PRINCIPAL,
    describe_organization,
    enabled_features,
    trusted_access_enabled,
)
from remediate.steps.access import Access, Arns, Condition, anywhere
from remediate.steps.base import Change, StepContext
from remediate.steps.kind import Step, register
from remediate.steps.params import NoParams, param


@dataclass(frozen=True)
class TrustedAccessArgs:
    service_principal: str = param(default=IAM_SERVICE_PRINCIPAL)


def _only_this_service(args: TrustedAccessArgs, arns: Arns) -> Condition:
    return {"StringEquals": {"organizations:ServicePrincipal": args.service_principal}}


@register
class TrustedAccessStep(Step[None]):
    """AWS Organizations trusts a service (by default IAM, which centralized root access needs).

    ```yaml
    - id: trusted-access
      kind: organizations-trusted-access
      with: {service_principal: iam.amazonaws.com}
    ```
    Runs in the organization's management account, which must have all features enabled.
    """

    kind = "organizations-trusted-access"
    args: TrustedAccessArgs
    # Organizations scopes none of these to a resource; trusting a service is limited to the one
    # service this step names.
    access = (
        Access(
            (
                "organizations:DescribeOrganization",
                "organizations:ListAWSServiceAccessForOrganization",
            ),
            anywhere,
        ),
        Access(("organizations:EnableAWSServiceAccess",), anywhere, _only_this_service),
    )

    def resource(self, ctx: StepContext) -> str:
        return f"trusted access for {self.args.service_principal}"

    def plan(self, ctx: StepContext) -> Change[None]:
        principal = self.args.service_principal
        organization = describe_organization(ctx.aws)
        management = str(organization["MasterAccountId"])
        if management != ctx.account_id:
            raise InputError(
                f"step {self.id!r}: account {ctx.account_id} is not the management account of "
                f"organization {organization['Id']}",
                tip=f"run this from the management account, {management}",
            )
        if organization.get("FeatureSet") != "ALL":
            raise InputError(
                f"organization {organization['Id']} has only consolidated billing features: "
                "centralized root access needs all features",
                tip="enable all features in the AWS Organizations console (Settings), then rerun",
            )
        if trusted_access_enabled(ctx.aws, principal):
            return Change(self.resource(ctx), "none")
        ctx.plan_create("trusted-access", principal)
        return Change(
            self.resource(ctx),
            "create",
            [f"let AWS Organizations trust {principal} (organizations:EnableAWSServiceAccess)"],
        )

    def apply(self, ctx: StepContext, change: Change[None]) -> None:
        call(
            ctx.aws.client("organizations"),
            "EnableAWSServiceAccess",
            ServicePrincipal=self.args.service_principal,
        )


class _FeatureStep(Step[None]):
    """One feature of centralized root access is enabled for the organization."""

    args: NoParams
    feature: ClassVar[str]
    enable: ClassVar[str]  # the IAM operation that enables it
    what: ClassVar[str]

    def resource(self, ctx: StepContext) -> str:
        return f"{self.feature} (centralized root access)"

    def plan(self, ctx: StepContext) -> Change[None]:
        enable: Change[None] = Change(
            self.resource(ctx), "create", [f"enable {self.what} (iam:{self.enable})"]
        )
        if ctx.will_create("trusted-access", IAM_SERVICE_PRINCIPAL):
            return enable  # no feature can be on while IAM is not trusted
        features = enabled_features(ctx.aws)
        if features is None:
            raise InputError(
                f"step {self.id!r}: AWS Organizations does not trust IAM, so {self.what} "
                "cannot be enabled",
                tip="enable trusted access first: an organizations-trusted-access step before "
                "this one (`remediate root-credentials centralize` has it)",
            )
        return Change(self.resource(ctx), "none") if self.feature in features else enable

    def apply(self, ctx: StepContext, change: Change[None]) -> None:
        ctx.call(self.enable)


@register
class RootCredentialsManagementStep(_FeatureStep):
    """Root credentials management is enabled: the management account may audit and delete member
    accounts' root credentials (and accounts created from now on get no root password).

    ```yaml
    - id: root-credentials-management
      kind: organizations-root-credentials-management
    ```
    """

    kind = "organizations-root-credentials-management"
    # IAM scopes neither the organization's features nor their listing to a resource.
    access = (
        Access(
            ("iam:ListOrganizationsFeatures", "iam:EnableOrganizationsRootCredentialsManagement"),
            anywhere,
        ),
    )
    feature = "RootCredentialsManagement"
    enable = "EnableOrganizationsRootCredentialsManagement"
    what = "root credentials management"


@register
class RootSessionsStep(_FeatureStep):
    """Root sessions are enabled: the management account may take privileged root actions in
    member accounts (and members may recover root credentials after their deletion).

    ```yaml
    - id: root-sessions
      kind: organizations-root-sessions
    ```
    """

    kind = "organizations-root-sessions"
    access = (
        Access(("iam:ListOrganizationsFeatures", "iam:EnableOrganizationsRootSessions"), anywhere),
    )
    feature = "RootSessions"
    enable = "EnableOrganizationsRootSessions"
    what = "root sessions (privileged root actions in member accounts)"
