"""End to end: `remediate root-credentials audit | centralize | delete` and
`root-use --delete-root-keys`, through the CLI against the test server and its emulation of
centralized root access (remediate.sandbox.root).

The organization is the sandbox's own: the management account ("master"), and members "dev"
(root password, an active access key, a signing certificate), "prod" (root password and an MFA
device) and "audit" (no root credentials at all). Every test re-reads the emulated root
credentials instead of trusting the command's own output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from remediate.detect.judge import ROOT_CREDENTIALS_REMOVED_NOTE
from remediate.sandbox import root as sandbox_root
from remediate.sandbox.server import SANDBOX_ACCOUNT_ID as ACCOUNT_ID
from remediate.sandbox.server import RootState, generate_credential_report
from support.orgs import root_access_key, seed_sandbox_organization
from support.taskpolicies import AUDIT_POLICY_ACTIONS, DELETE_POLICY_ACTIONS

if TYPE_CHECKING:
    from conftest import Moto, Result

pytestmark = pytest.mark.e2e

AUDIT_ARN = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
DELETE_ARN = "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"
# Operations that change an account or an organization (AssumeRoot hands out credentials).
WRITE_PREFIXES = ("Create", "Delete", "Deactivate", "Enable", "Update", "Put", "Attach", "Add")
ACCOUNT_KEYS = {
    "account_id",
    "account_name",
    "login_profile",
    "access_keys",
    "signing_certificates",
    "mfa_devices",
    "error",
}


# --- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
def ids(moto: Moto) -> dict[str, str]:
    """The sandbox's organization, root credentials management already on (its default)."""
    return seed_sandbox_organization(moto)


@pytest.fixture
def journal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state" / "remediate" / "journal.jsonl"


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Every AWS request botocore sends in this process: ``service:Operation`` and its body."""
    from urllib.parse import parse_qs

    from botocore.endpoint import Endpoint

    requests: list[tuple[str, dict[str, Any]]] = []
    make_request = Endpoint.make_request

    def recording(self: Any, operation_model: Any, request_dict: Any) -> Any:
        service = operation_model.service_model.endpoint_prefix
        body = request_dict.get("body")
        # The query protocol's parameters are a dict until botocore encodes them.
        if isinstance(body, dict):
            params = {str(k): str(v) for k, v in body.items()}
        else:
            text = body.decode() if isinstance(body, bytes) else str(body or "")
            params = {k: v[0] for k, v in parse_qs(text).items()}
        requests.append((f"{service}:{operation_model.name}", params))
        return make_request(self, operation_model, request_dict)

    monkeypatch.setattr(Endpoint, "make_request", recording)
    return requests


def names(sent: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [name for name, _ in sent]


def writes(sent: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [n for n in names(sent) if n.split(":", 1)[1].startswith(WRITE_PREFIXES)]


def rc(cli: Any, moto: Moto, *args: str, prompter: Any = None) -> Result:
    result: Result = cli(
        "root-credentials", *args, "--endpoint-url", moto.endpoint_url, prompter=prompter
    )
    return result


def held(account_id: str) -> dict[str, Any]:
    """What the emulator says the account's root user holds."""
    creds = sandbox_root.root_credentials(account_id)
    assert creds is not None
    return {
        "login_profile": creds.login_profile is not None,
        "access_keys": [k.access_key_id for k in creds.access_keys],
        "signing_certificates": [c.certificate_id for c in creds.signing_certificates],
        "mfa_devices": [d.serial_number for d in creds.mfa_devices],
    }


EMPTY = {"login_profile": False, "access_keys": [], "signing_certificates": [], "mfa_devices": []}


def by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["account_name"]: a for a in doc["accounts"]}


# --- audit -----------------------------------------------------------------------------------


def test_audit_shows_each_member_account_and_the_organization(
    moto: Moto, cli: Any, ids: dict[str, str], sent: list[tuple[str, dict[str, Any]]]
) -> None:
    sent.clear()  # the organization's own set-up
    r = rc(cli, moto, "audit", "--all-accounts", "-o", "json")

    assert r.code == 1, r.err  # some root user holds credentials
    doc = r.json()
    assert set(doc) == {"organization", "accounts", "summary"}
    org = doc["organization"]
    assert org["management_account_id"] == ACCOUNT_ID
    assert org["id"].startswith("o-")
    assert (org["trusted_access"], org["root_credentials_management"], org["root_sessions"]) == (
        True,
        True,
        False,
    )
    accounts = by_name(doc)
    assert set(accounts) == {"dev", "prod", "audit"}  # never the management account
    assert all(set(a) == ACCOUNT_KEYS for a in accounts.values())
    dev, prod, audit = accounts["dev"], accounts["prod"], accounts["audit"]
    assert dev["login_profile"] is True
    assert [k["access_key_id"] for k in dev["access_keys"]] == held(ids["dev"])["access_keys"]
    assert dev["access_keys"][0]["status"] == "Active"
    assert len(dev["signing_certificates"]) == 1
    assert dev["mfa_devices"] == []
    assert prod["login_profile"] is True
    assert [d["serial_number"] for d in prod["mfa_devices"]] == held(ids["prod"])["mfa_devices"]
    assert (audit["login_profile"], audit["access_keys"], audit["mfa_devices"]) == (False, [], [])
    assert all(a["error"] is None for a in accounts.values())
    # Holding root credentials first.
    assert [a["account_name"] for a in doc["accounts"]][-1] == "audit"
    assert doc["summary"] == {
        "total": 3,
        "with_root_credentials": 2,
        "without_root_credentials": 1,
        "undetermined": 0,
    }
    # One audit session per member, each with the audit task policy; nothing written.
    assume = [p for n, p in sent if n == "sts:AssumeRoot"]
    assert sorted(p["TargetPrincipal"] for p in assume) == sorted(
        ids[n] for n in ("dev", "prod", "audit")
    )
    assert {p["TaskPolicyArn.arn"] for p in assume} == {AUDIT_ARN}
    assert {p["DurationSeconds"] for p in assume} == {"900"}
    assert writes(sent) == []


