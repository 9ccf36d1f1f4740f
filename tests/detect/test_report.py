"""Tests for the credential report parser: every value form and every malformed input."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remediate.core.errors import EXIT_INPUT, EXIT_ROOT_IN_USE, InputError, ReportFormatError
from remediate.detect.judge import Evidence, judge_root_use
from remediate.detect.report import (
    ROOT_USER,
    AccessKeyUse,
    parse_credential_report,
    parse_flag,
    parse_timestamp,
)
from support.reportformat import DOCUMENTED_HEADER, moved_to

# The header as the IAM User Guide documents it ("Credential report format"), typed out by hand:
# the tests must not take the format from the code under test.
HEADER = DOCUMENTED_HEADER
# A report written by hand from the same documentation: see fixtures/README.md.
AWS_REPORT = Path(__file__).parents[1] / "fixtures" / "credential-report.csv"
ROOT_ROW = (
    "<root_account>,arn:aws:iam::123456789012:root,2017-03-01T10:00:00+00:00,not_supported,"
    "2026-11-27T09:12:44+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,"
    "false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
)
USER_ROW = (
    "alice,arn:aws:iam::123456789012:user/alice,2020-01-01T00:00:00+00:00,true,"
    "2026-11-28T08:00:00+00:00,2020-01-01T00:00:00+00:00,N/A,true,true,"
    "2020-01-01T00:00:00+00:00,2026-11-28T07:00:00+00:00,eu-west-1,s3,false,N/A,N/A,N/A,N/A,"
    "false,N/A,false,N/A"
)


def root_row(**overrides: str) -> str:
    """A real-shaped root row with some columns replaced."""
    names = HEADER.split(",")
    values = dict(zip(names, ROOT_ROW.split(","), strict=True))
    unknown = set(overrides) - set(names)
    assert not unknown, unknown
    values.update(overrides)
    return ",".join(values[name] for name in names)


def report(*rows: str, newline: str = "\n") -> str:
    return newline.join((HEADER, *rows)) + newline


def t(text: str) -> datetime:
    """A timestamp as the fixture writes it, for expected values."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z")


def test_documented_report_parses() -> None:
    parsed = parse_credential_report(AWS_REPORT.read_bytes())
    assert [row.user for row in parsed.rows] == [ROOT_USER, "alice", "ci-deploy", "carol"]
    root, alice, ci, carol = parsed.rows
    assert parsed.root() == root
    assert root.arn == "arn:aws:iam::111122223333:root"
    assert root.password_enabled is None  # not_supported
    assert root.password_last_used == t("2026-11-27T09:12:44+0000")
    assert root.mfa_active is False
    assert root.access_keys == (
        AccessKeyUse(True, t("2026-11-25T22:41:09+0000"), "us-east-1", "s3"),
        AccessKeyUse(False, None, None, None),
    )
    assert root.certs_active == (False, False)

    assert alice.arn == "arn:aws:iam::111122223333:user/alice"
    assert alice.password_enabled is True
    assert alice.password_last_used == t("2026-11-28T16:05:33+0000")
    assert alice.mfa_active is True
    assert alice.access_keys == (
        AccessKeyUse(True, t("2026-11-29T08:17:02+0000"), "eu-west-1", "sts"),
        AccessKeyUse(False, None, None, None),
    )

    assert ci.arn == "arn:aws:iam::111122223333:user/automation/ci-deploy"
    assert ci.password_enabled is False
    assert ci.password_last_used is None  # N/A: no password
    assert ci.mfa_active is False
    assert ci.access_keys == (
        AccessKeyUse(True, t("2026-11-29T03:00:41+0000"), "us-west-2", "cloudformation"),
        AccessKeyUse(False, t("2025-01-15T06:44:10+0000"), "us-west-2", "ecr"),
    )
    assert ci.certs_active == (True, False)

    assert carol.password_enabled is True
    assert carol.password_last_used is None  # no_information: never used
    assert carol.mfa_active is False
    assert carol.access_keys == (AccessKeyUse(False, None, None, None),) * 2
    assert carol.certs_active == (False, False)


