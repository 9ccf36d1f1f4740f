"""The rules between command-line options, tested on the typer-free request layer: no CLI, no
AWS. Each case names the error it expects."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from remediate.commands.journal import journal_request, parse_since
from remediate.commands.permissions import permissions_request
from remediate.commands.remediation import prepare
from remediate.commands.remediation_request import (
    PasswordSource,
    playbook_run_request,
)
from remediate.commands.request import AwsChoice, RemediationFlags
from remediate.commands.root_credentials import root_credentials_request
from remediate.commands.root_use_request import (
    AccountsRequest,
    finish_mfa_command,
    rerun_command,
    root_use_request,
)
from remediate.commands.sandbox import SandboxServeRequest, sandbox_serve_request
from remediate.core import limits
from remediate.core.errors import InputError
from remediate.playbook.loading import load_playbook

LOCAL = AwsChoice()
QR = Path("q.png")


def request(**options: Any) -> Any:
    return root_use_request(aws=options.pop("aws", LOCAL), **options)


def flags(**given: Any) -> RemediationFlags:
    return RemediationFlags(**given)


# --- what a valid request holds ------------------------------------------------------------------


def test_detection_only() -> None:
    r = request()
    assert (r.days, r.report_timeout, r.output) == (7, 60.0, "text")
    assert r.accounts is None
    assert r.remediation is None


def test_create_admin_passes_only_the_given_variables() -> None:
    # The playbook's defaults (group, access, mfa, tags) are the YAML's, not re-typed here.
    r = request(create_admin="alice")
    assert r.remediation is not None
    assert dict(r.remediation.variables) == {"user": "alice"}
    r = request(create_admin="alice", group="Admins", access="both", tags=["Team=sec"], no_mfa=True)
    assert r.remediation is not None
    assert dict(r.remediation.variables) == {
        "user": "alice",
        "group": "Admins",
        "access": "both",
        "tags": {"Team": "sec"},
        "mfa": False,
    }


def test_prepared_steps_take_the_playbooks_defaults() -> None:
    r = request(create_admin="alice")
    assert r.remediation is not None
    prepared = prepare(r.remediation)
    book = load_playbook("root-use")
    group = book.variables["group"].default
    assert {getattr(s.args, "group", None) for s in prepared.steps} == {None, group}
    # mfa defaults to true in the YAML, access to console: a login profile and a virtual MFA.
    # ...and the membership that grants power last (privilege last).
    assert [s.kind for s in prepared.steps][-3:] == [
        "login-profile",
        "virtual-mfa",
        "group-membership",
    ]


def test_help_defaults_are_the_playbooks() -> None:
    """The --group and --access help shows a default: it must be the YAML's."""
    from remediate.cli import options

    book = load_playbook("root-use")
    group_help = options.Group.__metadata__[0].help
    access_help = options.AccessKind.__metadata__[0].help
    assert f"[default: the playbook's, {book.variables['group'].default}]" in group_help
    assert f"[default: the playbook's, {book.variables['access'].default}]" in access_help


def test_sweep_request_defaults() -> None:
    r = request(all_accounts=True)
    assert r.accounts == AccountsRequest(
        account_ids=None,
        role_name=limits.DEFAULT_ROLE_NAME,
        external_id=None,
        concurrency=limits.DEFAULT_CONCURRENCY,
        every_account=False,
    )
    r = request(accounts="111122223333,444455556666", concurrency=3, external_id="ext-1")
    assert r.accounts is not None
    assert r.accounts.account_ids == ("111122223333", "444455556666")
    assert (r.accounts.concurrency, r.accounts.external_id) == (3, "ext-1")


def test_remediation_flags_become_choices() -> None:
    r = request(create_admin="a", flags=flags(mfa_codes=("123456", "654321"), password_stdin=True))
    assert r.remediation is not None
    assert r.remediation.mfa.mode == "codes"
    assert r.remediation.password_source is PasswordSource.STDIN
    r = request(create_admin="a", flags=flags(mfa_auto=True, password_prompt=True))
    assert r.remediation is not None
    assert r.remediation.mfa.mode == "auto"
    assert r.remediation.password_source is PasswordSource.PROMPT


def test_requests_are_frozen() -> None:
    r = request(create_admin="alice")
    with pytest.raises(AttributeError):
        r.days = 3  # type: ignore[misc]


# --- every rule, each with its own message ---------------------------------------------------