def test_audit_text(moto: Moto, cli: Any, ids: dict[str, str], monkeypatch: Any) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    r = rc(cli, moto, "audit")  # every member account by default

    assert r.code == 1, r.err
    assert "trusted access for IAM: yes; root credentials management: yes; root sessions: no" in (
        r.out
    )
    rows = {ln.split()[2]: ln for ln in r.out.splitlines() if ln[:12].isdigit()}
    assert sorted(rows) == ["audit", "dev", "prod"]
    assert "3 member accounts: 2 with root credentials, 1 without, 0 undetermined" in r.out
    assert f"management account {ACCOUNT_ID} not audited" in r.out
    assert "Next step: remediate root-credentials delete --accounts" in r.out


def test_audit_on_the_sandbox_shows_accounts_in_different_states(
    moto: Moto, cli: Any, monkeypatch: Any
) -> None:
    # `moto` resets the shared in-process emulator before and after the sandbox uses it.
    monkeypatch.setenv("COLUMNS", "250")
    r = cli("root-credentials", "audit", "--sandbox", "--all-accounts")

    assert r.code == 1, r.err
    assert "SANDBOX" in r.err
    cells = [[c.strip() for c in ln.split("│")] for ln in r.out.splitlines() if ln[:12].isdigit()]
    rows = {c[1]: c[2:6] for c in cells}
    # Password, access keys, signing certificates, MFA devices.
    assert [v.split()[0] for v in rows["dev"]] == ["yes", "1", "1", "0"]
    assert [v.split()[0] for v in rows["prod"]] == ["yes", "0", "0", "1"]
    assert rows["audit"] == ["no", "0", "0", "0"]


def test_audit_without_central_root_access_says_how_to_enable_it(
    moto: Moto, cli: Any, sent: list[tuple[str, dict[str, Any]]]
) -> None:
    seed_sandbox_organization(moto, central_root_access=())
    r = rc(cli, moto, "audit", "-o", "json")

    assert r.code == 3, r.err  # nothing could be audited
    doc = r.json()
    assert doc["organization"]["trusted_access"] is False
    assert doc["summary"]["undetermined"] == 3
    assert all("remediate root-credentials centralize" in a["error"] for a in doc["accounts"])
    assert "sts:AssumeRoot" not in names(sent)
    text = rc(cli, moto, "audit")
    assert "Next step: remediate root-credentials centralize" in text.out


def test_audit_keeps_each_account_failure_with_its_account(
    moto: Moto, cli: Any, ids: dict[str, str]
) -> None:
    outsider = "999999999999"
    r = rc(cli, moto, "audit", "--accounts", f"{ids['audit']},{outsider}", "-o", "json")

    assert r.code == 3, r.err  # audit is clean, the outsider could not be audited
    accounts = {a["account_id"]: a for a in r.json()["accounts"]}
    assert accounts[ids["audit"]]["error"] is None
    failed = accounts[outsider]
    assert "cannot open a root session" in failed["error"]
    assert "AccessDenied" in failed["error"] or "access denied" in failed["error"]
    assert failed["login_profile"] is None
    # With a member that holds credentials, 1 wins over 3.
    r = rc(cli, moto, "audit", "--accounts", f"{ids['dev']},{outsider}", "-o", "json")
    assert r.code == 1


@pytest.mark.parametrize("command", ["audit", "delete"])
def test_the_management_account_is_never_a_target(
    moto: Moto, cli: Any, ids: dict[str, str], command: str, sent: list[tuple[str, dict[str, Any]]]
) -> None:
    extra = ["--yes"] if command == "delete" else []
    r = rc(cli, moto, command, "--accounts", f"{ids['dev']},{ACCOUNT_ID}", *extra)

    assert r.code == 2, r.err
    assert "management account" in r.err
    assert "sts:AssumeRoot cannot target it" in r.err
    assert "sts:AssumeRoot" not in names(sent)
    assert held(ids["dev"])["access_keys"]


# --- delete ----------------------------------------------------------------------------------


def test_delete_dry_run_apply_rerun_and_audit_clean(
    moto: Moto,
    cli: Any,
    ids: dict[str, str],
    journal: Path,
    sent: list[tuple[str, dict[str, Any]]],
) -> None:
    before = {n: held(ids[n]) for n in ("dev", "prod", "audit")}
    sent.clear()  # the organization's own set-up

    # 1. A dry run plans every member account and writes nothing.
    dry = rc(cli, moto, "delete", "--all-accounts", "--dry-run", "-o", "json")
    assert dry.code == 0, dry.err
    planned = {a["account_name"]: a for a in dry.json()["accounts"]}
    assert {s["change"] for s in planned["dev"]["remediation"]["steps"]} == {"delete", "none"}
    assert [s["change"] for s in planned["audit"]["remediation"]["steps"]] == ["none"] * 4
    assert writes(sent) == []
    assert {n: held(ids[n]) for n in before} == before
    assert not journal.exists()

    # 2. Apply: one confirmation for every account.
    sent.clear()
    r = rc(cli, moto, "delete", "--all-accounts", "--yes", "-o", "json")
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["summary"] == {"total": 3, "changed": 2, "unchanged": 1, "failed": 0}
    for n in ("dev", "prod", "audit"):
        assert held(ids[n]) == EMPTY
    assert sorted(writes(sent)) == sorted(
        [
            "iam:DeleteAccessKey",
            "iam:DeleteSigningCertificate",
            "iam:DeleteLoginProfile",  # dev
            "iam:DeleteLoginProfile",
            "iam:DeactivateMFADevice",  # prod
        ]
    )
    assert {p["TaskPolicyArn.arn"] for n, p in sent if n == "sts:AssumeRoot"} == {DELETE_ARN}
    assert ACCOUNT_ID not in {p["TargetPrincipal"] for n, p in sent if n == "sts:AssumeRoot"}
    entries = [json.loads(line) for line in journal.read_text().splitlines()]
    assert len(entries) == 5
    assert {e["playbook"] for e in entries} == {"root-credentials-delete"}
    assert {e["change"] for e in entries} == {"delete"}
    # Who ran it, and the root user the calls came from.
    assert {e["caller"] for e in entries} == {f"arn:aws:sts::{ACCOUNT_ID}:user/moto"}
    assert {e["acting_as"] for e in entries} == {
        f"arn:aws:iam::{ids[n]}:root" for n in ("dev", "prod")
    }

    # 3. The audit now finds every member account clean.
    audit = rc(cli, moto, "audit", "-o", "json")
    assert audit.code == 0, audit.err
    assert audit.json()["summary"]["without_root_credentials"] == 3

    # 4. A dry run again shows nothing; a rerun writes nothing.
    again_dry = rc(cli, moto, "delete", "--all-accounts", "--dry-run", "-o", "json")
    assert {
        s["change"] for a in again_dry.json()["accounts"] for s in a["remediation"]["steps"]
    } == {"none"}
    sent.clear()
    again = rc(cli, moto, "delete", "--all-accounts", "--yes")
    assert again.code == 0, again.err
    assert "Nothing needs changing" in again.out
    assert writes(sent) == []
    assert len(journal.read_text().splitlines()) == 5


