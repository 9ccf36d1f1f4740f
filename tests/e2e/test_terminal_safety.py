"""Output that cannot be hijacked: external text (credential reports, AWS error messages, names,
journal lines, account names) reaches the terminal with no control character and no live markup;
secrets are printed exactly; JSON carries every value unchanged."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from moto.iam.exceptions import IAMException
from moto.iam.models import IAMBackend
from rich.console import Console

from remediate.core.terminal import SERVICE_PATTERN, print_secret, safe, safe_field
from remediate.credentials.store import SecretStore
from remediate.org.sweep import AccountResult, SweepResult
from remediate.render.tables import render_sweep
from remediate.sandbox.server import RootState
from support.reportformat import DOCUMENTED_HEADER

ACCOUNT_ID = "123456789012"

# What a hostile credential report may carry in its region and service fields.
TITLE = "\x1b]0;owned\x07"  # sets the terminal's title
CLEAR = "\x1b[2J"  # clears the screen
CSI_C1 = "\x9b31m"  # CSI as a single C1 character
BIDI = "\u202e"  # right-to-left override: what follows shows reversed
CLOSE_TAG = "[/bold]"  # crashed rich ("closing tag with nothing to close")
LINK = "[link=https://evil.example]click[/link]"
FORMULA = '=HYPERLINK("https://evil.example","x")'
HOSTILE_REGION = f"us-east-1{TITLE}{CLEAR}{CLOSE_TAG}{LINK}"
HOSTILE_SERVICE = f"iam{CSI_C1}{BIDI}\x7f{CLOSE_TAG}"


def control_characters(text: str) -> list[str]:
    """Every character a terminal may act on, other than the line ends that separate lines."""
    return [
        ch
        for ch in text
        if ch != "\n" and unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp", "Cs"}
    ]


# --- the function -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("us-east-1", "us-east-1"),
        ("caf\u00e9 \u4e2d\u6587 \u00a0nbsp", "caf\u00e9 \u4e2d\u6587 \u00a0nbsp"),
        ("\x1b]0;t\x07", "\\x1b]0;t\\x07"),
        ("\x1b[2J", "\\x1b[2J"),  # not tag-like: rich shows it as is
        ("a\x9bb\x7fc\x00d", "a\\x9bb\\x7fc\\x00d"),
        ("line\nbreak\rtab\tback\b", "line\\x0abreak\\x0dtab\\x09back\\x08"),
        ("\u202eevil\u2066\u200b", "\\u202eevil\\u2066\\u200b"),
        ("para\u2028graph\u2029", "para\\u2028graph\\u2029"),
        ("[/bold]", "\\[/bold]"),
        ("[link=https://x]y[/link]", "\\[link=https://x]y\\[/link]"),
        ("[/]", "\\[/]"),
    ],
)
def test_safe_escapes_control_characters_and_markup(raw: str, shown: str) -> None:
    assert safe(raw) == shown
    assert not control_characters(safe(raw))
    # Rendered by rich, the escaped text shows exactly what was escaped.
    out = io.StringIO()
    Console(file=out, highlight=False, soft_wrap=True, emoji=False).print(safe(raw))
    assert out.getvalue() == safe(raw, markup=False) + "\n"


def test_safe_without_markup_leaves_brackets_alone() -> None:
    assert safe("Qx7'[ab]Zk9#[/]", markup=False) == "Qx7'[ab]Zk9#[/]"
    assert safe("\x1b[1m[b]", markup=False) == "\\x1b[1m[b]"


def test_odd_report_fields_are_shown_quoted_and_escaped() -> None:
    assert safe_field("iam", SERVICE_PATTERN) == "iam"
    assert safe_field("execute-api", SERVICE_PATTERN) == "execute-api"
    shown = safe_field(f"iam{CLEAR}", SERVICE_PATTERN)
    assert shown.startswith("'")
    assert "\\x1b" in shown
    assert safe_field(FORMULA, SERVICE_PATTERN).startswith("'=HYPERLINK(")


def test_a_password_with_markup_prints_exactly() -> None:
    out = io.StringIO()
    password = "Qx7'[ab]Zk9#[/][bold]x:smile:"
    print_secret(Console(file=out, soft_wrap=True), "password: ", password)
    assert out.getvalue() == f"password: {password}\n"


def test_sweep_table_escapes_account_names_and_errors() -> None:
    result = SweepResult(
        accounts=(
            AccountResult(
                account_id="111111111111",
                account_name=f"prod{TITLE}{CLOSE_TAG}",
                verdict=None,
                error=f"AssumeRole failed: {CLEAR}{LINK}",
            ),
        )
    )
    out = io.StringIO()
    render_sweep(Console(file=out, width=400, highlight=False, emoji=False), result)
    text = out.getvalue()
    assert not control_characters(text)
    assert CLOSE_TAG in text
    assert "[link=https://evil.example]" in text


# --- a hostile credential report ----------------------------------------------------------------


def _report_csv(region: str, service: str) -> str:
    """A credential report whose root access key was used yesterday from a hostile region and
    service (quoted as CSV wants, so commas and quotes survive)."""
    used = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    row = {column: "N/A" for column in DOCUMENTED_HEADER.split(",")}
    row.update(
        {
            "user": "<root_account>",
            "arn": f"arn:aws:iam::{ACCOUNT_ID}:root",
            "user_creation_time": "2019-05-14T08:30:00+00:00",
            "password_enabled": "not_supported",
            "password_last_used": "no_information",
            "password_last_changed": "not_supported",
            "password_next_rotation": "not_supported",
            "mfa_active": "false",
            "access_key_1_active": "true",
            "access_key_1_last_used_date": used,
            "access_key_1_last_used_region": region,
            "access_key_1_last_used_service": service,
            "access_key_2_active": "false",
            "cert_1_active": "false",
            "cert_2_active": "false",
        }
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(DOCUMENTED_HEADER.split(","))
    writer.writerow([row[c] for c in DOCUMENTED_HEADER.split(",")])
    return out.getvalue()


@pytest.mark.parametrize(
    ("region", "service"),
    [(HOSTILE_REGION, HOSTILE_SERVICE), (FORMULA, FORMULA), ("[/]", "[bold]iam")],
    ids=["escapes", "formula", "markup"],
)
def test_hostile_credential_report_file_is_shown_safely(
    cli: Any, tmp_path: Path, region: str, service: str
) -> None:
    path = tmp_path / "report.csv"
    path.write_text(_report_csv(region, service), encoding="utf-8")
    r = cli("root-use", "--credential-report", str(path))
    assert r.code == 1, r.err  # root in use, not "internal error" (exit 3)
    assert not control_characters(r.out + r.err)
    assert "Traceback" not in r.err
    line = next(line for line in r.out.splitlines() if "access_key_1" in line)
    # Neither field looks like what IAM writes there: both are shown quoted, escaped.
    assert "via '" in line
    assert f", '{region[:5]}" in line or f", '{safe(region, markup=False)[:5]}" in line

    # JSON carries the values exactly as the report holds them.
    doc = cli("root-use", "--credential-report", str(path), "--output", "json").json()
    assert doc["evidence"][0]["region"] == region
    assert doc["evidence"][0]["service"] == service


def test_hostile_report_from_aws_is_shown_safely(moto: Any, cli: Any) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    moto.set_root(
        RootState(
            key_1_active=True,
            key_1_last_used=yesterday,
            region=HOSTILE_REGION,
            service=HOSTILE_SERVICE,
        )
    )
    r = cli("root-use", "--endpoint-url", moto.endpoint_url)
    assert r.code == 1, r.err
    assert not control_characters(r.out + r.err)
    assert "\\x1b]0;owned\\x07" in r.out
    assert "\\x9b31m" in r.out
    assert "\\u202e" in r.out
    assert CLOSE_TAG in r.out
    assert "[link=https://evil.example]click[/link]" in r.out

    doc = cli("root-use", "--endpoint-url", moto.endpoint_url, "--output", "json").json()
    assert doc["evidence"][0]["region"] == HOSTILE_REGION
    assert doc["evidence"][0]["service"] == HOSTILE_SERVICE


# --- AWS error messages, journal lines, keyring index -------------------------------------------


class ServiceFailure(IAMException):
    """An IAM error whose message holds markup and a bidirectional override."""

    code = "ServiceFailure"


def test_aws_error_message_is_shown_safely(
    moto: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = f"denied {BIDI}[/bold] {LINK}"

    def fail(self: Any) -> str:
        raise ServiceFailure(message)

    monkeypatch.setattr(IAMBackend, "get_credential_report", fail)
    r = cli("root-use", "--endpoint-url", moto.endpoint_url)
    assert r.code == 3, r.err
    assert not control_characters(r.err)
    error = next(line for line in r.err.splitlines() if line.startswith("error: "))
    # A plain line: the markup shows as sent, the override as its escape.
    assert "\\u202e[/bold] [link=https://evil.example]click[/link]" in error


def test_journal_lines_are_shown_safely(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    journal = tmp_path / "remediate" / "journal.jsonl"
    journal.parent.mkdir(mode=0o700)
    entry = {"time": "t", "account": ACCOUNT_ID, "resource": f"{TITLE}{CLEAR}x", "step": "[/]"}
    journal.write_text(json.dumps(entry) + "\n")
    journal.chmod(0o600)
    r = cli("journal")
    assert r.code == 0, r.err
    assert not control_characters(r.out)
    assert "\\x1b]0;owned\\x07\\x1b[2Jx" in r.out
    assert cli("journal", "--output", "json").json()["entries"][0]["resource"] == f"{TITLE}{CLEAR}x"


def test_keyring_index_is_listed_safely(cli: Any, test_keyring: Any) -> None:
    test_keyring.set_password("remediate", "index", json.dumps([f"{ACCOUNT_ID}/a{CLEAR}/password"]))
    r = cli("secrets", "list")
    assert r.code == 0, r.err
    assert not control_characters(r.out)
    assert "a\\x1b[2J" in r.out


# --- secrets with markup characters, printed exactly --------------------------------------------

PASSWORD = "Qx7'[ab]Zk9#[/]Aa1[bold]"


def test_show_secrets_and_secrets_show_print_a_password_exactly(
    moto: Any, cli: Any, test_keyring: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import remediate.credentials.passwords

    monkeypatch.setattr(
        remediate.credentials.passwords, "generate_password", lambda policy: PASSWORD
    )
    args = ("root-use", "--endpoint-url", moto.endpoint_url, "--create-admin", "alice")
    r = cli(*args, "--no-mfa", "--yes", "--show-secrets")
    assert r.code == 0, r.err
    assert f"    password: {PASSWORD}\n" in r.out
    assert SecretStore(test_keyring).get(ACCOUNT_ID, "alice", "password") == PASSWORD

    shown = cli("secrets", "show", "alice", "--what", "password")
    assert shown.code == 0, shown.err
    assert shown.out == PASSWORD + "\n"


def test_show_secrets_in_json_keeps_the_password_unchanged(
    moto: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import remediate.credentials.passwords

    monkeypatch.setattr(
        remediate.credentials.passwords, "generate_password", lambda policy: PASSWORD
    )
    args = ("root-use", "--endpoint-url", moto.endpoint_url, "--create-admin", "alice")
    r = cli(*args, "--no-mfa", "--yes", "--show-secrets", "--output", "json")
    assert r.code == 0, r.err
    [secret] = r.json()["secrets"]
    assert secret["value"] == PASSWORD


def test_playbook_show_cannot_hide_text(cli: Any, tmp_path: Path) -> None:
    # "Trojan source": a right-to-left override makes the shown line differ from the one read.
    text = (
        "name: sneaky\n"
        f"description: 'harmless {BIDI}group: Administrators'\n"
        "steps:\n"
        "  - {id: g, kind: iam-group, with: {group: g}}\n"
    )
    path = tmp_path / "sneaky.yaml"
    path.write_text(text, encoding="utf-8")
    r = cli("playbook", "show", str(path))
    assert r.code == 0, r.err
    assert not control_characters(r.out)
    assert "harmless \\u202egroup: Administrators" in r.out
    assert r.out.count("\n") == text.count("\n")
