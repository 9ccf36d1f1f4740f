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

from remediate.aws.calls import call
from remediate.aws.identity import caller_identity
from remediate.aws.options import AwsOptions
from remediate.aws.session import Aws
from remediate.core.errors import AwsError, InputError, WriteRefusedError
from remediate.core.validate import account_ids as parse_account_ids
from remediate.core.validate import external_id, role_name
from remediate.detect.judge import Verdict
from remediate.org.accounts import AccountSession, MemberAccounts, role_session_name, targets
from remediate.org.sweep import AccountResult, SweepResult, sweep
from remediate.playbook.permissions import organization_statements
from remediate.render.tables import render_sweep
from remediate.sandbox.server import SANDBOX_ACCOUNT_ID as ACCOUNT_ID
from support.orgs import ROLE, Org, faithful_moto, seed_organization

if TYPE_CHECKING:
    from conftest import Moto


@pytest.fixture
def base(moto: Moto) -> Aws:
    return Aws(AwsOptions(None, "us-east-1", moto.endpoint_url))


class Recording(MemberAccounts):
    """MemberAccounts that keeps every session it opened, for the tests to look at."""

    def __init__(self, base: Aws, **kwargs: Any) -> None:
        super().__init__(base, caller_identity(base), **kwargs)
        self.opened: list[AccountSession] = []

    def __call__(self, account_id: str) -> AccountSession:
        session = super().__call__(account_id)
        self.opened.append(session)
        return session


def run_sweep(
    base: Aws,
    account_ids: list[str] | None = None,
    *,
    external_id: str | None = None,
    read_only: bool = False,
    concurrency: int = 8,
    progress: Any = None,
) -> tuple[SweepResult, Recording]:
    """Sweep as the command does: the targets, then every account judged concurrently."""
    opener = Recording(base, role_name=ROLE, external_id=external_id, read_only=read_only)
    ids = tuple(account_ids) if account_ids is not None else None
    result = sweep(
        opener,
        targets(base, ids),
        concurrency=concurrency,
        days=7,
        report_timeout=60,
        progress=progress,
    )
    return result, opener


@dataclass
class Swept:
    """One sweep of the whole seeded organization, shared by the tests that only read it."""

    org: Org
    result: SweepResult
    progress: list[AccountResult]
    opened: list[AccountSession]


@pytest.fixture(scope="module")
def swept(moto_server: Moto) -> Swept:
    moto_server.reset()
    try:
        seeded = seed_organization(moto_server)
        progress: list[AccountResult] = []
        with faithful_moto(seeded.assume_role_calls):
            base = Aws(AwsOptions(None, "us-east-1", moto_server.endpoint_url))
            result, opener = run_sweep(base, external_id="ext-123", progress=progress.append)
    finally:
        moto_server.reset(report_ready=False)
    return Swept(seeded, result, progress, opener.opened)


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
    org = swept.org

    sessions = [s.aws for s in swept.opened]
    assert len({id(s) for s in sessions}) == len(sessions) == 5  # "locked" never got one
    assert {s.identity.account_id for s in swept.opened} == set(org.ids.values()) - {
        org.id("locked")
    }
    member_ids = set(org.ids.values()) - {ACCOUNT_ID}
    assert {str(c["role_arn"]).split(":")[4] for c in org.assume_role_calls} == member_ids
    # Named after the caller, so CloudTrail in the member account shows who ran it.
    assert {c["role_session_name"] for c in org.assume_role_calls} == {"remediate-moto"}
    assert {c["external_id"] for c in org.assume_role_calls} == {"ext-123"}
    verdicts = {a.account_id: a.verdict for a in swept.result.accounts}
    for session in swept.opened:
        assert not session.aws.read_only
        # Two calls: the report; the caller's identity in the account came with the role. A
        # third only where the report shows root MFA not active: does root have a password?
        verdict = verdicts[session.identity.account_id]
        asked = verdict is not None and verdict.root_mfa_active is False
        assert dict(session.aws.stats.operations) == {
            "iam:GenerateCredentialReport": 1,
            "iam:GetCredentialReport": 1,
            **({"iam:GetAccountSummary": 1} if asked else {}),
        }
    assert any(v is not None and v.root_mfa_active is False for v in verdicts.values())


