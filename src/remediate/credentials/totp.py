"""Virtual MFA enrolment helpers: otpauth URI, QR rendering (terminal and PNG) and code checks."""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from remediate.core.errors import InputError

# qrcode, png, pyotp (and tempfile, hmac) are imported inside the functions that use them:
# together they cost ~60 ms of import time and `remediate --help` must stay fast.

ISSUER = "Amazon Web Services"

TOTP_PERIOD = 30
# How far (in steps) around "now" we look when explaining a rejection; acceptance itself only
# ever uses steps n-1 and n. 20 steps = 10 minutes of phone clock drift either way.
_DIAGNOSE_STEPS = 20
# RFC 4226 R6: the shared secret MUST be at least 128 bits.
_MIN_SEED_BYTES = 16

_CODE_RE = re.compile(r"[0-9]{6}")  # [0-9], not \d: \d also matches non-ASCII digits
_SEED_RE = re.compile(r"[A-Z2-7]+=*")
_O_CLOEXEC: int = getattr(os, "O_CLOEXEC", 0)  # absent on Windows

# Half blocks: index = (top is ink) * 2 + (bottom is ink).
HALF_BLOCKS = (" ", "▄", "▀", "█")

MfaCodeReason = Literal["malformed", "same", "not_consecutive", "expired", "not_current", "wrong"]


class MfaCodeError(InputError):
    """The two MFA codes were rejected; the message never contains the seed or the codes."""

    def __init__(self, message: str, tip: str | None = None, *, reason: MfaCodeReason) -> None:
        super().__init__(message, tip)
        self.reason: MfaCodeReason = reason


def seed_is_valid(seed: str) -> bool:
    """True for an upper-case base32 seed (optional '=' padding) of at least 128 bits."""
    if not _SEED_RE.fullmatch(seed):
        return False
    body = seed.rstrip("=")
    try:
        decoded = base64.b32decode(body + "=" * (-len(body) % 8))
    except (binascii.Error, ValueError):
        return False
    return len(decoded) >= _MIN_SEED_BYTES


def _require_seed(seed: str) -> None:
    # The seed comes from AWS, not the user, so a bad one is a bug: ValueError, never echoed.
    if not seed_is_valid(seed):
        raise ValueError("the virtual MFA seed is not a valid base32 secret")


def otpauth_uri(seed: str, user: str, account_id: str) -> str:
    """Key URI in the shape the AWS console encodes, with a literal '@' in the label."""
    from urllib.parse import quote

    _require_seed(seed)
    # pyotp's provisioning_uri percent-encodes the '@' (%40); authenticator apps show the
    # label verbatim-decoded either way, but we match the console's URI byte for byte.
    issuer = quote(ISSUER, safe="")
    label = f"{issuer}:{quote(user, safe='@')}@{quote(account_id, safe='')}"
    # Padding is omitted in key URIs (Google's Key Uri Format).
    return f"otpauth://totp/{label}?secret={seed.rstrip('=')}&issuer={issuer}"


# The quiet zone the QR standard asks for, used wherever space allows (the PNG, `secrets show`).
QUIET_ZONE = 4
# On a terminal: the light margin drawn around the code, between the terminal's own (dark)
# background and the code. One module is the least a phone's decoder finds the code with (tested
# with zxing-cpp on a rendered 80x24 screen); more is used wherever the terminal has room.
MIN_TERMINAL_QUIET_ZONE = 1
# A prompt beside the code's last line ("MFA code 1: 123 456"): the room it needs.
PROMPT_ROOM = 22
# The seed AWS gives a virtual MFA device: 64 base32 characters (used to size the code before
# the device exists).
AWS_SEED_LENGTH = 64


@functools.lru_cache(maxsize=8)
def _modules(uri: str) -> tuple[tuple[bool, ...], ...]:
    """The QR symbol of ``uri`` without a quiet zone: the smallest version (at error correction
    L), then the strongest error correction that still fits that version, so a short URI gets
    more redundancy for free and a long one no bigger a code."""
    import qrcode
    import qrcode.constants
    from qrcode.exceptions import DataOverflowError

    smallest = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_L, border=0)
    smallest.add_data(uri)
    smallest.make(fit=True)
    chosen = smallest
    for level in (
        qrcode.constants.ERROR_CORRECT_H,
        qrcode.constants.ERROR_CORRECT_Q,
        qrcode.constants.ERROR_CORRECT_M,
    ):
        stronger = qrcode.QRCode(version=smallest.version, error_correction=level, border=0)
        stronger.add_data(uri)
        try:
            stronger.make(fit=False)
        except DataOverflowError:
            continue
        chosen = stronger
        break
    return tuple(tuple(bool(m) for m in row) for row in chosen.get_matrix())