BAD: dict[str, tuple[dict[str, Any], str]] = {
    "days zero": ({"days": 0}, "invalid --days 0: expected 1-3650"),
    "days above": ({"days": limits.MAX_DAYS + 1}, "invalid --days 3651"),
    "timeout zero": ({"report_timeout": 0.5}, "invalid --report-timeout 0.5: expected 1-3600"),
    "timeout above": ({"report_timeout": 3601}, "invalid --report-timeout 3601"),
    "no-mfa with mfa option": (
        {"create_admin": "a", "no_mfa": True, "flags": flags(qr_file=Path("x.png"))},
        "--no-mfa skips MFA enrollment",
    ),
    "flag without create-admin": ({"flags": flags(dry_run=True)}, "need --create-admin NAME"),
    "tag without create-admin": ({"tags": ["a=b"]}, "need --create-admin NAME"),
    "group without create-admin": ({"group": "G"}, "need --create-admin NAME"),
    "bad user": ({"create_admin": "a b"}, "invalid IAM user name"),
    "bad group": ({"create_admin": "a", "group": "a b"}, "invalid IAM group name"),
    "bad tag": ({"create_admin": "a", "tags": ["aws:x=1"]}, "reserved for AWS"),
    "both account options": (
        {"all_accounts": True, "accounts": "111122223333"},
        "give --all-accounts or --accounts, not both",
    ),
    "report across accounts": (
        {"all_accounts": True, "credential_report": Path("r.csv")},
        "--credential-report judges one file",
    ),
    "concurrency zero": ({"all_accounts": True, "concurrency": 0}, "invalid --concurrency 0"),
    "concurrency above": ({"all_accounts": True, "concurrency": 65}, "expected 1-64"),
    "all without create-admin": ({"all_accounts": True, "every_account": True}, "--all needs"),
    "codes across accounts": (
        {
            "all_accounts": True,
            "create_admin": "a",
            "flags": flags(mfa_codes=("123456", "654321")),
        },
        "--mfa-codes are the codes of one device, so for one account at a time",
    ),
    "codes in two accounts": (
        {
            "accounts": "111122223333,444455556666",
            "create_admin": "a",
            "flags": flags(mfa_codes=("123456", "654321")),
        },
        "name it alone with --accounts ID",
    ),
    "qr file across accounts": (
        {"all_accounts": True, "create_admin": "a", "flags": flags(qr_file=Path("q.png"))},
        "--qr-file names one file, for one account at a time: across accounts, put {account}",
    ),
    "password prompt across accounts": (
        {"all_accounts": True, "create_admin": "a", "flags": flags(password_prompt=True)},
        "--password-prompt is for one account at a time",
    ),
    "bad account id": ({"accounts": "12345"}, "is not an AWS account id"),
    "bad role": ({"all_accounts": True, "role_name": "a/b"}, "invalid --role-name"),
    "bad external id": ({"all_accounts": True, "external_id": "x"}, "invalid --external-id"),
    "role without sweep": ({"role_name": limits.DEFAULT_ROLE_NAME}, "need --all-accounts"),
    "concurrency without sweep": ({"concurrency": 8}, "need --all-accounts or --accounts"),
    "external id without sweep": ({"external_id": "ext"}, "need --all-accounts"),
    "all without sweep": ({"every_account": True}, "need --all-accounts"),
    "report with endpoint": (
        {"credential_report": Path("r.csv"), "aws": AwsChoice(endpoint_url="https://x")},
        "--credential-report reads a file: it takes no AWS option",
    ),
    "report with region": (
        {"credential_report": Path("r.csv"), "aws": AwsChoice(region="eu-west-1")},
        "--credential-report reads a file",
    ),
    "report with timeout": (
        {"credential_report": Path("r.csv"), "report_timeout": 30},
        "--credential-report reads a file",
    ),
    "report with create-admin": (
        {"credential_report": Path("r.csv"), "create_admin": "a"},
        "--credential-report reads a file",
    ),
    "two password sources": (
        {"create_admin": "a", "flags": flags(password_prompt=True, password_stdin=True)},
        "give only one of --password-prompt and --password-stdin",
    ),
    "auto and codes": (
        {"create_admin": "a", "flags": flags(mfa_auto=True, mfa_codes=("123456", "654321"))},
        "give only one of --mfa-auto and --mfa-codes",
    ),
    "malformed code": (
        {"create_admin": "a", "flags": flags(mfa_codes=("12345", "654321"))},
        "invalid --mfa-codes: code 1 must be exactly 6 digits",
    ),
    "non-ascii digits": (
        {"create_admin": "a", "flags": flags(mfa_codes=("123456", "６５４３２１"))},  # noqa: RUF001
        "code 2 must be exactly 6 digits",
    ),
    "cloudtrail regions alone": (
        {"cloudtrail_regions": "eu-west-1"},
        "--cloudtrail-regions needs --cloudtrail",
    ),
    "cloudtrail bad region": (
        {"cloudtrail": True, "cloudtrail_regions": "eu-west-1,Europe"},
        "'Europe' is not an AWS region name",
    ),
    "cloudtrail empty region": (
        {"cloudtrail": True, "cloudtrail_regions": "eu-west-1,"},
        "an empty region (a stray comma?)",
    ),
    "cloudtrail region twice": (
        {"cloudtrail": True, "cloudtrail_regions": "eu-west-1,eu-west-1"},
        "region eu-west-1 given twice",
    ),
    "cloudtrail all among regions": (
        {"cloudtrail": True, "cloudtrail_regions": "all,eu-west-1"},
        "'all' is not an AWS region name",
    ),
    "cloudtrail with a report file": (
        {"cloudtrail": True, "credential_report": Path("r.csv")},
        "--cloudtrail looks events up in the account",
    ),
    "security hub with a report file": (
        {"security_hub": True, "credential_report": Path("r.csv")},
        "--security-hub imports into an account",
    ),
    "security hub in a dry run": (
        {"security_hub": True, "create_admin": "a", "flags": flags(dry_run=True)},
        "--dry-run makes no write call at all",
    ),
    "handoff without qr file": (
        {"create_admin": "a", "flags": flags(mfa_handoff=True)},
        "--mfa-handoff needs --qr-file PATH",
    ),
    "handoff and auto": (
        {"create_admin": "a", "flags": flags(mfa_handoff=True, mfa_auto=True, qr_file=QR)},
        "--mfa-handoff leaves the codes to the device's owner: it takes no --mfa-auto",
    ),
    "handoff and codes": (
        {
            "create_admin": "a",
            "flags": flags(mfa_handoff=True, mfa_codes=("123456", "654321"), qr_file=QR),
        },
        "--mfa-handoff leaves the codes to the device's owner",
    ),
    "handoff and no-mfa": (
        {"create_admin": "a", "no_mfa": True, "flags": flags(mfa_handoff=True, qr_file=QR)},
        "--no-mfa skips MFA enrollment: it takes no other MFA option",
    ),
    "handoff across accounts in one file": (
        {"all_accounts": True, "create_admin": "a", "flags": flags(mfa_handoff=True, qr_file=QR)},
        "across accounts, put {account} in it",
    ),
    "self-service and no-mfa": (
        {"create_admin": "a", "no_mfa": True, "mfa_self_service": True},
        "--mfa-self-service creates no device",
    ),
    "self-service and handoff": (
        {"create_admin": "a", "mfa_self_service": True, "flags": flags(mfa_handoff=True)},
        "--mfa-self-service creates no device",
    ),
    "self-service and auto": (
        {"create_admin": "a", "mfa_self_service": True, "flags": flags(mfa_auto=True)},
        "--mfa-self-service creates no device",
    ),
    "self-service and codes": (
        {
            "create_admin": "a",
            "mfa_self_service": True,
            "flags": flags(mfa_codes=("123456", "654321")),
        },
        "--mfa-self-service creates no device",
    ),
    "self-service and qr file": (
        {"create_admin": "a", "mfa_self_service": True, "flags": flags(qr_file=QR)},
        "--mfa-self-service creates no device",
    ),
    "self-service without create-admin": (
        {"mfa_self_service": True},
        "remediation options need --create-admin NAME",
    ),
    "adopt without create-admin": (
        {"flags": flags(adopt_existing_user=True)},
        "remediation options need --create-admin NAME",
    ),
    "reset without create-admin": (
        {"flags": flags(reset_password=True)},
        "remediation options need --create-admin NAME",
    ),
    "reset with a given password": (
        {"create_admin": "a", "flags": flags(reset_password=True, password_stdin=True)},
        "--reset-password sets a new generated password: it takes no --password-prompt",
    ),
}


