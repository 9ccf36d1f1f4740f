"""Bad input, table-driven: every case exits 2 with a one-line error that names its reason, and
makes no AWS write."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from support.reportformat import DOCUMENTED_HEADER

# The credential report header as the IAM User Guide documents it ("Credential report format"),
# typed out here rather than taken from the product, so a wrong product constant cannot hide.
ROOT_ROW_HEADER = DOCUMENTED_HEADER + "\n"


def _book(step: bytes) -> bytes:
    """A one-step playbook."""
    return b"name: x\nsteps:\n  - {id: a, " + step + b"}\n"


# Files a case can name as {name}: what they hold.
FILES: dict[str, bytes] = {
    "empty.csv": b"",
    "binary.csv": bytes(range(256)) * 4,
    "header.csv": b"name,when\nroot,yesterday\n",
    "truncated.csv": ROOT_ROW_HEADER.encode()
    + b"<root_account>,arn:aws:iam::123456789012:root,2019",
    "baddate.csv": ROOT_ROW_HEADER.encode()
    + b"<root_account>,arn:aws:iam::123456789012:root,2019-01-01T00:00:00+00:00,not_supported,"
    b"yesterday,not_supported,not_supported,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,"
    b"false,N/A,false,N/A\n",
    "malformed.yaml": b"name: x\nsteps: [\n",
    "unknown-key.yaml": b"foo: 1\n" + _book(b"kind: iam-group, with: {group: g}"),
    "wrong-type.yaml": _book(b"kind: iam-user, with: {user: u, tags: [a, b]}"),
    "unknown-kind.yaml": _book(b"kind: iam-role, with: {role: r}"),
    "unknown-var.yaml": _book(b"kind: iam-group, with: {group: '${nope}'}"),
    "missing-field.yaml": _book(b"kind: iam-group, with: {}"),
    "no-steps.yaml": b"name: x\nsteps: []\n",
    "huge.yaml": b"name: x\n# " + b"x" * 400_000 + b"\nsteps: []\n",
    "latin1.yaml": "name: x\n# caf\u00e9\n".encode("latin-1"),
    "list.yaml": b"- 1\n- 2\n",
    "empty.yaml": b"",
    "bomb.yaml": b"name: x\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + b"".join(
        b"%c: &%c [" % (c, c) + b", ".join([b"*%c" % (c - 1)] * 9) + b"]\n" for c in b"bcdefghi"
    )
    + b"steps: *i\n",
    "deep.yaml": b"name: x\nsteps: " + b"[" * 20_000 + b"]" * 20_000 + b"\n",
    "huge-int.yaml": b"name: " + b"9" * 5000 + b"\nsteps: []\n",
    "two-roots.csv": ROOT_ROW_HEADER.encode()
    + (
        b"<root_account>,arn:aws:iam::123456789012:root,2019-01-01T00:00:00+00:00,"
        b"not_supported,no_information,not_supported,not_supported,false,false,N/A,N/A,N/A,N/A,"
        b"false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
    )
    * 2,
    "cli.json": b'{"Content": "not base64!", "ReportFormat": "text/csv"}',
}

A = "--endpoint-url"  # the moto endpoint is appended wherever a case talks to AWS
ADMIN = ("root-use", A, "--create-admin")

# name, arguments, and a fragment of the expected `error:` line (case-insensitive) that says why:
# short and about the meaning, so a reworded message still matches but an error for another
# reason does not. Paths are masked before matching, so a fragment cannot match a file name.
CASES: list[tuple[str, tuple[str, ...], str]] = [
    ("days zero", ("root-use", A, "--days", "0"), "invalid --days 0: expected 1-3650"),
    ("days too big", ("root-use", A, "--days", "3651"), "--days 3651: expected 1-3650"),
    ("days not a number", ("root-use", A, "--days", "seven"), "not a valid int"),
    ("days negative", ("root-use", A, "--days", "-1"), "--days -1: expected 1-3650"),
    ("days fraction", ("root-use", A, "--days", "1.5"), "not a valid int"),
    (
        "report timeout zero",
        ("root-use", A, "--report-timeout", "0"),
        "--report-timeout 0: expected 1-3600",
    ),
    ("output format", ("root-use", A, "--output", "xml"), "'xml' is not one of"),
    ("user empty", (*ADMIN, ""), "invalid IAM user name"),
    ("user space", (*ADMIN, "a b"), "invalid IAM user name"),
    ("user too long", (*ADMIN, "u" * 65), "invalid IAM user name"),
    ("user non-ascii", (*ADMIN, "\u00e4lice"), "invalid IAM user name"),
    ("user slash", (*ADMIN, "a/b"), "invalid IAM user name"),
    ("group space", (*ADMIN, "alice", "--group", "my admins"), "invalid IAM group name"),
    ("group too long", (*ADMIN, "alice", "--group", "g" * 129), "invalid IAM group name"),
    ("tag no equals", (*ADMIN, "alice", "--tag", "Team"), "expected KEY=VALUE"),
    ("tag aws prefix", (*ADMIN, "alice", "--tag", "aws:owner=x"), "aws: prefix is reserved"),
    ("tag AWS prefix", (*ADMIN, "alice", "--tag", "AWS:owner=x"), "aws: prefix is reserved"),
    ("tag empty key", (*ADMIN, "alice", "--tag", "=x"), "the key before '=' is empty"),
    (
        "tag bad char",
        (*ADMIN, "alice", "--tag", "Team=<script>"),
        "use only letters, digits, spaces",
    ),
    (
        "tag keys differing in case",
        (*ADMIN, "alice", "--tag", "Team=a", "--tag", "team=b"),
        "differ only in case",
    ),
    ("tag key too long", (*ADMIN, "alice", "--tag", "k" * 129 + "=v"), "invalid tag key"),
    ("tag value too long", (*ADMIN, "alice", "--tag", "k=" + "v" * 257), "invalid value for tag"),
    (
        "51 tags",
        (*ADMIN, "alice", *(x for i in range(51) for x in ("--tag", f"k{i}=v"))),
        "too many tags",
    ),
    ("access value", (*ADMIN, "alice", "--access", "root"), "'root' is not one of"),
    (
        "two password sources",
        (*ADMIN, "alice", "--password-prompt", "--password-stdin"),
        "only one of --password-prompt and --password-stdin",
    ),
    (
        "password without console",
        (*ADMIN, "alice", "--access", "programmatic", "--password-stdin"),
        "needs console access",
    ),
    (
        "password prompt no tty",
        (*ADMIN, "alice", "--password-prompt"),
        "--password-prompt needs a terminal",
    ),
    (
        "mfa auto and codes",
        (*ADMIN, "alice", "--mfa-auto", "--mfa-codes", "123456", "654321"),
        "only one of --mfa-auto and --mfa-codes",
    ),
    ("mfa code short", (*ADMIN, "alice", "--mfa-codes", "12345", "123456"), "exactly 6 digits"),
    ("mfa code letters", (*ADMIN, "alice", "--mfa-codes", "abcdef", "123456"), "exactly 6 digits"),
    ("mfa one code", (*ADMIN, "alice", "--mfa-codes", "123456"), "requires 2 arguments"),
    ("mfa no terminal", (*ADMIN, "alice", "--yes"), "no terminal to type the MFA codes"),
    ("no confirmation", (*ADMIN, "alice", "--no-mfa"), "no terminal to confirm on"),
    (
        "qr file exists",
        (*ADMIN, "alice", "--mfa-auto", "--yes", "--qr-file", "{empty.csv}"),
        "already exists",
    ),
    (
        "no-mfa with mfa-auto",
        (*ADMIN, "alice", "--no-mfa", "--mfa-auto", "--yes"),
        "takes no other MFA option",
    ),
    (
        "default concurrency alone",
        ("root-use", A, "--concurrency", "8"),
        "need --all-accounts or --accounts",
    ),
    (
        "default role alone",
        ("root-use", A, "--role-name", "OrganizationAccountAccessRole"),
        "need --all-accounts or --accounts",
    ),
    ("dry run alone", ("root-use", A, "--dry-run"), "need --create-admin"),
    ("tag alone", ("root-use", A, "--tag", "a=b"), "need --create-admin"),
    ("report missing", ("root-use", "--credential-report", "{missing.csv}"), "no such file"),
    ("report empty", ("root-use", "--credential-report", "{empty.csv}"), "report is empty"),
    ("report binary", ("root-use", "--credential-report", "{binary.csv}"), "not UTF-8"),
    (
        "report header",
        ("root-use", "--credential-report", "{header.csv}"),
        "missing required column",
    ),
    ("report truncated", ("root-use", "--credential-report", "{truncated.csv}"), "has 3 field"),
    (
        "report bad date",
        ("root-use", "--credential-report", "{baddate.csv}"),
        "not an ISO 8601 timestamp",
    ),
    ("report directory", ("root-use", "--credential-report", "{.}"), "is a directory"),
    (
        "report with sandbox",
        ("root-use", "--credential-report", "{header.csv}", "--sandbox"),
        "takes no AWS option",
    ),
    (
        "unknown profile",
        ("root-use", A, "--profile", "no-such-profile"),
        "profile 'no-such-profile' not found",
    ),
    ("sandbox with endpoint", ("root-use", "--sandbox", A), "--sandbox cannot be combined"),
    (
        "cloudtrail regions alone",
        ("root-use", A, "--cloudtrail-regions", "eu-west-1"),
        "--cloudtrail-regions needs --cloudtrail",
    ),
    (
        "cloudtrail bad region",
        ("root-use", A, "--cloudtrail", "--cloudtrail-regions", "eu-west-1;rm"),
        "is not an AWS region name",
    ),
    ("output unknown", ("root-use", A, "--output", "sarif"), "'sarif' is not one of"),
    ("output asff elsewhere", ("journal", "--output", "asff"), "'asff' is not one of"),
    (
        "security hub in a dry run",
        ("root-use", A, "--security-hub", "--create-admin", "a", "--dry-run"),
        "--dry-run makes no write call at all",
    ),
    (
        "unknown playbook",
        ("playbook", "run", "no-such-playbook", A, "--var", "user=a"),
        "no shipped playbook named 'no-such-playbook'",
    ),
    ("var no equals", ("playbook", "run", "root-use", A, "--var", "user"), "expected KEY=VALUE"),
    (
        "var unknown",
        ("playbook", "run", "root-use", A, "--var", "user=a", "--var", "colour=red"),
        "unknown variable colour",
    ),
    (
        "var not allowed",
        ("playbook", "run", "root-use", A, "--var", "user=a", "--var", "access=x"),
        "'x' is not one of",
    ),
    (
        "var bad bool",
        ("playbook", "run", "root-use", A, "--var", "user=a", "--var", "mfa=maybe"),
        "expected true or false",
    ),
    (
        "var twice",
        ("playbook", "run", "root-use", A, "--var", "user=a", "--var", "user=b"),
        "--var user given twice",
    ),
    ("var required", ("playbook", "run", "root-use", A), "variable 'user' is required"),
    (
        "var bad name",
        ("playbook", "run", "root-use", A, "--var", "user=a b"),
        "invalid IAM user name",
    ),
    (
        "group missing",
        ("playbook", "run", "onboard-user", A, "--var", "user=a", "--var", "group=g"),
        "IAM group 'g' does not exist",
    ),
    ("yaml malformed", ("playbook", "run", "{malformed.yaml}", A), "not valid YAML"),
    ("yaml unknown key", ("playbook", "run", "{unknown-key.yaml}", A), "unknown key foo"),
    (
        "yaml wrong type",
        ("playbook", "run", "{wrong-type.yaml}", A),
        "expected a mapping of tag keys",
    ),
    (
        "yaml unknown kind",
        ("playbook", "run", "{unknown-kind.yaml}", A),
        "unknown step kind 'iam-role'",
    ),
    ("yaml unknown var", ("playbook", "run", "{unknown-var.yaml}", A), "unknown variable ${nope}"),
    (
        "yaml missing field",
        ("playbook", "run", "{missing-field.yaml}", A),
        "field 'with.group' is required",
    ),
    ("yaml no steps", ("playbook", "run", "{no-steps.yaml}", A), "non-empty list of steps"),
    ("yaml huge", ("playbook", "run", "{huge.yaml}", A), "larger than 256 KiB"),
    ("yaml not utf-8", ("playbook", "run", "{latin1.yaml}", A), "not UTF-8"),
    ("yaml a list", ("playbook", "run", "{list.yaml}", A), "expected a mapping, got list"),
    ("yaml empty", ("playbook", "run", "{empty.yaml}", A), "the playbook is empty"),
    ("yaml missing file", ("playbook", "run", "{missing.yaml}", A), "no such file"),
    ("show unknown", ("playbook", "show", "nope"), "no shipped playbook named 'nope'"),
    ("permissions unknown", ("permissions", "nope"), "no shipped playbook named 'nope'"),
    ("secrets bad user", ("secrets", "show", "a b", "--what", "password"), "invalid IAM user name"),
    (
        "secrets bad what",
        ("secrets", "show", "alice", "--what", "everything"),
        "'everything' is not one of",
    ),
    (
        "secrets bad account",
        ("secrets", "show", "alice", "--what", "password", "--account", "123"),
        "12-digit account id",
    ),
    (
        "secrets none",
        ("secrets", "show", "alice", "--what", "password"),
        "holds no secret of alice",
    ),
    ("forget none", ("secrets", "forget", "alice", "--yes"), "holds no secret of alice"),
    ("journal limit", ("journal", "--limit", "0"), "--limit 0: expected at least 1"),
    ("unknown command", ("rotate-root",), "no such command 'rotate-root'"),
    ("unknown option", ("root-use", "--fix-everything"), "no such option: --fix-everything"),
    (
        "endpoint plain http",
        ("root-use", "--endpoint-url=http://192.0.2.1:4566"),
        "is plain http to another machine",
    ),
    (
        "playbook endpoint plain http",
        ("playbook", "run", "root-use", "--var", "user=a", "--endpoint-url=http://iam.example"),
        # Only localhost names are trusted by name: any other could resolve elsewhere later.
        "is plain http to iam.example, a name other than localhost",
    ),
    ("yaml alias bomb", ("playbook", "run", "{bomb.yaml}", A), "aliases (*name) are not allowed"),
    ("yaml deep nesting", ("playbook", "run", "{deep.yaml}", A), "nested more than 32 levels deep"),
    ("yaml huge integer", ("playbook", "run", "{huge-int.yaml}", A), "a value cannot be read"),
    ("permissions alias bomb", ("permissions", "{bomb.yaml}"), "aliases (*name) are not allowed"),
    (
        "show mfa secret redirected",
        (*ADMIN, "alice", "--mfa-auto", "--yes", "--show-mfa-secret"),
        "which is not a terminal",
    ),
    (
        "permissions bad account",
        ("permissions", "--account", "123"),
        "expected a 12-digit account id",
    ),
    ("permissions bad var", ("permissions", "--var", "user=a b"), "invalid IAM user name"),
    (
        "permissions detect-only var",
        ("permissions", "--detect-only", "--var", "user=a"),
        "it takes no --var or --account",
    ),
    ("endpoint not a url", ("root-use", "--endpoint-url=notaurl"), "invalid --endpoint-url"),
    ("endpoint bad port", ("root-use", "--endpoint-url=http://127.0.0.1:0x"), "port or host"),
    ("region malformed", ("root-use", A, "--region", "us east 1"), "invalid --region"),
    (
        "mfa codes swallow an option",
        (*ADMIN, "alice", "--mfa-codes", "123456", "--yes"),
        "code 2 is '--yes', an option",
    ),
    ("lock timeout negative", (*ADMIN, "alice", "--lock-timeout", "-1", "--yes"), "0-3600"),
    ("lock timeout detection", ("root-use", A, "--lock-timeout", "5"), "need --create-admin"),
    ("journal since", ("journal", "--since", "yesterday"), "invalid --since 'yesterday'"),
    ("journal account", ("journal", "--account", "12"), "expected a 12-digit account id"),
    ("journal user", ("journal", "--user", "a b"), "invalid IAM user name"),
    (
        "report two root rows",
        ("root-use", "--credential-report", "{two-roots.csv}"),
        "a second <root_account> row",
    ),
    ("report cli json", ("root-use", "--credential-report", "{cli.json}"), "not base64"),
    ("sandbox port", ("sandbox", "serve", "--port", "0"), "invalid --port 0"),
    # The cases below need the state or the terminal that SETUPS prepares.
    (
        "plaintext keyring",
        (*ADMIN, "alice", "--no-mfa", "--yes"),
        "does not know the backend keyrings.alt.file.PlaintextKeyring to encrypt",
    ),
    ("symlinked journal", (*ADMIN, "alice", "--no-mfa", "--yes"), "it is a symbolic link"),
    ("symlinked lock", (*ADMIN, "alice", "--no-mfa", "--yes"), "it is a symbolic link"),
    (
        "group-writable state directory",
        (*ADMIN, "alice", "--no-mfa", "--yes"),
        "it is writable by group or others (mode 0770)",
    ),
    (
        "foreign state directory",
        (*ADMIN, "alice", "--no-mfa", "--yes"),
        "it belongs to another user",
    ),
    (
        "password stdin across accounts",
        (*ADMIN, "alice", "--accounts", "111111111111,222222222222", "--password-stdin", "--yes"),
        "--password-stdin would set one password in every account",
    ),
    (
        # A scripted terminal (prompters.Scripted): how remediate tells a real terminal (a pty)
        # from a pipe is tested in test_remediate.py (test_terminal_prompter_tells_...).
        "password stdin on a terminal",
        (*ADMIN, "alice", "--no-mfa", "--password-stdin", "--yes"),
        "--password-stdin reads a password piped in, but standard input is a terminal",
    ),
]


def _plaintext_keyring(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    ring = PlaintextKeyring()
    ring.file_path = str(tmp_path / "keyring_pass.cfg")
    keyring.set_keyring(ring)
    monkeypatch.delenv("REMEDIATE_ALLOW_PLAINTEXT_KEYRING", raising=False)
    return {}


def _state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mode: int = 0o700) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    home = tmp_path / "xdg" / "remediate"
    (home / "locks").mkdir(parents=True, mode=0o700)
    home.chmod(mode)
    return home


def _symlinked(name: str) -> Callable[[pytest.MonkeyPatch, Path], dict[str, Any]]:
    def setup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
        (tmp_path / "target").write_text("keep me\n")
        (_state_dir(monkeypatch, tmp_path) / name).symlink_to(tmp_path / "target")
        return {}

    return setup


def _group_writable_state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    _state_dir(monkeypatch, tmp_path, 0o770)
    return {}


def _foreign_state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    from remediate.core import state

    _state_dir(monkeypatch, tmp_path)
    # Seen from another uid, the directory (made by this test's user) is someone else's.
    monkeypatch.setattr(state.os, "geteuid", lambda: os.getuid() + 4242)
    return {}


def _stdin_terminal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    from support.prompters import Scripted

    return {"prompter": Scripted(stdin="Given-Passw0rd!xyz\n", stdin_is_terminal=True)}


# What a case needs besides its arguments; returns the keyword arguments for `cli`.
SETUPS: dict[str, Callable[[pytest.MonkeyPatch, Path], dict[str, Any]]] = {
    "plaintext keyring": _plaintext_keyring,
    "symlinked journal": _symlinked("journal.jsonl"),
    "symlinked lock": _symlinked("locks/123456789012.lock"),
    "group-writable state directory": _group_writable_state_dir,
    "foreign state directory": _foreign_state_dir,
    "password stdin on a terminal": _stdin_terminal,
}


def _expand(args: tuple[str, ...], tmp_path: Path, endpoint: str) -> list[str]:
    out: list[str] = []
    for arg in args:
        if arg == A:
            out += [A, endpoint]
        elif arg.startswith("{") and arg.endswith("}"):
            name = arg[1:-1]
            path = tmp_path / name
            if name in FILES:
                path.write_bytes(FILES[name])
            out.append(str(path))
        else:
            out.append(arg)
    return out


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert len({name for name, _, _ in CASES}) == len(CASES)
    assert set(SETUPS) <= {name for name, _, _ in CASES}
    # Every case names its reason; a blank fragment would match any message.
    assert all(len(expected.strip()) >= 5 for _, _, expected in CASES)


def _mask_paths(line: str, tmp_path: Path) -> str:
    """The error line with the test's file paths (which hold names like 'empty.csv') masked."""
    return re.sub(re.escape(str(tmp_path)) + r"[^\s:]*", "<path>", line)