def test_documented_report_judged_over_a_week() -> None:
    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    generated = datetime(2026, 11, 29, 11, 30, tzinfo=UTC)
    parsed = parse_credential_report(AWS_REPORT.read_bytes(), generated_at=generated)
    verdict = judge_root_use(parsed, now=now, days=7)
    assert verdict.root_in_use is True
    assert verdict.evidence == (
        Evidence("password", t("2026-11-27T09:12:44+0000")),
        Evidence("access_key_1", t("2026-11-25T22:41:09+0000"), "us-east-1", "s3"),
    )
    assert verdict.last_used == t("2026-11-27T09:12:44+0000")
    assert verdict.account_id == "111122223333"
    assert verdict.root_arn == "arn:aws:iam::111122223333:root"
    assert verdict.root_mfa_active is False
    assert verdict.root_access_keys_active == 1
    assert verdict.root_signing_certificates_active == 0
    assert verdict.report_age_seconds == 1800
    assert verdict.report_stale is False
    assert verdict.caller_is_root is False
    assert verdict.notes == ()


def test_documented_report_judged_over_a_day_ignores_iam_users() -> None:
    """alice and ci-deploy signed in within the day; only the root row counts."""
    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    verdict = judge_root_use(parse_credential_report(AWS_REPORT.read_bytes()), now=now, days=1)
    assert verdict.root_in_use is False
    assert verdict.evidence == ()
    assert verdict.last_used == t("2026-11-27T09:12:44+0000")
    assert verdict.root_mfa_active is False
    assert verdict.root_access_keys_active == 1


# When the fixture was written (fixtures/README.md): its dates read as of this moment.
WRITTEN = datetime(2026, 11, 29, 12, tzinfo=UTC)


def test_documented_report_through_the_cli(cli: Any, tmp_path: Path) -> None:
    """The file as a user passes it, its dates moved to today: the CLI judges by the real
    clock."""
    now = datetime.now(UTC).replace(microsecond=0)
    path = tmp_path / "report.csv"
    path.write_bytes(moved_to(AWS_REPORT.read_bytes(), WRITTEN, now))
    r = cli("root-use", "--credential-report", str(path), "--output", "json")
    assert r.code == EXIT_ROOT_IN_USE, r.err
    doc = r.json()
    assert doc["root_in_use"] is True
    assert doc["account_id"] == "111122223333"
    assert doc["root_arn"] == "arn:aws:iam::111122223333:root"
    assert doc["root_mfa_active"] is False
    assert doc["root_access_keys_active"] == 1
    assert doc["root_signing_certificates_active"] == 0
    password_used = t("2026-11-27T09:12:44+0000") + (now - WRITTEN)
    assert doc["last_used"] == password_used.isoformat()
    assert [e["credential"] for e in doc["evidence"]] == ["password", "access_key_1"]