@pytest.mark.parametrize(("options", "expected"), BAD.values(), ids=list(BAD))
def test_bad_option_combinations(options: dict[str, Any], expected: str) -> None:
    with pytest.raises(InputError) as caught:
        request(**options)
    assert expected in caught.value.message
    assert caught.value.exit_code == 2


def test_sandbox_with_profile_or_endpoint() -> None:
    for given in ({"profile": "p"}, {"endpoint_url": "http://127.0.0.1:1"}):
        with pytest.raises(InputError, match="--sandbox cannot be combined"):
            AwsChoice(sandbox=True, **given)


def test_range_messages_name_the_range() -> None:
    with pytest.raises(InputError) as caught:
        request(days=-1)
    assert re.search(r"expected 1-\d+", caught.value.message)


# --- rules that depend on what the playbook's steps can do -----------------------------------


def test_password_needs_a_step_that_takes_one() -> None:
    r = request(create_admin="a", access="programmatic", flags=flags(password_stdin=True))
    assert r.remediation is not None
    with pytest.raises(InputError, match="a password option needs console access"):
        prepare(r.remediation)


def test_across_accounts_mfa_cannot_prompt() -> None:
    r = request(all_accounts=True, create_admin="a")
    assert r.remediation is not None
    with pytest.raises(InputError, match="MFA enrollment cannot prompt") as caught:
        prepare(r.remediation, across_accounts=True)
    assert caught.value.tip is not None
    assert "--mfa-auto" in caught.value.tip
    auto = request(all_accounts=True, create_admin="a", flags=flags(mfa_auto=True))
    assert auto.remediation is not None
    assert len(prepare(auto.remediation, across_accounts=True).steps) == 6
    no_mfa = request(all_accounts=True, create_admin="a", no_mfa=True)
    assert no_mfa.remediation is not None
    assert "virtual-mfa" not in [s.kind for s in prepare(no_mfa.remediation).steps]


def test_one_password_for_every_account_is_refused() -> None:
    r = request(all_accounts=True, create_admin="a", no_mfa=True, flags=flags(password_stdin=True))
    assert r.remediation is not None
    with pytest.raises(InputError, match="one password in every account"):
        prepare(r.remediation, across_accounts=True)


# --- playbook run ----------------------------------------------------------------------------


def test_playbook_run_variables() -> None:
    r = playbook_run_request(
        "onboard-user", aws=LOCAL, variables=["user=bob", "group=Dev"], tags=["Team=web"]
    )
    assert dict(r.remediation.variables) == {
        "user": "bob",
        "group": "Dev",
        "tags": {"Team": "web"},
    }


