"""Which failures of organizations:ListAccounts get the tip to sweep from the management account:
only those that mean it (pure: ListAccounts is stubbed)."""

from __future__ import annotations

from typing import Any

import pytest

from remediate.core.errors import AwsError
from remediate.org import accounts


class _Base:
    def client(self, service: str) -> object:
        return object()


@pytest.mark.parametrize(
    ("code", "tipped"),
    [
        ("AWSOrganizationsNotInUseException", True),
        ("AccessDeniedException", True),
        ("AccessDenied", True),
        # An endpoint that does not answer as AWS, a server error: the tip would mislead.
        (None, False),
        ("ServiceException", False),
    ],
)
def test_the_management_account_tip_only_where_it_is_the_cause(
    monkeypatch: pytest.MonkeyPatch, code: str | None, tipped: bool
) -> None:
    own_tip = "check --endpoint-url: it does not answer as AWS"

    def refuse(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        raise AwsError("organizations:ListAccounts failed", own_tip, code=code)

    monkeypatch.setattr(accounts, "paginate", refuse)
    with pytest.raises(AwsError) as caught:
        accounts.targets(_Base(), None)  # type: ignore[arg-type]
    assert (caught.value.tip == accounts.ORGANIZATIONS_TIP) is tipped
    assert (caught.value.tip == own_tip) is not tipped