def test_real_report_parses() -> None:
    parsed = parse_credential_report(report(ROOT_ROW, USER_ROW).encode())
    assert [row.user for row in parsed.rows] == [ROOT_USER, "alice"]
    root = parsed.root()
    assert root is not None
    assert root.user == ROOT_USER
    assert root.arn == "arn:aws:iam::123456789012:root"
    assert root.password_enabled is None
    assert root.password_last_used == datetime(2026, 11, 27, 9, 12, 44, tzinfo=UTC)
    assert root.mfa_active is True
    assert root.access_keys == (
        AccessKeyUse(False, None, None, None),
        AccessKeyUse(False, None, None, None),
    )
    assert root.certs_active == (False, False)
    alice = parsed.rows[1]
    assert alice.password_enabled is True
    assert alice.access_keys[0] == AccessKeyUse(
        True, datetime(2026, 11, 28, 7, tzinfo=UTC), "eu-west-1", "s3"
    )
    assert parsed.generated_at is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-27T09:12:44+00:00", datetime(2026, 11, 27, 9, 12, 44, tzinfo=UTC)),
        ("2026-11-27T09:12:44Z", datetime(2026, 11, 27, 9, 12, 44, tzinfo=UTC)),
        ("2026-11-27T11:12:44+02:00", datetime(2026, 11, 27, 9, 12, 44, tzinfo=UTC)),
        ("2026-11-27T04:12:44-05:00", datetime(2026, 11, 27, 9, 12, 44, tzinfo=UTC)),
        ("2026-11-27T09:12:44", datetime(2026, 11, 27, 9, 12, 44, tzinfo=UTC)),
        ("  2026-11-27T09:12:44+00:00  ", datetime(2026, 11, 27, 9, 12, 44, tzinfo=UTC)),
        ("N/A", None),
        ("no_information", None),
        ("not_supported", None),
        ("", None),
    ],
)
def test_timestamp_forms(raw: str, expected: datetime | None) -> None:
    parsed = parse_timestamp(raw, field="password_last_used")
    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() == timedelta(0)
    row = parse_credential_report(report(root_row(password_last_used=raw))).root()
    assert row is not None
    assert row.password_last_used == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("True", True),
        ("false", False),
        ("FALSE", False),
        (" false ", False),
        ("not_supported", None),
        ("N/A", None),
        ("", None),
    ],
)
def test_flag_forms(raw: str, expected: bool | None) -> None:
    assert parse_flag(raw, field="mfa_active") is expected
    row = parse_credential_report(report(root_row(mfa_active=raw))).root()
    assert row is not None
    assert row.mfa_active is expected


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(report(ROOT_ROW), id="trailing-newline"),
        pytest.param(report(ROOT_ROW).rstrip("\n"), id="no-trailing-newline"),
        pytest.param(report(ROOT_ROW, newline="\r\n"), id="crlf"),
        pytest.param(report(ROOT_ROW) + "\n\n", id="blank-lines-at-end"),
        pytest.param("\ufeff" + report(ROOT_ROW), id="bom-str"),
        pytest.param(("\ufeff" + report(ROOT_ROW)).encode(), id="bom-bytes"),
        pytest.param(report(ROOT_ROW, newline="\r\n").encode(), id="crlf-bytes"),
        pytest.param(
            report(",".join(f" {value} " for value in ROOT_ROW.split(","))), id="padded-values"
        ),
    ],
)
def test_framing_forms(content: str | bytes) -> None:
    parsed = parse_credential_report(content)
    assert len(parsed.rows) == 1
    root = parsed.root()
    assert root is not None
    assert root.user == ROOT_USER
    assert root.arn == "arn:aws:iam::123456789012:root"
    assert root.password_last_used == datetime(2026, 11, 27, 9, 12, 44, tzinfo=UTC)
    assert root.certs_active == (False, False)


def test_key_region_and_service() -> None:
    row = root_row(
        access_key_2_active="true",
        access_key_2_last_used_date="2026-11-28T10:00:00Z",
        access_key_2_last_used_region="us-east-1",
        access_key_2_last_used_service="iam",
    )
    root = parse_credential_report(report(row)).root()
    assert root is not None
    assert root.access_keys[1] == AccessKeyUse(
        True, datetime(2026, 11, 28, 10, tzinfo=UTC), "us-east-1", "iam"
    )
    assert root.access_keys[0].last_used_region is None


def test_optional_columns_default_to_none() -> None:
    content = (
        "user,arn,password_last_used,mfa_active,access_key_1_active,"
        "access_key_1_last_used_date,access_key_2_active,access_key_2_last_used_date\n"
        "<root_account>,arn:aws:iam::123456789012:root,N/A,false,false,N/A,true,"
        "2026-11-28T10:00:00+00:00\n"
    )
    root = parse_credential_report(content).root()
    assert root is not None
    assert root.password_enabled is None
    assert root.certs_active == (None, None)
    assert root.access_keys[1] == AccessKeyUse(
        True, datetime(2026, 11, 28, 10, tzinfo=UTC), None, None
    )


def test_columns_in_any_order() -> None:
    names = HEADER.split(",")
    values = ROOT_ROW.split(",")
    content = ",".join(reversed(names)) + "\n" + ",".join(reversed(values)) + "\n"
    assert parse_credential_report(content) == parse_credential_report(report(ROOT_ROW))


def test_no_root_row() -> None:
    parsed = parse_credential_report(report(USER_ROW))
    assert parsed.root() is None
    assert len(parsed.rows) == 1


def test_header_only() -> None:
    parsed = parse_credential_report(HEADER + "\n")
    assert parsed.rows == ()
    assert parsed.root() is None