@pytest.mark.parametrize(
    ("variables", "tags", "expected"),
    [
        (["user=a", "user=b"], [], "--var user given twice"),
        (["user"], [], "expected KEY=VALUE"),
        (["tags=a=b"], ["Team=x"], "give tags with --tag or --var tags=..., not both"),
    ],
)
def test_playbook_run_bad_variables(variables: list[str], tags: list[str], expected: str) -> None:
    with pytest.raises(InputError) as caught:
        playbook_run_request("root-use", aws=LOCAL, variables=variables, tags=tags)
    assert expected in caught.value.message


# --- plain-text endpoints -----------------------------------------------------------------------


# Names resolve through this table (a stand-in for the system's resolver); a name missing from it
# does not resolve. Only localhost names are looked up: not literal addresses, not other names.
HOSTS = {
    "localhost": ["127.0.0.1", "::1"],
    "moto.localhost": ["127.0.0.1"],
    "evil.localhost": ["192.0.2.7"],
    "half.localhost": ["127.0.0.1", "192.0.2.8"],
    "loop.test": ["::1"],
    "127.0.0.1.nip.io": ["127.0.0.1"],
    "localhost.example.com": ["93.184.215.14"],
}


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import socket

    asked: list[str] = []

    def getaddrinfo(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        asked.append(host)
        if host.lower() not in HOSTS:  # names are case-insensitive, as in DNS
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 0)) for a in HOSTS[host.lower()]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("HTTP://10.0.0.5:4566", "another machine (10.0.0.5)"),
        ("http://192.0.2.1", "another machine (192.0.2.1)"),
        ("http://[2001:db8::1]:80/", "another machine (2001:db8::1)"),
        # Any other name is refused unlooked-up: botocore looks it up again to connect, so
        # loopback now (DNS rebinding, a hosts file) does not keep the requests here.
        ("http://iam.example.com", "iam.example.com, a name other than localhost"),
        ("http://localhost.example.com", "localhost.example.com, a name other than localhost"),
        ("http://127.0.0.1.nip.io", "127.0.0.1.nip.io, a name other than localhost"),
        ("http://loop.test:4566", "loop.test, a name other than localhost"),
        # A .localhost name counts by what it resolves to, not by its look.
        ("http://evil.localhost:4566", "another machine (192.0.2.7)"),
        ("http://half.localhost", "another machine (192.0.2.8)"),
        ("http://nowhere.localhost", "nowhere.localhost, a name that does not resolve here"),
    ],
)
def test_plain_http_to_another_machine_is_refused(resolver: list[str], url: str, why: str) -> None:
    with pytest.raises(InputError) as caught:
        AwsChoice(endpoint_url=url)
    assert f"is plain http to {why}" in caught.value.message
    assert "http://127.0.0.1:PORT" in (caught.value.tip or "")
    assert "--allow-insecure-endpoint" in (caught.value.tip or "")
    host = url.split("//", 1)[1].split(":", 1)[0].split("/", 1)[0]
    assert resolver == ([host] if host.endswith("localhost") else [])
    assert AwsChoice(endpoint_url=url, allow_insecure_endpoint=True).endpoint_url == url


@pytest.mark.parametrize(
    "url",
    [
        "https://iam.example.com",
        "http://127.0.0.1:5000",
        "http://127.8.9.10",
        "http://[::1]:5000",
        "http://localhost:4566",
        "http://moto.localhost",
        "http://LocalHost.:4566",
    ],
)
def test_https_and_loopback_endpoints_are_accepted(resolver: list[str], url: str) -> None:
    assert AwsChoice(endpoint_url=url).endpoint_url == url
    # Only http:// names are looked up: not https, not literal addresses.
    host = url.split("//", 1)[1].split(":", 1)[0].split("/", 1)[0].rstrip(".").lower()
    assert resolver == ([host] if url.startswith("http://") and host[0].isalpha() else [])


def test_localhost_resolves_to_loopback_on_this_machine() -> None:
    # The real resolver: the end-to-end tests' endpoints (127.0.0.1) need no name, but
    # `localhost` is what a person types.
    assert AwsChoice(endpoint_url="http://localhost:4566").endpoint_url == "http://localhost:4566"


# --- root hygiene, root's own keys, root-credentials, permissions --------------------------------


def test_fail_on_hygiene() -> None:
    assert request().fail_on_hygiene is False
    assert request(fail_on="hygiene").fail_on_hygiene is True
    assert request(fail_on="hygiene", all_accounts=True).fail_on_hygiene is True
    with pytest.raises(InputError, match="invalid --fail-on 'stale': expected hygiene"):
        request(fail_on="stale")
    with pytest.raises(InputError, match="--fail-on sets detection's exit code"):
        request(fail_on="hygiene", create_admin="alice")


def test_delete_root_keys_is_a_playbook_variable() -> None:
    r = request(create_admin="alice", delete_root_keys=True)
    assert r.remediation is not None
    assert dict(r.remediation.variables) == {"user": "alice", "delete_root_keys": True}
    with pytest.raises(InputError, match="--delete-root-keys needs --create-admin NAME"):
        request(delete_root_keys=True)
    with pytest.raises(InputError, match="in one account") as across:
        request(create_admin="alice", delete_root_keys=True, all_accounts=True)
    assert "remediate root-credentials delete" in (across.value.tip or "")


