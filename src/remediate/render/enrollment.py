"""Enrolling a virtual MFA device at the terminal: the QR code drawn to fit it, and the two codes
asked for, each checked as typed and asked again while wrong (remediate.steps.enrollment's
Enrollment, which the command passes to the engine)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from remediate.core.errors import InputError
from remediate.core.terminal import safe
from remediate.credentials.totp import (
    PROMPT_ROOM,
    MfaCodeError,
    check_code,
    check_codes,
    fit_terminal_qr,
    lay_out_qr,
    normalize_code,
    qr_size,
    render_qr_terminal,
)
from remediate.steps.enrollment import CodeRequest

if TYPE_CHECKING:
    from rich.console import Console

    from remediate.core.prompt import Prompter

# Wrong pairs of codes before the step fails (nothing was enabled).
MAX_ATTEMPTS = 3
SCAN = "Scan this QR code with an authenticator app:"


def on_terminal(console: Console) -> bool:
    """Whether what ``console`` shows (standard error) reaches a terminal: the QR code and the
    seed go nowhere else, never into a redirected log file."""
    try:
        return bool(console.file.isatty())
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def terminal_size(console: Console) -> tuple[int, int] | None:
    """Columns and rows of the terminal ``console`` writes to, when it is one."""
    try:
        size = os.get_terminal_size(console.file.fileno())
    except (AttributeError, ValueError, OSError):
        return None
    return size.columns, size.lines


# `secrets show --what mfa-qr`: the code stays whole on the screen until Enter is pressed.
SHOW_SCAN = "Scan this QR code with an authenticator app, then press Enter."
SHOW_PROMPT = "Press Enter"


def shown_qr(uri: str, size: tuple[int, int] | None, *, waits: bool) -> tuple[str, ...] | None:
    """The lines `secrets show --what mfa-qr` writes to a terminal of ``size`` (columns, rows):
    the code laid out by the enrollment's rule, all of it on the screen while the prompt for
    Enter waits on its last line or the line below (``waits``), or else with the row below it
    left for the shell's prompt; ``None`` when it cannot fit. A terminal of unknown size gets the
    code with the standard's full quiet zone, as ever."""
    if size is None:
        return tuple(render_qr_terminal(uri).splitlines())
    columns, rows = size
    if waits:
        return lay_out_qr(uri, columns, rows, above=SHOW_SCAN, beside=SHOW_SCAN)
    # Nobody presses Enter (standard input is no terminal): the line after the code is the
    # shell's, and nothing may stand beside its last line.
    for heading in (SHOW_SCAN.split(",")[0] + ":", ""):
        laid = lay_out_qr(uri, columns, rows, above=heading, beside=None)
        if laid is not None:
            return laid[:-1]  # the empty line the prompt would take: the shell's
    return None


def qr_too_large(uri: str, size: tuple[int, int], *, waits: bool = True) -> str:
    """Why the code of ``uri`` does not fit a terminal of ``size``: what it needs (``waits``: with
    the prompt for Enter beside it or below; else the shell's row below it)."""
    width, height = qr_size(uri)
    if not waits:
        return (
            f"the QR code does not fit this terminal ({size[0]}x{size[1]}): it needs "
            f"{height + 1} rows"
        )
    return (
        f"the QR code does not fit this terminal ({size[0]}x{size[1]}): it needs {height + 2} "
        f"rows, or {height} rows and {width + 2 + PROMPT_ROOM} columns"
    )


def _tries_left(left: int) -> str:
    return f"{left} more {'try' if left == 1 else 'tries'}"


