"""The credential report's columns as the IAM User Guide documents them ("Credential report
format"), typed out here rather than taken from the product, so a wrong product constant cannot
hide behind its own tests."""

from __future__ import annotations

import re
from datetime import datetime

DOCUMENTED_HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
)


def moved_to(report: bytes, anchor: datetime, now: datetime) -> bytes:
    """``report`` with every timestamp moved by ``now - anchor``: a report written as of
    ``anchor``, as it would read had it been generated at ``now``. The CLI judges a report by
    the real clock, so a test feeding it one passes ``datetime.now(UTC)``."""
    delta = now - anchor

    def move(match: re.Match[bytes]) -> bytes:
        moved = datetime.fromisoformat(match.group(0).decode()) + delta
        return moved.isoformat(timespec="seconds").encode()

    return _TIMESTAMP.sub(move, report)


_TIMESTAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-]\d\d:\d\d)")
