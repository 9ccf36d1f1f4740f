"""Tests for root-use judgement over real-shaped credential report rows, with a fixed clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from unittest.mock import ANY

import pytest

from remediate.detect.judge import (
    NO_ROOT_ROW_NOTE,
    ROOT_CREDENTIALS_REMOVED_NOTE,
    SUMMARY_DENIED_NOTE,
    Evidence,
    RootSignIn,
    Verdict,
    is_root_arn,
    judge_root_use,
)
from remediate.detect.report import CredentialReport, parse_credential_report
from support.reportformat import DOCUMENTED_HEADER

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
ACCOUNT = "123456789012"
ROOT_ARN = f"arn:aws:iam::{ACCOUNT}:root"

HEADER = DOCUMENTED_HEADER
ROOT_LINE = (
    "<root_account>,arn:aws:iam::123456789012:root,2017-03-01T10:00:00+00:00,"
    "not_supported,no_information,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,"
    "false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
)
ROOT_DEFAULTS = dict(zip(HEADER.split(","), ROOT_LINE.split(","), strict=True))
USER_ROW = (
    "alice,arn:aws:iam::123456789012:user/alice,2020-01-01T00:00:00+00:00,true,"
    "2026-11-29T11:00:00+00:00,2020-01-01T00:00:00+00:00,N/A,true,true,"
    "2020-01-01T00:00:00+00:00,2026-11-29T11:00:00+00:00,eu-west-1,s3,false,N/A,N/A,N/A,N/A,"
    "false,N/A,false,N/A"
)


def ago(**delta: float) -> str:
    return (NOW - timedelta(**delta)).isoformat()


def root_report(generated_at: datetime | None = None, /, **overrides: str) -> CredentialReport:
    values = {**ROOT_DEFAULTS, **overrides}
    row = ",".join(values[name] for name in HEADER.split(","))
    return parse_credential_report(f"{HEADER}\n{USER_ROW}\n{row}\n", generated_at=generated_at)


def key(n: int, when: str, *, active: str = "true", region: str = "us-east-1") -> dict[str, str]:
    return {
        f"access_key_{n}_active": active,
        f"access_key_{n}_last_rotated": "2024-01-01T00:00:00+00:00",
        f"access_key_{n}_last_used_date": when,
        f"access_key_{n}_last_used_region": region,
        f"access_key_{n}_last_used_service": "iam",
    }


@pytest.mark.parametrize(
    ("overrides", "days", "in_use", "credentials", "last_used"),
    [
        pytest.param({}, 7, False, [], None, id="never-used"),
        pytest.param(
            {"password_last_used": ago(days=2)}, 7, True, ["password"], ago(days=2), id="password"
        ),
        pytest.param(
            {"password_last_used": ago(days=30)}, 7, False, [], ago(days=30), id="password-old"
        ),
        pytest.param(key(1, ago(hours=5)), 7, True, ["access_key_1"], ago(hours=5), id="key-1"),
        pytest.param(key(2, ago(hours=5)), 7, True, ["access_key_2"], ago(hours=5), id="key-2"),
        pytest.param(
            {**key(1, ago(days=3)), **key(2, ago(days=1))},
            7,
            True,
            ["access_key_2", "access_key_1"],
            ago(days=1),
            id="both-keys-newest-first",
        ),
        pytest.param(
            {"password_last_used": ago(days=6), **key(1, ago(hours=1))},
            7,
            True,
            ["access_key_1", "password"],
            ago(hours=1),
            id="password-older-key-newer",
        ),
        pytest.param(
            {"password_last_used": ago(days=60), **key(1, ago(days=1))},
            7,
            True,
            ["access_key_1"],
            ago(days=1),
            id="password-out-of-window-key-in",
        ),
        pytest.param(
            {"password_last_used": ago(days=1), **key(1, ago(days=60))},
            7,
            True,
            ["password"],
            ago(days=1),
            id="key-out-of-window-password-in",
        ),
        pytest.param(
            {"password_last_used": "no_information", **key(1, ago(days=1))},
            7,
            True,
            ["access_key_1"],
            ago(days=1),
            id="no-information-password-key-yesterday",
        ),
        pytest.param(
            key(1, ago(days=1), active="false"),
            7,
            True,
            ["access_key_1"],
            ago(days=1),
            id="inactive-key-used-counts",
        ),
        pytest.param(
            {"password_last_used": ago(days=7)},
            7,
            True,
            ["password"],
            ago(days=7),
            id="boundary-in",
        ),
        pytest.param(
            {"password_last_used": ago(days=7, seconds=1)},
            7,
            False,
            [],
            ago(days=7, seconds=1),
            id="boundary-out",
        ),
        pytest.param(
            {"password_last_used": ago(hours=23)}, 1, True, ["password"], ago(hours=23), id="days-1"
        ),
        pytest.param(
            {"password_last_used": ago(hours=25)}, 1, False, [], ago(hours=25), id="days-1-out"
        ),
        pytest.param(
            {"password_last_used": ago(days=3000)},
            3650,
            True,
            ["password"],
            ago(days=3000),
            id="days-3650",
        ),
        pytest.param(
            {"password_last_used": ago(days=3651)},
            3650,
            False,
            [],
            ago(days=3651),
            id="days-3650-out",
        ),
        pytest.param(
            {"password_last_used": "2026-11-22T14:00:00+02:00"},
            7,
            True,
            ["password"],
            "2026-11-22T12:00:00+00:00",
            id="offset-boundary-in",
        ),
        pytest.param(
            {"password_last_used": "2026-11-22T13:59:59+02:00"},
            7,
            False,
            [],
            "2026-11-22T11:59:59+00:00",
            id="offset-boundary-out",
        ),
        pytest.param(
            {"password_last_used": "2026-11-29T11:00:00Z"},
            7,
            True,
            ["password"],
            "2026-11-29T11:00:00+00:00",
            id="zulu",
        ),
    ],
)
def test_root_use_table(
    overrides: dict[str, str],
    days: int,
    in_use: bool,
    credentials: list[str],
    last_used: str | None,
) -> None:
    verdict = judge_root_use(root_report(**overrides), now=NOW, days=days)
    assert verdict.root_in_use is in_use
    assert [item.credential for item in verdict.evidence] == credentials
    assert verdict.last_used == (None if last_used is None else datetime.fromisoformat(last_used))
    assert verdict.window_days == days
    assert verdict.account_id == ACCOUNT
    assert verdict.root_arn == ROOT_ARN
    assert verdict.caller_is_root is False
    assert verdict.notes == ()


def test_key_evidence_has_region_and_service() -> None:
    verdict = judge_root_use(
        root_report(**key(2, ago(days=1), region="eu-central-1")), now=NOW, days=7
    )
    assert verdict.evidence == (
        Evidence("access_key_2", NOW - timedelta(days=1), region="eu-central-1", service="iam"),
    )


def test_future_timestamp_counts_as_in_use_with_note() -> None:
    verdict = judge_root_use(root_report(password_last_used=ago(hours=-3)), now=NOW, days=7)
    assert verdict.root_in_use is True
    assert [item.credential for item in verdict.evidence] == ["password"]
    assert verdict.last_used == NOW + timedelta(hours=3)
    assert len(verdict.notes) == 1
    assert "future" in verdict.notes[0]
    assert "password" in verdict.notes[0]


def test_missing_root_row() -> None:
    report = parse_credential_report(f"{HEADER}\n{USER_ROW}\n")
    verdict = judge_root_use(report, now=NOW, days=7)
    assert verdict.root_in_use is None
    assert verdict.evidence == ()
    assert verdict.last_used is None
    assert verdict.notes == (NO_ROOT_ROW_NOTE,)
    assert verdict.root_mfa_active is None
    assert verdict.root_access_keys_active is None
    assert verdict.root_signing_certificates_active is None
    # The other rows' ARNs name the account (issue 13), and with it the root user's ARN.
    assert verdict.account_id == "123456789012"
    assert verdict.root_arn == "arn:aws:iam::123456789012:root"


def test_no_report_with_account_from_caller() -> None:
    caller = "arn:aws-cn:sts::123456789012:assumed-role/Admin/session"
    verdict = judge_root_use(None, now=NOW, days=7, caller_arn=caller)
    assert verdict.root_in_use is None
    assert verdict.caller_is_root is False
    assert verdict.account_id == ACCOUNT
    assert verdict.root_arn == "arn:aws-cn:iam::123456789012:root"
    assert verdict.notes == (NO_ROOT_ROW_NOTE,)


def test_account_id_argument_wins() -> None:
    verdict = judge_root_use(None, now=NOW, days=7, account_id="210987654321")
    assert verdict.account_id == "210987654321"
    assert verdict.root_arn == "arn:aws:iam::210987654321:root"


def test_caller_is_root() -> None:
    verdict = judge_root_use(
        root_report(password_last_used=ago(days=1)), now=NOW, days=7, caller_arn=ROOT_ARN
    )
    assert verdict.root_in_use is True
    assert verdict.caller_is_root is True
    assert [item.credential for item in verdict.evidence] == ["caller", "password"]
    assert verdict.evidence[0] == Evidence("caller", NOW)
    assert verdict.last_used == NOW


def test_caller_is_root_without_root_row() -> None:
    verdict = judge_root_use(None, now=NOW, days=7, caller_arn=ROOT_ARN)
    assert verdict.root_in_use is True
    assert verdict.caller_is_root is True
    assert verdict.evidence == (Evidence("caller", NOW),)
    assert verdict.account_id == ACCOUNT
    assert verdict.root_arn == ROOT_ARN
    assert len(verdict.notes) == 1
    assert "<root_account>" in verdict.notes[0]


def test_caller_not_root_and_nothing_used() -> None:
    caller = "arn:aws:iam::123456789012:user/alice"
    verdict = judge_root_use(root_report(), now=NOW, days=7, caller_arn=caller)
    assert verdict.root_in_use is False
    assert verdict.caller_is_root is False


@pytest.mark.parametrize(
    ("overrides", "mfa", "keys", "certs", "findings"),
    [
        pytest.param({}, True, 0, 0, [], id="clean"),
        pytest.param(
            {"mfa_active": "FALSE", **key(1, "N/A"), **key(2, "N/A")},
            False,
            2,
            0,
            [("root-access-keys-active", "CRITICAL"), ("root-mfa-not-active", "HIGH")],
            id="two-keys",
        ),
        pytest.param(
            {"cert_1_active": "TRUE", "access_key_2_active": "true"},
            True,
            1,
            1,
            [
                ("root-access-keys-active", "CRITICAL"),
                ("root-signing-certificates-active", "MEDIUM"),
            ],
            id="key-and-cert",
        ),
    ],
)
def test_hygiene(
    overrides: dict[str, str], mfa: bool, keys: int, certs: int, findings: list[tuple[str, str]]
) -> None:
    verdict = judge_root_use(root_report(**overrides), now=NOW, days=7)
    assert verdict.root_mfa_active is mfa
    assert verdict.root_access_keys_active == keys
    assert verdict.root_signing_certificates_active == certs
    assert [(f.id, f.severity.value) for f in verdict.findings] == findings
    for f in verdict.findings:
        assert f.title
        assert f.remediation


NO_MFA = {"mfa_active": "false"}


def test_a_refused_account_summary_keeps_the_finding_and_names_the_action() -> None:
    denied = RootSignIn(None, None, denied=True)
    verdict = judge_root_use(root_report(**NO_MFA), now=NOW, days=7, sign_in=denied)
    assert [f.id for f in verdict.findings] == ["root-mfa-not-active"]
    assert verdict.root_password_present is None
    assert SUMMARY_DENIED_NOTE in verdict.notes
    assert "iam:GetAccountSummary" in SUMMARY_DENIED_NOTE
    assert ROOT_CREDENTIALS_REMOVED_NOTE not in verdict.notes
    answered = judge_root_use(
        root_report(**NO_MFA), now=NOW, days=7, sign_in=RootSignIn(True, False)
    )
    assert SUMMARY_DENIED_NOTE not in answered.notes


@pytest.mark.parametrize(
    "unknown",
    [
        pytest.param({"access_key_1_active": "N/A", "access_key_2_active": "N/A"}, id="keys"),
        pytest.param({"cert_1_active": "N/A", "cert_2_active": "N/A"}, id="certs"),
    ],
)
def test_credentials_are_removed_only_when_keys_and_certificates_are_known_none(
    unknown: dict[str, str],
) -> None:
    # A report that leaves root's keys or certificates unknown does not show them gone.
    gone = RootSignIn(False, False)
    verdict = judge_root_use(root_report(**NO_MFA, **unknown), now=NOW, days=7, sign_in=gone)
    assert ROOT_CREDENTIALS_REMOVED_NOTE not in verdict.notes
    complete = judge_root_use(root_report(**NO_MFA), now=NOW, days=7, sign_in=gone)
    assert ROOT_CREDENTIALS_REMOVED_NOTE in complete.notes


@pytest.mark.parametrize(
    ("overrides", "sign_in", "findings", "removed"),
    [
        # Root has a console password and no MFA: the finding, with its console steps.
        pytest.param(NO_MFA, RootSignIn(True, False), ["root-mfa-not-active"], False, id="pw"),
        # Not asked (a report file), or refused: root may have a password, so MFA is asked for.
        pytest.param(NO_MFA, None, ["root-mfa-not-active"], False, id="unknown"),
        pytest.param(NO_MFA, RootSignIn(None, None), ["root-mfa-not-active"], False, id="blank"),
        # After root-credentials delete: nothing to sign in with, nothing for MFA to guard.
        pytest.param(NO_MFA, RootSignIn(False, False), [], True, id="removed"),
        # No password, but a key: the key is the finding; root is not "removed".
        pytest.param(
            {**NO_MFA, **key(1, "N/A")},
            RootSignIn(False, False),
            ["root-access-keys-active"],
            False,
            id="key-only",
        ),
        pytest.param(
            {**NO_MFA, "cert_1_active": "true"},
            RootSignIn(False, False),
            ["root-signing-certificates-active"],
            False,
            id="cert-only",
        ),
        # MFA enabled since the report was generated: IAM's live answer wins.
        pytest.param(NO_MFA, RootSignIn(True, True), [], False, id="mfa-since"),
    ],
)
def test_root_mfa_is_a_finding_only_when_root_can_sign_in(
    overrides: dict[str, str], sign_in: RootSignIn | None, findings: list[str], removed: bool
) -> None:
    verdict = judge_root_use(root_report(**overrides), now=NOW, days=7, sign_in=sign_in)
    assert [f.id for f in verdict.findings] == findings
    assert (ROOT_CREDENTIALS_REMOVED_NOTE in verdict.notes) is removed
    assert verdict.root_password_present is (sign_in.password_present if sign_in else None)


@pytest.mark.parametrize(
    ("age", "stale", "fragment"),
    [
        pytest.param(timedelta(minutes=5), False, None, id="fresh"),
        pytest.param(timedelta(hours=1), False, None, id="exactly-one-hour"),
        pytest.param(timedelta(hours=1, seconds=1), True, "1 hour old", id="just-stale"),
        pytest.param(timedelta(hours=3, minutes=20), True, "3 hours 20 minutes old", id="3h20"),
        # Beyond two days an age reads in days, then years: not "103629 hours 8 minutes".
        pytest.param(timedelta(days=3, hours=5), True, "is 3 days old", id="3-days"),
        pytest.param(timedelta(days=4318), True, "is over 11 years old", id="11-years"),
    ],
)
def test_report_age(age: timedelta, stale: bool, fragment: str | None) -> None:
    verdict = judge_root_use(root_report(NOW - age), now=NOW, days=7)
    assert verdict.report_generated_at == NOW - age
    assert verdict.report_age_seconds == age.total_seconds()
    assert verdict.report_stale is stale
    if fragment is None:
        assert verdict.notes == ()
    else:
        assert len(verdict.notes) == 1
        assert fragment in verdict.notes[0]
        assert "4 hours" in verdict.notes[0]


def test_no_generated_at() -> None:
    verdict = judge_root_use(root_report(), now=NOW, days=7)
    assert verdict.report_generated_at is None
    assert verdict.report_age_seconds is None
    assert verdict.report_stale is False


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        ("arn:aws:iam::123456789012:root", True),
        ("arn:aws-us-gov:iam::123456789012:root", True),
        ("arn:aws-cn:iam::123456789012:root", True),
        ("arn:aws:iam::123456789012:user/root", False),
        ("arn:aws:sts::123456789012:assumed-role/root/root", False),
        ("arn:aws:iam::12345678901:root", False),
        ("arn:aws:iam::123456789012:root\n", False),
        ("arn:aws:iam:us-east-1:123456789012:root", False),
        ("", False),
    ],
)
def test_is_root_arn(arn: str, expected: bool) -> None:
    assert is_root_arn(arn) is expected


def test_to_json() -> None:
    verdict = judge_root_use(
        root_report(NOW - timedelta(minutes=30), **key(1, ago(days=1))),
        now=NOW,
        days=7,
    )
    assert isinstance(verdict, Verdict)
    data = verdict.to_json()
    assert json.loads(json.dumps(data)) == data
    assert data == {
        "account_id": ACCOUNT,
        "root_arn": ROOT_ARN,
        "window_days": 7,
        "root_in_use": True,
        "last_used": "2026-11-28T12:00:00+00:00",
        "evidence": [
            {
                "credential": "access_key_1",
                "last_used": "2026-11-28T12:00:00+00:00",
                "region": "us-east-1",
                "service": "iam",
            }
        ],
        "root_mfa_active": True,
        # GetAccountSummary is asked only when the report shows root MFA not active.
        "root_password_present": None,
        "root_access_keys_active": 1,
        "root_signing_certificates_active": 0,
        "report_generated_at": "2026-11-29T11:30:00+00:00",
        "report_age_seconds": 1800.0,
        "report_stale": False,
        "caller_is_root": False,
        "notes": [],
        "findings": [
            {
                "id": "root-access-keys-active",
                "severity": "CRITICAL",
                "title": "The root user has active access keys",
                "remediation": ANY,
            }
        ],
        # Not looked up (--cloudtrail): otherwise
        # remediate.detect.cloudtrail.CloudTrailEvidence.to_json.
        "cloudtrail": None,
    }


def test_to_json_unknown() -> None:
    data = judge_root_use(None, now=NOW, days=7).to_json()
    assert data["root_in_use"] is None
    assert data["last_used"] is None
    assert data["report_generated_at"] is None
    assert data["notes"] == [NO_ROOT_ROW_NOTE]
    # Without a root row nothing is known, so nothing is a finding.
    assert data["findings"] == []