def test_after_delete_detection_finds_nothing_left_to_fix(
    moto: Moto, cli: Any, ids: dict[str, str], sent: list[tuple[str, dict[str, Any]]]
) -> None:
    """The intended end state is clean: a member whose root holds nothing (also one that had
    MFA, also one that never had credentials) needs no root MFA."""
    moto.set_root(RootState(mfa_active=True))  # the management account's root: secured
    assert rc(cli, moto, "delete", "--all-accounts", "--yes").code == 0
    for n in ("dev", "prod", "audit"):
        generate_credential_report(ids[n])  # a report drawn after the deletion

    sent.clear()
    r = cli(
        "root-use",
        "--all-accounts",
        "--fail-on",
        "hygiene",
        "-o",
        "json",
        "--endpoint-url",
        moto.endpoint_url,
    )
    assert r.code == 0, r.out + r.err
    accounts = {a["account_name"]: a for a in r.json()["accounts"]}
    for n in ("dev", "prod", "audit"):
        assert accounts[n]["findings"] == [], accounts[n]
        assert accounts[n]["root_password_present"] is False
        assert ROOT_CREDENTIALS_REMOVED_NOTE in accounts[n]["notes"]
    # Asked only where the report shows root MFA not active: not in the management account.
    assert names(sent).count("iam:GetAccountSummary") == 3


def test_root_mfa_is_asked_for_while_root_has_a_password(
    moto: Moto, cli: Any, ids: dict[str, str]
) -> None:
    r = cli("root-use", "--all-accounts", "-o", "json", "--endpoint-url", moto.endpoint_url)
    accounts = {a["account_name"]: a for a in r.json()["accounts"]}
    # dev: a password, a key, a certificate, no MFA; audit: nothing at all, never had any.
    assert [f["id"] for f in accounts["dev"]["findings"]] == [
        "root-access-keys-active",
        "root-mfa-not-active",
        "root-signing-certificates-active",
    ]
    assert accounts["audit"]["findings"] == []
    assert ROOT_CREDENTIALS_REMOVED_NOTE in accounts["audit"]["notes"]


@pytest.mark.parametrize("output", ["text", "json"])
def test_delete_all_accounts_says_why_the_management_account_is_left_out(
    moto: Moto, cli: Any, ids: dict[str, str], output: str
) -> None:
    r = rc(cli, moto, "delete", "--all-accounts", "--dry-run", "-o", output)
    assert r.code == 0, r.err
    shown = " ".join((r.out if output == "text" else r.err).split())
    assert (
        f"Management account {ACCOUNT_ID} left out: sts:AssumeRoot cannot target the "
        "organization's management account: secure its root user by signing in as root"
    ) in shown
    if output == "json":
        assert {a["account_id"] for a in r.json()["accounts"]} == {
            ids[n] for n in ("dev", "prod", "audit")
        }
    # Named members only: nothing was left out, so nothing is said.
    named = rc(cli, moto, "delete", "--accounts", ids["dev"], "--dry-run")
    assert "left out" not in named.out + named.err


def test_delete_asks_once_for_every_account(moto: Moto, cli: Any, ids: dict[str, str]) -> None:
    from support.prompters import Scripted

    prompter = Scripted(["n"])
    r = rc(cli, moto, "delete", "--all-accounts", prompter=prompter)
    assert r.code == 2
    assert len(prompter.asked) == 1
    assert "5 changes in 2 accounts" in prompter.asked[0]
    assert held(ids["dev"])["access_keys"]

    yes = Scripted(["y"])
    assert rc(cli, moto, "delete", "--accounts", ids["prod"], prompter=yes).code == 0
    assert held(ids["prod"]) == EMPTY
    assert held(ids["dev"])["access_keys"]  # not named


def test_delete_without_a_terminal_or_yes_changes_nothing(
    moto: Moto, cli: Any, ids: dict[str, str]
) -> None:
    r = rc(cli, moto, "delete", "--all-accounts")
    assert r.code == 2
    assert "--yes" in r.err
    assert held(ids["dev"])["login_profile"] is True


def test_delete_refuses_without_central_root_access(
    moto: Moto, cli: Any, sent: list[tuple[str, dict[str, Any]]]
) -> None:
    ids = seed_sandbox_organization(moto, central_root_access=())
    sent.clear()
    r = rc(cli, moto, "delete", "--all-accounts", "--yes")

    assert r.code == 2, r.err
    assert "centralized root access is not enabled" in r.err
    assert "remediate root-credentials centralize" in r.err
    assert "sts:AssumeRoot" not in names(sent)
    assert writes(sent) == []
    assert held(ids["dev"])["access_keys"]


def test_delete_keeps_each_account_failure_with_its_account(
    moto: Moto, cli: Any, ids: dict[str, str]
) -> None:
    outsider = "999999999999"
    r = rc(cli, moto, "delete", "--accounts", f"{ids['prod']},{outsider}", "--yes", "-o", "json")

    assert r.code == 3, r.err
    accounts = {a["account_id"]: a for a in r.json()["accounts"]}
    assert accounts[ids["prod"]]["error"] is None
    assert accounts[ids["prod"]]["remediation"]["changed"] == 2
    assert "cannot open a root session" in accounts[outsider]["error"]
    assert accounts[outsider]["remediation"] is None
    assert held(ids["prod"]) == EMPTY