@pytest.mark.parametrize(
    ("given_at", "expected"),
    [
        (datetime(2026, 11, 29, 11, tzinfo=UTC), datetime(2026, 11, 29, 11, tzinfo=UTC)),
        (
            datetime(2026, 11, 29, 13, tzinfo=timezone(timedelta(hours=2))),
            datetime(2026, 11, 29, 11, tzinfo=UTC),
        ),
        (datetime(2026, 11, 29, 11), datetime(2026, 11, 29, 11, tzinfo=UTC)),
    ],
)
def test_generated_at_is_utc(given_at: datetime, expected: datetime) -> None:
    parsed = parse_credential_report(report(ROOT_ROW), generated_at=given_at)
    assert parsed.generated_at == expected
    assert parsed.generated_at is not None
    assert parsed.generated_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        pytest.param(b"", ["empty"], id="empty-bytes"),
        pytest.param("", ["empty"], id="empty-str"),
        pytest.param(" \r\n\n ", ["empty"], id="whitespace"),
        pytest.param("\ufeff", ["empty"], id="bom-only"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["UTF-8"], id="binary"),
        pytest.param(b"\xff\xfe\x00u\x00s", ["UTF-8"], id="utf16"),
        pytest.param(report(ROOT_ROW).replace("true", "tr\x00ue"), ["NUL"], id="nul-str"),
        pytest.param(report(ROOT_ROW).encode() + b"\x00", ["NUL"], id="nul-bytes"),
        pytest.param(
            "name,age\nbob,3\n",
            ["user, arn, password_last_used", "access_key_2_last_used_date"],
            id="wrong-header",
        ),
        pytest.param(
            report(ROOT_ROW).replace("mfa_active", "mfa"), ["mfa_active"], id="missing-column"
        ),
        pytest.param(
            report(ROOT_ROW, ROOT_ROW.rsplit(",", 5)[0]), ["line 3", "17"], id="truncated-row"
        ),
        pytest.param(report(ROOT_ROW + ",extra"), ["line 2", "23"], id="long-row"),
        pytest.param(
            report(root_row(password_last_used="yesterday")),
            ["line 2", "password_last_used", "'yesterday'"],
            id="bad-timestamp",
        ),
        pytest.param(
            report(USER_ROW, root_row(access_key_1_last_used_date="2026-13-01T00:00:00Z")),
            ["line 3", "access_key_1_last_used_date"],
            id="bad-month",
        ),
        pytest.param(
            report(root_row(password_last_used="9999-12-31T23:00:00-05:00")),
            ["password_last_used"],
            id="timestamp-overflow",
        ),
        pytest.param(
            report(root_row(mfa_active="yes")), ["line 2", "mfa_active", "'yes'"], id="bad-flag"
        ),
        pytest.param(
            report(root_row(password_last_used="x" * 200_000)), ["line 2", "CSV"], id="huge-field"
        ),
        pytest.param(
            report(root_row(password_last_used="x" * 10_000)),
            ["password_last_used", "..."],
            id="long-bad-value",
        ),
        pytest.param(report(root_row(user='"<root_account>')), ["line 2"], id="unterminated-quote"),
        pytest.param(
            report(root_row(mfa_active='"a\nb"')), ["line 3", "mfa_active"], id="quoted-newline"
        ),
    ],
)
def test_malformed_reports(content: str | bytes, fragments: list[str]) -> None:
    with pytest.raises(ReportFormatError) as caught:
        parse_credential_report(content)
    error = caught.value
    assert isinstance(error, InputError)
    assert error.exit_code == EXIT_INPUT
    assert "\n" not in error.message
    assert "\r" not in error.message
    assert len(error.message) < 300
    for fragment in fragments:
        assert fragment in error.message


@pytest.mark.parametrize("value", ["yes", "1", "maybe"])
def test_parse_flag_rejects(value: str) -> None:
    with pytest.raises(ReportFormatError, match="mfa_active"):
        parse_flag(value, field="mfa_active")


@pytest.mark.parametrize("value", ["yesterday", "2026-02-30T00:00:00Z", "1700000000"])
def test_parse_timestamp_rejects(value: str) -> None:
    with pytest.raises(ReportFormatError, match="password_last_used"):
        parse_timestamp(value, field="password_last_used")