def test_results_carry_facts_not_sessions(swept: Swept) -> None:
    for account in swept.result.accounts:
        assert {f for f in vars(account) if not f.startswith("_")} == {
            "account_id",
            "account_name",
            "verdict",
            "error",
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
    quiet, _ = run_sweep(base, [org.id("quiet")])
    assert [(a.account_id, a.account_name) for a in quiet.accounts] == [(org.id("quiet"), "quiet")]
    assert quiet.summary() == {"total": 1, "in_use": 0, "not_in_use": 1, "undetermined": 0}
    assert quiet.exit_code() == 0

    for undetermined in ("no-root-row", "locked"):
        result, _ = run_sweep(base, [org.id("quiet"), org.id(undetermined)])
        assert [a.account_id for a in result.accounts] == [org.id(undetermined), org.id("quiet")]
        assert result.summary() == {"total": 2, "in_use": 0, "not_in_use": 1, "undetermined": 1}
        assert result.exit_code() == 3


def test_account_ids_limit_the_sweep_and_concurrency_changes_nothing(org: Org, base: Aws) -> None:
    chosen = [org.id("quiet"), org.id("key"), ACCOUNT_ID, org.id("locked")]
    seen: list[AccountResult] = []

    one, _ = run_sweep(base, chosen, concurrency=1, progress=seen.append)
    eight, _ = run_sweep(base, chosen, concurrency=8)

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
    result, opener = run_sweep(base, read_only=True)

    assert result.summary()["in_use"] == 3  # a dry run still detects
    judged = opener.opened
    assert {s.identity.account_id for s in judged} == set(org.ids.values()) - {org.id("locked")}
    for session in judged:
        assert session.aws.read_only
        with pytest.raises(WriteRefusedError, match="iam:CreateUser"):
            call(session.aws.iam, "CreateUser", UserName="should-not-exist")
        assert session.aws.stats.writes == 0
        # Nothing reached the account: it has no such user.
        assert call(session.aws.iam, "ListUsers")["Users"] == []


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
        result, opener = run_sweep(base, [org.id("quiet"), org.id("key")])

    key, quiet = result.accounts
    assert key.root_in_use is True
    assert quiet.verdict is None
    assert quiet.error is not None
    assert quiet.error.startswith("access denied: the caller may not perform")
    assert "iam:GenerateCredentialReport" in quiet.error
    # The role was assumed: the refusal came from the account itself.
    assert org.id("quiet") in {s.identity.account_id for s in opener.opened}
    assert result.exit_code() == 1


def test_account_session_for_own_account_uses_own_credentials(moto: Moto, base: Aws) -> None:
    own = caller_identity(base)
    opener = MemberAccounts(base, own, role_name=ROLE, external_id=None, read_only=True)

    session = opener(ACCOUNT_ID)

    assert session.aws is not base
    assert session.identity == own
    assert session.aws.read_only
    assert call(session.aws.sts, "GetCallerIdentity")["Account"] == ACCOUNT_ID
    assert session.aws.stats.operations["sts:AssumeRole"] == 0
    assert base.stats.operations["sts:AssumeRole"] == 0


def test_assumed_role_credentials_renew_before_they_expire(org: Org, base: Aws) -> None:
    from datetime import UTC, datetime, timedelta

    opener = MemberAccounts(
        base, caller_identity(base), role_name=ROLE, external_id=None, read_only=False
    )
    session = opener(org.id("quiet"))
    assert len(org.assume_role_calls) == 1
    assert session.identity.arn.startswith(f"arn:aws:sts::{org.id('quiet')}:assumed-role/{ROLE}/")
    assert call(session.aws.sts, "GetCallerIdentity")["Account"] == org.id("quiet")
    assert len(org.assume_role_calls) == 1  # fresh credentials: no renewal

    # An hour later (a slow confirmation): the credentials are about to expire.
    credentials = session.aws._credentials
    credentials._expiry_time = datetime.now(UTC) + timedelta(seconds=30)
    assert call(session.aws.sts, "GetCallerIdentity")["Account"] == org.id("quiet")
    assert len(org.assume_role_calls) == 2
    assert credentials._expiry_time > datetime.now(UTC) + timedelta(minutes=30)


@pytest.mark.parametrize(
    ("arn", "name"),
    [
        ("arn:aws:iam::111122223333:user/alice", "remediate-alice"),
        (
            "arn:aws:sts::111122223333:assumed-role/Admin/bob@example.com",
            "remediate-bob@example.com",
        ),
        ("arn:aws:iam::111122223333:root", "remediate-root"),
        ("arn:aws:sts::111122223333:federated-user/carol", "remediate-carol"),
        ("arn:aws:iam::111122223333:user/path/to/dave", "remediate-dave"),
        ("arn:aws:sts::111122223333:assumed-role/R/sé ssion", "remediate-s--ssion"),
        ("arn:aws:iam::111122223333:user/" + "e" * 64, "remediate-" + "e" * 54),
    ],
)
def test_role_session_name_names_the_caller(arn: str, name: str) -> None:
    import re

    assert role_session_name(arn) == name
    # STS's rule for RoleSessionName.
    assert re.fullmatch(r"[\w+=,.@-]{2,64}", name, re.ASCII)


def test_account_ids_without_organizations(moto: Moto, base: Aws) -> None:
    result, _ = run_sweep(base, [ACCOUNT_ID])

    assert [(a.account_id, a.account_name, a.root_in_use) for a in result.accounts] == [
        (ACCOUNT_ID, None, True)
    ]
    assert result.exit_code() == 1


def test_whole_organization_needs_organizations(moto: Moto, base: Aws) -> None:
    with faithful_moto([]), pytest.raises(AwsError) as caught:
        run_sweep(base)

    assert caught.value.code == "AWSOrganizationsNotInUseException"
    assert caught.value.tip is not None
    assert "--accounts" in caught.value.tip


def test_an_empty_account_list_is_not_a_clean_sweep(moto: Moto, base: Aws) -> None:
    # Unpatched moto lists no account without an organization; AWS always lists the management
    # account. Either way a sweep of nothing must not say "root not in use" (exit 0).
    with pytest.raises(AwsError, match="no active account"):
        run_sweep(base)


def test_list_accounts_pages_and_keeps_active_only(moto: Moto, org: Org, base: Aws) -> None:
    moto.client("organizations").close_account(AccountId=org.id("quiet"))

    listed = targets(base, None)

    assert sorted((t.account_id, t.account_name) for t in listed) == sorted(
        (i, n) for n, i in org.ids.items() if n != "quiet"
    )
    assert base.stats.operations["organizations:ListAccounts"] == 3  # 6 accounts, 2 a page


def test_parse_account_ids() -> None:
    assert parse_account_ids("111122223333") == ("111122223333",)
    assert parse_account_ids(" 111122223333 , 444455556666") == ("111122223333", "444455556666")


NOT_AN_ID = "is not an AWS account id (12 digits)"
FULL_WIDTH = "１１１１２２２２３３３３"  # full-width digits  # noqa: RUF001


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "--accounts: no account id given"),
        (" ", "--accounts: no account id given"),
        (",", "--accounts: no account id given"),
        ("11112222333", f"--accounts: '11112222333' {NOT_AN_ID}"),
        ("1111222233334", f"--accounts: '1111222233334' {NOT_AN_ID}"),
        ("11112222333a", f"--accounts: '11112222333a' {NOT_AN_ID}"),
        (
            "arn:aws:iam::111122223333:root",
            f"--accounts: 'arn:aws:iam::111122223333:root' {NOT_AN_ID}",
        ),
        ("111122223333,", "--accounts '111122223333,': an empty account id (a stray comma?)"),
        (
            "111122223333,,444455556666",
            "--accounts '111122223333,,444455556666': an empty account id (a stray comma?)",
        ),
        ("111122223333,111122223333", "--accounts: account 111122223333 given twice"),
        (FULL_WIDTH, f"--accounts: {FULL_WIDTH!r} {NOT_AN_ID}"),
        ("111122223333;444455556666", f"--accounts: '111122223333;444455556666' {NOT_AN_ID}"),
    ],
)
def test_parse_account_ids_rejects(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_account_ids(text)
    assert caught.value.exit_code == 2
    assert caught.value.message == message


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
    assert caught.value.message == (
        f"invalid --role-name {value!r}: use 1-64 letters, digits and +=,.@_- "
        "(a role name, not an ARN or a path)"
    )


@pytest.mark.parametrize("value", ["ab", "ext-id:1/2+=,.@_", "x" * 1224])
def test_external_id_accepts(value: str) -> None:
    assert external_id(value) == value


@pytest.mark.parametrize("value", ["", "a", "x" * 1225, "with space", "ü-umlaut"])
def test_external_id_rejects(value: str) -> None:
    with pytest.raises(InputError) as caught:
        external_id(value)
    assert caught.value.exit_code == 2
    # Not echoed: an external id is a shared secret of sorts.
    assert caught.value.message == "invalid --external-id: use 2-1224 letters, digits and +=,.@:/_-"


def test_failed_account_document_without_server() -> None:
    failed = AccountResult("111122223333", None, None, "cannot assume the role")

    document = failed.to_json()

    assert document["account_id"] == "111122223333"
    assert document["root_in_use"] is None
    assert document["error"] == "cannot assume the role"
    assert SweepResult((failed,)).exit_code() == 3
    assert SweepResult(()).summary() == {
        "total": 0,
        "in_use": 0,
        "not_in_use": 0,
        "undetermined": 0,
    }


def test_policy_statements_name_the_role() -> None:
    statements = organization_statements("AuditRole", "aws-us-gov")

    actions = {action for s in statements for action in s["Action"]}
    assert actions == {"organizations:ListAccounts", "sts:AssumeRole"}
    assume = next(s for s in statements if s["Action"] == ["sts:AssumeRole"])
    assert assume["Resource"] == "arn:aws-us-gov:iam::*:role/AuditRole"


def test_one_worker_interleaves_accounts_while_their_reports_are_generated(
    org: Org, base: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """IAM takes seconds to generate a report: a worker does not sleep through one account's,
    it starts the next accounts meanwhile."""
    from moto.iam.exceptions import IAMException
    from moto.iam.responses import IamResponse

    class ReportInProgress(IAMException):
        code = "ReportInProgress"

        def __init__(self) -> None:
            super().__init__("ReportInProgress", "Report generation in progress")

    events: list[tuple[str, str]] = []
    asked: set[str] = set()
    generate, get = IamResponse.generate_credential_report, IamResponse.get_credential_report

    def generating(self: Any) -> Any:
        events.append(("generate", self.current_account))
        result = generate(self)
        result.result["State"] = "STARTED"
        return result

    def not_at_first(self: Any) -> Any:
        if self.current_account not in asked:
            asked.add(self.current_account)
            raise ReportInProgress
        events.append(("ready", self.current_account))
        return get(self)

    monkeypatch.setattr(IamResponse, "generate_credential_report", generating)
    monkeypatch.setattr(IamResponse, "get_credential_report", not_at_first)
    monkeypatch.setattr("remediate.detect.fetch.FIRST_DELAY", 0.05)
    chosen = [org.id(n) for n in ("password", "key", "quiet", "no-root-row")]

    result, _ = run_sweep(base, chosen, concurrency=1)

    assert result.summary()["total"] == 4
    assert all(a.error is None for a in result.accounts), result.accounts
    kinds = [kind for kind, _ in events]
    # Every report was started before the first one was read.
    assert kinds[:4] == ["generate"] * 4
    assert sorted(kinds[4:]) == ["ready"] * 4
