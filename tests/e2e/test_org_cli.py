"""End to end: `root-use --all-accounts` / `--accounts` through the CLI against moto's server.

The organization (orgs.py) has the management account and five members: root password used 2 days
ago ("master", "password"), a root key used yesterday ("key"), nothing recent ("quiet"), no root
row ("no-root-row"), and one without the role the sweep assumes ("locked"). The remediation tests
check each account's IAM with boto3 (through the role, as the CLI goes in), not only the output.
"""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from remediate.credentials.store import SecretStore
from remediate.sandbox.server import SANDBOX_ACCOUNT_ID as ACCOUNT_ID
from support.iamstate import snapshot
from support.orgs import OTHER_ROLE, ROLE, Org, faithful_moto
from support.prompters import Scripted
from support.wire import writes

if TYPE_CHECKING:
    from conftest import Moto, Result

ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
# Membership of the administrators group last: it grants power (privilege last).
STEP_IDS = ["admin-group", "admin-policy", "admin-user", "console-access", "membership"]
# Accounts by verdict in the seeded organization.
IN_USE = ("master", "password", "key")
NOT_IN_USE = ("quiet",)
UNDETERMINED = ("no-root-row", "locked")
JUDGED = ("master", "password", "key", "quiet", "no-root-row")
EMPTY: dict[str, Any] = {"groups": {}, "users": {}}
# Operations that change an account (GenerateCredentialReport, which detection calls, does not).
WRITE_PREFIXES = (
    "Add",
    "Attach",
    "Create",
    "Deactivate",
    "Delete",
    "Detach",
    "Enable",
    "Put",
    "Remove",
    "Tag",
    "Untag",
    "Update",
)
# Reads only a plan makes (detection makes none of them).
PLAYBOOK_READS = {"GetGroup", "GetUser", "ListAccessKeys", "ListAttachedGroupPolicies"}


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture
def accounts(moto: Moto, admin_org: Org) -> Accounts:
    return Accounts(moto, admin_org)


@pytest.fixture
def journal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """This test's own audit trail (and account locks)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state" / "remediate" / "journal.jsonl"


def root_use(cli: Any, moto: Moto, *args: str, prompter: Any = None) -> Result:
    result: Result = cli("root-use", "--endpoint-url", moto.endpoint_url, *args, prompter=prompter)
    return result


def fix(cli: Any, moto: Moto, *args: str, prompter: Any = None) -> Result:
    """`root-use --all-accounts --create-admin alice ARGS -o json`"""
    return root_use(
        cli,
        moto,
        "--all-accounts",
        "--create-admin",
        "alice",
        *args,
        "-o",
        "json",
        prompter=prompter,
    )


def rows(result: Result) -> dict[str, dict[str, Any]]:
    """The sweep document's accounts by name."""
    return {row["account_name"]: row for row in result.json()["accounts"]}


def changes(row: dict[str, Any]) -> dict[str, str]:
    return {s["id"]: s["change"] for s in row["remediation"]["steps"]}


class Accounts:
    """boto3 IAM clients in each account of an organization: our own credentials in the
    management account, the role's elsewhere (the locked account's other role there)."""

    def __init__(self, moto: Moto, org: Org) -> None:
        self.moto, self.org = moto, org
        self._clients: dict[str, Any] = {}

    def iam(self, name: str) -> Any:
        if name not in self._clients:
            self._clients[name] = self._client(name)
        return self._clients[name]

    def _client(self, name: str) -> Any:
        account_id = self.org.id(name)
        if account_id == ACCOUNT_ID:
            return self.moto.client("iam")
        role = OTHER_ROLE if name == "locked" else ROLE
        arn = f"arn:aws:iam::{account_id}:role/{role}"
        sts = self.moto.client("sts")
        creds = sts.assume_role(RoleArn=arn, RoleSessionName="test")["Credentials"]
        keys = {
            "region_name": "us-east-1",
            "endpoint_url": self.moto.endpoint_url,
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }
        assert boto3.client("sts", **keys).get_caller_identity()["Account"] == account_id
        return boto3.client("iam", **keys)

    def state(self) -> dict[str, dict[str, Any]]:
        """Every account's snapshot, by name."""
        return {name: snapshot(self.iam(name)) for name in self.org.ids}


