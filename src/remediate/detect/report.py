"""Parse the IAM credential report CSV into typed rows, rejecting malformed input."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from remediate.core.clock import utc
from remediate.core.errors import ReportFormatError

ROOT_USER = "<root_account>"

REQUIRED_COLUMNS: tuple[str, ...] = (
    "user",
    "arn",
    "password_last_used",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_used_date",
    "access_key_2_active",
    "access_key_2_last_used_date",
)

# Values IAM writes where there is nothing to report.
_ABSENT = frozenset({"", "n/a", "no_information", "not_supported"})
_TRUE = "true"
_FALSE = "false"
_SHOWN_CHARS = 40
_TIP = (
    "Give the CSV the IAM console downloads, or the JSON `aws iam get-credential-report` prints "
    "(`-` reads standard input)."
)
# An ARN that names an account: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE.
_ACCOUNT_ARN = re.compile(r"arn:[a-z][a-z0-9-]*:[^:]*:[^:]*:([0-9]{12}):.+", re.DOTALL)


@dataclass(frozen=True)
class AccessKeyUse:
    """One access-key slot of a row: whether it is active and when it was last used."""

    active: bool | None
    last_used: datetime | None
    last_used_region: str | None
    last_used_service: str | None


@dataclass(frozen=True)
class CredentialRow:
    """One user's line of the credential report, with only the fields detection needs."""

    user: str
    arn: str
    password_enabled: bool | None
    password_last_used: datetime | None
    mfa_active: bool | None
    access_keys: tuple[AccessKeyUse, AccessKeyUse]
    certs_active: tuple[bool | None, bool | None]


@dataclass(frozen=True)
class CredentialReport:
    """A parsed credential report and when IAM generated it."""

    rows: tuple[CredentialRow, ...]
    generated_at: datetime | None

    def root(self) -> CredentialRow | None:
        """Return the `<root_account>` row, or None when the report has none."""
        for row in self.rows:
            if row.user == ROOT_USER:
                return row
        return None

    def account_id(self) -> str | None:
        """The account the report is of, from any row's ARN (the parser made sure they agree):
        a report without a root row still names its account."""
        for row in self.rows:
            match = _ACCOUNT_ARN.fullmatch(row.arn)
            if match:
                return match.group(1)
        return None


def _shown(value: str) -> str:
    """Quote a value for a one-line message, cut short so huge values stay readable."""
    if len(value) > _SHOWN_CHARS:
        value = value[:_SHOWN_CHARS] + "..."
    # repr escapes newlines and control characters, keeping the message on one line.
    return repr(value)


def _error(message: str) -> ReportFormatError:
    return ReportFormatError(message, tip=_TIP)


