"""One remediation per account at a time on this machine: an advisory file lock."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Iterator

from remediate.errors import AwsError
from remediate.state import open_state_file

log = logging.getLogger(__name__)

DEFAULT_WAIT = 120.0
POLL = 0.1


@contextlib.contextmanager
def account_lock(account_id: str, *, wait: float = DEFAULT_WAIT) -> Iterator[None]:
    """Hold the account's lock; a concurrent run waits for it, then plans on the new state."""
    # Refused (exit 2, before anything is read) when the lock is a link or the directory is not
    # this user's alone: see remediate.state.
    fd = open_state_file("locks", f"{account_id}.lock", flags=os.O_RDWR)
    assert fd is not None  # created when missing
    try:
        deadline = time.monotonic() + wait
        waiting = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waiting:
                    waiting = True
                    log.info("waiting for another remediate run on account %s", account_id)
                if time.monotonic() >= deadline:
                    raise AwsError(
                        f"another remediate run is changing account {account_id} on this machine",
                        tip="wait for it to finish, then rerun: it will continue from its state",
                    ) from None
                time.sleep(POLL)
        yield
    finally:
        os.close(fd)