def test_a_task_policy_that_does_not_allow_the_action_stops_the_account(
    moto: Moto, cli: Any, ids: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sessions `delete` opens, scoped by the audit task policy instead: every read the plan
    # makes is allowed, no delete is.
    from remediate.commands import root_credentials as command
    from remediate.org import root_credentials

    monkeypatch.setattr(command, "DELETE_TASK", root_credentials.AUDIT_TASK)
    r = rc(cli, moto, "delete", "--accounts", ids["dev"], "--yes", "-o", "json")

    assert r.code == 3, r.err
    [account] = r.json()["accounts"]
    # The playbook's first delete (certificates before keys: a run signed with root's own key
    # deletes it after everything else).
    assert "iam:DeleteSigningCertificate" in account["error"]
    assert "access denied" in account["error"]
    assert account["remediation"]["changed"] == 0
    assert held(ids["dev"])["signing_certificates"]  # nothing was deleted
    assert held(ids["dev"])["access_keys"]
    assert held(ids["dev"])["login_profile"] is True


def test_delete_on_the_sandbox(cli: Any, moto: Moto) -> None:
    r = cli("root-credentials", "delete", "--sandbox", "--all-accounts", "--yes", "-o", "json")
    assert r.code == 0, r.err
    assert r.json()["summary"] == {"total": 3, "changed": 2, "unchanged": 1, "failed": 0}


# --- centralize ------------------------------------------------------------------------------


def features(moto: Moto) -> list[str]:
    iam = moto.client("iam")
    try:
        return list(iam.list_organizations_features()["EnabledFeatures"])
    except iam.exceptions.ServiceAccessNotEnabledException:
        return []


def test_centralize_four_beats(
    moto: Moto, cli: Any, journal: Path, sent: list[tuple[str, dict[str, Any]]]
) -> None:
    seed_sandbox_organization(moto, central_root_access=())
    sent.clear()

    dry = rc(cli, moto, "centralize", "--dry-run", "-o", "json")
    assert dry.code == 0, dry.err
    assert [s["change"] for s in dry.json()["remediation"]["steps"]] == ["create"] * 3
    assert writes(sent) == []
    assert features(moto) == []

    r = rc(cli, moto, "centralize", "--yes", "-o", "json")
    assert r.code == 0, r.err
    assert r.json()["remediation"]["changed"] == 3
    assert features(moto) == ["RootCredentialsManagement", "RootSessions"]
    trusted = moto.client("organizations").list_aws_service_access_for_organization()
    assert [s["ServicePrincipal"] for s in trusted["EnabledServicePrincipals"]] == [
        "iam.amazonaws.com"
    ]
    assert len(journal.read_text().splitlines()) == 3

    again_dry = rc(cli, moto, "centralize", "--dry-run", "-o", "json")
    assert [s["change"] for s in again_dry.json()["remediation"]["steps"]] == ["none"] * 3
    sent.clear()
    again = rc(cli, moto, "centralize", "--yes")
    assert again.code == 0, again.err
    assert "Nothing needs changing" in again.out
    assert writes(sent) == []


def test_centralize_answered_no_changes_nothing(
    moto: Moto, cli: Any, journal: Path, sent: list[tuple[str, dict[str, Any]]]
) -> None:
    from support.prompters import Scripted

    seed_sandbox_organization(moto, central_root_access=())
    sent.clear()
    prompter = Scripted(["n"])
    r = rc(cli, moto, "centralize", prompter=prompter)

    assert r.code == 2, r.err  # README's exit codes: no confirmation, nothing was changed
    assert len(prompter.asked) == 1
    assert writes(sent) == []
    assert features(moto) == []
    trusted = moto.client("organizations").list_aws_service_access_for_organization()
    assert trusted["EnabledServicePrincipals"] == []
    # The journal records what ran; a declined plan ran nothing.
    entries = journal.read_text().splitlines() if journal.exists() else []
    assert entries == []


def test_centralize_enables_only_what_is_off(moto: Moto, cli: Any) -> None:
    seed_sandbox_organization(moto)  # trusted access and root credentials management are on
    r = rc(cli, moto, "centralize", "--yes", "-o", "json")
    assert r.code == 0, r.err
    changes = {s["id"]: s["change"] for s in r.json()["remediation"]["steps"]}
    assert changes == {
        "trusted-access": "none",
        "root-credentials-management": "none",
        "root-sessions": "create",
    }


def test_centralize_runs_from_the_management_account_only(
    moto: Moto, cli: Any, ids: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    role = f"arn:aws:iam::{ids['dev']}:role/OrganizationAccountAccessRole"
    creds = moto.client("sts").assume_role(RoleArn=role, RoleSessionName="test")["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])

    r = rc(cli, moto, "centralize", "--yes")
    assert r.code == 2, r.err
    assert f"account {ids['dev']} is not the management account" in r.err
    assert f"run this from the management account, {ACCOUNT_ID}" in r.err


@pytest.mark.parametrize("command", ["audit", "delete"])
def test_audit_and_delete_run_from_the_management_account_only(
    moto: Moto,
    cli: Any,
    ids: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    sent: list[tuple[str, dict[str, Any]]],
    command: str,
) -> None:
    role = f"arn:aws:iam::{ids['dev']}:role/OrganizationAccountAccessRole"
    creds = moto.client("sts").assume_role(RoleArn=role, RoleSessionName="test")["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])
    before = held(ids["prod"])
    sent.clear()

    extra = ["--all-accounts", "--yes"] if command == "delete" else []
    r = rc(cli, moto, command, *extra)
    assert r.code == 2, r.err
    [line, tip] = r.err.strip().splitlines()
    # Both accounts that may: the management account and the delegated administrator for IAM.
    assert f"account {ids['dev']} is neither the management account" in line
    assert "nor its delegated administrator for IAM" in line
    assert f"run this from the management account, {ACCOUNT_ID}" in tip
    assert "delegated administrator for iam.amazonaws.com" in tip
    assert "centralize" not in r.err
    assert "no active account" not in r.err
    assert "sts:AssumeRoot" not in names(sent)
    assert held(ids["prod"]) == before


def _as_member(moto: Moto, account_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    role = f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole"
    creds = moto.client("sts").assume_role(RoleArn=role, RoleSessionName="test")["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])


def test_the_delegated_administrator_for_iam_audits_and_deletes_but_does_not_centralize(
    moto: Moto,
    cli: Any,
    ids: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    sent: list[tuple[str, dict[str, Any]]],
) -> None:
    # sts:AssumeRoot: "credentials from an Organizations management account or a delegated
    # administrator account for IAM"; the Enable calls answer CallerIsNotManagementAccount.
    moto.client("organizations").register_delegated_administrator(
        AccountId=ids["audit"], ServicePrincipal="iam.amazonaws.com"
    )
    _as_member(moto, ids["audit"], monkeypatch)
    sent.clear()

    audit = rc(cli, moto, "audit", "--accounts", ids["dev"], "-o", "json")
    assert audit.code == 1, audit.err  # dev's root holds credentials
    [dev] = audit.json()["accounts"]
    assert dev["error"] is None
    assert dev["login_profile"] is True
    assert ("sts:AssumeRoot", AUDIT_ARN) in {
        (n, p.get("TaskPolicyArn.arn")) for n, p in sent if n == "sts:AssumeRoot"
    }

    r = rc(cli, moto, "delete", "--accounts", ids["dev"], "--yes", "-o", "json")
    assert r.code == 0, r.err
    assert held(ids["dev"]) == EMPTY

    before = features(moto)
    centralize = rc(cli, moto, "centralize", "--yes")
    assert centralize.code == 2, centralize.err
    assert f"account {ids['audit']} is not the management account" in centralize.err
    assert features(moto) == before


def test_centralize_needs_all_features(moto: Moto, cli: Any) -> None:
    moto.client("organizations").create_organization(FeatureSet="CONSOLIDATED_BILLING")
    r = rc(cli, moto, "centralize", "--yes")
    assert r.code == 2, r.err
    assert "needs all features" in r.err


def test_a_feature_step_without_trusted_access_is_an_input_error(
    moto: Moto, cli: Any, tmp_path: Path
) -> None:
    seed_sandbox_organization(moto, central_root_access=())
    book = tmp_path / "sessions.yaml"
    book.write_text("name: sessions\nsteps:\n  - id: s\n    kind: organizations-root-sessions\n")
    r = cli("playbook", "run", str(book), "--endpoint-url", moto.endpoint_url, "--yes")
    assert r.code == 2, r.err
    assert "does not trust IAM" in r.err
    assert features(moto) == []


# --- root-use --delete-root-keys ---------------------------------------------------------------


@pytest.fixture
def as_root(moto: Moto, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """The sandbox account's root user holds two access keys; the CLI signs with the second."""
    moto.set_root(RootState(key_1_active=True, key_2_active=True, mfa_active=True))
    first, _ = root_access_key(ACCOUNT_ID, 1)
    second, secret = root_access_key(ACCOUNT_ID, 2)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", second)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    return first, second


# The administrator's device is handed off, and enabled with the codes of the app that scanned
# it: remediate then forgets its seed, and root's keys may go. (--mfa-auto keeps the seed in
# the keyring beside the password: no second factor to delete root's keys on.)
FIX = ("--create-admin", "alice", "--delete-root-keys")


def handed_off(cli: Any, moto: Moto, keyring: Any, tmp_path: Path) -> tuple[str, str]:
    """alice's MFA device, handed off (created, its QR code written for her, pending), and the
    two consecutive codes her app shows once she has scanned it."""
    import time

    import pyotp

    from remediate.credentials import totp as mfa
    from remediate.credentials.store import SecretStore

    qr = ("--mfa-handoff", "--qr-file", str(tmp_path / "alice.png"))
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, *FIX, *qr, "--yes")
    assert r.code == 0, r.err
    seed = SecretStore(keyring).get(ACCOUNT_ID, "alice", "mfa-seed")
    assert seed is not None
    step = mfa.totp_step(time.time())
    return pyotp.TOTP(seed).at(step * 30), pyotp.TOTP(seed).at((step + 1) * 30)


def enroll_own_device(moto: Moto, user: str = "alice") -> str:
    """A virtual MFA device the user made and enabled themselves (self-service): its serial."""
    import time

    import pyotp

    from remediate.credentials import totp as mfa

    iam = moto.client("iam")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{user}-phone")
    serial = device["VirtualMFADevice"]["SerialNumber"]
    seed = device["VirtualMFADevice"]["Base32StringSeed"].decode("ascii")
    step = mfa.totp_step(time.time())
    iam.enable_mfa_device(
        UserName=user,
        SerialNumber=serial,
        AuthenticationCode1=pyotp.TOTP(seed).at(step * 30),
        AuthenticationCode2=pyotp.TOTP(seed).at((step + 1) * 30),
    )
    return str(serial)


def test_root_deletes_its_own_keys_last_after_the_administrator_is_ready(
    moto: Moto,
    cli: Any,
    as_root: tuple[str, str],
    sent: list[tuple[str, dict[str, Any]]],
    test_keyring: Any,
    tmp_path: Path,
) -> None:
    from remediate.credentials.store import SecretStore

    first, in_use = as_root
    codes = handed_off(cli, moto, test_keyring, tmp_path)
    # The hand-off ends the run at the device: root's keys wait with the membership.
    assert len(held(ACCOUNT_ID)["access_keys"]) == 2
    sent.clear()
    r = cli(
        "root-use", "--endpoint-url", moto.endpoint_url, *FIX, "--mfa-codes", *codes, "--yes",
        "-o", "json",
    )  # fmt: skip

    assert r.code == 0, r.err
    doc = r.json()
    assert doc["caller_is_root"] is True
    steps = doc["remediation"]["steps"]
    assert steps[-1]["id"] == "root-access-keys"
    assert steps[-1]["change"] == "delete"
    assert steps[-1]["applied"] is True
    assert held(ACCOUNT_ID)["access_keys"] == []
    # Deleted last of all, and the key this run signed with after the other one.
    deletes = [p.get("AccessKeyId") for n, p in sent if n == "iam:DeleteAccessKey"]
    assert deletes == [first, in_use]
    assert names(sent)[-1] == "iam:DeleteAccessKey"
    assert "no longer works" in r.err
    # The administrator exists, with MFA, in the group (read as the emulator's own admin)...
    iam = moto.client("iam")
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="alice")["Groups"]] == [
        "Administrators"
    ]
    assert len(iam.list_mfa_devices(UserName="alice")["MFADevices"]) == 1
    # ...and the keyring keeps no seed of that device: its only holder is alice's app.
    assert SecretStore(test_keyring).get(ACCOUNT_ID, "alice", "mfa-seed") is None


def test_root_keys_are_not_deleted_without_administrator_mfa(
    moto: Moto, cli: Any, as_root: tuple[str, str], sent: list[tuple[str, dict[str, Any]]]
) -> None:
    r = cli(
        "root-use",
        "--endpoint-url",
        moto.endpoint_url,
        "--create-admin",
        "alice",
        "--no-mfa",
        "--delete-root-keys",
        "--yes",
    )
    assert r.code == 2, r.err
    assert "alice has an MFA device" in r.err
    assert writes(sent) == []  # exit 2 before any change
    assert len(held(ACCOUNT_ID)["access_keys"]) == 2


def test_root_keys_are_not_deleted_on_a_device_whose_seed_the_keyring_keeps(
    moto: Moto, cli: Any, as_root: tuple[str, str], sent: list[tuple[str, dict[str, Any]]]
) -> None:
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, *FIX, "--mfa-auto", "--yes")
    assert r.code == 2, r.err
    assert "--mfa-auto keeps alice's MFA seed in it, beside the password" in r.err
    assert "Tip:" in r.err
    assert names(sent) == []  # refused before AWS is asked anything
    assert len(held(ACCOUNT_ID)["access_keys"]) == 2
    # The same through the playbook: refused before anything is changed.
    r = cli(
        "playbook", "run", "root-use", "--endpoint-url", moto.endpoint_url, "--var", "user=alice",
        "--var", "delete_root_keys=true", "--mfa-auto", "--yes",
    )  # fmt: skip
    assert r.code == 2, r.err
    assert "--mfa-auto keeps alice's MFA seed in it" in r.err
    assert writes(sent) == []
    assert len(held(ACCOUNT_ID)["access_keys"]) == 2


def test_root_keys_wait_until_a_kept_seed_is_forgotten(
    moto: Moto, cli: Any, as_root: tuple[str, str], sent: list[tuple[str, dict[str, Any]]]
) -> None:
    # An earlier --mfa-auto run enrolled alice and kept her seed for her to scan.
    auto = cli("root-use", "--endpoint-url", moto.endpoint_url, "--create-admin", "alice",
               "--mfa-auto", "--yes")  # fmt: skip
    assert auto.code == 0, auto.err
    sent.clear()
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, *FIX, "--yes")
    assert r.code == 2, r.err
    said = " ".join(r.err.split())
    assert "the keyring keeps the seed of alice's MFA device" in said
    assert "it defeats MFA until forgotten" in said
    assert "remediate secrets forget alice" in said
    assert writes(sent) == []
    assert len(held(ACCOUNT_ID)["access_keys"]) == 2
    # alice scanned it (`secrets show alice --what mfa-qr`), and the seed is forgotten: then.
    assert cli("secrets", "forget", "alice", "--yes").code == 0
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, *FIX, "--yes")
    assert r.code == 0, r.err
    assert held(ACCOUNT_ID)["access_keys"] == []


def test_root_keys_with_self_service_mfa_wait_for_the_administrators_device(
    moto: Moto, cli: Any, as_root: tuple[str, str], sent: list[tuple[str, dict[str, Any]]]
) -> None:
    args = ("root-use", "--endpoint-url", moto.endpoint_url, *FIX, "--mfa-self-service")
    r = cli(*args, "--yes", "-o", "json")
    assert r.code == 0, r.err
    # No device yet: the membership and root's keys are held back, with nothing deleted.
    steps = {s["id"]: s for s in r.json()["remediation"]["steps"]}
    assert steps["root-access-keys"]["change"] == "none"
    assert steps["root-access-keys"]["details"][0].startswith("held back for a later run")
    assert len(held(ACCOUNT_ID)["access_keys"]) == 2
    iam = moto.client("iam")
    assert iam.list_groups_for_user(UserName="alice")["Groups"] == []
    # alice enables her own device; remediate never held its seed: the rerun finishes.
    enroll_own_device(moto)
    sent.clear()
    done = cli(*args, "--yes")
    assert done.code == 0, done.err
    # The self-service policy goes first, then the membership; root's keys last of all.
    order = [n for n in names(sent) if n in ("iam:DetachUserPolicy", "iam:AddUserToGroup")]
    assert order == ["iam:DetachUserPolicy", "iam:AddUserToGroup"]
    assert names(sent)[-1] == "iam:DeleteAccessKey"
    assert held(ACCOUNT_ID)["access_keys"] == []
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="alice")["Groups"]] == [
        "Administrators"
    ]


