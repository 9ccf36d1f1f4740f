"""The sweep table's column widths on a narrow terminal (pure: no server)."""

from __future__ import annotations

import pytest

from remediate.render.tables import sweep_widths

IN_USE = (
    "123456789012",
    "master",
    "[bold red]IN USE[/]",
    "2026-11-27 22:04",
    "password",
    "no",
    "0",
)
UNDETERMINED = (
    "234364145618",
    "production-workloads-eu",
    "[yellow]undetermined[/]",
    "unknown",
    "password, access_key_1",
    "-",
    "-",
)
ERROR = (
    "234364145619",
    "x",
    "[bold red]error[/]",
    "-",
    "[red]AccessDenied: not authorized on arn:aws:iam::234364145619:role/OrganizationAccount[/]",
    "-",
    "-",
)


@pytest.mark.parametrize("rows", [[IN_USE], [IN_USE, UNDETERMINED], [IN_USE, UNDETERMINED, ERROR]])
def test_the_table_fits_80_columns_with_every_word_whole(rows: list[tuple[str, ...]]) -> None:
    widths = sweep_widths(rows, 80, folded=[n for n, row in enumerate(rows) if row is ERROR])
    assert sum(widths) + 3 * 6 <= 80
    account, name, verdict, last, evidence, mfa, keys = widths
    assert account == 12
    assert verdict == max(len("Verdict"), *(len(r[2].split("]")[1].split("[")[0]) for r in rows))
    assert last >= len("2026-11-27")
    assert evidence >= (len("access_key_1") if len(rows) > 1 else len("password"))
    assert (mfa, keys) >= (4, 4)
    assert name >= 4


def test_a_wide_terminal_keeps_every_header_on_one_line() -> None:
    assert sweep_widths([IN_USE], 120) == [12, 6, 7, 16, 8, 8, 9]
