"""The person who enrolls a virtual MFA device in person, as the virtual-mfa step sees them: they
see its QR code on a terminal and type the two codes their app shows. The command passes in the
terminal's (remediate.render.enrollment) through the engine's Services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from remediate.core.errors import InputError


@dataclass(frozen=True)
class CodeRequest:
    """What asking for a device's two codes needs: its owner, its otpauth URI and seed (to check
    each code as it is typed), where its QR code was written (--qr-file, as given, for the tip
    after a wrong code), and the rows kept free below the code (the secret key's line)."""

    user: str
    uri: str
    seed: str
    qr_file: str | None = None
    reserved: int = 0


class Enrollment(Protocol):
    """Where the QR code is shown and the codes are typed."""

    def on_terminal(self) -> bool:
        """Whether what it shows reaches a terminal: the QR code and the seed go nowhere else,
        never into a redirected log file."""
        ...

    def too_small(self, uri: str) -> tuple[int, int] | None:
        """The terminal's columns and rows when the QR code of ``uri`` cannot fit on it (before
        any change: it is then no way to enroll); ``None`` when it fits, or no size is known."""
        ...

    def show_qr(self, user: str, uri: str, *, reserved: int) -> None:
        """The QR code, sized to the terminal (or, where it cannot fit, what to do instead)."""
        ...

    def codes(self, request: CodeRequest) -> tuple[str, str]:
        """Two consecutive codes for the device, each checked as it is typed, asked again
        (a few times) while wrong; normalized to the six digits AWS takes."""
        ...


class NoTerminal:
    """Nobody at a terminal: a step that would enroll in person is refused before any change
    (remediate.steps.virtual_mfa's preflight), so the codes are never asked for here."""

    def on_terminal(self) -> bool:
        return False

    def too_small(self, uri: str) -> tuple[int, int] | None:
        return None

    def show_qr(self, user: str, uri: str, *, reserved: int) -> None:
        return None

    def codes(self, request: CodeRequest) -> tuple[str, str]:
        raise InputError(
            "no terminal to type the MFA codes on",
            tip="pass --mfa-auto, --mfa-codes CODE1 CODE2, or --no-mfa",
        )


NO_TERMINAL: Enrollment = NoTerminal()