_ROOT_FIELDS = ROOT_ROW.split(",")


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.one_of(
        st.binary(max_size=400),
        st.text(max_size=400),
        st.lists(
            st.one_of(st.sampled_from(_ROOT_FIELDS), st.text(max_size=30)),
            min_size=18,
            max_size=26,
        ).map(lambda fields: HEADER + "\n" + ",".join(fields) + "\n"),
    )
)
def test_never_crashes(content: str | bytes) -> None:
    try:
        parsed = parse_credential_report(content)
    except ReportFormatError as exc:
        message = exc.message
    else:
        message = ""
        for row in parsed.rows:
            for stamp in (row.password_last_used, *(key.last_used for key in row.access_keys)):
                assert stamp is None or stamp.utcoffset() == timedelta(0)
    assert "\n" not in message


# --- the JSON the AWS CLI prints, standard input, one root row, one account ------------------


def cli_json(csv_bytes: bytes, **extra: Any) -> str:
    """What `aws iam get-credential-report` prints (the AWS CLI base64-encodes the blob)."""
    import base64
    import json

    document = {
        "Content": base64.b64encode(csv_bytes).decode(),
        "ReportFormat": "text/csv",
        "GeneratedTime": "2026-11-29T08:01:02+00:00",
        **extra,
    }
    return json.dumps(document, indent=4)


def test_the_aws_cli_json_parses_like_the_csv() -> None:
    csv_bytes = AWS_REPORT.read_bytes()
    from_json = parse_credential_report(cli_json(csv_bytes))
    from_csv = parse_credential_report(csv_bytes)
    assert from_json.rows == from_csv.rows
    assert from_json.generated_at == datetime(2026, 11, 29, 8, 1, 2, tzinfo=UTC)
    assert parse_credential_report(cli_json(csv_bytes, GeneratedTime="2026-11-29T08:01:02Z"))


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('{"ReportFormat": "text/csv"}', "has no Content field"),
        ('{"Content": "not base64!"}', "Content is not base64"),
        ('{"Content": "", "ReportFormat": "application/pdf"}', "ReportFormat is 'application/pdf'"),
        ('{"Content": ', "looks like JSON but is not"),
        ("[1, 2]", "missing required column"),  # not an object: read as CSV, and refused
    ],
)
def test_malformed_cli_json(content: str, fragment: str) -> None:
    with pytest.raises(ReportFormatError, match=re.escape(fragment)):
        parse_credential_report(content)


def test_a_second_root_row_is_refused() -> None:
    with pytest.raises(ReportFormatError, match=re.escape(
        "line 4 is a second <root_account> row (the first is on line 2)"
    )):  # fmt: skip
        parse_credential_report(report(ROOT_ROW, USER_ROW, ROOT_ROW))


def test_rows_of_two_accounts_are_refused() -> None:
    other = USER_ROW.replace("123456789012", "210987654321")
    with pytest.raises(ReportFormatError, match=re.escape(
        "line 3 is of account 210987654321, line 2 of account 123456789012"
    )):  # fmt: skip
        parse_credential_report(report(ROOT_ROW, other))


def test_the_account_comes_from_any_row() -> None:
    parsed = parse_credential_report(report(USER_ROW))
    assert parsed.account_id() == "123456789012"
    verdict = judge_root_use(parsed, now=datetime(2026, 11, 29, tzinfo=UTC), days=7)
    assert verdict.root_in_use is None
    assert verdict.account_id == "123456789012"
    assert verdict.root_arn == "arn:aws:iam::123456789012:root"


def test_standard_input_through_the_cli(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    today = moved_to(AWS_REPORT.read_bytes(), WRITTEN, datetime.now(UTC))
    data = cli_json(today).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    r = cli("root-use", "--credential-report", "-", "--output", "json")
    assert r.code == EXIT_ROOT_IN_USE, r.err
    doc = r.json()
    assert doc["root_in_use"] is True
    assert doc["account_id"] == "111122223333"
    assert doc["report_generated_at"] == "2026-11-29T08:01:02+00:00"

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"user,arn\n")))
    bad = cli("root-use", "--credential-report", "-")
    assert bad.code == EXIT_INPUT
    assert bad.err.startswith("error: standard input: The credential report header")


def test_no_root_row_through_the_cli_names_the_account(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text(report(USER_ROW))
    r = cli("root-use", "--credential-report", str(path))
    assert r.code == 3
    assert "root use in 123456789012 cannot be determined" in r.out
    assert "unknown account" not in r.out