def test_delete_root_keys_without_a_root_caller_points_to_central_deletion(
    moto: Moto, cli: Any, sent: list[tuple[str, dict[str, Any]]]
) -> None:
    moto.set_root(RootState(key_1_active=True))
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, *FIX, "--yes")

    assert r.code == 2, r.err
    assert "only the root user itself can delete root's access keys" in r.err
    assert "remediate root-credentials delete --accounts" in r.err
    assert writes(sent) == []
    assert len(held(ACCOUNT_ID)["access_keys"]) == 1


def test_root_keys_once_deleted_sign_nothing(
    moto: Moto, cli: Any, monkeypatch: Any, test_keyring: Any, tmp_path: Path
) -> None:
    # Root signs with its only key, deleted last: from then on the administrator takes over.
    moto.set_root(RootState(key_1_active=True, mfa_active=True))
    key, secret = root_access_key(ACCOUNT_ID, 1)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    codes = handed_off(cli, moto, test_keyring, tmp_path)
    finish = ("root-use", "--endpoint-url", moto.endpoint_url, *FIX, "--mfa-codes", *codes)
    r = cli(*finish, "--yes")
    assert r.code == 0, r.err
    # The key is gone: the same credentials no longer work at all.
    again = cli("root-use", "--endpoint-url", moto.endpoint_url, *FIX, "--yes")
    assert again.code == 3
    assert "InvalidClientTokenId" in again.err