def alice(*, mfa: int = 0) -> dict[str, Any]:
    """An account after the playbook: alice in Administrators with AdministratorAccess."""
    return {
        "groups": {"Administrators": {"policies": [ADMIN_ARN], "members": ["alice"]}},
        "users": {
            "alice": {
                # The tag on every user remediate creates.
                "tags": {"remediate:managed-by": "remediate"},
                "login_profile": True,
                "access_keys": [],
                "mfa": mfa,
            }
        },
    }


def read_journal(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


# --- the sweep: JSON, text, exit codes ------------------------------------------------------------


def test_sweep_json(moto: Moto, org: Org, cli: Any) -> None:
    r = root_use(cli, moto, "--all-accounts", "--output", "json")

    assert r.code == 1, r.err
    document = r.json()  # stdout holds one JSON document and nothing else
    assert list(document) == ["accounts", "summary"]
    assert document["summary"] == {"total": 6, "in_use": 3, "not_in_use": 1, "undetermined": 2}
    accounts = document["accounts"]
    assert sorted(a["account_id"] for a in accounts) == sorted(org.ids.values())
    for a in accounts:
        assert {"account_id", "account_name", "root_in_use", "evidence", "error"} <= set(a)
        assert a["account_id"] == org.id(a["account_name"])

    # In use first, then undetermined, then not in use; by account id within each.
    rank = {True: 0, None: 1, False: 2}
    order = [(rank[a["root_in_use"]], a["account_id"]) for a in accounts]
    assert order == sorted(order)
    by_name = rows(r)
    assert {n for n, a in by_name.items() if a["root_in_use"] is True} == set(IN_USE)
    assert {n for n, a in by_name.items() if a["root_in_use"] is False} == set(NOT_IN_USE)
    assert {n for n, a in by_name.items() if a["root_in_use"] is None} == set(UNDETERMINED)
    evidence = {n: [e["credential"] for e in a["evidence"]] for n, a in by_name.items()}
    assert evidence == {
        "master": ["password"],
        "password": ["password"],
        "key": ["access_key_1"],
        "quiet": [],
        "no-root-row": [],
        "locked": [],
    }

    # The locked account says why, in one line naming the role; the sweep went on around it.
    errors = {n: a["error"] for n, a in by_name.items() if a["error"] is not None}
    assert list(errors) == ["locked"]
    assert f"cannot assume arn:aws:iam::{org.id('locked')}:role/{ROLE}" in errors["locked"]
    assert "\n" not in errors["locked"]
    # Every member account was tried, the management account with its own credentials.
    assumed = sorted(str(c["role_arn"]) for c in org.assume_role_calls)
    members = sorted(i for n, i in org.ids.items() if n != "master")
    assert assumed == [f"arn:aws:iam::{i}:role/{ROLE}" for i in members]


def test_sweep_text(moto: Moto, org: Org, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # one line per row

    r = root_use(cli, moto, "--all-accounts")

    assert r.code == 1, r.err
    lines = r.out.splitlines()
    found = {n: [ln for ln in lines if ln.startswith(i)] for n, i in org.ids.items()}
    assert all(len(matches) == 1 for matches in found.values()), r.out
    line = {n: matches[0] for n, matches in found.items()}
    for name in IN_USE:
        assert f" {name} " in line[name]
        assert "IN USE" in line[name]
    assert "access_key_1" in line["key"]
    assert " ok " in line["quiet"]
    assert "undetermined" in line["no-root-row"]
    assert "unknown" in line["no-root-row"]
    assert " error " in line["locked"]
    assert f"cannot assume arn:aws:iam::{org.id('locked')}:role/{ROLE}" in line["locked"]
    assert lines[-1] == "6 accounts: 3 in use, 1 not in use, 2 undetermined"
    order = [lines.index(line[n]) for n in ("master", "password", "key")]
    assert max(order) < lines.index(line["no-root-row"]) < lines.index(line["quiet"])
    assert max(order) < lines.index(line["locked"]) < lines.index(line["quiet"])
    assert "Judging accounts" not in r.err  # no progress bar: stderr is not a terminal


@pytest.mark.parametrize(
    ("names", "code", "summary"),
    [
        (["quiet"], 0, (1, 0, 1, 0)),
        (["quiet", "no-root-row"], 3, (2, 0, 1, 1)),
        (["quiet", "locked"], 3, (2, 0, 1, 1)),
        (["quiet", "key", "locked"], 1, (3, 1, 1, 1)),
    ],
    ids=["not-in-use", "no-root-row", "locked", "in-use-wins"],
)
def test_exit_codes(
    moto: Moto,
    org: Org,
    cli: Any,
    names: list[str],
    code: int,
    summary: tuple[int, int, int, int],
) -> None:
    r = root_use(cli, moto, "--accounts", ",".join(org.id(n) for n in names), "-o", "json")

    assert r.code == code, r.err
    total, in_use, not_in_use, undetermined = summary
    assert r.json()["summary"] == {
        "total": total,
        "in_use": in_use,
        "not_in_use": not_in_use,
        "undetermined": undetermined,
    }


def test_accounts_limit_the_sweep(moto: Moto, org: Org, cli: Any) -> None:
    chosen = [org.id("quiet"), ACCOUNT_ID, org.id("key")]

    r = root_use(cli, moto, "--accounts", ",".join(chosen), "--concurrency", "1", "-o", "json")

    assert r.code == 1, r.err
    assert [(a["account_id"], a["account_name"]) for a in r.json()["accounts"]] == [
        *sorted([(ACCOUNT_ID, "master"), (org.id("key"), "key")]),
        (org.id("quiet"), "quiet"),
    ]
    assert r.json()["summary"] == {"total": 3, "in_use": 2, "not_in_use": 1, "undetermined": 0}
    # Only the chosen members were entered.
    assert sorted(str(c["role_arn"]).split(":")[4] for c in org.assume_role_calls) == sorted(
        [org.id("quiet"), org.id("key")]
    )


def test_role_name_and_external_id_reach_sts(moto: Moto, org: Org, cli: Any) -> None:
    # The locked account has only OTHER_ROLE: with --role-name it is judged, the others are not.
    r = root_use(
        cli,
        moto,
        "--accounts",
        f"{org.id('locked')},{org.id('quiet')}",
        "--role-name",
        OTHER_ROLE,
        "--external-id",
        "ext-123",
        "-o",
        "json",
    )

    assert r.code == 1, r.err
    by_name = rows(r)
    assert by_name["locked"]["root_in_use"] is True  # root password used an hour ago
    assert by_name["locked"]["error"] is None
    assert f"role/{OTHER_ROLE}" in by_name["quiet"]["error"]
    assert {
        (str(c["role_arn"]).rsplit("/", 1)[1], c["external_id"]) for c in org.assume_role_calls
    } == {(OTHER_ROLE, "ext-123")}


@pytest.mark.parametrize("faithful", [True, False], ids=["faithful", "moto"])
def test_accounts_without_an_organization(
    moto: Moto, cli: Any, faithful: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `moto` is reset: no organization. AWS then refuses ListAccounts (faithful); moto lists none.
    with faithful_moto([]) if faithful else monkeypatch.context():
        r = root_use(cli, moto, "--accounts", ACCOUNT_ID, "-o", "json")
        text = root_use(cli, moto, "--accounts", ACCOUNT_ID)

    assert r.code == 1, r.err
    document = r.json()
    assert [
        (a["account_id"], a["account_name"], a["root_in_use"]) for a in document["accounts"]
    ] == [(ACCOUNT_ID, None, True)]
    assert [e["credential"] for e in document["accounts"][0]["evidence"]] == ["password"]
    assert document["accounts"][0]["error"] is None
    assert document["summary"] == {"total": 1, "in_use": 1, "not_in_use": 0, "undetermined": 0}
    assert text.code == 1, text.err
    assert text.out.splitlines()[-1] == "1 account: 1 in use, 0 not in use, 0 undetermined"


@pytest.mark.parametrize(
    ("faithful", "expected"),
    [
        (True, "organizations:ListAccounts failed: AWSOrganizationsNotInUseException"),
        (False, "AWS Organizations listed no active account"),  # moto: an empty list
    ],
    ids=["faithful", "moto"],
)
def test_all_accounts_without_an_organization(
    moto: Moto, cli: Any, faithful: bool, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with faithful_moto([]) if faithful else monkeypatch.context():
        r = root_use(cli, moto, "--all-accounts", "-o", "json")

    # Not a clean sweep of nothing: exit 3, and the tip names --accounts.
    assert r.code == 3, r.err
    assert r.out == ""
    error, tip = r.err.splitlines()[-2:]
    assert error.startswith(f"error: {expected}")
    assert tip.startswith("Tip: ")
    assert "--accounts ID,ID" in tip


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal(
    moto: Moto, org: Org, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stderr = Terminal()
    monkeypatch.setattr(sys, "stderr", stderr)

    r = root_use(cli, moto, "--accounts", f"{org.id('quiet')},{org.id('key')}", "-o", "json")

    assert r.code == 1, stderr.getvalue()
    assert "Judging accounts" in stderr.getvalue()
    assert r.json()["summary"]["total"] == 2  # stdout holds the document only


# --- input errors: exit 2, one error line, no AWS call ------------------------------------------

INPUT_ERRORS = {
    "accounts-short": (["--accounts", "12345678901"], "is not an AWS account id"),
    "accounts-long": (["--accounts", "1234567890123"], "is not an AWS account id"),
    "accounts-letters": (["--accounts", "12345678901a"], "is not an AWS account id"),
    "accounts-arn": (["--accounts", "arn:aws:iam::111122223333:root"], "not an AWS account id"),
    "accounts-twice": (["--accounts", "111122223333,111122223333"], "given twice"),
    "accounts-empty": (["--accounts", ""], "no account id given"),
    "accounts-comma": (["--accounts", "111122223333,"], "an empty account id"),
    "both-account-options": (
        ["--all-accounts", "--accounts", "111122223333"],
        "give --all-accounts or --accounts, not both",
    ),
    "concurrency-0": (["--all-accounts", "--concurrency", "0"], "--concurrency"),
    "concurrency-65": (["--all-accounts", "--concurrency", "65"], "--concurrency"),
    "role-path": (["--all-accounts", "--role-name", "path/Role"], "invalid --role-name"),
    "role-arn": (
        ["--all-accounts", "--role-name", "arn:aws:iam::111122223333:role/R"],
        "invalid --role-name",
    ),
    "role-long": (["--all-accounts", "--role-name", "r" * 65], "invalid --role-name"),
    "external-id": (["--all-accounts", "--external-id", "x"], "invalid --external-id"),
    "all-without-create-admin": (["--all-accounts", "--all"], "--all needs --create-admin"),
    "create-admin-mfa-prompt": (
        ["--all-accounts", "--create-admin", "alice"],
        "MFA enrollment cannot prompt in each account",
    ),
    "mfa-codes": (
        [
            # One device's codes: --accounts names exactly one account (hand-off finishes so).
            "--accounts",
            "111122223333,444455556666",
            "--create-admin",
            "alice",
            "--mfa-codes",
            "123456",
            "654321",
        ],
        "--mfa-codes are the codes of one device, so for one account at a time",
    ),
    "qr-file": (
        ["--all-accounts", "--create-admin", "alice", "--mfa-auto", "--qr-file", "/tmp/x.png"],
        "one account at a time",
    ),
    "credential-report": (
        ["--all-accounts", "--credential-report", "/nonexistent.csv"],
        "--credential-report judges one file",
    ),
    "role-name-alone": (["--role-name", "AuditRole"], "need --all-accounts or --accounts"),
    "external-id-alone": (["--external-id", "ext-123"], "need --all-accounts or --accounts"),
    "concurrency-alone": (["--concurrency", "4"], "need --all-accounts or --accounts"),
    "all-alone": (
        ["--all", "--create-admin", "alice", "--no-mfa"],
        "need --all-accounts or --accounts",
    ),
}


@pytest.mark.parametrize(("args", "expected"), list(INPUT_ERRORS.values()), ids=list(INPUT_ERRORS))
def test_input_errors(cli: Any, sent: list[str], args: list[str], expected: str) -> None:
    # A closed port: a request would fail with exit 3, not 2.
    r = cli("root-use", "--endpoint-url", "http://127.0.0.1:9", *args)

    assert r.code == 2, r.err
    errors = [line for line in r.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, r.err
    assert expected in errors[0]
    assert r.out == ""
    assert sent == []


# --- remediation across accounts ----------------------------------------------------------------


def test_remediate_where_root_is_in_use_then_rerun(
    moto: Moto, accounts: Accounts, cli: Any, test_keyring: Any, journal: Path, sent: list[str]
) -> None:
    org = accounts.org
    r = fix(cli, moto, "--no-mfa", "--yes")

    # The locked account could not be entered: the run cannot say it completed.
    assert r.code == 3, r.err
    assert f"Account {org.id('locked')}: not remediated" in r.out + r.err
    after = accounts.state()
    assert after == {name: alice() if name in IN_USE else EMPTY for name in org.ids}
    by_name = rows(r)
    for name, row in by_name.items():
        if name in IN_USE:
            assert changes(row) == dict.fromkeys(STEP_IDS, "create")
            assert all(s["applied"] for s in row["remediation"]["steps"])
            assert row["remediation"]["changed"] == 5
            assert [(s["user"], s["kind"]) for s in row["secrets"]] == [("alice", "password")]
            assert row["console_sign_in_url"] == (
                f"https://{org.id(name)}.signin.aws.amazon.com/console"
            )
        else:
            assert "remediation" not in row
    assert "cannot assume" in by_name["locked"]["error"]  # the sweep's reason, kept
    assert r.json()["summary"] == {"total": 6, "in_use": 3, "not_in_use": 1, "undetermined": 2}

    # Each generated password is in the keyring under its account's id, never in the output.
    store = SecretStore(test_keyring)
    remediated = sorted(org.id(n) for n in IN_USE)
    assert sorted({a for a, u, _ in store.entries() if u == "alice"}) == remediated
    for account_id in remediated:
        password = store.get(account_id, "alice", "password")
        assert password
        assert password not in r.out + r.err

    # The audit trail: each remediated account's six write calls (CreateGroup, AttachGroupPolicy,
    # CreateUser, AttachUserPolicy for IAMUserChangePassword, CreateLoginProfile,
    # AddUserToGroup), and who made them there.
    entries = read_journal(journal)
    assert sorted({e["account"] for e in entries}) == remediated
    assert len(entries) == 6 * len(remediated)
    for e in entries:
        by = ":user/" if e["account"] == ACCOUNT_ID else f":assumed-role/{ROLE}/remediate"
        assert by in e["caller"]

    # Rerun: nothing to change in any account, no write call, nothing new in the journal.
    secrets = store.entries()
    sent.clear()
    again = fix(cli, moto, "--no-mfa", "--yes")

    # The locked account could not be entered: the run cannot say it completed.
    assert again.code == 3, again.err
    assert f"Account {org.id('locked')}: not remediated" in again.out + again.err
    assert sent
    assert writes(sent) == []
    assert "Nothing needs changing in any account." in again.err
    for name, row in rows(again).items():
        if name in IN_USE:
            assert changes(row) == dict.fromkeys(STEP_IDS, "none")
            assert not any(s["applied"] for s in row["remediation"]["steps"])
            assert row["remediation"]["changed"] == 0
        else:
            assert "remediation" not in row
    assert accounts.state() == after
    assert len(read_journal(journal)) == 6 * len(
        remediated
    )  # nothing more: the rerun wrote nothing
    assert store.entries() == secrets


def test_remediate_text_output(
    moto: Moto, accounts: Accounts, cli: Any, journal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    key, quiet = accounts.org.id("key"), accounts.org.id("quiet")

    r = root_use(
        cli, moto, "--accounts", f"{key},{quiet}", "--create-admin", "alice", "--no-mfa", "--yes"
    )

    assert r.code == 0, r.err
    table, _, rest = r.out.partition("2 accounts: 1 in use, 1 not in use, 0 undetermined\n")
    assert key in table
    assert quiet in table
    assert f"Plan for playbook root-use in account {key}" in rest
    assert f"Account {key}:" in rest
    assert "Applied 5 of 5 changes." in rest
    assert quiet not in rest
    assert accounts.state() == {n: alice() if n == "key" else EMPTY for n in accounts.org.ids}


def test_dry_run_then_every_account_with_all(
    moto: Moto,
    accounts: Accounts,
    cli: Any,
    test_keyring: Any,
    journal: Path,
    sent: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    org = accounts.org
    # A dry run asks nothing (and there is no terminal to ask on).

    # The dry run plans the playbook in every judged account, whatever its verdict; no write.
    dry = fix(cli, moto, "--all", "--no-mfa", "--dry-run")

    # The locked account could not be entered: the run cannot say it completed.
    assert dry.code == 3, dry.err
    assert f"Account {org.id('locked')}: not remediated" in dry.out + dry.err
    assert writes(sent) == []
    for name, row in rows(dry).items():
        if name in JUDGED:
            assert row["remediation"]["dry_run"] is True
            assert row["remediation"]["changed"] == 0
            assert changes(row) == dict.fromkeys(STEP_IDS, "create")
        else:
            assert "remediation" not in row
    assert dry.err.count("Plan for playbook root-use in account") == len(JUDGED)
    assert accounts.state() == dict.fromkeys(org.ids, EMPTY)
    assert SecretStore(test_keyring).entries() == []
    assert read_journal(journal) == []

    # Applied: alice in every judged account; the locked one could not be entered.
    r = fix(cli, moto, "--all", "--no-mfa", "--yes")

    # The locked account could not be entered: the run cannot say it completed.
    assert r.code == 3, r.err
    assert f"Account {org.id('locked')}: not remediated" in r.out + r.err
    assert accounts.state() == {n: alice() if n in JUDGED else EMPTY for n in org.ids}
    by_name = rows(r)
    assert {n for n, row in by_name.items() if "remediation" in row} == set(JUDGED)
    for name in JUDGED:
        assert changes(by_name[name]) == dict.fromkeys(STEP_IDS, "create")
    assert "cannot assume" in by_name["locked"]["error"]
    store = SecretStore(test_keyring)
    assert sorted({a for a, u, _ in store.entries() if u == "alice"}) == sorted(
        org.id(n) for n in JUDGED
    )
    assert len(read_journal(journal)) == 6 * len(JUDGED)  # six write calls in each


def test_one_confirmation_for_every_account(
    moto: Moto,
    accounts: Accounts,
    cli: Any,
    test_keyring: Any,
    journal: Path,
    sent: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    org = accounts.org
    nothing = dict.fromkeys(org.ids, EMPTY)

    # No --yes and no terminal: the plans, then exit 2 before any change.
    r = fix(cli, moto, "--no-mfa")

    assert r.code == 2, r.err
    assert r.err.count("Plan for playbook root-use in account") == len(IN_USE)
    assert "--yes was not given: nothing was changed" in r.err
    assert r.err.splitlines()[-1].startswith("Tip:")
    assert r.out == ""
    assert writes(sent) == []
    assert accounts.state() == nothing
    assert SecretStore(test_keyring).entries() == []
    assert read_journal(journal) == []

    # At a terminal: one question listing the accounts; "n" changes nothing.
    ids = ", ".join(sorted(org.id(n) for n in IN_USE))
    question = f"Apply 15 changes in 3 accounts ({ids})?"
    person = Scripted(["n"])
    r = fix(cli, moto, "--no-mfa", prompter=person)

    assert r.code == 2, r.err
    assert person.asked == [question]
    assert "not confirmed: nothing was changed" in r.err
    assert writes(sent) == []
    assert accounts.state() == nothing

    # "y" applies in every account in use, after that one question.
    person = Scripted(["y"])
    r = fix(cli, moto, "--no-mfa", prompter=person)

    # The locked account could not be entered: the run cannot say it completed.
    assert r.code == 3, r.err
    assert f"Account {org.id('locked')}: not remediated" in r.out + r.err
    assert person.asked == [question]
    assert accounts.state() == {n: alice() if n in IN_USE else EMPTY for n in org.ids}


def test_mfa_auto_across_accounts(
    moto: Moto, accounts: Accounts, cli: Any, test_keyring: Any, journal: Path
) -> None:
    org = accounts.org
    chosen = ",".join(org.id(n) for n in ("master", "key", "quiet"))
    args = ("--accounts", chosen, "--create-admin", "alice", "--mfa-auto", "--yes", "-o", "json")

    r = root_use(cli, moto, *args)

    assert r.code == 0, r.err
    after = accounts.state()
    assert after == {n: alice(mfa=1) if n in ("master", "key") else EMPTY for n in org.ids}
    store = SecretStore(test_keyring)
    by_name = rows(r)
    for name in ("master", "key"):
        row = by_name[name]
        assert changes(row) == {**dict.fromkeys(STEP_IDS, "create"), "mfa": "create"}
        assert row["mfa"]["enabled"] is True
        serial = row["mfa"]["serial_number"]
        assert serial.startswith(f"arn:aws:iam::{org.id(name)}:mfa/")
        devices = accounts.iam(name).list_mfa_devices(UserName="alice")["MFADevices"]
        assert [d["SerialNumber"] for d in devices] == [serial]
        seed = store.get(org.id(name), "alice", "mfa-seed")
        assert seed
        assert seed not in r.out + r.err
    assert "remediation" not in by_name["quiet"]
    assert store.get(org.id("quiet"), "alice", "mfa-seed") is None

    again = root_use(cli, moto, *args)

    assert again.code == 0, again.err
    assert {c for n in ("master", "key") for c in changes(rows(again)[n]).values()} == {"none"}
    assert accounts.state() == after


# --- the sandbox ----------------------------------------------------------------------------------


def test_sandbox_sweeps_its_organization(
    moto: Moto, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `moto` resets the shared in-process emulator state before and after the sandbox uses it.
    monkeypatch.setenv("COLUMNS", "250")

    r = cli("root-use", "--sandbox", "--all-accounts")

    assert r.code == 1, r.err
    assert "SANDBOX" in r.err
    lines = r.out.splitlines()
    line = {ln.split()[2]: ln for ln in lines if ln[:12].isdigit()}
    assert sorted(line) == ["audit", "dev", "master", "prod"]
    assert all("IN USE" in line[n] for n in ("master", "dev"))
    assert all(" ok " in line[n] for n in ("prod", "audit"))
    # In use first.
    assert {lines.index(line[n]) for n in ("master", "dev")} == {2, 3}  # after the header
    assert lines[-1] == "4 accounts: 2 in use, 2 not in use, 0 undetermined"


def test_sandbox_dry_run_across_accounts_plans_every_account(
    moto: Moto, cli: Any, sent: list[str]
) -> None:
    # The sandbox seeds its organization with its own client before the command's read-only
    # session exists: the dry run itself sends no write at all.
    r = cli(
        "root-use",
        "--sandbox",
        "--all-accounts",
        "--create-admin",
        "alice",
        "--mfa-auto",
        "--dry-run",
        "--all",
        "-o",
        "json",
    )

    assert r.code == 0, r.err
    doc = r.json()
    assert len(doc["accounts"]) == 4
    for account in doc["accounts"]:
        assert account["remediation"]["dry_run"] is True
        assert account["remediation"]["changed"] == 0
        assert {s["change"] for s in account["remediation"]["steps"]} == {"create"}
    assert r.err.count("(dry run: nothing will be changed)") == 4
    seeding = {"organizations:CreateOrganization", "organizations:CreateAccount"}
    assert set(writes(sent)) == seeding  # only the sandbox's own set-up wrote


# --- concurrent runs ------------------------------------------------------------------------------


def test_concurrent_runs_across_accounts_end_with_one_access_key(
    moto: Moto, journal: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The second run waits for the account's lock before it plans: a plan made before the
    first run wrote anything would create a second access key."""
    import logging
    import threading

    from remediate.cli import run
    from support.faultproxy import FaultProxy, Faults

    caplog.set_level(logging.INFO, logger="remediate.playbook.lock")
    args = ["root-use", "--accounts", ACCOUNT_ID, "--create-admin", "ola"]
    args += ["--access", "programmatic", "--no-mfa", "--yes", "-o", "json"]
    codes: dict[str, int] = {}

    def start(name: str, endpoint: str) -> threading.Thread:
        def target() -> None:
            codes[name] = run([*args, "--endpoint-url", endpoint])

        thread = threading.Thread(target=target)
        thread.start()
        return thread

    def second_is_waiting() -> bool:
        return any("waiting for another remediate run" in r.message for r in caplog.records)

    faults = Faults(hold_first_write=True)
    seen = Faults()  # what the second run asks for
    with FaultProxy(moto.endpoint_url, faults) as proxy, FaultProxy(moto.endpoint_url, seen) as own:
        first = start("first", proxy.endpoint_url)
        assert faults.held.wait(timeout=60), "the first run never wrote"
        second = start("second", own.endpoint_url)
        deadline = time.monotonic() + 60
        while not second_is_waiting():
            assert time.monotonic() < deadline, "the second run never reached the lock"
            assert second.is_alive(), "the second run ended without waiting for the lock"
            time.sleep(0.01)
        before_release = list(seen.actions)
        faults.release.set()
        first.join(timeout=120)
        second.join(timeout=120)

    assert codes == {"first": 0, "second": 0}
    # Detection may run before the lock; the playbook's reads may not.
    assert "GetCredentialReport" in before_release
    assert not PLAYBOOK_READS & set(before_release), before_release
    assert PLAYBOOK_READS & set(seen.actions)
    assert not writes([f"iam:{a}" for a in seen.actions if a]), "the second run wrote"
    keys = moto.client("iam").list_access_keys(UserName="ola")["AccessKeyMetadata"]
    assert len(keys) == 1


def test_mfa_handoff_across_accounts_then_finish_in_one(
    moto: Moto, accounts: Accounts, cli: Any, test_keyring: Any, journal: Path, tmp_path: Path
) -> None:
    import pyotp

    from remediate.credentials import totp as mfa
    from support.qrdecode import png_to_matrix

    org = accounts.org
    chosen = [org.id(n) for n in ("master", "key")]
    qr = tmp_path / "qr"
    qr.mkdir()
    # One QR code file per account: {account} stands for its id.
    pattern = str(qr / "{account}-alice.png")
    r = root_use(
        cli,
        moto,
        *("--accounts", ",".join(chosen), "--create-admin", "alice", "--yes", "-o", "json"),
        *("--mfa-handoff", "--qr-file", pattern),
    )
    assert r.code == 0, r.err
    store = SecretStore(test_keyring)
    by_name = rows(r)
    for name in ("master", "key"):
        account = org.id(name)
        png = qr / f"{account}-alice.png"
        seed = store.get(account, "alice", "mfa-seed")
        assert seed is not None
        assert png_to_matrix(png) == mfa.qr_matrix(mfa.otpauth_uri(seed, "alice", account))
        # Privilege last, in every account: the device waits, and so does the membership.
        assert accounts.state()[name]["groups"]["Administrators"]["members"] == []
        assert by_name[name]["mfa"]["enabled"] is False
        assert by_name[name]["handover"]["finish_mfa"] == (
            f"remediate root-use --create-admin alice --endpoint-url {moto.endpoint_url} "
            f"--accounts {account} --all --mfa-codes CODE1 CODE2"
        )

    # The owner in "key" sent back two codes: its finish command completes that account only.
    key = org.id("key")
    seed = store.get(key, "alice", "mfa-seed")
    assert seed is not None
    step = mfa.totp_step(time.time())
    codes = (pyotp.TOTP(seed).at(step * 30), pyotp.TOTP(seed).at((step + 1) * 30))
    done = root_use(
        cli,
        moto,
        *("--create-admin", "alice", "--accounts", key, "--all", "--yes", "-o", "json"),
        *("--mfa-codes", *codes),
    )
    assert done.code == 0, done.err
    state = accounts.state()
    assert state["key"]["groups"]["Administrators"]["members"] == ["alice"]
    assert state["key"]["users"]["alice"]["mfa"] == 1
    assert state["master"]["groups"]["Administrators"]["members"] == []
    assert state["master"]["users"]["alice"]["mfa"] == 0
