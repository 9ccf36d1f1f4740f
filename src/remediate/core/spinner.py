"""What a long wait shows on a terminal: a spinner and a line of text, or a progress bar, one at a
time on stderr; nothing when stderr is not a terminal."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from remediate.core.terminal import safe, stderr_console

# A live display (progress bar or spinner) on stderr: one at a time, rich draws only one.
_live_display = threading.Lock()


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


@contextlib.contextmanager
def progress_bar(what: str) -> Iterator[Callable[[object], None] | None]:
    """A progress bar on stderr when it is a terminal; the callback advances it."""
    if not _stderr_is_terminal() or not _live_display.acquire(blocking=False):
        yield None
        return
    try:
        from rich.progress import Progress

        with Progress(console=stderr_console(), transient=True) as bar:
            task = bar.add_task(what, total=None)
            yield lambda _item: bar.advance(task)
    finally:
        _live_display.release()


class Waiting:
    """What a long wait shows: a spinner and a line of text on stderr when it is a terminal
    (from the main thread, and when no progress bar is showing), nothing otherwise; the text
    may change as the wait goes on. Always cleared when the wait ends."""

    def __init__(self) -> None:
        self._status: Any = None

    def show(self, text: str) -> None:
        if self._status is None:
            if threading.current_thread() is not threading.main_thread():
                return
            if not _stderr_is_terminal() or not _live_display.acquire(blocking=False):
                return
            from rich.status import Status

            self._status = Status("", console=stderr_console(), spinner="dots")
            self._status.start()
        # Short of the last column: a line that fills it leaves the cursor there, and the ^C a
        # terminal echoes would then wrap to a line of its own and leave the spinner behind.
        room = max(self._status.console.width - 4, 10)
        shown = text if len(text) <= room else text[: room - 3] + "..."
        self._status.update(safe(shown))

    def clear(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
            _live_display.release()


@contextlib.contextmanager
def waiting(text: str) -> Iterator[Waiting]:
    """A spinner with ``text`` for the length of the ``with`` block (see :class:`Waiting`)."""
    spinner = Waiting()
    spinner.show(text)
    try:
        yield spinner
    finally:
        spinner.clear()
