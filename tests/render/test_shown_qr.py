"""`secrets show --what mfa-qr`'s layout (remediate.render.enrollment.shown_qr): by the
enrollment's rule, all of the code on a terminal of the given size, the prompt for Enter (or the
shell's) included, as a terminal lays the text out and a camera reads it."""

from __future__ import annotations

import pyotp
import pytest

from remediate.credentials.totp import otpauth_uri
from remediate.render.enrollment import shown_qr
from support.screen import decode, visible

URI = otpauth_uri(pyotp.random_base32(64), "alice", "123456789012")


@pytest.mark.parametrize("size", [(80, 24), (80, 30), (100, 40), (60, 28)])
def test_waiting_for_enter_the_code_and_the_prompt_fit(size: tuple[int, int]) -> None:
    columns, rows = size
    lines = shown_qr(URI, size, waits=True)
    assert lines is not None
    # As the terminal shows it (ONLCR: each line feed a carriage return and a line feed).
    screen = visible("\r\n".join(lines) + "Press Enter: ", columns, rows)
    assert decode(screen) == [URI]
    assert any("Press Enter: " in row for row in screen)


@pytest.mark.parametrize("size", [(80, 26), (80, 30), (100, 40)])
def test_with_nobody_to_press_enter_the_shell_keeps_the_row_after_it(
    size: tuple[int, int],
) -> None:
    columns, rows = size
    lines = shown_qr(URI, size, waits=False)
    assert lines is not None
    screen = visible("\r\n".join(lines) + "\r\n$ ", columns, rows)
    assert decode(screen) == [URI]
    assert any(row.startswith("$ ") for row in screen)


@pytest.mark.parametrize(("size", "waits"), [((80, 20), True), ((40, 40), True), ((80, 24), False)])
def test_a_terminal_too_small_gets_no_code(size: tuple[int, int], waits: bool) -> None:
    assert shown_qr(URI, size, waits=waits) is None


def test_a_terminal_of_unknown_size_gets_the_full_quiet_zone() -> None:
    from remediate.credentials.totp import render_qr_terminal

    assert shown_qr(URI, None, waits=True) == tuple(render_qr_terminal(URI).splitlines())
