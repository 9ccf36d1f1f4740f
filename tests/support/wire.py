"""What botocore actually sends, recorded below the session's dry-run guard: a write that slipped
past the guard (or around the session) would show here, where the session's own counters could
not see it."""

from __future__ import annotations

from typing import Any

import pytest

from remediate.aws.audit import is_write


def record_requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every AWS request sent in this process from now on, as ``service:Operation``."""
    from botocore.endpoint import Endpoint

    requests: list[str] = []
    make_request = Endpoint.make_request

    def recording(self: Any, operation_model: Any, request_dict: Any) -> Any:
        service = operation_model.service_model.endpoint_prefix
        requests.append(f"{service}:{operation_model.name}")
        return make_request(self, operation_model, request_dict)

    monkeypatch.setattr(Endpoint, "make_request", recording)
    return requests


def writes(requests: list[str]) -> list[str]:
    """The write calls among recorded requests."""
    return [r for r in requests if is_write(r.split(":", 1)[1])]
