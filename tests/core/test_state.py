"""State files another local user cannot redirect or forge: the journal and the account locks are
never opened through a symbolic link, are created 0600 in 0700 directories, and a state directory
of someone else's or writable by others is refused (exit 2) before anything changes."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from remediate.core import state
from remediate.core.errors import InputError
from remediate.playbook.journal import Journal, journal_path, read_journal
from remediate.playbook.lock import account_lock

ACCOUNT = "123456789012"
FIX = ("--create-admin", "alice", "--no-mfa", "--yes")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """XDG_STATE_HOME in a fresh directory; returns the state directory remediate uses."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "remediate"


@pytest.fixture
def no_umask() -> Iterator[None]:
    """A umask that takes nothing away: modes must come from remediate itself."""
    old = os.umask(0)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def users(moto: Any) -> list[str]:
    return [u["UserName"] for u in moto.client("iam").list_users()["Users"]]


def target_file(tmp_path: Path) -> Path:
    """A file of the user's that a planted link points at; it must come out untouched."""
    target = tmp_path / "precious.txt"
    target.write_text("keep me\n")
    target.chmod(0o644)
    return target


def assert_untouched(target: Path) -> None:
    assert target.read_text() == "keep me\n"
    assert mode(target) == 0o644


# --- where the state lives ----------------------------------------------------------------------


def test_relative_xdg_state_home_is_ignored(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", "relative/state")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert state.state_dir() == tmp_path / ".local" / "state" / "remediate"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert state.state_dir() == tmp_path / ".local" / "state" / "remediate"
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "abs"))
    assert state.state_dir() == tmp_path / "abs" / "remediate"


def test_files_are_0600_in_0700_directories_whatever_the_umask(home: Path, no_umask: None) -> None:
    Journal(account_id=ACCOUNT, caller_arn="arn:aws:iam::1:user/x", playbook="p").record(
        step="s", kind="k", resource="r", change="create"
    )
    with account_lock(ACCOUNT):
        pass
    # Every directory remediate created on the way, from XDG_STATE_HOME down.
    for directory in (home.parent, home, home / "locks"):
        assert mode(directory) == 0o700, directory
    assert mode(journal_path()) == 0o600
    assert mode(home / "locks" / f"{ACCOUNT}.lock") == 0o600


def test_a_wider_existing_journal_is_narrowed_to_0600(home: Path) -> None:
    home.mkdir(parents=True, mode=0o700)
    journal_path().write_text("")
    journal_path().chmod(0o644)
    Journal(account_id=ACCOUNT, caller_arn="arn", playbook="p")
    assert mode(journal_path()) == 0o600


# --- refusals -----------------------------------------------------------------------------------


def test_symlinked_journal_is_refused_and_its_target_untouched(
    moto: Any, cli: Any, home: Path, tmp_path: Path
) -> None:
    target = target_file(tmp_path)
    home.mkdir(parents=True, mode=0o700)
    journal_path().symlink_to(target)
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, *FIX)
    assert r.code == 2, r.err
    assert f"refusing {journal_path()}: it is a symbolic link" in r.err
    assert users(moto) == []  # refused before anything was changed
    assert_untouched(target)
    # Reading refuses it too: `remediate journal` never shows another file's lines.
    shown = cli("journal")
    assert shown.code == 2
    assert "symbolic link" in shown.err
    assert_untouched(target)


def test_symlinked_lock_is_refused_and_its_target_untouched(
    moto: Any, cli: Any, home: Path, tmp_path: Path
) -> None:
    target = target_file(tmp_path)
    (home / "locks").mkdir(parents=True, mode=0o700)
    home.chmod(0o700)
    lock = home / "locks" / f"{ACCOUNT}.lock"
    lock.symlink_to(target)
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, *FIX)
    assert r.code == 2, r.err
    assert f"refusing {lock}: it is a symbolic link" in r.err
    assert users(moto) == []
    assert_untouched(target)
    assert lock.is_symlink()


def test_symlinked_locks_directory_is_refused(home: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    home.mkdir(parents=True, mode=0o700)
    (home / "locks").symlink_to(elsewhere)
    with pytest.raises(InputError, match="is a symbolic link"), account_lock(ACCOUNT):
        pass
    assert list(elsewhere.iterdir()) == []


def test_group_writable_state_directory_is_refused(moto: Any, cli: Any, home: Path) -> None:
    home.mkdir(parents=True)
    home.chmod(0o770)
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, *FIX)
    assert r.code == 2, r.err
    error = next(line for line in r.err.splitlines() if line.startswith("error: "))
    assert f"refusing the state directory {home}: it is writable by group or others" in error
    assert "(mode 0770)" in error
    assert f"chmod 700 {home}" in r.err
    assert users(moto) == []


def test_world_writable_locks_directory_is_refused(home: Path) -> None:
    (home / "locks").mkdir(parents=True)
    home.chmod(0o700)
    (home / "locks").chmod(0o777)
    expected = r"locks: it is writable by group or others \(mode 0777\)"
    with pytest.raises(InputError, match=expected), account_lock(ACCOUNT):
        pass


def test_state_directory_of_another_user_is_refused(
    moto: Any, cli: Any, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home.mkdir(parents=True, mode=0o700)
    # Seen from another uid, the directory (made by this test's user) is someone else's.
    monkeypatch.setattr(state.os, "geteuid", lambda: os.getuid() + 4242)
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, *FIX)
    assert r.code == 2, r.err
    assert f"refusing the state directory {home}: it belongs to another user" in r.err
    assert users(moto) == []


def test_a_fifo_in_place_of_the_journal_is_refused_without_blocking(home: Path) -> None:
    home.mkdir(parents=True, mode=0o700)
    os.mkfifo(journal_path(), 0o600)
    outcome: list[BaseException | None] = []

    def open_journal() -> None:
        try:
            Journal(account_id=ACCOUNT, caller_arn="arn", playbook="p")
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=open_journal, daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(5)
    assert time.monotonic() - started < 5, "opening the journal blocked on a FIFO"
    assert outcome
    assert isinstance(outcome[0], InputError)


def test_a_journal_line_that_is_not_an_object_is_skipped_and_counted(home: Path) -> None:
    home.mkdir(parents=True, mode=0o700)
    entry = {"time": "2026-11-29T10:00:00Z", "account": "123456789012", "resource": "user/a"}
    journal_path().write_text(json.dumps(entry) + "\n[1, 2]\n")
    journal_path().chmod(0o600)
    reading = read_journal()
    assert reading.entries == [entry]
    assert reading.unreadable == [2]


def test_reading_a_missing_journal_creates_nothing(home: Path) -> None:
    assert read_journal().entries == []
    assert not home.exists()
