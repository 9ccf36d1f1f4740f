"""The spinners of long waits on AWS, as a person at a terminal sees them: botocore trying a
throttled call again, and IAM not yet showing an entity this run created."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from support.faultproxy import FaultProxy, Faults, Rule
from support.terminal import Terminal

needs_pty = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


@needs_pty
def test_a_throttled_call_shows_a_spinner_while_botocore_tries_again(moto: Any) -> None:
    faults = Faults(rules=[Rule("GenerateCredentialReport", "throttle", times=2)])
    with FaultProxy(moto.endpoint_url, faults) as proxy:
        # At 80 columns the attempt number comes first, so it is what a narrow terminal keeps.
        term = Terminal("root-use", "--endpoint-url", proxy.endpoint_url, size=(80, 24))
        try:
            term.expect("attempt 2 of ")
            term.expect("AWS answered iam:GenerateCredentialReport with Throttling")
            assert term.wait() == 1, term.screen()
            rows = [row.rstrip() for row in term.visible() if row.strip()]
        finally:
            term.close()
    assert faults.rules[0].hits == 2
    assert not any("AWS answered" in row for row in rows)  # cleared once the call went through


@needs_pty
def test_waiting_for_iam_to_show_a_new_user_shows_a_spinner(moto: Any) -> None:
    # IAM is eventually consistent: the user just created is not found for a while.
    faults = Faults(invisible_for=1.5)
    with FaultProxy(moto.endpoint_url, faults) as proxy:
        term = Terminal(
            "root-use",
            "--endpoint-url",
            proxy.endpoint_url,
            "--create-admin",
            "alice",
            "--no-mfa",
            "--yes",
        )
        try:
            term.expect("Waiting for IAM to catch up with", timeout=60)
            assert term.wait(60) == 0, term.screen()
            rows = [row.rstrip() for row in term.visible() if row.strip()]
        finally:
            term.close()
    assert faults.invisible_hits > 0
    assert "(eventually consistent)" in " ".join(term.screen().split())
    assert not any("Waiting for IAM" in row for row in rows)
