"""Tests for remediate.credentials.totp: URI shape, QR round trips, PNG file safety and TOTP
code checks."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pyotp
import pytest
import qrcode
import qrcode.constants

from remediate.core.errors import InputError
from remediate.credentials.totp import (
    ISSUER,
    MfaCodeError,
    auto_codes,
    check_code,
    check_codes,
    code_is_well_formed,
    fit_terminal_qr,
    otpauth_uri,
    qr_matrix,
    render_qr_terminal,
    seed_is_valid,
    totp_step,
    write_qr_png,
)
from support.qrdecode import png_to_matrix, terminal_to_matrix
from support.screen import decode_matrix

SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
USER = "break-glass-admin"
ACCOUNT = "123456789012"
EXPECTED_URI = (
    "otpauth://totp/Amazon%20Web%20Services:break-glass-admin@123456789012"
    "?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Amazon%20Web%20Services"
)
# Fixed clock: 15 s into a step, so n-1, n and n+1 are unambiguous.
NOW = 1_700_000_010.0
N = totp_step(NOW)


def code(step: int) -> str:
    return str(pyotp.TOTP(SEED).at(step * 30))


# --- URI -------------------------------------------------------------------------------------


def test_uri_has_the_console_shape() -> None:
    uri = otpauth_uri(SEED, USER, ACCOUNT)
    assert uri == EXPECTED_URI
    assert uri.startswith("otpauth://totp/Amazon%20Web%20Services:")
    assert "break-glass-admin@123456789012?" in uri
    assert "secret=" + SEED in uri
    assert uri.endswith("&issuer=Amazon%20Web%20Services")


def test_uri_parses_back_with_pyotp() -> None:
    otp = pyotp.parse_uri(otpauth_uri(SEED, USER, ACCOUNT))
    assert isinstance(otp, pyotp.TOTP)
    assert otp.secret == SEED
    assert otp.name == f"{USER}@{ACCOUNT}"
    assert otp.issuer == ISSUER


def test_uri_escapes_iam_name_characters() -> None:
    # IAM names may contain + = , . @ _ -; '+' must not reach the app as a space.
    otp = pyotp.parse_uri(otpauth_uri(SEED, "ops+mfa=1,a.b@c_d-e", ACCOUNT))
    assert otp.name == f"ops+mfa=1,a.b@c_d-e@{ACCOUNT}"
    assert otp.issuer == ISSUER


def test_uri_rejects_invalid_seed_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="base32") as info:
        otpauth_uri("not-a-seed!", USER, ACCOUNT)
    assert "not-a-seed" not in str(info.value)


# --- QR matrix and terminal ------------------------------------------------------------------


def test_qr_matrix_encodes_exactly_the_uri() -> None:
    matrix = qr_matrix(otpauth_uri(SEED, USER, ACCOUNT))
    assert decode_matrix(matrix) == [EXPECTED_URI]
    size = len(matrix)
    assert all(len(row) == size for row in matrix)
    assert (size - 8 - 17) % 4 == 0  # 4*version + 17 modules plus the two 4-module borders
    # The quiet zone is all light.
    for i in range(4):
        assert not any(matrix[i])
        assert not any(matrix[size - 1 - i])
        assert not any(row[i] or row[size - 1 - i] for row in matrix)


def _symbol(data: str, level: int) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=level, border=0)
    qr.add_data(data)
    qr.make(fit=True)
    return qr


def test_error_correction_is_the_strongest_that_keeps_the_smallest_size() -> None:
    # For each URI, the symbol is as small as at level L, and no stronger level fits that size.
    levels = [
        qrcode.constants.ERROR_CORRECT_L,
        qrcode.constants.ERROR_CORRECT_M,
        qrcode.constants.ERROR_CORRECT_Q,
        qrcode.constants.ERROR_CORRECT_H,
    ]
    for data in (EXPECTED_URI, "otpauth://totp/x?secret=" + SEED, "otpauth://x"):
        sizes = {level: len(_symbol(data, level).get_matrix()) for level in levels}
        matrix = qr_matrix(data, quiet_zone=0)
        assert len(matrix) == sizes[qrcode.constants.ERROR_CORRECT_L]
        fitting = [level for level in levels if sizes[level] == len(matrix)]
        assert matrix == [[bool(m) for m in row] for row in _symbol(data, fitting[-1]).get_matrix()]
        assert decode_matrix(qr_matrix(data)) == [data]
        # A short URI gets a stronger level for free; a real one (64-character seed) stays L.
        if data == "otpauth://x":  # 11 bytes: version 1 holds them at Q (at H, 7 only)
            assert fitting[-1] == qrcode.constants.ERROR_CORRECT_Q


@pytest.mark.parametrize(
    ("columns", "rows", "quiet", "beside"),
    [
        (80, 24, 1, True),  # the smallest common terminal: the text goes beside the code
        (80, 27, 4, True),  # the widest quiet zone that fits, beside the text or not
        (80, 29, 4, False),
        (100, 40, 4, False),
        (200, 26, 3, True),
    ],
)
def test_terminal_fit(columns: int, rows: int, quiet: int, beside: bool) -> None:
    uri = otpauth_uri("A" * 64, "alice", ACCOUNT)  # as long as AWS's URIs
    fit = fit_terminal_qr(uri, columns, rows)
    assert fit is not None
    assert (fit.quiet_zone, fit.beside) == (quiet, beside)
    assert len(fit.lines) <= rows - (0 if beside else 2)
    assert fit.width + (24 if beside else 0) <= columns
    assert terminal_to_matrix("\n".join(fit.lines)) == qr_matrix(uri, quiet_zone=quiet)


def test_a_terminal_too_small_has_no_fit() -> None:
    uri = otpauth_uri("A" * 64, "alice", ACCOUNT)
    assert fit_terminal_qr(uri, 80, 23) is None
    assert fit_terminal_qr(uri, 60, 24) is None  # no room beside it, none below
    assert fit_terminal_qr(uri, 40, 100) is None  # narrower than the code


def test_terminal_round_trip_and_compactness() -> None:
    uri = otpauth_uri(SEED, USER, ACCOUNT)
    matrix = qr_matrix(uri)
    text = render_qr_terminal(uri)
    assert text.endswith("\n")
    assert terminal_to_matrix(text) == matrix
    lines = text.splitlines()
    assert len(lines) == (len(matrix) + 1) // 2
    assert all(len(line) == len(matrix) for line in lines)
    assert set(text) <= {" ", "▀", "▄", "█", "\n"}


def test_terminal_draws_light_modules_as_ink() -> None:
    # Inverted for dark-background terminals: the quiet zone is solid full blocks.
    lines = render_qr_terminal(EXPECTED_URI).splitlines()
    assert lines[0] == "█" * len(lines[0])
    assert lines[1] == "█" * len(lines[1])
    assert all(line[:4] == "████" and line[-4:] == "████" for line in lines)
    # Line 2 holds rows 4 and 5; at column 4 both are the top-left finder's dark ring: no ink.
    assert lines[2][4] == " "


def test_terminal_to_matrix_rejects_foreign_text() -> None:
    with pytest.raises(ValueError, match="unexpected character"):
        terminal_to_matrix("█x\n")
    with pytest.raises(ValueError, match="square"):
        terminal_to_matrix("██\n█\n")
    with pytest.raises(ValueError, match="no QR"):
        terminal_to_matrix("")


# --- PNG -------------------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_png_is_0600_and_decodes_to_the_matrix(tmp_path: Path) -> None:
    uri = otpauth_uri(SEED, USER, ACCOUNT)
    target = tmp_path / "mfa.png"
    write_qr_png(uri, target)
    assert mode(target) == 0o600
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert png_to_matrix(target) == qr_matrix(uri)
    assert [p.name for p in tmp_path.iterdir()] == ["mfa.png"]


def test_png_scale(tmp_path: Path) -> None:
    uri = otpauth_uri(SEED, USER, ACCOUNT)
    target = tmp_path / "small.png"
    write_qr_png(uri, target, scale=3)
    assert png_to_matrix(target, scale=3) == qr_matrix(uri)


def test_png_is_0600_even_with_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_qr_png(EXPECTED_URI, tmp_path / "a.png")
        write_qr_png(EXPECTED_URI, tmp_path / "a.png", overwrite=True)
    finally:
        os.umask(old)
    assert mode(tmp_path / "a.png") == 0o600


def test_png_refuses_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "mfa.png"
    target.write_bytes(b"keep me")
    with pytest.raises(InputError, match="already exists; choose another --qr-file path") as info:
        write_qr_png(EXPECTED_URI, target)
    assert info.value.exit_code == 2
    assert str(target) in info.value.message
    assert target.read_bytes() == b"keep me"


def test_png_refuses_dangling_symlink(tmp_path: Path) -> None:
    link = tmp_path / "mfa.png"
    link.symlink_to(tmp_path / "elsewhere.png")
    with pytest.raises(InputError, match="already exists"):
        write_qr_png(EXPECTED_URI, link)
    assert not (tmp_path / "elsewhere.png").exists()


def test_png_overwrite_replaces_and_ends_0600(tmp_path: Path) -> None:
    uri = otpauth_uri(SEED, USER, ACCOUNT)
    target = tmp_path / "mfa.png"
    write_qr_png(otpauth_uri(SEED, "someone-else", ACCOUNT), target)
    write_qr_png(uri, target, overwrite=True)
    assert mode(target) == 0o600
    assert png_to_matrix(target) == qr_matrix(uri)
    assert [p.name for p in tmp_path.iterdir()] == ["mfa.png"]


def test_png_overwrite_of_0644_file_ends_0600(tmp_path: Path) -> None:
    target = tmp_path / "mfa.png"
    target.write_bytes(b"old")
    target.chmod(0o644)
    write_qr_png(EXPECTED_URI, target, overwrite=True)
    assert mode(target) == 0o600
    assert png_to_matrix(target) == qr_matrix(EXPECTED_URI)


def test_png_overwrite_replaces_symlink_not_its_target(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"untouched")
    victim.chmod(0o644)
    link = tmp_path / "mfa.png"
    link.symlink_to(victim)
    write_qr_png(EXPECTED_URI, link, overwrite=True)
    assert not link.is_symlink()
    assert mode(link) == 0o600
    assert victim.read_bytes() == b"untouched"
    assert mode(victim) == 0o644


@pytest.mark.parametrize("overwrite", [False, True])
def test_png_missing_directory_is_an_input_error(tmp_path: Path, overwrite: bool) -> None:
    with pytest.raises(InputError, match="cannot create"):
        write_qr_png(EXPECTED_URI, tmp_path / "nope" / "mfa.png", overwrite=overwrite)


# --- codes -----------------------------------------------------------------------------------


def test_fixture_codes_are_distinct() -> None:
    # Guards the test data: a chance collision between nearby steps would blur the cases below.
    codes = [code(s) for s in range(N - 5, N + 5)]
    assert len(set(codes)) == len(codes)


def test_totp_step() -> None:
    assert totp_step(0.0) == 0
    assert totp_step(29.999) == 0
    assert totp_step(30.0) == 1
    assert totp_step(NOW) == int(NOW) // 30


@pytest.mark.parametrize("first", [N - 1, N])
def test_accepts_consecutive_codes(first: int) -> None:
    check_codes(SEED, code(first), code(first + 1), now=NOW)


def test_accepts_surrounding_whitespace() -> None:
    check_codes(SEED, f"  {code(N - 1)}\n", f"\t{code(N)} ", now=NOW)


def _spaced(c: str, sep: str) -> str:
    return c[:3] + sep + c[3:]


@pytest.mark.parametrize("sep", [" ", "-", "\u00a0", "\u2009", "\u2011", " - "])
def test_spaces_and_dashes_inside_a_code_are_ignored(sep: str) -> None:
    # Authenticator apps show "974 985"; a pasted code may carry a dash or a no-break space.
    check_codes(SEED, _spaced(code(N - 1), sep), _spaced(code(N), sep), now=NOW)
    check_code(SEED, _spaced(code(N), sep), now=NOW)
    assert code_is_well_formed(_spaced("123456", sep))


@pytest.mark.parametrize("first", [N - 1, N])
def test_code_1_alone_is_accepted_when_current(first: int) -> None:
    check_code(SEED, code(first), now=NOW)


def test_code_1_alone_is_checked_as_typed() -> None:
    wrong = "000000" if "000000" not in {code(s) for s in range(N - 25, N + 25)} else "999999"
    with pytest.raises(MfaCodeError) as info:
        check_code(SEED, wrong, now=NOW)
    assert info.value.reason == "wrong"
    assert "code 1 does not match this virtual MFA device" in info.value.message
    with pytest.raises(MfaCodeError) as info:
        check_code(SEED, code(N - 3), now=NOW)
    assert info.value.reason == "expired"
    assert "clock" not in f"{info.value.message} {info.value.tip}"
    with pytest.raises(MfaCodeError) as info:
        check_code(SEED, code(N + 6), now=NOW)
    assert info.value.reason == "not_current"
    assert "3 minutes ahead of this computer's clock" in info.value.message
    with pytest.raises(MfaCodeError) as info:
        check_code(SEED, "12345", now=NOW)
    assert info.value.reason == "malformed"


@pytest.mark.parametrize("now", [N * 30.0, N * 30 + 29.999, NOW])
def test_step_boundaries(now: float) -> None:
    check_codes(SEED, code(N - 1), code(N), now=now)
    check_codes(SEED, code(N), code(N + 1), now=now)


@pytest.mark.parametrize("now", [1_600_000_000.0, NOW, NOW + 29.5, 2_000_000_000.25])
def test_auto_codes_round_trip(now: float) -> None:
    first, second = auto_codes(SEED, now=now)
    n = totp_step(now)
    assert (first, second) == (str(pyotp.TOTP(SEED).at((n - 1) * 30)), code(n))
    check_codes(SEED, first, second, now=now)


def rejected(code1: str, code2: str, reason: str) -> MfaCodeError:
    with pytest.raises(MfaCodeError) as info:
        check_codes(SEED, code1, code2, now=NOW)
    err = info.value
    assert err.reason == reason
    assert isinstance(err, InputError)
    assert err.exit_code == 2
    text = f"{err.message} {err.tip}"
    assert "\n" not in err.message
    assert SEED not in text
    for c in (code1.strip(), code2.strip()):
        if c:
            assert c not in text
    return err


def test_rejects_wrong_codes() -> None:
    wrong = "000000" if "000000" not in {code(s) for s in range(N - 25, N + 25)} else "999999"
    err = rejected(wrong, code(N), "wrong")
    assert "code 1 does not match" in err.message
    err = rejected(code(N - 1), wrong, "wrong")
    assert "code 2 does not match" in err.message
    other = pyotp.TOTP("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
    err = rejected(other.at((N - 1) * 30), other.at(N * 30), "wrong")
    assert "the codes do not match" in err.message


def test_rejects_same_code_twice() -> None:
    err = rejected(code(N), code(N), "same")
    assert "same code twice" in err.message
    rejected(code(N), f" {code(N)} ", "same")


def test_rejects_non_consecutive() -> None:
    err = rejected(code(N - 1), code(N + 1), "not_consecutive")
    assert "code 2 is not the code right after code 1" in err.message


def test_rejects_reversed_order() -> None:
    rejected(code(N), code(N - 1), "not_consecutive")


@pytest.mark.parametrize(
    ("first", "direction"),
    [(N - 5, "2 minutes behind"), (N - 12, "6 minutes behind"), (N + 1, "30 seconds ahead of")],
)
def test_rejects_codes_far_from_now_with_a_clock_hint(first: int, direction: str) -> None:
    err = rejected(code(first), code(first + 1), "not_current")
    assert "check the phone's clock" in err.message
    assert f"{direction} this computer's clock" in err.message


@pytest.mark.parametrize("first", [N - 2, N - 3, N - 4])
def test_codes_a_slow_typist_gives_have_expired_without_blaming_the_clock(first: int) -> None:
    # Codes 30 to 90 seconds old: the person was slow, the phone's clock is not to blame.
    err = rejected(code(first), code(first + 1), "expired")
    assert err.message == "the codes have expired"
    assert "clock" not in f"{err.message} {err.tip}"


@pytest.mark.parametrize("bad", ["12345", "1234567", "abcdef", "", " 12 345", "12 34567", "١٢٣٤٥٦"])
def test_rejects_malformed_codes(bad: str) -> None:
    err = rejected(bad, code(N), "malformed")
    assert err.message.startswith("code 1 ")
    err = rejected(code(N - 1), bad, "malformed")
    assert err.message.startswith("code 2 ")


# --- seed ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seed", "valid"),
    [
        (SEED, True),
        ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", True),
        (SEED.lower(), False),
        ("JBSWY3DPEHPK3PXP", False),  # 80 bits: below the 128-bit minimum
        (SEED[:-1] + "1", False),  # '1' is not a base32 digit
        (SEED[:-1] + "8", False),
        (SEED + "A", False),  # 33 chars: not a whole number of bytes
        ("", False),
        (" " + SEED, False),
    ],
)
def test_seed_is_valid(seed: str, valid: bool) -> None:
    assert seed_is_valid(seed) is valid
