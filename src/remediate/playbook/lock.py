"""One remediation per account at a time on this machine: an advisory file lock, which says who
holds it (process id and since when) to whoever waits for it."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from remediate.core.errors import AwsError
from remediate.core.spinner import Waiting
from remediate.core.state import open_state_file
from remediate.core.terminal import safe

log = logging.getLogger(__name__)

DEFAULT_WAIT = 120.0
POLL = 0.1
# What a holder writes into the lock file: small, and never trusted beyond showing it.
_HOLDER_MAX = 200


def _holder(fd: int) -> str:
    """Who holds the lock, as its holder wrote it: ``pid 1234 since 2026-11-29 08:00:00 UTC
    (2 min ago)``; ``another process`` when it says nothing readable."""
    try:
        raw = os.pread(fd, _HOLDER_MAX, 0).decode("utf-8", "replace").strip()
        fields = dict(part.split("=", 1) for part in raw.split() if "=" in part)
        pid = int(fields["pid"])
        since = datetime.fromisoformat(fields["since"])
    except (OSError, ValueError, KeyError):
        return "another process"
    ago = max(0, int((datetime.now(UTC) - since).total_seconds()))
    when = since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return safe(f"pid {pid} since {when} ({_ago(ago)})", markup=False)


def _ago(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def _claim(fd: int) -> None:
    """Say in the lock file who holds it now (this process, from now)."""
    since = datetime.now(UTC).isoformat(timespec="seconds")
    with contextlib.suppress(OSError):  # only information: the lock itself is the flock
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid={os.getpid()} since={since}\n".encode(), 0)


@contextlib.contextmanager
def account_lock(account_id: str, *, wait: float = DEFAULT_WAIT) -> Iterator[None]:
    """Hold the account's lock; a concurrent run waits up to ``wait`` seconds for it (saying
    who holds it), then plans on the new state."""
    # Refused (exit 2, before anything is read) when the lock is a link or the directory is not
    # this user's alone: see remediate.core.state.
    fd = open_state_file("locks", f"{account_id}.lock", flags=os.O_RDWR)
    assert fd is not None  # created when missing
    spinner = Waiting()
    try:
        started = time.monotonic()
        deadline = started + wait
        holder = None
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if holder is None:
                    holder = _holder(fd)
                    # A warning, not -v only: a run that seems to hang must say why.
                    log.warning(
                        "waiting for another remediate run on account %s (%s); giving up after "
                        "%g s (--lock-timeout)",
                        account_id,
                        holder,
                        wait,
                    )
                if time.monotonic() >= deadline:
                    raise AwsError(
                        f"another remediate run is changing account {account_id} on this "
                        f"machine ({holder}); waited {wait:g} s",
                        tip="wait for it to finish, then rerun (it will continue from its "
                        "state), or wait longer with --lock-timeout SECONDS",
                    ) from None
                waited = int(time.monotonic() - started)
                spinner.show(
                    f"Waiting for the lock on account {account_id}: {waited} s of {wait:g}"
                )
                time.sleep(POLL)
        spinner.clear()
        _claim(fd)
        yield
    finally:
        spinner.clear()
        os.close(fd)