class TerminalEnrollment:
    """The person at this terminal: the QR code goes to ``console`` (standard error), the codes
    come from ``prompter``."""

    def __init__(self, console: Console, prompter: Prompter) -> None:
        self.console = console
        self.prompter = prompter

    def on_terminal(self) -> bool:
        return on_terminal(self.console)

    def too_small(self, uri: str) -> tuple[int, int] | None:
        size = terminal_size(self.console) if on_terminal(self.console) else None
        if size is None or fit_terminal_qr(uri, *size) is not None:
            return None
        return size

    def show_qr(self, user: str, uri: str, *, reserved: int) -> None:
        self._draw(user, uri, reserved=reserved)

    def _draw(self, user: str, uri: str, *, reserved: int, note: str | None = None) -> bool:
        """The QR code, all of it on the screen while code 1 is typed: sized to the terminal,
        or, where it cannot fit, what to do instead (the prompts follow either way). ``note``
        (why code 1 is asked again) goes above or beside a redrawn code, so that neither scrolls
        off the screen. False when the code is not on the screen."""
        size = terminal_size(self.console)
        ui, out = self.console, self.console.file
        if size is None:  # a terminal of unknown size: the code as `secrets show` prints it
            if note is not None:
                ui.print(safe(note))
            ui.print(SCAN)
            out.write(render_qr_terminal(uri))
            out.flush()
            return True
        columns, rows = size[0], size[1] - reserved
        screen = None
        if note is not None:
            plain = safe(note, markup=False)
            screen = lay_out_qr(uri, columns, rows, above=plain, beside=plain)
            if screen is None:  # no room for both: the code wins, the note goes first
                ui.print(safe(note))
        if screen is None:
            screen = lay_out_qr(
                uri,
                columns,
                rows,
                above=SCAN,
                beside="Scan this QR code with an authenticator app, then type the two codes it "
                "shows.",
            )
        if screen is None:
            width, height = qr_size(uri)
            ui.print(
                f"[yellow]The QR code does not fit this terminal[/] ({size[0]}x{size[1]}; it needs "
                f"{height + 2} rows, or {height} rows and {width + 24} columns). Make the window "
                "larger and show it with `remediate secrets show "
                f"{safe(user)} --what mfa-qr` in another terminal (add --qr-file PATH for a PNG, "
                "or use --what mfa-secret to type the key in), then type the codes here."
            )
            return False
        out.write("\n".join(screen))
        out.flush()
        return True

    def _ask(self, prompt: str, again: Callable[[], object] | None = None) -> str:
        """One code from the person at the terminal; an empty line (Enter pressed early) asks
        again (after ``again``: the QR code drawn anew), and costs no attempt."""
        while True:
            line = self.prompter.line(prompt)
            if line is None:
                # Ctrl-D or a closed terminal: a step failure (exit 3), since earlier steps did
                # change.
                raise InputError(
                    "no MFA codes were entered (end of input)",
                    tip="rerun to enroll the same device, or pass --mfa-codes CODE1 CODE2",
                )
            if line.strip():
                return line
            if again is not None:
                again()

    def codes(self, request: CodeRequest) -> tuple[str, str]:
        # The code stays on the screen while code 1 is asked again: each retry draws it anew.
        size = terminal_size(self.console)
        redraw = on_terminal(self.console) and (
            size is None
            or fit_terminal_qr(request.uri, size[0], size[1] - request.reserved) is not None
        )

        def draw(note: str | None = None) -> bool:
            return self._draw(request.user, request.uri, reserved=request.reserved, note=note)

        seed = request.seed
        failures = 0
        code1: str | None = None
        while True:
            # Each code is checked as it is typed: a wrong code 1 is said before code 2 is asked.
            try:
                if code1 is None:
                    typed = self._ask("MFA code 1", draw if redraw else None)
                    check_code(seed, typed, now=time.time())
                    code1 = typed
                code2 = self._ask("MFA code 2 (the next one the app shows)")
                check_codes(seed, code1, code2, now=time.time())
                return normalize_code(code1), normalize_code(code2)
            except MfaCodeError as exc:
                failures += 1
                left = MAX_ATTEMPTS - failures
                if not left:
                    raise
                # A mistyped code 2 leaves code 1 good while it is current: ask code 2 again.
                keep = code1 is not None and exc.reason in ("malformed", "same", "wrong")
                if keep and code1 is not None:
                    try:
                        check_code(seed, code1, now=time.time())
                    except MfaCodeError:
                        keep = False
                message = exc.message[:1].upper() + exc.message[1:]
                tip = self._tip(request, exc, redraw=redraw)
                said = f"{message}. {tip[:1].upper() + tip[1:]}. {_tries_left(left)}."
                if keep or not redraw:
                    self.console.print(f"[red]{safe(message)}.[/] {safe(said[len(message) + 2 :])}")
                else:
                    draw(said)
                if not keep:
                    code1 = None

    @staticmethod
    def _tip(request: CodeRequest, exc: MfaCodeError, *, redraw: bool) -> str:
        """What to do about a refused code: for a code of another secret, where to scan the
        device's QR code."""
        if exc.reason != "wrong":
            return exc.tip or ""
        older = "an older entry in the app for this user has another secret"
        if redraw:
            return f"scan the QR code shown here: {older}"
        if request.qr_file:
            return f"scan the QR code in {request.qr_file}: {older}"
        return (
            f"show its QR code with `remediate secrets show {request.user} --what "
            f"mfa-qr` (or --qr-file PATH) and scan it: {older}"
        )
