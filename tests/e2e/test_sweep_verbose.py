"""-v across accounts: each line of a report's fetch names its account (the fetches interleave)."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest


def test_verbose_lines_of_a_sweep_name_their_account(
    cli: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # pytest's log handlers make the CLI's logging.basicConfig a no-op: caplog sees what -v shows.
    caplog.set_level(logging.INFO)
    r = cli("-v", "root-use", "--sandbox", "--all-accounts", "-o", "json")
    assert r.code == 1, r.err
    accounts = {a["account_id"] for a in r.json()["accounts"]}
    assert len(accounts) == 4
    asked = re.findall(
        r"account (\d{12}): asking IAM to generate the credential report", caplog.text
    )
    assert sorted(asked) == sorted(accounts)
    assert caplog.text.count("asking IAM to generate the credential report") == len(asked)
    read = re.findall(r"account (\d{12}): reading the credential report", caplog.text)
    assert sorted(read) == sorted(accounts)