def test_dry_run_as_root_plans_the_deletion_and_writes_nothing(
    moto: Moto, cli: Any, as_root: tuple[str, str], sent: list[tuple[str, dict[str, Any]]]
) -> None:
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, *FIX, "--dry-run", "-o", "json")
    assert r.code == 0, r.err
    last = r.json()["remediation"]["steps"][-1]
    assert (last["id"], last["change"], last["applied"]) == ("root-access-keys", "delete", False)
    assert any("the key this run signs with, deleted last" in d for d in last["details"])
    assert writes(sent) == []
    assert len(held(ACCOUNT_ID)["access_keys"]) == 2


def test_standalone_root_plans_only_what_its_own_keys_can_do(
    moto: Moto, cli: Any, monkeypatch: pytest.MonkeyPatch, sent: list[tuple[str, dict[str, Any]]]
) -> None:
    """Root's own keys delete its keys and certificates; its password and MFA devices only an
    AssumeRoot session (or the console) can remove: the plan says how, and never asks IAM."""
    moto.set_root(RootState(key_1_active=True, cert_1_active=True, mfa_active=True))
    key_id, secret = root_access_key(ACCOUNT_ID, 1)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    args = ("playbook", "run", "root-credentials-delete", "--endpoint-url", moto.endpoint_url)

    dry = cli(*args, "--dry-run", "-o", "json")
    assert dry.code == 0, dry.err
    steps = {s["id"]: s for s in dry.json()["remediation"]["steps"]}
    assert {i: s["change"] for i, s in steps.items()} == {
        "access-keys": "delete",
        "signing-certificates": "delete",
        "login-profile": "none",
        "mfa-devices": "none",
    }
    for step in ("login-profile", "mfa-devices"):
        assert any("Security credentials" in d for d in steps[step]["details"]), steps[step]
    assert "Security credentials" in dry.err  # the warning, where plans go

    sent.clear()
    r = cli(*args, "--yes")
    assert r.code == 0, r.err
    assert sorted(writes(sent)) == ["iam:DeleteAccessKey", "iam:DeleteSigningCertificate"]
    assert not {"iam:GetLoginProfile", "iam:DeactivateMFADevice"} & set(names(sent))
    creds = held(ACCOUNT_ID)
    assert creds["access_keys"] == []
    assert creds["signing_certificates"] == []
    assert creds["login_profile"]
    assert creds["mfa_devices"]