def parse_timestamp(value: str, *, field: str) -> datetime | None:
    """Parse an ISO 8601 report timestamp to aware UTC; IAM's placeholders give None."""
    text = value.strip()
    if text.lower() in _ABSENT:
        return None
    try:
        return utc(datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        # OverflowError: a valid date whose UTC conversion leaves year 1..9999.
        raise _error(f"{field}: {_shown(text)} is not an ISO 8601 timestamp") from None


def parse_flag(value: str, *, field: str) -> bool | None:
    """Parse a report true/false flag; IAM's placeholders give None."""
    text = value.strip().lower()
    if text == _TRUE:
        return True
    if text == _FALSE:
        return False
    if text in _ABSENT:
        return None
    raise _error(f"{field}: {_shown(value.strip())} is not true or false")


def _parse_text(value: str) -> str | None:
    text = value.strip()
    return None if text.lower() in _ABSENT else text


def _decode(content: bytes | str) -> str:
    if isinstance(content, bytes | bytearray | memoryview):
        try:
            text = bytes(content).decode("utf-8")
        except UnicodeDecodeError:
            raise _error("The credential report is not UTF-8 text (binary content?)") from None
    else:
        text = content
    text = text.removeprefix("\ufeff")
    # Python's csv accepts NUL, but a text report never contains one.
    if "\x00" in text:
        raise _error("The credential report contains NUL bytes (binary content?)")
    if not text.strip():
        raise _error("The credential report is empty")
    return text


class _RowReader:
    """Typed access to one CSV row's fields by column name, with line-aware errors."""

    def __init__(self, columns: Mapping[str, int], fields: Sequence[str], line: int) -> None:
        self._columns = columns
        self._fields = fields
        self.line = line

    def raw(self, name: str) -> str | None:
        index = self._columns.get(name)
        return None if index is None else self._fields[index]

    def text(self, name: str) -> str | None:
        raw = self.raw(name)
        return None if raw is None else _parse_text(raw)

    def flag(self, name: str) -> bool | None:
        raw = self.raw(name)
        if raw is None:
            return None
        try:
            return parse_flag(raw, field=name)
        except ReportFormatError as exc:
            raise _error(f"Credential report line {self.line}: {exc.message}") from None

    def timestamp(self, name: str) -> datetime | None:
        raw = self.raw(name)
        if raw is None:
            return None
        try:
            return parse_timestamp(raw, field=name)
        except ReportFormatError as exc:
            raise _error(f"Credential report line {self.line}: {exc.message}") from None


def _parse_row(reader: _RowReader) -> CredentialRow:
    keys = tuple(
        AccessKeyUse(
            active=reader.flag(f"access_key_{n}_active"),
            last_used=reader.timestamp(f"access_key_{n}_last_used_date"),
            last_used_region=reader.text(f"access_key_{n}_last_used_region"),
            last_used_service=reader.text(f"access_key_{n}_last_used_service"),
        )
        for n in (1, 2)
    )
    return CredentialRow(
        user=(reader.raw("user") or "").strip(),
        arn=(reader.raw("arn") or "").strip(),
        password_enabled=reader.flag("password_enabled"),
        password_last_used=reader.timestamp("password_last_used"),
        mfa_active=reader.flag("mfa_active"),
        access_keys=(keys[0], keys[1]),
        certs_active=(reader.flag("cert_1_active"), reader.flag("cert_2_active")),
    )


def _is_blank(fields: Sequence[str]) -> bool:
    return len(fields) <= 1 and not "".join(fields).strip()


def _from_cli_json(text: str) -> tuple[str, datetime | None]:
    """The CSV and generation time out of what `aws iam get-credential-report` prints: a JSON
    object whose ``Content`` is the CSV, base64-encoded."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _error(f"The credential report looks like JSON but is not: {exc.msg}") from None
    if not isinstance(document, dict) or not isinstance(document.get("Content"), str):
        raise _error(
            "The credential report JSON has no Content field (the JSON of `aws iam "
            "get-credential-report` has one)"
        )
    report_format = document.get("ReportFormat", "text/csv")
    if report_format != "text/csv":
        raise _error(f"The credential report's ReportFormat is {_shown(str(report_format))}")
    try:
        raw = base64.b64decode(document["Content"], validate=True)
    except (binascii.Error, ValueError):
        raise _error("The credential report JSON's Content is not base64") from None
    generated = document.get("GeneratedTime")
    when = (
        parse_timestamp(generated.replace("Z", "+00:00"), field="GeneratedTime")
        if isinstance(generated, str)
        else None
    )
    return _decode(raw), when


def _check_row(row: CredentialRow, line: int, seen: dict[str, int]) -> None:
    """One root row, and every row of the same account: anything else is not one report."""
    if row.user == ROOT_USER:
        if ROOT_USER in seen:
            raise _error(
                f"Credential report line {line} is a second {ROOT_USER} row (the first is on "
                f"line {seen[ROOT_USER]}): a report has one"
            )
        seen[ROOT_USER] = line
    match = _ACCOUNT_ARN.fullmatch(row.arn)
    if match:
        account = match.group(1)
        others = [a for a in seen if a != ROOT_USER and a != account]
        if others:
            raise _error(
                f"Credential report line {line} is of account {account}, line "
                f"{seen[others[0]]} of account {others[0]}: a report is of one account"
            )
        seen.setdefault(account, line)


def parse_credential_report(
    content: bytes | str, generated_at: datetime | None = None
) -> CredentialReport:
    """Parse a credential report: the CSV (as the console downloads it), or the JSON the AWS CLI
    prints; raise ReportFormatError on anything malformed."""
    text = _decode(content)
    if text.lstrip().startswith("{"):
        text, printed_at = _from_cli_json(text)
        generated_at = generated_at or printed_at
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    columns: dict[str, int] | None = None
    width = 0
    rows: list[CredentialRow] = []
    seen: dict[str, int] = {}  # the root row's line, and each account's first line
    try:
        for fields in reader:
            if _is_blank(fields):
                continue
            if columns is None:
                columns = {}
                for index, name in enumerate(fields):
                    columns.setdefault(name.strip().lower(), index)
                missing = [name for name in REQUIRED_COLUMNS if name not in columns]
                if missing:
                    raise _error(
                        f"The credential report header (line {reader.line_num}) "
                        f"is missing required column{'s' * (len(missing) != 1)}: "
                        f"{', '.join(missing)}"
                    )
                width = len(fields)
                continue
            if len(fields) != width:
                raise _error(
                    f"Credential report line {reader.line_num} has {len(fields)} "
                    f"field{'s' * (len(fields) != 1)}, "
                    f"the header has {width}"
                )
            row = _parse_row(_RowReader(columns, fields, reader.line_num))
            _check_row(row, reader.line_num, seen)
            rows.append(row)
    except csv.Error as exc:
        # e.g. an over-long field or a stray quote; keep csv's reason on one line.
        reason = " ".join(str(exc).split())
        raise _error(
            f"Credential report line {reader.line_num} is not valid CSV: {reason}"
        ) from None
    if columns is None:
        raise _error("The credential report is empty")
    return CredentialReport(
        rows=tuple(rows),
        generated_at=None if generated_at is None else utc(generated_at),
    )
