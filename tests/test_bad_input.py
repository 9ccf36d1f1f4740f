"""Bad input, table-driven: every case exits 2 with a one-line error and makes no AWS write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from remediate.detect.report import COLUMNS

ROOT_ROW_HEADER = ",".join(COLUMNS) + "\n"


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
}

A = "--endpoint-url"  # the moto endpoint is appended wherever a case talks to AWS
ADMIN = ("root-use", A, "--create-admin")

CASES: list[tuple[str, tuple[str, ...]]] = [
    ("days zero", ("root-use", A, "--days", "0")),
    ("days too big", ("root-use", A, "--days", "3651")),
    ("days not a number", ("root-use", A, "--days", "seven")),
    ("days negative", ("root-use", A, "--days", "-1")),
    ("days fraction", ("root-use", A, "--days", "1.5")),
    ("report timeout zero", ("root-use", A, "--report-timeout", "0")),
    ("output format", ("root-use", A, "--output", "xml")),
    ("user empty", (*ADMIN, "")),
    ("user space", (*ADMIN, "a b")),
    ("user too long", (*ADMIN, "u" * 65)),
    ("user non-ascii", (*ADMIN, "\u00e4lice")),
    ("user slash", (*ADMIN, "a/b")),
    ("group space", (*ADMIN, "alice", "--group", "my admins")),
    ("group too long", (*ADMIN, "alice", "--group", "g" * 129)),
    ("tag no equals", (*ADMIN, "alice", "--tag", "Team")),
    ("tag aws prefix", (*ADMIN, "alice", "--tag", "aws:owner=x")),
    ("tag AWS prefix", (*ADMIN, "alice", "--tag", "AWS:owner=x")),
    ("tag empty key", (*ADMIN, "alice", "--tag", "=x")),
    ("tag bad char", (*ADMIN, "alice", "--tag", "Team=<script>")),
    ("tag key too long", (*ADMIN, "alice", "--tag", "k" * 129 + "=v")),
    ("tag value too long", (*ADMIN, "alice", "--tag", "k=" + "v" * 257)),
    ("51 tags", (*ADMIN, "alice", *(x for i in range(51) for x in ("--tag", f"k{i}=v")))),
    ("access value", (*ADMIN, "alice", "--access", "root")),
    ("two password sources", (*ADMIN, "alice", "--password-prompt", "--password-stdin")),
    ("password without console", (*ADMIN, "alice", "--access", "programmatic", "--password-stdin")),
    ("password prompt no tty", (*ADMIN, "alice", "--password-prompt")),
    ("mfa auto and codes", (*ADMIN, "alice", "--mfa-auto", "--mfa-codes", "123456", "654321")),
    ("mfa code short", (*ADMIN, "alice", "--mfa-codes", "12345", "123456")),
    ("mfa code letters", (*ADMIN, "alice", "--mfa-codes", "abcdef", "123456")),
    ("mfa one code", (*ADMIN, "alice", "--mfa-codes", "123456")),
    ("mfa no terminal", (*ADMIN, "alice", "--yes")),
    ("no confirmation", (*ADMIN, "alice", "--no-mfa")),
    ("qr file exists", (*ADMIN, "alice", "--mfa-auto", "--yes", "--qr-file", "{empty.csv}")),
    ("no-mfa with mfa-auto", (*ADMIN, "alice", "--no-mfa", "--mfa-auto", "--yes")),
    ("default concurrency alone", ("root-use", A, "--concurrency", "8")),
    ("default role alone", ("root-use", A, "--role-name", "OrganizationAccountAccessRole")),
    ("dry run alone", ("root-use", A, "--dry-run")),
    ("tag alone", ("root-use", A, "--tag", "a=b")),
    ("report missing", ("root-use", "--credential-report", "{missing.csv}")),
    ("report empty", ("root-use", "--credential-report", "{empty.csv}")),
    ("report binary", ("root-use", "--credential-report", "{binary.csv}")),
    ("report header", ("root-use", "--credential-report", "{header.csv}")),
    ("report truncated", ("root-use", "--credential-report", "{truncated.csv}")),
    ("report bad date", ("root-use", "--credential-report", "{baddate.csv}")),
    ("report directory", ("root-use", "--credential-report", "{.}")),
    ("report with sandbox", ("root-use", "--credential-report", "{header.csv}", "--sandbox")),
    ("unknown profile", ("root-use", A, "--profile", "no-such-profile")),
    ("sandbox with endpoint", ("root-use", "--sandbox", A)),
    ("unknown playbook", ("playbook", "run", "no-such-playbook", A, "--var", "user=a")),
    ("var no equals", ("playbook", "run", "root-use", A, "--var", "user")),
    ("var unknown", ("playbook", "run", "root-use", A, "--var", "user=a", "--var", "colour=red")),
    ("var not allowed", ("playbook", "run", "root-use", A, "--var", "user=a", "--var", "access=x")),
    ("var bad bool", ("playbook", "run", "root-use", A, "--var", "user=a", "--var", "mfa=maybe")),
    ("var twice", ("playbook", "run", "root-use", A, "--var", "user=a", "--var", "user=b")),
    ("var required", ("playbook", "run", "root-use", A)),
    ("var bad name", ("playbook", "run", "root-use", A, "--var", "user=a b")),
    (
        "group missing",
        ("playbook", "run", "onboard-user", A, "--var", "user=a", "--var", "group=g"),
    ),
    ("yaml malformed", ("playbook", "run", "{malformed.yaml}", A)),
    ("yaml unknown key", ("playbook", "run", "{unknown-key.yaml}", A)),
    ("yaml wrong type", ("playbook", "run", "{wrong-type.yaml}", A)),
    ("yaml unknown kind", ("playbook", "run", "{unknown-kind.yaml}", A)),
    ("yaml unknown var", ("playbook", "run", "{unknown-var.yaml}", A)),
    ("yaml missing field", ("playbook", "run", "{missing-field.yaml}", A)),
    ("yaml no steps", ("playbook", "run", "{no-steps.yaml}", A)),
    ("yaml huge", ("playbook", "run", "{huge.yaml}", A)),
    ("yaml not utf-8", ("playbook", "run", "{latin1.yaml}", A)),
    ("yaml a list", ("playbook", "run", "{list.yaml}", A)),
    ("yaml empty", ("playbook", "run", "{empty.yaml}", A)),
    ("yaml missing file", ("playbook", "run", "{missing.yaml}", A)),
    ("show unknown", ("playbook", "show", "nope")),
    ("permissions unknown", ("permissions", "nope")),
    ("secrets bad user", ("secrets", "show", "a b", "--what", "password")),
    ("secrets bad what", ("secrets", "show", "alice", "--what", "everything")),
    ("secrets bad account", ("secrets", "show", "alice", "--what", "password", "--account", "123")),
    ("secrets none", ("secrets", "show", "alice", "--what", "password")),
    ("forget none", ("secrets", "forget", "alice", "--yes")),
    ("journal limit", ("journal", "--limit", "0")),
    ("unknown command", ("rotate-root",)),
    ("unknown option", ("root-use", "--fix-everything")),
    ("endpoint plain http", ("root-use", "--endpoint-url=http://192.0.2.1:4566")),
    (
        "playbook endpoint plain http",
        ("playbook", "run", "root-use", "--var", "user=a", "--endpoint-url=http://iam.example"),
    ),
    ("yaml alias bomb", ("playbook", "run", "{bomb.yaml}", A)),
    ("yaml deep nesting", ("playbook", "run", "{deep.yaml}", A)),
    ("yaml huge integer", ("playbook", "run", "{huge-int.yaml}", A)),
    ("permissions alias bomb", ("permissions", "{bomb.yaml}")),
    ("show mfa secret redirected", (*ADMIN, "alice", "--mfa-auto", "--yes", "--show-mfa-secret")),
    ("permissions bad account", ("permissions", "--account", "123")),
    ("permissions bad var", ("permissions", "--var", "user=a b")),
    ("permissions detect-only var", ("permissions", "--detect-only", "--var", "user=a")),
]


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
    assert len({name for name, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("name", "args"), CASES, ids=[name for name, _ in CASES])
def test_bad_input_exits_2_and_writes_nothing(
    name: str, args: tuple[str, ...], moto: Any, cli: Any, tmp_path: Path
) -> None:
    iam = moto.client("iam")
    before = (iam.list_users()["Users"], iam.list_groups()["Groups"])
    r = cli(*_expand(args, tmp_path, moto.endpoint_url))
    assert r.code == 2, f"{name}: exit {r.code}\n{r.out}\n{r.err}"
    lines = [line for line in r.err.splitlines() if line and not line.startswith("SANDBOX")]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, r.err
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