def test_mask_paths_hides_the_file_names(tmp_path: Path) -> None:
    line = f"error: {tmp_path}/empty.csv: The credential report is empty"
    assert _mask_paths(line, tmp_path) == "error: <path>: The credential report is empty"


@pytest.mark.parametrize(("name", "args", "expected"), CASES, ids=[name for name, _, _ in CASES])
def test_bad_input_exits_2_and_writes_nothing(
    name: str,
    args: tuple[str, ...],
    expected: str,
    moto: Any,
    cli: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    setup = SETUPS.get(name)
    options = setup(monkeypatch, tmp_path) if setup else {}
    iam = moto.client("iam")
    before = (iam.list_users()["Users"], iam.list_groups()["Groups"])
    r = cli(*_expand(args, tmp_path, moto.endpoint_url), **options)
    assert r.code == 2, f"{name}: exit {r.code}\n{r.out}\n{r.err}"
    lines = [line for line in r.err.splitlines() if line and not line.startswith("SANDBOX")]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, r.err
    shown = _mask_paths(errors[0], tmp_path)
    assert expected.lower() in shown.lower(), f"{name}: expected {expected!r} in {shown!r}"
    assert all(line.startswith(("error:", "Tip:")) for line in lines), r.err
    assert "Traceback" not in r.err
    after = (iam.list_users()["Users"], iam.list_groups()["Groups"])
    assert after == before, f"{name} changed the account"
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == []


@pytest.mark.parametrize(
    "args", [(), ("playbook",), ("secrets",)], ids=["top", "playbook", "secrets"]
)
def test_no_command_shows_the_help(args: tuple[str, ...], cli: Any) -> None:
    r = cli(*args)
    assert r.code == 2
    assert r.err.startswith("Usage: remediate")
    assert "error:" not in r.err
    assert r.out == ""