def qr_matrix(uri: str, *, quiet_zone: int = QUIET_ZONE) -> list[list[bool]]:
    """QR modules for *uri* including a light quiet zone of ``quiet_zone`` modules; True = dark."""
    core = _modules(uri)
    size = len(core) + 2 * quiet_zone
    blank = [False] * size
    pad = [False] * quiet_zone
    return (
        [list(blank) for _ in range(quiet_zone)]
        + [[*pad, *row, *pad] for row in core]
        + [list(blank) for _ in range(quiet_zone)]
    )


def _half_block_lines(matrix: list[list[bool]]) -> list[str]:
    size = len(matrix)
    lines: list[str] = []
    for y in range(0, size, 2):
        top = matrix[y]
        # An odd-sized matrix leaves a half row; pad it light so the quiet zone stays solid.
        bottom = matrix[y + 1] if y + 1 < size else [False] * size
        lines.append(
            "".join(HALF_BLOCKS[(not t) * 2 + (not b)] for t, b in zip(top, bottom, strict=True))
        )
    return lines


def render_qr_terminal(uri: str, *, quiet_zone: int = QUIET_ZONE) -> str:
    """Compact text QR: two module rows per line, light modules drawn as ink.

    Terminals usually draw light glyphs on a dark background, so printing the *light* modules
    as blocks makes the quiet zone light and the code reads like black-on-white to a camera.
    """
    return "\n".join(_half_block_lines(qr_matrix(uri, quiet_zone=quiet_zone))) + "\n"


@dataclass(frozen=True)
class TerminalQr:
    """The QR code as it fits a terminal: its lines, and whether the text around it goes beside
    it (to its right: the heading by its top, the first prompt on its last line) instead of
    above and below it."""

    lines: tuple[str, ...]
    quiet_zone: int
    beside: bool

    @property
    def width(self) -> int:
        return len(self.lines[0])


def qr_size(uri: str, quiet_zone: int = MIN_TERMINAL_QUIET_ZONE) -> tuple[int, int]:
    """Columns and rows the code of ``uri`` takes on a terminal (two module rows a line)."""
    modules = len(_modules(uri)) + 2 * quiet_zone
    return modules, (modules + 1) // 2


def fit_terminal_qr(uri: str, columns: int, rows: int) -> TerminalQr | None:
    """The code of ``uri`` laid out for a ``columns`` x ``rows`` terminal so that all of it is on
    the screen while the first code is typed: the widest quiet zone (up to 4 modules) that
    fits with a heading line above and the prompt below it, or else with both beside it;
    ``None`` when even a one-module quiet zone does not fit."""
    for quiet_zone in range(QUIET_ZONE, MIN_TERMINAL_QUIET_ZONE - 1, -1):
        width, height = qr_size(uri, quiet_zone)
        if width > columns:
            continue
        lines = tuple(_half_block_lines(qr_matrix(uri, quiet_zone=quiet_zone)))
        if height + 2 <= rows:
            return TerminalQr(lines, quiet_zone, beside=False)
        if height <= rows and width + 2 + PROMPT_ROOM <= columns:
            return TerminalQr(lines, quiet_zone, beside=True)
    return None


