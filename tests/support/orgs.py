"""A seeded AWS Organization on moto's server, and a moto patched to be faithful where the sweep
depends on it; shared by the sweep's core tests (test_org.py) and its CLI tests
(test_org_cli.py).

moto lets anyone assume any role ARN, even one that does not exist; real STS answers AccessDenied
when the role is missing (or does not trust the caller). :func:`faithful_moto` patches moto's STS
backend in this process to refuse AssumeRole on a role that does not exist in the target account.
The "locked" account is created with a differently named role (as an account that joined by
invitation has no OrganizationAccountAccessRole), so assuming OrganizationAccountAccessRole there
fails the way it does in AWS; the product code is the same as against AWS.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from remediate.sandbox.server import SANDBOX_ACCOUNT_ID as ACCOUNT_ID
from remediate.sandbox.server import RootState, generate_credential_report

if TYPE_CHECKING:
    from conftest import Moto

ROLE = "OrganizationAccountAccessRole"
# The role the "locked" account has instead of ROLE.
OTHER_ROLE = "SomeOtherRole"


@dataclass
class Org:
    """A seeded organization: account ids by name, and what STS was asked."""

    ids: dict[str, str]
    assume_role_calls: list[dict[str, Any]] = field(default_factory=list)

    def id(self, name: str) -> str:
        return self.ids[name]


@contextmanager
def faithful_moto(calls: list[dict[str, Any]]) -> Iterator[None]:
    """moto, patched in this process where it is kinder than AWS.

    - AssumeRole on a role that does not exist is AccessDenied (moto hands out credentials for
      any role ARN); ``calls`` records each AssumeRole's parameters.
    - ListAccounts without an organization is AWSOrganizationsNotInUseException (moto lists
      nothing).
    - ListAccounts answers 2 accounts a page (moto: 100, AWS: at most 20), so that every sweep
      here goes through several pages.
    """
    from moto.core.exceptions import AccessDeniedError
    from moto.iam.exceptions import NotFoundException
    from moto.iam.models import iam_backends
    from moto.organizations.exceptions import AWSOrganizationsNotInUseException
    from moto.organizations.models import OrganizationsBackend
    from moto.organizations.utils import PAGINATION_MODEL
    from moto.sts.models import STSBackend

    assume_role = STSBackend.assume_role
    list_accounts = OrganizationsBackend.list_accounts

    def faithful_assume_role(self: Any, **kwargs: Any) -> Any:
        role_arn = str(kwargs["role_arn"])
        calls.append(kwargs)
        _, partition, _, _, account_id, resource = role_arn.split(":", 5)
        try:
            iam_backends[account_id][partition].get_role(resource.rsplit("/", 1)[-1])
        except NotFoundException:
            raise AccessDeniedError(
                f"arn:{partition}:iam::{self.account_id}:user/moto",
                f"sts:AssumeRole on resource: {role_arn}",
            ) from None
        return assume_role(self, **kwargs)

    def faithful_list_accounts(self: Any, **kwargs: Any) -> Any:
        from remediate.sandbox.root_access import delegated_management_backend

        # A delegated administrator lists the organization's accounts (sandbox_root).
        if self.org is None and delegated_management_backend(self) is None:
            raise AWSOrganizationsNotInUseException
        return list_accounts(self, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(STSBackend, "assume_role", faithful_assume_role)
        mp.setattr(OrganizationsBackend, "list_accounts", faithful_list_accounts)
        mp.setitem(PAGINATION_MODEL["list_accounts"], "limit_default", 2)
        yield


def create_organization(
    moto: Moto, accounts: dict[str, str], *, aws_policies: Collection[str] = ()
) -> dict[str, str]:
    """An organization with member accounts (name -> the role created in it); return every
    account's id by name (the management account is "master" in moto).

    Each new account gets only the AWS managed policies named in ``aws_policies`` (detection
    needs none; remediation needs AdministratorAccess), not all ~1,300 of them that moto loads
    otherwise (0.1 s an account).
    """
    import moto.iam.models as iam_models

    def init_aws_policies(self: Any) -> list[Any]:
        data = _aws_managed_policies()
        return [
            iam_models.AWSManagedPolicy.from_data(
                name, self.account_id, self.region_name, data[name]
            )
            for name in aws_policies
        ]

    client = moto.client("organizations")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(iam_models.IAMBackend, "_init_aws_policies", init_aws_policies)
        client.create_organization(FeatureSet="ALL")
        for name, role in accounts.items():
            client.create_account(AccountName=name, Email=f"{name}@example.com", RoleName=role)
    listed = client.get_paginator("list_accounts").paginate()
    return {a["Name"]: a["Id"] for page in listed for a in page["Accounts"]}


@functools.cache
def _aws_managed_policies() -> dict[str, Any]:
    from moto.iam.models import aws_managed_policies_data

    data: dict[str, Any] = json.loads(aws_managed_policies_data)
    return data


def seed_organization(moto: Moto, *, aws_policies: Collection[str] = ()) -> Org:
    """The management account (root password used 2 days ago) and five members: password used
    2 days ago, key used yesterday, nothing recent, no root row, and one whose
    OrganizationAccountAccessRole does not exist."""
    now = datetime.now(UTC)
    members = {"password": ROLE, "key": ROLE, "quiet": ROLE, "no-root-row": ROLE}
    ids = create_organization(moto, {**members, "locked": OTHER_ROLE}, aws_policies=aws_policies)
    assert ids["master"] == ACCOUNT_ID
    states = {
        ACCOUNT_ID: RootState(password_last_used=now - timedelta(days=2)),
        ids["password"]: RootState(password_last_used=now - timedelta(days=2)),
        ids["key"]: RootState(key_1_active=True, key_1_last_used=now - timedelta(days=1)),
        ids["quiet"]: RootState(password_last_used=now - timedelta(days=90), mfa_active=True),
        ids["locked"]: RootState(password_last_used=now - timedelta(hours=1)),
    }
    for account_id, state in states.items():
        moto.set_root(state, account_id=account_id)
    for name in members:
        # A recent report in every account, as after a recent GenerateCredentialReport.
        generate_credential_report(ids[name])
    return Org(ids)


def seed_sandbox_organization(
    moto: Moto, *, central_root_access: tuple[str, ...] | None = None
) -> dict[str, str]:
    """The sandbox's own organization (remediate.sandbox.server.seed_organization: members "dev",
    "prod", "audit" with root users in different states) on the test server; return every
    account's id by name. ``central_root_access`` overrides what is already enabled of
    centralized root access (the sandbox's default: root credentials management only)."""
    import moto.iam.models as iam_models

    from remediate.sandbox import server as sandbox

    kwargs = {} if central_root_access is None else {"central_root_access": central_root_access}
    with pytest.MonkeyPatch.context() as mp:
        # No AWS managed policy in the new accounts: nothing here needs one (0.1 s an account).
        mp.setattr(iam_models.IAMBackend, "_init_aws_policies", lambda self: [])
        sandbox.seed_organization(moto.client("organizations"), **kwargs)
    listed = moto.client("organizations").get_paginator("list_accounts").paginate()
    return {a["Name"]: a["Id"] for page in listed for a in page["Accounts"]}


def root_access_key(account_id: str, slot: int = 1) -> tuple[str, str]:
    """(access key id, secret) of the sandbox root user's key in ``slot``: to sign requests as
    that root user."""
    from remediate.sandbox import root as sandbox_root

    creds = sandbox_root.root_credentials(account_id)
    for key in creds.access_keys if creds is not None else []:
        if key.slot == slot:
            return key.access_key_id, key.secret_access_key
    raise KeyError(f"the root user of {account_id} has no access key in slot {slot}")