def test_root_credentials_requests() -> None:
    audit = root_credentials_request("audit", aws=LOCAL)
    assert (audit.account_ids, audit.concurrency) == (None, limits.DEFAULT_CONCURRENCY)
    named = root_credentials_request("delete", aws=LOCAL, accounts="111111111111", yes=True)
    assert named.account_ids == ("111111111111",)
    assert named.yes is True
    every = root_credentials_request("delete", aws=LOCAL, all_accounts=True, concurrency=2)
    assert (every.account_ids, every.concurrency) == (None, 2)


@pytest.mark.parametrize(
    ("command", "options", "message"),
    [
        ("delete", {}, "name the accounts whose root credentials to delete"),
        ("audit", {"all_accounts": True, "accounts": "111111111111"}, "not both"),
        ("audit", {"dry_run": True}, "audit changes nothing"),
        ("delete", {"all_accounts": True, "concurrency": 65}, "invalid --concurrency 65"),
        ("audit", {"accounts": "111111111111,111111111111"}, "given twice"),
    ],
)
def test_root_credentials_rules(command: Any, options: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        root_credentials_request(command, aws=LOCAL, **options)


def test_permissions_request() -> None:
    assert permissions_request().organization_role is None
    assert permissions_request(organization=True).organization_role == limits.DEFAULT_ROLE_NAME
    assert permissions_request(root_credentials=True).root_credentials is True
    for given in (
        {"detect_only": True},
        {"organization": True},
        {"playbook": "onboard-user"},
        {"variables": ["user=alice"]},
        {"account": "111122223333"},
    ):
        with pytest.raises(InputError, match="--root-credentials prints"):
            permissions_request(root_credentials=True, **given)
    with pytest.raises(InputError, match="invalid --role-name"):
        permissions_request(organization=True, role_name="bad role")


# --- CloudTrail, Security Hub and the findings formats --------------------------------------------


def test_cloudtrail_requests() -> None:
    from remediate.commands.root_use_request import CloudTrailRequest

    assert request().cloudtrail is None
    # Every enabled region unless regions are named (issue 20).
    assert request(cloudtrail=True).cloudtrail == CloudTrailRequest(None)
    assert request(cloudtrail=True, cloudtrail_regions="all").cloudtrail == CloudTrailRequest(None)
    given = request(cloudtrail=True, cloudtrail_regions=" eu-west-1, us-gov-west-1 ,ap-south-2")
    assert given.cloudtrail == CloudTrailRequest(("eu-west-1", "us-gov-west-1", "ap-south-2"))
    assert request(cloudtrail=True, all_accounts=True).cloudtrail == CloudTrailRequest(None)


def test_findings_formats_and_security_hub_everywhere_root_use_goes() -> None:
    for fmt in ("asff", "ocsf"):
        assert request(output=fmt).output == fmt
        assert request(output=fmt, credential_report=Path("r.csv")).output == fmt
        assert request(output=fmt, create_admin="a", all_accounts=True).output == fmt
    assert request(security_hub=True).security_hub
    assert request(security_hub=True, create_admin="a").security_hub
    assert request(security_hub=True, accounts="111122223333").security_hub


def test_permissions_options_for_cloudtrail_and_security_hub() -> None:
    r = permissions_request(cloudtrail=True, security_hub=True)
    assert (r.cloudtrail, r.security_hub) == (True, True)
    # --security-hub scopes its product to --account, even for detection only.
    r = permissions_request(detect_only=True, security_hub=True, account="111122223333")
    assert r.account == "111122223333"
    with pytest.raises(InputError, match="--detect-only prints no playbook statements"):
        permissions_request(detect_only=True, account="111122223333")
    with pytest.raises(InputError, match="--cloudtrail and --security-hub add to root-use"):
        permissions_request(root_credentials=True, cloudtrail=True)


# --- handing over ---------------------------------------------------------------------


def test_handoff_and_self_service_choices() -> None:
    r = request(create_admin="a", flags=flags(mfa_handoff=True, qr_file=QR))
    assert r.remediation is not None
    assert (r.remediation.mfa.mode, r.remediation.mfa.qr_file) == ("handoff", str(QR))
    r = request(create_admin="a", mfa_self_service=True)
    assert r.remediation is not None
    # No device (mfa off), the self-service policy on: the playbook's own variables.
    assert dict(r.remediation.variables) == {"user": "a", "mfa": False, "mfa_self_service": True}
    kinds = [s.kind for s in prepare(r.remediation).steps]
    assert "virtual-mfa" not in kinds
    assert kinds[-2:] == ["mfa-self-service", "group-membership"]
    r = request(create_admin="a", flags=flags(adopt_existing_user=True, reset_password=True))
    assert r.remediation is not None
    assert (r.remediation.adopt_existing_user, r.remediation.reset_password) == (True, True)


def test_across_accounts_a_handoff_writes_one_file_per_account() -> None:
    pattern = Path("qr/{account}-a.png")
    r = request(all_accounts=True, create_admin="a", flags=flags(mfa_handoff=True, qr_file=pattern))
    assert r.remediation is not None
    # Hand-off prompts nobody: it runs across accounts, unattended.
    assert len(prepare(r.remediation, across_accounts=True).steps) == 6
    # One account named alone takes its one device's codes (how a hand-off is finished).
    one = request(
        accounts="111122223333", create_admin="a", flags=flags(mfa_codes=("123456", "654321"))
    )
    assert one.remediation is not None
    assert prepare(one.remediation, across_accounts=True).steps
    assert request(accounts="111122223333", create_admin="a", flags=flags(qr_file=QR)).accounts


@pytest.mark.parametrize(
    ("playbook", "variables", "given", "message"),
    [
        ("root-use", {"access": "programmatic"}, {"reset_password": True}, "needs console access"),
        ("root-credentials-centralize", {}, {"adopt_existing_user": True}, "has no IAM user step"),
        ("onboard-user", {"group": "g"}, {"mfa_handoff": True, "qr_file": QR}, "--var mfa=true"),
        ("root-use", {"mfa": "false"}, {"mfa_handoff": True, "qr_file": QR}, "enrolls no virtual"),
    ],
)
def test_options_that_need_a_step_that_can(
    playbook: str, variables: dict[str, str], given: dict[str, Any], message: str
) -> None:
    texts = [f"{k}={v}" for k, v in {"user": "a", **variables}.items()]
    if playbook == "root-credentials-centralize":
        texts = []
    r = playbook_run_request(playbook, aws=LOCAL, variables=texts, flags=flags(**given))
    with pytest.raises(InputError) as caught:
        prepare(r.remediation)
    assert message in (caught.value.message + " " + (caught.value.tip or ""))


def test_the_command_that_finishes_a_pending_enrollment() -> None:
    one = request(
        aws=AwsChoice(profile="ops", region="eu-west-1"),
        create_admin="alice",
        group="Ops",
        access="both",
        tags=["Team=a b"],
        flags=flags(mfa_handoff=True, qr_file=QR),
    )
    assert finish_mfa_command(one, "111122223333") == (
        "remediate root-use --create-admin alice --group Ops --access both "
        "--tag 'Team=a b' --profile ops --region eu-west-1 --mfa-codes CODE1 CODE2"
    )
    many = request(
        all_accounts=True,
        create_admin="alice",
        role_name="Admin",
        external_id="ext-1",
        flags=flags(mfa_handoff=True, qr_file=Path("{account}.png")),
    )
    # One account named alone, remediated whatever detection says there now (--all).
    assert finish_mfa_command(many, "444455556666") == (
        "remediate root-use --create-admin alice --accounts 444455556666 --all "
        "--role-name Admin --external-id ext-1 --mfa-codes CODE1 CODE2"
    )
    book = playbook_run_request(
        "onboard-user",
        aws=AwsChoice(endpoint_url="http://127.0.0.1:5000"),
        variables=["user=bob", "group=devs", "mfa=true"],
    )
    assert finish_mfa_command(book, "111122223333") == (
        "remediate playbook run onboard-user --var user=bob --var group=devs --var mfa=true "
        "--endpoint-url http://127.0.0.1:5000 --mfa-codes CODE1 CODE2"
    )
    tagged = playbook_run_request(
        "onboard-user", aws=LOCAL, variables=["user=bob", "group=devs", "tags=a=1,b=2"]
    )
    assert finish_mfa_command(tagged, "111122223333") == (
        "remediate playbook run onboard-user --var user=bob --var group=devs "
        "--var tags=a=1,b=2 --mfa-codes CODE1 CODE2"
    )


def test_the_command_that_reruns_a_self_service_run_keeps_its_choices() -> None:
    """Self-service is finished by the same command once the user has enabled a device: no
    codes, and the flags that chose self-service and console access kept."""
    r = request(
        create_admin="alice", access="console", mfa_self_service=True, delete_root_keys=True
    )
    assert rerun_command(r, "111122223333") == (
        "remediate root-use --create-admin alice --access console --delete-root-keys "
        "--mfa-self-service"
    )
    book = playbook_run_request(
        "onboard-user", aws=LOCAL, variables=["user=bob", "group=devs", "mfa_self_service=true"]
    )
    assert rerun_command(book, "111122223333") == (
        "remediate playbook run onboard-user --var user=bob --var group=devs "
        "--var mfa_self_service=true"
    )
    # --no-mfa is a choice too: the rerun makes the same one.
    assert rerun_command(request(create_admin="alice", no_mfa=True), "111122223333") == (
        "remediate root-use --create-admin alice --no-mfa"
    )


# --- issue 20: a second factor the key, the keyring or the first sign-in cannot stand in for ---


@pytest.mark.parametrize("access", ["programmatic", "both"])
def test_self_service_with_an_access_key_is_refused(access: str) -> None:
    # Whoever holds the key could enroll a device of their own and make MFA sessions with it.
    with pytest.raises(InputError) as caught:
        request(create_admin="alice", access=access, mfa_self_service=True)
    error = caught.value
    assert error.exit_code == 2
    assert error.message == (
        f"--mfa-self-service with --access {access} is no second factor: whoever holds alice's "
        "access key could enroll an MFA device of their own and make MFA sessions with it"
    )
    # The safe ways, named: a device enrolled now, or self-service with console access only.
    assert error.tip == (
        "enroll alice's device now instead (in person, --mfa-auto, or --mfa-handoff --qr-file "
        "PATH), or keep --mfa-self-service with --access console"
    )
    # Console access only is the self-service the issue keeps.
    assert request(create_admin="alice", access="console", mfa_self_service=True).remediation


@pytest.mark.parametrize(
    ("playbook", "variables"),
    [
        ("root-use", ["access=both", "mfa=false", "mfa_self_service=true"]),
        ("root-use", ["access=programmatic", "mfa=false", "mfa_self_service=true"]),
        ("onboard-user", ["group=devs", "access=both", "mfa_self_service=true"]),
    ],
)
def test_playbook_run_refuses_self_service_with_an_access_key(
    playbook: str, variables: list[str]
) -> None:
    r = playbook_run_request(playbook, aws=LOCAL, variables=["user=alice", *variables])
    with pytest.raises(InputError) as caught:
        prepare(r.remediation)
    assert caught.value.message == (
        "self-service MFA with an access key for alice is no second factor: whoever holds the "
        "key could enroll an MFA device of their own and make MFA sessions with it"
    )
    assert caught.value.tip == (
        "enroll alice's device now instead (--var mfa=true: in person, --mfa-auto, or "
        "--mfa-handoff --qr-file PATH), or keep --var mfa_self_service=true with --var "
        "access=console"
    )
    console = playbook_run_request(
        playbook,
        aws=LOCAL,
        variables=["user=alice", *[v for v in variables if not v.startswith("access=")]],
    )
    assert prepare(console.remediation).steps


def test_playbook_run_takes_self_service_or_a_device_enrolled_now_not_both() -> None:
    # root-use's own options refuse this too ("--mfa-self-service creates no device").
    r = playbook_run_request(
        "root-use", aws=LOCAL, variables=["user=alice", "mfa_self_service=true"]
    )
    with pytest.raises(InputError) as caught:
        prepare(r.remediation)
    assert caught.value.message == (
        "self-service MFA lets alice enroll their own device, and this run enrolls one for alice "
        "too: choose one"
    )
    assert caught.value.tip == (
        "--var mfa=false with --var mfa_self_service=true, or leave mfa_self_service out"
    )


def test_root_keys_are_not_deleted_on_a_device_whose_seed_the_keyring_keeps() -> None:
    with pytest.raises(InputError) as caught:
        request(create_admin="alice", delete_root_keys=True, flags=flags(mfa_auto=True))
    assert caught.value.message == (
        "--delete-root-keys needs a second factor the keyring does not hold, and --mfa-auto "
        "keeps alice's MFA seed in it, beside the password: whoever reads the keyring could "
        "sign in as alice with MFA"
    )
    assert caught.value.tip == (
        "enroll alice's device in person (leave out --mfa-auto), or hand it off (--mfa-handoff "
        "--qr-file PATH, then --mfa-codes CODE1 CODE2 --delete-root-keys); or delete root's "
        "keys later, once alice has scanned the seed and `remediate secrets forget alice` has "
        "removed it"
    )
    # Handed off, or in person: the seed is forgotten once the device is enabled.
    assert request(create_admin="alice", delete_root_keys=True).remediation
    assert request(
        create_admin="alice", delete_root_keys=True, flags=flags(mfa_codes=("123456", "654321"))
    ).remediation
    assert request(create_admin="alice", delete_root_keys=True, mfa_self_service=True).remediation


def test_playbook_run_refuses_root_keys_with_a_kept_seed() -> None:
    r = playbook_run_request(
        "root-use",
        aws=LOCAL,
        variables=["user=alice", "delete_root_keys=true"],
        flags=flags(mfa_auto=True),
    )
    with pytest.raises(InputError) as caught:
        prepare(r.remediation)
    assert caught.value.message.startswith(
        "--delete-root-keys needs a second factor the keyring does not hold, and --mfa-auto "
        "keeps alice's MFA seed in it"
    )
    assert "--var delete_root_keys=true" in (caught.value.tip or "")


# --- issue 13: endpoints, regions, MFA codes, lock timeout, journal filters --------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("notaurl", "invalid --endpoint-url 'notaurl': expected a URL starting with https://"),
        ("ftp://example.com", "expected a URL starting with https://"),
        ("https://", "the URL has no host"),
        ("http://127.0.0.1:99999", "the URL's port or host cannot be read"),
        ("http://127.0.0.1:port", "the URL's port or host cannot be read"),
    ],
)
def test_malformed_endpoint_urls_are_input_errors(url: str, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        AwsChoice(endpoint_url=url)


@pytest.mark.parametrize("region", ["bad region", "us_east_1", "-us-east-1", "x" * 70, ""])
def test_malformed_regions_are_input_errors(region: str) -> None:
    with pytest.raises(InputError, match="invalid --region"):
        AwsChoice(region=region)


def test_wellformed_regions_and_endpoints() -> None:
    choice = AwsChoice(region="eu-west-3", endpoint_url="https://iam.amazonaws.com:443/")
    assert (choice.region, choice.endpoint_url) == ("eu-west-3", "https://iam.amazonaws.com:443/")


@pytest.mark.parametrize("second", ["--yes", "-y", "--output"])
def test_an_option_taken_as_an_mfa_code_is_named(second: str) -> None:
    # `--mfa-codes 123456 --yes`: click hands "--yes" over as the second code.
    with pytest.raises(InputError, match=re.escape(f"code 2 is '{second}', an option")) as info:
        request(create_admin="a", flags=flags(mfa_codes=("123456", second)))
    assert "--mfa-codes CODE1 CODE2" in (info.value.tip or "")


def test_mfa_codes_with_spaces_and_dashes_are_well_formed() -> None:
    r = request(create_admin="a", flags=flags(mfa_codes=("974 985", "123-456")))
    assert r.remediation.mfa.codes == ("974 985", "123-456")


def test_lock_timeout() -> None:
    assert request(create_admin="a").remediation.lock_timeout == limits.DEFAULT_LOCK_TIMEOUT
    assert request(create_admin="a", flags=flags(lock_timeout=0)).remediation.lock_timeout == 0
    with pytest.raises(InputError, match=re.escape("invalid --lock-timeout 3601: expected 0-3600")):
        request(create_admin="a", flags=flags(lock_timeout=3601))
    with pytest.raises(InputError, match="remediation options need --create-admin"):
        request(flags=flags(lock_timeout=5))
    delete = root_credentials_request("delete", aws=LOCAL, all_accounts=True, lock_timeout=9)
    assert delete.lock_timeout == 9
    with pytest.raises(InputError, match="it takes no --dry-run, --yes or --lock-timeout"):
        root_credentials_request("audit", aws=LOCAL, lock_timeout=9)


NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        ("30m", NOW - timedelta(minutes=30)),
        ("12h", NOW - timedelta(hours=12)),
        ("7d", NOW - timedelta(days=7)),
        ("2w", NOW - timedelta(weeks=2)),
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T08:30:00Z", datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
        ("2026-11-01T08:30:00+02:00", datetime(2026, 11, 1, 6, 30, tzinfo=UTC)),
    ],
)
def test_journal_since(since: str, expected: datetime) -> None:
    assert parse_since(since, now=NOW) == expected
    assert journal_request(since=since, now=NOW).since == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"since": "yesterday"}, "invalid --since 'yesterday'"),
        ({"since": "3y"}, "invalid --since '3y'"),
        ({"account": "123"}, "invalid --account '123': expected a 12-digit account id"),
        ({"user": "a b"}, "invalid IAM user name 'a b'"),
        ({"limit": 0}, "invalid --limit 0: expected at least 1"),
    ],
)
def test_journal_request_rules(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        journal_request(**options)


def test_journal_request_defaults() -> None:
    r = journal_request(account="111122223333", user="alice")
    assert (r.limit, r.account, r.user, r.since) == (
        limits.DEFAULT_JOURNAL_LIMIT,
        "111122223333",
        "alice",
        None,
    )


def test_sandbox_serve_request(tmp_path: Path) -> None:
    assert sandbox_serve_request() == SandboxServeRequest(port=0, directory=None)
    assert sandbox_serve_request(port=8080, directory=tmp_path / "new").port == 8080
    assert sandbox_serve_request(directory=tmp_path).directory == tmp_path  # empty: fine
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="is not empty"):
        sandbox_serve_request(directory=tmp_path)
    with pytest.raises(InputError, match="not a directory"):
        sandbox_serve_request(directory=tmp_path / "file")
    for port in (0, 65536):
        with pytest.raises(InputError, match=f"invalid --port {port}: expected 1-65535"):
            sandbox_serve_request(port=port)