def lay_out_qr(
    uri: str, columns: int, rows: int, *, above: str, beside: str | None
) -> tuple[str, ...] | None:
    """The lines that show all of the code of ``uri`` on a ``columns`` x ``rows`` terminal with a
    text, the prompt for code 1 to follow the last line: ``above`` wrapped over the code (the
    prompt on a line of its own below it), or else ``beside`` wrapped to its right (the prompt on
    its last line; ``None``: never beside); the widest quiet zone that fits, ``None`` when none
    does."""
    import textwrap

    for quiet_zone in range(QUIET_ZONE, MIN_TERMINAL_QUIET_ZONE - 1, -1):
        width, height = qr_size(uri, quiet_zone)
        if width > columns:
            continue
        code = _half_block_lines(qr_matrix(uri, quiet_zone=quiet_zone))
        heading = textwrap.wrap(above, columns)
        if height + len(heading) + 1 <= rows:
            return (*heading, *code, "")
        if beside is None:
            continue
        side = textwrap.wrap(beside, max(columns - width - 2, 1))
        if height <= rows and width + 2 + PROMPT_ROOM <= columns and len(side) < height:
            shown = [
                line + (f"  {side[n]}" if n < len(side) else "") for n, line in enumerate(code)
            ]
            return (*shown[:-1], code[-1] + "  ")
    return None


def _write_png(fd: int, matrix: list[list[bool]], scale: int) -> None:
    import png

    # fdopen first so the descriptor is closed whatever fails below.
    with os.fdopen(fd, "wb") as fh:
        # The umask can only take bits away from 0o600; chmod pins it exactly where supported.
        if os.chmod in os.supports_fd:
            os.chmod(fh.fileno(), 0o600)
        size = len(matrix) * scale
        writer = png.Writer(size, size, greyscale=True, bitdepth=1)
        # Greyscale bit depth 1: 0 = black (dark module), 1 = white (light module).
        rows = [[0 if dark else 1 for dark in row for _ in range(scale)] for row in matrix]
        writer.write(fh, (r for r in rows for _ in range(scale)))


def write_qr_png(uri: str, path: Path, *, overwrite: bool = False, scale: int = 8) -> None:
    """Write the QR for *uri* as a black-on-white PNG readable only by its owner (mode 0600).

    The image holds the MFA seed, so the file is never created with wider permissions, not
    even for an instant: a new file is opened O_EXCL with mode 0600, and an overwrite goes
    through a 0600 temporary file in the same directory that is renamed over the old one.
    """
    import tempfile

    if scale < 1:
        raise ValueError("scale must be at least 1")
    matrix = qr_matrix(uri)
    path = Path(path)
    try:
        if overwrite:
            # mkstemp opens O_EXCL with mode 0600; the rename keeps that inode's mode and
            # replaces a symlink itself rather than writing through it.
            fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            tmp = Path(tmp_name)
        else:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_CLOEXEC, 0o600)
            tmp = path
    except FileExistsError:
        raise InputError(f"{path} already exists; choose another --qr-file path") from None
    except OSError as exc:
        raise InputError(f"cannot create {path}: {exc.strerror}") from None
    try:
        _write_png(fd, matrix, scale)
        if tmp != path:
            os.replace(tmp, path)
    except BaseException as exc:
        # The file at `tmp` is one we created, so a half-written PNG is ours to remove.
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise InputError(f"cannot write {path}: {exc.strerror}") from None
        raise


CODE_FORMAT_HELP = "must be exactly 6 digits"
# Codes older than this many steps are a slow typist's (expired); beyond, or any step ahead of
# now, only a clock that is off explains them.
_EXPIRED_STEPS = 3


def normalize_code(raw: str) -> str:
    """The code without the spaces and dashes authenticator apps show in it (``974 985``, a
    pasted ``974-985``, a no-break space)."""
    return "".join(ch for ch in raw if not (ch.isspace() or unicodedata.category(ch) == "Pd"))


def code_is_well_formed(code: str) -> bool:
    """Whether a code has the shape of a TOTP code (6 ASCII digits, spaces and dashes aside),
    before any seed is known."""
    return _CODE_RE.fullmatch(normalize_code(code)) is not None


