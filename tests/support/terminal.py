"""`python -m remediate ...` on a pseudo-terminal of a given size (80x24 unless told): type into
it and read what it shows, as a person at a terminal would."""

from __future__ import annotations

import codecs
import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from typing import Any

from support.screen import visible

# Only matters when something hangs: a healthy pty run takes about two seconds.
PTY_TIMEOUT = 30.0

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
# The child takes the pty as its controlling terminal, so Ctrl-C typed there is a SIGINT. It
# handles SIGINT as a shell at a terminal would have it: a suite started in the background
# (`pytest &`) hands its children SIGINT ignored, and Ctrl-C would then do nothing.
_CHILD = (
    "import fcntl, runpy, signal, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('remediate', run_name='__main__', alter_sys=True)"
)


class Terminal:
    """`python -m remediate ...` on a pseudo-terminal: type into it and read what it shows."""

    def __init__(
        self,
        *args: str,
        stderr: Any = None,
        size: tuple[int, int] = (80, 24),
        env: dict[str, str] | None = None,
    ) -> None:
        """``stderr``: where standard error goes instead of the terminal (``2>file``);
        ``size``: columns and rows of the terminal."""
        master, slave = os.openpty()
        self.columns, self.rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.columns, 0, 0))
        environment = dict(os.environ)  # fake AWS keys; the file keyring in XDG_DATA_HOME
        environment.setdefault("TERM", "xterm")
        # The size comes from the terminal itself, as it would for a person.
        for name in ("COLUMNS", "LINES"):
            environment.pop(name, None)
        environment.update(env or {})
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, *args],
            stdin=slave,
            stdout=slave,
            stderr=slave if stderr is None else stderr,
            env=environment,
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        self.text = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._closed = False

    def screen(self) -> str:
        """Everything shown so far, without colours and with plain newlines."""
        return _ANSI.sub("", self.text).replace("\r\n", "\n")

    def visible(self) -> list[str]:
        """The rows the terminal shows now."""
        return visible(self.text, self.columns, self.rows)

    def _read(self, deadline: float) -> None:
        ready, _, _ = select.select([self.master], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the child closed the terminal
            data = b""
        if not data:
            self._closed = True
        self.text += self._decoder.decode(data, final=not data)

    def expect(self, needle: str, *, count: int = 1, timeout: float = PTY_TIMEOUT) -> None:
        """Wait until ``needle`` has been shown ``count`` times."""
        deadline = time.monotonic() + timeout
        while self.screen().count(needle) < count:
            if self._closed or time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} not shown; the terminal shows:\n{self.screen()}")
            self._read(deadline)

    def settle(self, quiet: float = 0.3) -> None:
        """Read until nothing more comes for ``quiet`` seconds."""
        while True:
            before = len(self.text)
            self._read(time.monotonic() + quiet)
            if len(self.text) == before or self._closed:
                return

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def wait(self, timeout: float = PTY_TIMEOUT) -> int:
        """Read to the end and return the exit code."""
        deadline = time.monotonic() + timeout
        while not self._closed and time.monotonic() < deadline:
            self._read(deadline)
        return self.proc.wait(timeout=max(1.0, deadline - time.monotonic()))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
