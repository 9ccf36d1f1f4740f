"""`remediate sandbox serve`: the sandbox in the foreground, and the README's multi-run
walk-through on it (interrupt, resume, rerun, secrets, journal), each command a process of its
own pointed at it by the lines it prints; the interactive ones on an 80x24 pseudo-terminal."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from support.terminal import Terminal

needs_pty = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


class Served:
    """A running `remediate sandbox serve` and the environment its lines set."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.term = Terminal("sandbox", "serve", "--dir", str(directory))
        self.term.expect("Serving until Ctrl-C", timeout=60)
        self.lines = [
            line for line in self.term.screen().split("\n") if line.startswith(("export", "unset"))
        ]
        self.env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("AWS_", "REMEDIATE_", "PYTHON_KEYRING"))
        }
        for line in self.lines:
            if line.startswith("export "):
                name, _, value = line[len("export ") :].partition("=")
                self.env[name] = shlex.split(value)[0]

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "remediate", *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def terminal(self, *args: str) -> Terminal:
        return Terminal(*args, env=self.env)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    sandbox = Served(tmp_path_factory.mktemp("serve") / "sandbox")
    try:
        yield sandbox
    finally:
        sandbox.term.close()


@needs_pty
def test_the_lines_it_prints(served: Served) -> None:
    directory = served.directory
    assert served.lines[0] == "unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN"
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", served.env["AWS_ENDPOINT_URL"])
    assert served.env["REMEDIATE_SANDBOX_KEYRING"] == str(directory / "sandbox-keyring.json")
    assert served.env["XDG_STATE_HOME"] == str(directory / "state")
    assert "account 123456789012" in served.term.screen()
    assert "an IAM group Developers" in served.term.screen()
    assert (directory / "endpoint").read_text().strip() == served.env["AWS_ENDPOINT_URL"]