def totp_step(now: float) -> int:
    """The 30-second TOTP time step containing *now* (Unix seconds)."""
    return int(now // TOTP_PERIOD)


def _code_at(seed: str, step: int) -> str:
    import pyotp

    return str(pyotp.TOTP(seed).generate_otp(step))


def _matches(code: str, expected: str) -> bool:
    import hmac

    return hmac.compare_digest(code.encode("ascii"), expected.encode("ascii"))


def _well_formed(label: str, raw: str) -> str:
    code = normalize_code(raw)
    if not _CODE_RE.fullmatch(code):
        # Never echo the input: a near-miss code is still a secret-derived value.
        raise MfaCodeError(
            f"{label} {CODE_FORMAT_HELP}",
            "type the 6-digit number the authenticator app shows (spaces are fine)",
            reason="malformed",
        )
    return code


def _window(seed: str, n: int) -> dict[int, str]:
    lo = max(n - _DIAGNOSE_STEPS, 0)
    return {step: _code_at(seed, step) for step in range(lo, n + _DIAGNOSE_STEPS + 2)}


def _steps_of(code: str, window: dict[int, str]) -> set[int]:
    # Compared against every step (no early exit) so timing does not depend on where it sits.
    return {s for s, expected in window.items() if _matches(code, expected)}


def _span(steps: int) -> str:
    seconds = steps * TOTP_PERIOD
    if seconds < 120:
        return f"{seconds} seconds"
    return f"{round(seconds / 60)} minutes"


def _off_time(step: int, n: int, what: str, *, one: bool) -> MfaCodeError:
    """A code of this device, at ``step``, that is not current at step ``n``: expired when a
    person could simply have been slow, else the clock of the phone (or this computer)."""
    if n - _EXPIRED_STEPS <= step < n:
        return MfaCodeError(
            f"{what} {'has' if one else 'have'} expired",
            "type the code the app shows now, then wait for the next one",
            reason="expired",
        )
    direction = "ahead of" if step > n else "behind"
    return MfaCodeError(
        f"{what} {'is' if one else 'are'} this device's, but from a time "
        f"{_span(abs(step - n))} {direction} this "
        "computer's clock; check the phone's clock",
        "set the phone (and this computer) to automatic date and time, then type the newest codes",
        reason="not_current",
    )


def check_code(seed: str, code1: str, *, now: float) -> None:
    """Check code 1 as soon as it is typed: it must be this device's code of now or of the
    step before; else MfaCodeError saying why (never echoing the code)."""
    _require_seed(seed)
    first = _well_formed("code 1", code1)
    n = totp_step(now)
    steps = _steps_of(first, _window(seed, n))
    if steps & {n - 1, n}:
        return
    if not steps:
        raise MfaCodeError(
            "code 1 does not match this virtual MFA device",
            "scan the QR code again: an older entry in the app for this user has another secret",
            reason="wrong",
        )
    raise _off_time(min(steps, key=lambda s: abs(s - n)), n, "code 1", one=True)


def check_codes(seed: str, code1: str, code2: str, *, now: float) -> None:
    """Accept two consecutive codes from the app (steps n-1,n or n,n+1) or raise MfaCodeError.
    Spaces and dashes inside a code are ignored."""
    _require_seed(seed)
    first = _well_formed("code 1", code1)
    second = _well_formed("code 2", code2)
    if _matches(first, second):
        raise MfaCodeError(
            "you typed the same code twice",
            "wait until the app shows a new code (it changes every 30 seconds) and type that "
            "one as code 2",
            reason="same",
        )

    n = totp_step(now)
    window = _window(seed, n)
    steps1 = _steps_of(first, window)
    steps2 = _steps_of(second, window)

    if any(c in steps1 and c + 1 in steps2 for c in (n - 1, n)):
        return
    pairs = [s for s in steps1 if s + 1 in steps2]
    if pairs:
        # The newest code of the pair closest to now decides: expired, or a clock that is off.
        closest = min(pairs, key=lambda s: abs(s + 1 - n))
        raise _off_time(closest + 1 if closest + 1 < n else closest, n, "the codes", one=False)
    if steps1 and steps2:
        raise MfaCodeError(
            "code 2 is not the code right after code 1",
            "type the code shown now as code 1, then wait for the next one and type it as code 2",
            reason="not_consecutive",
        )
    # Name the bad code when the other one is valid; otherwise both are unknown to this seed.
    which = {(True, False): "code 2 does", (False, True): "code 1 does"}.get(
        (bool(steps1), bool(steps2)), "the codes do"
    )
    raise MfaCodeError(
        f"{which} not match this virtual MFA device",
        "scan the QR code again: an older entry in the app for this user has another secret",
        reason="wrong",
    )


def auto_codes(seed: str, *, now: float) -> tuple[str, str]:
    """The codes for steps n-1 and n: both already issued, so AWS accepts them as consecutive."""
    _require_seed(seed)
    n = totp_step(now)
    return _code_at(seed, n - 1), _code_at(seed, n)