@pytest.mark.parametrize(
    ("state", "warned", "absent"),
    [
        pytest.param(
            RootState(key_1_active=True, login_profile=False, mfa_active=True),
            "mfa-devices",
            "login-profile",
            id="no-password",
        ),
        pytest.param(
            RootState(key_1_active=True, mfa_active=False),
            "login-profile",
            "mfa-devices",
            id="no-mfa",
        ),
    ],
)
def test_standalone_root_is_warned_only_about_what_it_has(
    moto: Moto,
    cli: Any,
    monkeypatch: pytest.MonkeyPatch,
    state: RootState,
    warned: str,
    absent: str,
) -> None:
    """GetAccountSummary (which root's own keys may call) tells whether root has a console
    password and MFA: no console steps for what is not there."""
    moto.set_root(state)
    key_id, secret = root_access_key(ACCOUNT_ID, 1)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    args = ("playbook", "run", "root-credentials-delete", "--endpoint-url", moto.endpoint_url)
    dry = cli(*args, "--dry-run", "-o", "json")
    assert dry.code == 0, dry.err
    steps = {s["id"]: s for s in dry.json()["remediation"]["steps"]}
    assert steps[absent]["change"] == "none"
    noun = {"login-profile": "console password", "mfa-devices": "MFA devices"}[absent]
    assert steps[absent]["details"] == [f"the root user has no {noun}"]
    assert any("Security credentials" in d for d in steps[warned]["details"]), steps[warned]
    # The warning is given once, for the credential root has.
    warnings = [ln for ln in dry.err.splitlines() if ln.strip().startswith("Warning:")]
    assert len([w for w in warnings if "Security credentials" in w]) == 1, dry.err


def test_a_root_caller_is_not_told_to_use_root_keys_for_the_password(
    moto: Moto, cli: Any, tmp_path: Path
) -> None:
    r = cli("playbook", "run", "root-credentials-delete", "--endpoint-url", moto.endpoint_url)
    assert r.code == 2
    assert "password and MFA devices in the console" in r.err


# --- permissions -------------------------------------------------------------------------------


def test_the_delete_playbook_needs_nothing_its_task_policy_denies() -> None:
    from remediate.playbook.loading import load_playbook
    from remediate.steps.kind import registry

    kinds = registry()
    book = load_playbook("root-credentials-delete")
    declared = {a for spec in book.steps for a in kinds[spec.kind].permissions}
    assert declared <= DELETE_POLICY_ACTIONS
    assert all(kinds[spec.kind].acts_as_root for spec in book.steps)
    # What the audit reads, as the steps plan it, the audit task policy allows.
    reads = {a for a in declared if not a.split(":")[1].startswith(("Delete", "Deactivate"))}
    assert reads <= AUDIT_POLICY_ACTIONS


