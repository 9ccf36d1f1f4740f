"""The audit trail of a session's write calls, from botocore's events: what each write acted on
(names, never secrets), what a tag update changed, and how it ended; and which API operations
are writes at all."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# botocore is imported inside the hooks: the playbook's journal and the tests read WriteCall and
# is_write without calling AWS.

# Operations that change nothing in the account; everything else is a write and refused in dry run.
# AssumeRole and AssumeRoot only hand out short-lived credentials: a dry run across accounts needs
# them to read each account, and the session they open refuses writes just the same.
# CloudTrail's LookupEvents reads the event history (--cloudtrail with a dry run).
_READ_PREFIXES = ("Get", "List", "Describe")
_READ_OPERATIONS = frozenset(
    {"GenerateCredentialReport", "AssumeRole", "AssumeRoot", "LookupEvents"}
)


def is_write(operation: str) -> bool:
    """Whether an API operation (e.g. ``CreateUser``) can change the account."""
    return not (operation.startswith(_READ_PREFIXES) or operation in _READ_OPERATIONS)


# API parameters that name what a write acts on: the only ones the audit trail records. Never a
# password, a secret key, an MFA code or a policy document.
NAME_PARAMETERS = (
    "UserName",
    "GroupName",
    "RoleName",
    "PolicyArn",
    "VirtualMFADeviceName",
    "SerialNumber",
    "AccessKeyId",
    "CertificateId",
    "ServicePrincipal",
    # AWS Organizations: a service control policy (its name at create, its id after), the root
    # a policy type is enabled in, the root, OU or account a policy is attached to.
    "Name",
    "PolicyId",
    "PolicyType",
    "RootId",
    "TargetId",
    # Watching root (and Name above): EventBridge rules, SNS topics, CloudWatch alarms and
    # metric filters.
    "Rule",
    "TopicArn",
    "AlarmName",
    "filterName",
)
# Where a create's answer names what it made (ids, never the secret beside them).
_ANSWER_NAMES = (
    ("AccessKey", "AccessKeyId"),
    ("VirtualMFADevice", "SerialNumber"),
)
# The botocore request context's key for the write call on its way.
_CONTEXT_KEY = "remediate.write"


@dataclass(frozen=True)
class WriteCall:
    """One write call as the audit trail records it: the action, the names it acted on, what an
    update changed, and how it ended (``applied``, ``failed (Code)``, or ``unknown (...)`` when
    no answer came back and it may or may not have been applied)."""

    action: str
    names: tuple[tuple[str, str], ...]
    details: tuple[str, ...] = ()
    outcome: str = "applied"

    def name(self, parameter: str) -> str | None:
        return next((v for k, v in self.names if k == parameter), None)


def _shown_tag(text: str) -> str:
    return f"`{text}`"


def _tag_details(
    operation: str, params: Mapping[str, object], seen: Mapping[str, Mapping[str, str]]
) -> tuple[str, ...]:
    """What a tagging write changes, from the tags last read for that user: ``tag `Team`:
    `sec` -> `ops```."""
    tags = params.get("Tags")
    if not isinstance(tags, list):
        return ()
    before = {
        k.casefold(): v for k, v in seen.get(str(params.get("UserName", "")).casefold(), {}).items()
    }
    details = []
    for t in tags:
        if not isinstance(t, dict):
            continue
        key, value = str(t.get("Key", "")), str(t.get("Value", ""))
        if operation.startswith("Create"):
            details.append(f"tag {_shown_tag(key)} = {_shown_tag(value)}")
        elif key.casefold() in before:
            old = before[key.casefold()]
            details.append(f"tag {_shown_tag(key)}: {_shown_tag(old)} -> {_shown_tag(value)}")
        else:
            details.append(f"tag {_shown_tag(key)}: added {_shown_tag(value)}")
    return tuple(details)


class WriteAudit:
    """The write calls of one session, in order, each with its outcome, as botocore's events
    report them (:meth:`register` on each client); ``on_write`` hears of each as it ends (the
    journal)."""

    def __init__(self) -> None:
        self.writes: list[WriteCall] = []
        self.on_write: Callable[[WriteCall], None] | None = None
        # The write call on its way, until its answer comes: what Ctrl-C may have cut short.
        self._in_flight: WriteCall | None = None
        # Each user's tags as last read (GetUser), so a tagging write can say what it changed.
        self.tags_seen: dict[str, dict[str, str]] = {}

    def register(self, events: Any) -> None:
        """Listen on a client's event emitter. After the session's own ``before-call``, which
        refuses a dry run's writes: a refused call never went on its way."""
        events.register("before-parameter-build", self._before_parameter_build)
        events.register("before-call", self._before_call)
        events.register("after-call", self._after_call)
        events.register("after-call-error", self._after_call_error)

    def _before_parameter_build(
        self, params: Mapping[str, object], model: Any, context: Any = None, **_: Any
    ) -> None:
        if not is_write(model.name) or not isinstance(context, dict):
            return
        service = model.service_model.endpoint_prefix
        names = tuple((k, str(params[k])) for k in NAME_PARAMETERS if params.get(k) is not None)
        details = _tag_details(model.name, params, self.tags_seen)
        context[_CONTEXT_KEY] = WriteCall(f"{service}:{model.name}", names, details)

    def _before_call(self, context: Any = None, **_: Any) -> None:
        if isinstance(context, dict) and _CONTEXT_KEY in context:
            self._in_flight = context[_CONTEXT_KEY]

    def _after_call(
        self, http_response: Any = None, parsed: Any = None, context: Any = None, **_: Any
    ) -> None:
        if not isinstance(parsed, dict):
            return
        user = parsed.get("User")
        if isinstance(user, dict) and isinstance(user.get("UserName"), str):
            tags = user.get("Tags") or []
            self.tags_seen[user["UserName"].casefold()] = {
                str(t.get("Key")): str(t.get("Value")) for t in tags if isinstance(t, dict)
            }
        pending = context.pop(_CONTEXT_KEY, None) if isinstance(context, dict) else None
        if pending is None:
            return
        status = int(getattr(http_response, "status_code", 0) or 0)
        if status >= 300:
            code = parsed.get("Error", {}).get("Code") or f"HTTP {status}"
            outcome = f"failed ({code})"
        else:
            outcome = "applied"
        names = list(pending.names)
        for key, field_name in _ANSWER_NAMES:
            made = parsed.get(key)
            if isinstance(made, dict) and made.get(field_name) and not pending.name(field_name):
                names.append((field_name, str(made[field_name])))
        self._ended(dataclasses.replace(pending, names=tuple(names), outcome=outcome))

    def _after_call_error(self, exception: Any = None, context: Any = None, **_: Any) -> None:
        import botocore.exceptions

        pending = context.pop(_CONTEXT_KEY, None) if isinstance(context, dict) else None
        if pending is None:
            return
        lost = isinstance(
            exception,
            botocore.exceptions.ReadTimeoutError | botocore.exceptions.ConnectionClosedError,
        )
        outcome = (
            "unknown (the answer was lost: it may have been applied)"
            if lost
            else f"failed ({type(exception).__name__}: not sent)"
        )
        self._ended(dataclasses.replace(pending, outcome=outcome))

    def _ended(self, write: WriteCall) -> None:
        self._in_flight = None
        self.writes.append(write)
        if self.on_write is not None:
            self.on_write(write)

    def interrupted_write(self) -> WriteCall | None:
        """The write call Ctrl-C cut short, if one was on its way (recorded as such, once): it
        may or may not have been applied."""
        pending = self._in_flight
        if pending is None:
            return None
        self._ended(
            dataclasses.replace(pending, outcome="unknown (interrupted: it may have been applied)")
        )
        return self.writes[-1]
