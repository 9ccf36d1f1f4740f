"""The organization sweep against moto's server: many accounts, per-account failures, exit codes.

The seeded organization and the faithful moto it runs on are in orgs.py.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from rich.console import Console

from orgs import ROLE, Org, faithful_moto, seed_organization
from remediate.aws.calls import call
from remediate.aws.session import Aws, AwsOptions
from remediate.detect.judge import Verdict
from remediate.errors import AwsError, InputError, WriteRefusedError
from remediate.org import (
    AccountResult,
    SweepResult,
    account_session,
    external_id,
    list_accounts,
    parse_account_ids,
    policy_statements,
    render_sweep,
    role_name,
    sweep,
)
from remediate.sandbox import SANDBOX_ACCOUNT_ID as ACCOUNT_ID

if TYPE_CHECKING:
    from conftest import Moto


@pytest.fixture
def base(moto: Moto) -> Aws:
    return Aws(AwsOptions(None, "us-east-1", moto.endpoint_url))


@dataclass
class Swept:
    """One sweep of the whole seeded organization, shared by the tests that only read it."""

    org: Org
    result: SweepResult
    progress: list[AccountResult]


@pytest.fixture(scope="module")
def swept(moto_server: Moto) -> Swept:
    moto_server.reset()
    try:
        seeded = seed_organization(moto_server)
        progress: list[AccountResult] = []
        with faithful_moto(seeded.assume_role_calls):
            base = Aws(AwsOptions(None, "us-east-1", moto_server.endpoint_url))
            result = sweep(base, account_ids=None, external_id="ext-123", progress=progress.append)
    finally:
        moto_server.reset(report_ready=False)
    return Swept(seeded, result, progress)


def _outcome(result: SweepResult) -> list[tuple[str, bool | None, list[str], bool]]:
    """What must not depend on timing: id, verdict, evidence, failed."""
    return [
        (
            a.account_id,
            a.root_in_use,
            [e.credential for e in a.verdict.evidence] if a.verdict else [],
            a.error is not None,
        )
        for a in result.accounts
    ]


def test_sweep_of_an_organization(swept: Swept) -> None:
    org, result = swept.org, swept.result

    in_use = sorted([ACCOUNT_ID, org.id("password"), org.id("key")])
    undetermined = sorted([org.id("no-root-row"), org.id("locked")])
    assert [a.account_id for a in result.accounts] == [*in_use, *undetermined, org.id("quiet")]
    assert result.summary() == {"total": 6, "in_use": 3, "not_in_use": 1, "undetermined": 2}
    assert result.exit_code() == 1

    by_id = {a.account_id: a for a in result.accounts}
    verdicts = {name: by_id[i].verdict for name, i in org.ids.items() if name != "locked"}
    evidence = {name: [e.credential for e in v.evidence] for name, v in verdicts.items() if v}
    assert evidence == {
        "master": ["password"],
        "password": ["password"],
        "key": ["access_key_1"],
        "quiet": [],
        "no-root-row": [],
    }
    assert verdicts["key"] is not None
    assert verdicts["key"].root_access_keys_active == 1
    assert verdicts["quiet"] is not None
    assert verdicts["quiet"].root_mfa_active is True
    assert verdicts["no-root-row"] is not None
    assert verdicts["no-root-row"].root_in_use is None
    for name, account_id in org.ids.items():
        assert by_id[account_id].account_name == name
        verdict = verdicts.get(name)
        assert verdict is None or verdict.account_id == account_id

    # The failed account says why, and the sweep went on around it.
    locked = by_id[org.id("locked")]
    assert locked.verdict is None
    assert locked.error is not None
    assert "\n" not in locked.error
    assert f"cannot assume arn:aws:iam::{org.id('locked')}:role/{ROLE}" in locked.error
    assert "access denied" in locked.error


def test_sweep_json_document(swept: Swept) -> None:
    org, result = swept.org, swept.result
    document = json.loads(json.dumps(result.to_json()))

    assert list(document) == ["accounts", "summary"]
    assert document["summary"] == result.summary()
    assert [row["account_id"] for row in document["accounts"]] == [
        a.account_id for a in result.accounts
    ]
    rows = {row["account_id"]: row for row in document["accounts"]}
    ok, failed = rows[org.id("password")], rows[org.id("locked")]
    verdict_keys = list(Verdict.__dataclass_fields__)
    assert list(ok) == [*verdict_keys, "account_name", "error"]
    assert list(failed) == list(ok)
    assert ok["root_in_use"] is True
    assert ok["error"] is None
    assert ok["account_name"] == "password"
    assert failed["account_id"] == org.id("locked")
    assert failed["account_name"] == "locked"
    assert failed["root_in_use"] is None
    assert failed["evidence"] == []
    assert "cannot assume" in failed["error"]


def test_each_account_is_judged_in_its_own_session(swept: Swept) -> None:
    org, result = swept.org, swept.result

    sessions = [a.aws for a in result.accounts if a.verdict is not None]
    assert len({id(s) for s in sessions}) == len(sessions) == 5
    member_ids = set(org.ids.values()) - {ACCOUNT_ID}
    assert {str(c["role_arn"]).split(":")[4] for c in org.assume_role_calls} == member_ids
    assert {c["role_session_name"] for c in org.assume_role_calls} == {"remediate"}
    assert {c["external_id"] for c in org.assume_role_calls} == {"ext-123"}
    for account in result.accounts:
        if account.aws is not None:
            assert not account.aws.read_only
            # Two calls: the report; the caller's identity in the account came with the role.
            assert dict(account.aws.stats.operations) == {
                "iam:GenerateCredentialReport": 1,
                "iam:GetCredentialReport": 1,
            }


def test_progress_is_called_once_per_account(swept: Swept) -> None:
    assert sorted(r.account_id for r in swept.progress) == sorted(swept.org.ids.values())
    assert {id(r) for r in swept.progress} == {id(a) for a in swept.result.accounts}


def test_render_sweep(swept: Swept) -> None:
    org, result = swept.org, swept.result
    out = io.StringIO()

    render_sweep(Console(file=out, width=240, highlight=False), result)

    text = out.getvalue()
    lines = text.splitlines()
    rows = {a.account_id: next(ln for ln in lines if a.account_id in ln) for a in result.accounts}
    assert "IN USE" in rows[org.id("password")]
    assert "password" in rows[org.id("password")]
    assert "access_key_1" in rows[org.id("key")]
    assert " ok " in rows[org.id("quiet")]
    assert "never" not in rows[org.id("quiet")]  # used 90 days ago
    assert "undetermined" in rows[org.id("no-root-row")]
    assert "unknown" in rows[org.id("no-root-row")]
    assert "error" in rows[org.id("locked")]
    assert "cannot assume" in text
    assert lines[-1] == "6 accounts: 3 in use, 1 not in use, 2 undetermined"
    order = [text.index(a.account_id) for a in result.accounts]
    assert order == sorted(order)


def test_exit_codes(org: Org, base: Aws) -> None:
    quiet = sweep(base, account_ids=[org.id("quiet")])
    assert [(a.account_id, a.account_name) for a in quiet.accounts] == [(org.id("quiet"), "quiet")]
    assert quiet.summary() == {"total": 1, "in_use": 0, "not_in_use": 1, "undetermined": 0}
    assert quiet.exit_code() == 0

    for undetermined in ("no-root-row", "locked"):
        result = sweep(base, account_ids=[org.id("quiet"), org.id(undetermined)])
        assert [a.account_id for a in result.accounts] == [org.id(undetermined), org.id("quiet")]
        assert result.summary() == {"total": 2, "in_use": 0, "not_in_use": 1, "undetermined": 1}
        assert result.exit_code() == 3


def test_account_ids_limit_the_sweep_and_concurrency_changes_nothing(org: Org, base: Aws) -> None:
    chosen = [org.id("quiet"), org.id("key"), ACCOUNT_ID, org.id("locked")]
    seen: list[AccountResult] = []

    one = sweep(base, account_ids=chosen, concurrency=1, progress=seen.append)
    eight = sweep(base, account_ids=chosen, concurrency=8)

    assert _outcome(one) == _outcome(eight)
    assert [a.account_id for a in one.accounts] == [
        *sorted([ACCOUNT_ID, org.id("key")]),
        org.id("locked"),
        org.id("quiet"),
    ]
    assert sorted(r.account_id for r in seen) == sorted(chosen)
    assert {id(r) for r in seen} == {id(a) for a in one.accounts}
    swept = {str(c["role_arn"]).split(":")[4] for c in org.assume_role_calls}
    assert swept == set(chosen) - {ACCOUNT_ID}


def test_read_only_sessions_refuse_writes_in_every_account(org: Org, base: Aws) -> None:
    result = sweep(base, account_ids=None, read_only=True)

    assert result.summary()["in_use"] == 3  # a dry run still detects
    judged = [a for a in result.accounts if a.aws is not None]
    assert {a.account_id for a in judged} == set(org.ids.values()) - {org.id("locked")}
    for account in judged:
        assert account.aws is not None
        assert account.aws.read_only
        with pytest.raises(WriteRefusedError, match="iam:CreateUser"):
            call(account.aws.iam, "CreateUser", UserName="should-not-exist")
        assert account.aws.stats.writes == 0
        # Nothing reached the account: it has no such user.
        assert call(account.aws.iam, "ListUsers")["Users"] == []


def test_access_denied_after_the_role_is_assumed(org: Org, base: Aws) -> None:
    from moto.core.exceptions import AccessDeniedError
    from moto.iam.responses import IamResponse

    generate = IamResponse.generate_credential_report

    def denied_in_quiet(self: Any) -> Any:
        if self.current_account == org.id("quiet"):
            raise AccessDeniedError(
                f"arn:aws:sts::{org.id('quiet')}:assumed-role/{ROLE}/remediate",
                "iam:GenerateCredentialReport",
            )
        return generate(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(IamResponse, "generate_credential_report", denied_in_quiet)
        result = sweep(base, account_ids=[org.id("quiet"), org.id("key")])

    key, quiet = result.accounts
    assert key.root_in_use is True
    assert quiet.verdict is None
    assert quiet.error is not None
    assert quiet.error.startswith("access denied: the caller may not perform")
    assert "iam:GenerateCredentialReport" in quiet.error
    assert quiet.aws is not None  # the role was assumed; the session is kept
    assert result.exit_code() == 1


def test_account_session_for_own_account_uses_own_credentials(moto: Moto, base: Aws) -> None:
    aws, role_arn = account_session(
        base, ACCOUNT_ID, ACCOUNT_ID, role_name=ROLE, external_id=None, read_only=True
    )

    assert aws is not base
    assert role_arn is None
    assert aws.read_only
    assert call(aws.sts, "GetCallerIdentity")["Account"] == ACCOUNT_ID
    assert aws.stats.operations["sts:AssumeRole"] == 0
    assert base.stats.operations["sts:AssumeRole"] == 0


def test_account_ids_without_organizations(moto: Moto, base: Aws) -> None:
    result = sweep(base, account_ids=[ACCOUNT_ID])

    assert [(a.account_id, a.account_name, a.root_in_use) for a in result.accounts] == [
        (ACCOUNT_ID, None, True)
    ]
    assert result.exit_code() == 1


def test_whole_organization_needs_organizations(moto: Moto, base: Aws) -> None:
    with faithful_moto([]), pytest.raises(AwsError) as caught:
        sweep(base, account_ids=None)

    assert caught.value.code == "AWSOrganizationsNotInUseException"
    assert caught.value.tip is not None
    assert "--accounts" in caught.value.tip


def test_an_empty_account_list_is_not_a_clean_sweep(moto: Moto, base: Aws) -> None:
    # Unpatched moto lists no account without an organization; AWS always lists the management
    # account. Either way a sweep of nothing must not say "root not in use" (exit 0).
    with pytest.raises(AwsError, match="no active account"):
        sweep(base, account_ids=None)


def test_list_accounts_pages_and_keeps_active_only(moto: Moto, org: Org, base: Aws) -> None:
    moto.client("organizations").close_account(AccountId=org.id("quiet"))

    listed = list_accounts(base)

    assert sorted(listed) == sorted((i, n) for n, i in org.ids.items() if n != "quiet")
    assert base.stats.operations["organizations:ListAccounts"] == 3  # 6 accounts, 2 a page


@pytest.mark.parametrize("concurrency", [0, -1, 65, True])
def test_concurrency_out_of_range(concurrency: int) -> None:
    # Checked before any call: the endpoint is never reached.
    base = Aws(AwsOptions(None, "us-east-1", "http://127.0.0.1:9"))
    with pytest.raises(InputError, match="concurrency"):
        sweep(base, account_ids=[ACCOUNT_ID], concurrency=concurrency)


def test_parse_account_ids() -> None:
    assert parse_account_ids("111122223333") == ["111122223333"]
    assert parse_account_ids(" 111122223333 , 444455556666") == ["111122223333", "444455556666"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        ",",
        "11112222333",
        "1111222233334",
        "11112222333a",
        "arn:aws:iam::111122223333:root",
        "111122223333,",
        "111122223333,,444455556666",
        "111122223333,111122223333",
        "１１１１２２２２３３３３",  # full-width digits  # noqa: RUF001
        "111122223333;444455556666",
    ],
)
def test_parse_account_ids_rejects(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_account_ids(text)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("value", ["OrganizationAccountAccessRole", "a", "r+=,.@_-1", "x" * 64])
def test_role_name_accepts(value: str) -> None:
    assert role_name(value) == value


@pytest.mark.parametrize(
    "value",
    ["", "x" * 65, "has space", "path/Role", "arn:aws:iam::111122223333:role/R", "rôle", "a*"],
)
def test_role_name_rejects(value: str) -> None:
    with pytest.raises(InputError) as caught:
        role_name(value)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("value", ["ab", "ext-id:1/2+=,.@_", "x" * 1224])
def test_external_id_accepts(value: str) -> None:
    assert external_id(value) == value


@pytest.mark.parametrize("value", ["", "a", "x" * 1225, "with space", "ü-umlaut"])
def test_external_id_rejects(value: str) -> None:
    with pytest.raises(InputError):
        external_id(value)


def test_failed_account_document_without_server() -> None:
    failed = AccountResult("111122223333", None, None, "cannot assume the role")

    document = failed.to_json()

    assert document["account_id"] == "111122223333"
    assert document["root_in_use"] is None
    assert document["error"] == "cannot assume the role"
    assert SweepResult([failed]).exit_code() == 3
    assert SweepResult([]).summary() == {
        "total": 0,
        "in_use": 0,
        "not_in_use": 0,
        "undetermined": 0,
    }


def test_policy_statements_name_the_role() -> None:
    statements = policy_statements("AuditRole", "aws-us-gov")

    actions = {action for s in statements for action in s["Action"]}
    assert actions == {"organizations:ListAccounts", "sts:AssumeRole"}
    assume = next(s for s in statements if s["Action"] == ["sts:AssumeRole"])
    assert assume["Resource"] == "arn:aws-us-gov:iam::*:role/AuditRole"