def test_permissions_for_root_credentials(cli: Any) -> None:
    r = cli("permissions", "--root-credentials")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    statements = {s["Sid"]: s for s in doc["Statement"]}
    assume = statements["AssumeRootForRootCredentialTasks"]
    assert assume["Action"] == ["sts:AssumeRoot"]
    assert assume["Resource"] == "arn:aws:iam::*:root"
    assert assume["Condition"] == {"ArnEquals": {"sts:TaskPolicyArn": [AUDIT_ARN, DELETE_ARN]}}
    actions = {a for s in doc["Statement"] for a in s["Action"]}
    assert actions == {
        "organizations:DescribeOrganization",
        "organizations:ListAccounts",
        "organizations:ListDelegatedAdministrators",
        "organizations:ListAWSServiceAccessForOrganization",
        "organizations:EnableAWSServiceAccess",
        "iam:ListOrganizationsFeatures",
        "iam:EnableOrganizationsRootCredentialsManagement",
        "iam:EnableOrganizationsRootSessions",
        "sts:AssumeRoot",
    }
    trust = statements["TrustIamInOrganizations"]
    assert trust["Condition"] == {
        "StringEquals": {"organizations:ServicePrincipal": "iam.amazonaws.com"}
    }
    # No member-account permission: a task session's permissions are its AWS task policy.
    assert not any(a.startswith("iam:Delete") for a in actions)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--root-credentials", "--detect-only"], "takes no PLAYBOOK"),
        (["--root-credentials", "--organization"], "takes no PLAYBOOK"),
        (["onboard-user", "--root-credentials"], "takes no PLAYBOOK"),
        (["root-credentials-delete"], "acts as the root user"),
    ],
)
def test_permissions_bad_combinations(cli: Any, args: list[str], needle: str) -> None:
    r = cli("permissions", *args)
    assert r.code == 2
    assert needle in r.err


def test_root_use_policy_leaves_root_steps_out(cli: Any) -> None:
    # Root needs no IAM permission to delete its own keys: the operator's policy stays least.
    # (The access-key step may delete a key of the user it makes, after a lost answer: that
    # grant is on the user, never on root's keys.)
    # Even when the run would delete root's keys (--delete-root-keys).
    r = cli(
        "permissions",
        "--var",
        "user=alice",
        "--var",
        "access=programmatic",
        "--var",
        "delete_root_keys=true",
    )
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    deleting = [s for s in doc["Statement"] if "iam:DeleteAccessKey" in s["Action"]]
    assert deleting
    for statement in deleting:
        resources = statement["Resource"]
        resources = [resources] if isinstance(resources, str) else resources
        assert all(":user/" in r for r in resources), statement
    centralize = json.loads(cli("permissions", "root-credentials-centralize").out)
    actions = {a for s in centralize["Statement"] for a in s["Action"]}
    assert "iam:EnableOrganizationsRootSessions" in actions


# --- input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["delete"], "name the accounts"),
        (["delete", "--all-accounts", "--accounts", "111111111111"], "not both"),
        (["audit", "--accounts", "12345"], "not an AWS account id"),
        (["audit", "--concurrency", "0"], "--concurrency"),
        (["delete", "--all-accounts", "--sandbox", "--profile", "x"], "--sandbox"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli: Any, args: list[str], needle: str) -> None:
    r = cli("root-credentials", *args)
    assert r.code == 2, r.err
    assert needle in r.err
    assert "Traceback" not in r.err


# --- secrets -----------------------------------------------------------------------------------


def test_task_session_secrets_never_appear(
    moto: Moto,
    cli: Any,
    ids: dict[str, str],
    journal: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    marker = "TASKSESSIONSECRETMARKER"
    monkeypatch.setattr(sandbox_root.secrets, "token_urlsafe", lambda n=None: marker + "x" * 8)
    caplog.set_level(logging.DEBUG)
    outputs = [
        rc(cli, moto, "audit", "-o", "json"),
        cli(
            "--debug",
            "root-credentials",
            "delete",
            "--all-accounts",
            "--yes",
            "--endpoint-url",
            moto.endpoint_url,
        ),
    ]
    assert outputs[1].code == 0, outputs[1].err
    texts = [o.out + o.err for o in outputs] + [caplog.text, journal.read_text()]
    assert not any(marker in t for t in texts)


# --- sessions ----------------------------------------------------------------------------------


def test_assume_root_is_a_read_sent_to_a_regional_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    from remediate.aws.audit import is_write
    from remediate.aws.options import AwsOptions
    from remediate.aws.session import Aws

    assert not is_write("AssumeRoot")  # a dry run across accounts opens root sessions to read
    assert is_write("DeactivateMFADevice")
    assert is_write("EnableOrganizationsRootSessions")
    # AssumeRoot refuses STS's global endpoint, which `legacy` picks for us-east-1.
    monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy")
    aws = Aws(AwsOptions(region="us-east-1"))
    assert aws.sts.meta.endpoint_url == "https://sts.us-east-1.amazonaws.com"


def test_root_sessions_renew_only_near_their_expiry(
    moto: Moto,
    ids: dict[str, str],
    sent: list[tuple[str, dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from remediate.aws.identity import caller_identity
    from remediate.aws.options import AwsOptions
    from remediate.aws.session import Aws
    from remediate.org import root_credentials, root_sessions
    from remediate.org.root_sessions import MemberRootSessions

    base = Aws(AwsOptions(None, "us-east-1", moto.endpoint_url), read_only=True)
    own = caller_identity(base)
    opener = MemberRootSessions(
        base,
        own,
        task=root_credentials.AUDIT_TASK,
        management_account_id=ACCOUNT_ID,
        read_only=True,
    )
    session = opener(ids["dev"])
    assert session.identity.arn == f"arn:aws:iam::{ids['dev']}:root"
    assert session.operator == own.arn
    sent.clear()
    for _ in range(3):
        root_credentials.read_root_credentials(session.aws.iam)
    assert "sts:AssumeRoot" not in names(sent)  # 900 s: no renewal for a while

    # A session that has less than two minutes left renews itself before the next call.
    monkeypatch.setattr(root_sessions, "TASK_SESSION_SECONDS", 90)
    session = opener(ids["dev"])
    sent.clear()
    credentials = root_credentials.read_root_credentials(session.aws.iam)
    assert credentials.access_keys
    assert names(sent).count("sts:AssumeRoot") >= 1