# --- output formats and the options declared once ------------------------------------------------


def test_output_is_text_json_or_a_findings_format_for_root_use_only() -> None:
    assert request(output="ocsf").output == "ocsf"
    with pytest.raises(InputError, match="invalid --output 'sarif': expected text, json, asff"):
        request(output="sarif")
    with pytest.raises(InputError, match=r"invalid --output 'asff': expected text, json$"):
        journal_request(output="asff")
    with pytest.raises(InputError, match=r"invalid --output 'asff': expected text, json$"):
        playbook_run_request("onboard-user", aws=LOCAL, output="asff")


def test_shared_flags_are_declared_once_for_both_commands() -> None:
    """root-use and playbook run take every remediation flag and AWS option from one
    declaration each, and hand the command one typer-free object of each."""
    import inspect

    from remediate.cli.groups import AWS_OPTIONS, REMEDIATION_FLAGS
    from remediate.cli.playbook import playbook_run
    from remediate.cli.root_use import root_use

    flags = {p.name for p in REMEDIATION_FLAGS}
    assert flags == set(RemediationFlags.__dataclass_fields__)
    assert {p.name for p in AWS_OPTIONS} == set(AwsChoice.__dataclass_fields__)
    for command in (root_use, playbook_run):
        names = set(inspect.signature(command).parameters)
        assert flags | {p.name for p in AWS_OPTIONS} <= names
        assert not {"flags", "aws"} & names


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"all_accounts": True, "external_id": "x"}, "invalid --external-id"),
        ({"all_accounts": True, "accounts": "111122223333"}, "not both"),
        ({"accounts": "1234"}, "account"),
        ({"all_accounts": True, "concurrency": 0}, "invalid --concurrency"),
    ],
)
def test_root_activity_checks_its_account_options_as_root_use_does(
    options: dict[str, Any], message: str
) -> None:
    from remediate.commands.root_activity import accounts_choice

    given = {"all_accounts": False, "accounts": None, "role_name": None, "external_id": None}
    with pytest.raises(InputError, match=message):
        accounts_choice(**{**given, "concurrency": None, **options})