@needs_pty
def test_the_readme_walk_through(served: Served) -> None:
    # 1. Detection: root was used two days ago.
    r = served.run("root-use")
    assert r.returncode == 1, r.stderr
    assert "ROOT IN USE" in r.stdout

    # 2. The fix, at a terminal: plan, confirm, QR code; Ctrl-C at the first code.
    term = served.terminal("root-use", "--create-admin", "alice")
    try:
        term.expect("? [y/N]: ")
        term.type("y\n")
        term.expect("MFA code 1: ")
        term.type("\x03")
        assert term.wait() == 130, term.screen()
        # The last message, wrapped at words to the terminal's width: read it as words.
        last = " ".join(term.screen().split("^C\n")[-1].split())
        assert last.startswith("interrupted during step 'mfa' (virtual-mfa); applied: ")
        assert "iam:CreateVirtualMFADevice applied; not applied: mfa" in last
        # A served sandbox outlives the command: unlike --sandbox, a rerun continues.
        assert "rerun to continue from there" in last
    finally:
        term.close()

    # 3. Resume: the same pending device is enabled, not a second one.
    r = served.run("root-use", "--create-admin", "alice", "--mfa-auto", "--yes", "-o", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    [mfa] = [s for s in doc["remediation"]["steps"] if s["kind"] == "virtual-mfa"]
    assert "resume enrolling pending device arn:aws:iam::123456789012:mfa/alice" in mfa["details"]
    assert doc["mfa"] == {"serial_number": "arn:aws:iam::123456789012:mfa/alice", "enabled": True}

    # 4. Rerun: nothing to change.
    r = served.run("root-use", "--create-admin", "alice", "--mfa-auto", "--yes")
    assert r.returncode == 0, r.stderr
    assert "Nothing needs changing: everything is already in place." in r.stdout

    # 5. The secrets, kept in the sandbox's own keyring file.
    r = served.run("secrets", "list")
    assert r.returncode == 0, r.stderr
    assert "123456789012  alice  mfa-seed, password" in r.stdout
    r = served.run("secrets", "show", "alice", "--what", "password")
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.strip()) == 24

    # 6. The README's onboard-user example: the Developers group is there.
    r = served.run(
        "playbook", "run", "onboard-user", "--var", "user=bob", "--var", "group=Developers",
        "--yes",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr

    # 7. The journal: every write, the interrupted run's too, in the sandbox's directory.
    r = served.run("journal", "--user", "alice", "-o", "json")
    assert r.returncode == 0, r.stderr
    actions = [e["action"] for e in json.loads(r.stdout)["entries"]]
    assert actions.count("iam:CreateVirtualMFADevice") == 1
    assert actions.count("iam:EnableMFADevice") == 1
    # Privilege last: the membership once MFA is enabled, as the run's last write.
    assert actions[-2:] == ["iam:EnableMFADevice", "iam:AddUserToGroup"]
    assert (served.directory / "state" / "remediate" / "journal.jsonl").exists()


@needs_pty
def test_root_credentials_put_away_leave_nothing_to_fix(served: Served) -> None:
    """delete, then detection with --fail-on hygiene: the members' intended end state is clean
    (root with nothing to sign in with needs no MFA); the management account keeps its own."""
    r = served.run("root-credentials", "delete", "--all-accounts", "--yes")
    assert r.returncode == 0, r.stderr
    r = served.run("root-credentials", "audit", "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    members = [a["account_id"] for a in json.loads(r.stdout)["accounts"]]
    assert len(members) == 3

    r = served.run(
        "root-use", "--accounts", ",".join(members), "--fail-on", "hygiene", "-o", "json"
    )
    assert r.returncode == 0, r.stdout + r.stderr
    accounts = json.loads(r.stdout)["accounts"]
    assert [a["findings"] for a in accounts] == [[], [], []]
    assert all(any("Root credentials removed" in n for n in a["notes"]) for a in accounts)

    # Every account: only the management account's root (its password, used two days ago, no
    # MFA) is left, and it is the standalone kind that no member-account deletion reaches.
    r = served.run("root-use", "--all-accounts", "--fail-on", "hygiene", "-o", "json")
    assert r.returncode == 1, r.stderr
    found = {
        a["account_id"]: [f["id"] for f in a["findings"]] for a in json.loads(r.stdout)["accounts"]
    }
    assert found.pop("123456789012") == ["root-mfa-not-active"]
    assert found == {m: [] for m in members}


@needs_pty
def test_its_keyring_is_refused_for_any_other_endpoint(served: Served, moto: Any) -> None:
    r = served.run("root-use", "--endpoint-url", moto.endpoint_url)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("error: REMEDIATE_SANDBOX_KEYRING is set")
    assert f"talks to {moto.endpoint_url}" in r.stderr


@needs_pty
def test_ctrl_c_stops_it(tmp_path: Path) -> None:
    sandbox = Served(tmp_path / "sb")
    try:
        sandbox.term.type("\x03")
        assert sandbox.term.wait() == 0, sandbox.term.screen()
        assert "SANDBOX: stopped." in sandbox.term.screen()
        assert not (tmp_path / "sb" / "endpoint").exists()
    finally:
        sandbox.term.close()


def test_a_port_in_use_and_a_directory_not_empty_are_refused(cli: Any, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = cli("sandbox", "serve", "--port", str(port))
    assert r.code == 2, r.err
    assert r.err.startswith(f"error: the sandbox cannot listen on 127.0.0.1:{port}")
    (tmp_path / "old").write_text("")
    r = cli("sandbox", "serve", "--dir", str(tmp_path))
    assert r.code == 2
    assert f"--dir {tmp_path} is not empty" in r.err
    r = cli("sandbox", "serve", "--port", "70000")
    assert r.code == 2
    assert "invalid --port 70000: expected 1-65535" in r.err


def readme_tour() -> list[tuple[list[str], str]]:
    """The sandbox tour's commands as README.md prints them, each with its comment."""
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = text.split("Paste them into a second terminal", 1)[1].split("\n\n", 2)[1]
    tour = []
    for line in block.splitlines():
        command, _, comment = line.strip().partition("#")
        tour.append((shlex.split(command), comment.strip()))
    return tour


def _enroll_at_the_terminal(served: Served, args: list[str]) -> int:
    """A person at the terminal: confirm, scan the QR code on the screen, type two codes."""
    from remediate.credentials import totp as mfa
    from support.screen import decode

    term = served.terminal(*args)
    try:
        term.expect("? [y/N]: ")
        term.type("y\n")
        term.expect("MFA code 1: ")
        term.settle()
        [uri] = decode(term.visible())
        seed = pyotp.parse_uri(uri)
        assert isinstance(seed, pyotp.TOTP)
        step = mfa.totp_step(time.time())
        term.type(seed.at(step * 30) + "\n")
        term.expect("MFA code 2")
        term.type(seed.at((step + 1) * 30) + "\n")
        return term.wait()
    finally:
        term.close()


@needs_pty
def test_the_readme_sandbox_tour_runs_as_written(tmp_path: Path) -> None:
    """Every command of README.md's sandbox tour, in order, on a served sandbox of its own: the
    exit code its comment gives (detection: 1), else 0; the one that asks for a person is
    answered as a person would (confirm, scan the QR code from the screen, type two codes)."""
    tour = readme_tour()
    assert [args[:2] for args, _ in tour][:3] == [
        ["remediate", "root-use"],
        ["remediate", "permissions"],
        ["remediate", "root-use"],
    ]
    served = Served(tmp_path / "sandbox")
    try:
        for args, comment in tour:
            assert args[0] == "remediate", args
            expected = int(re.search(r"exit (\d+)", comment).group(1)) if "exit " in comment else 0
            if "scan the QR code" in comment:
                code = _enroll_at_the_terminal(served, args[1:])
                assert code == expected, args
                continue
            r = served.run(*args[1:])
            assert r.returncode == expected, (args, r.stdout[-2000:], r.stderr)
            if "again" in comment:
                assert "Nothing needs changing" in r.stdout
    finally:
        served.term.close()
