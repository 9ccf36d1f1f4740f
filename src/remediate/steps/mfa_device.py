"""A virtual MFA device's lifecycle in IAM, for the virtual-mfa step: its name and remediate's tags
on it, who made one found by that name, creating it once (its answer carries the seed) and
enabling it, through answers AWS loses.

Every device the step creates is tagged as remediate's (who made it, and when): a device of the
user's name that IAM shows without that tag is someone else's (any holder of the self-service
MFA policy can make one), reported with what IAM shows and how to clear it, never deleted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from remediate.aws.calls import eventually, paginate
from remediate.aws.errors import ALREADY_EXISTS, NOT_FOUND_CODES
from remediate.core.errors import AwsError
from remediate.detect.cloudtrail import global_events_region
from remediate.steps.base import EntityKind, StepContext
from remediate.steps.iam import MANAGED_BY_KEY, MANAGED_BY_VALUE, is_managed

# Beside remediate:managed-by, the tags that say who created a device and when (IAM keeps no
# creator of a virtual MFA device, nor its creation date).
CREATED_BY_KEY = "remediate:created-by"
CREATED_AT_KEY = "remediate:created-at"
# The characters IAM allows in a tag value; any other (a comma in a session name) becomes "_".
_TAG_VALUE = re.compile(r"[^\w\s.:/=+\-@]")

# Tries of a create or an enable whose answer AWS lost (each looks before it tries again).
MAX_SEND_TRIES = 3


def device_name(serial: str) -> str:
    """``arn:aws:iam::123:mfa/path/alice`` -> ``alice``."""
    return serial.rsplit("/", 1)[-1]


def named_after(serial: str, user: str) -> bool:
    """Whether the device ``serial`` has ``user``'s name (compared without regard to case, as
    IAM compares names)."""
    return device_name(serial).casefold() == user.casefold()


def device_tags(caller_arn: str | None, now: datetime) -> list[dict[str, str]]:
    """The tags of a device remediate creates: whose it is, who made it, and when."""
    tags = {MANAGED_BY_KEY: MANAGED_BY_VALUE, CREATED_AT_KEY: now.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if caller_arn:
        tags[CREATED_BY_KEY] = _TAG_VALUE.sub("_", caller_arn)[:256]
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def tags_of(ctx: StepContext, serial: str) -> dict[str, str]:
    """A device's tags (ListMFADeviceTags: ListVirtualMFADevices leaves them out)."""
    try:
        listed = paginate(ctx.iam, "ListMFADeviceTags", "Tags", SerialNumber=serial)
    except AwsError as exc:
        if exc.code in NOT_FOUND_CODES:  # deleted since it was listed
            return {}
        raise
    return {str(t["Key"]): str(t["Value"]) for t in listed}


def whose(ctx: StepContext, serial: str) -> str:
    """Who made a device, as far as IAM shows: remediate's tags, else none of them; and where
    the rest is (IAM keeps no creator; CloudTrail's CreateVirtualMFADevice does)."""
    tags = tags_of(ctx, serial)
    region = global_events_region(ctx.partition)
    trail = (
        "IAM keeps no creator, CloudTrail does: aws cloudtrail lookup-events --region "
        f"{region} --lookup-attributes AttributeKey=EventName,AttributeValue="
        "CreateVirtualMFADevice"
    )
    if is_managed(tags):
        by = tags.get(CREATED_BY_KEY, "an unknown caller")
        at = tags.get(CREATED_AT_KEY, "an unknown time")
        return f"tagged as remediate's (created by {by} at {at}); {trail}"
    listed = ", ".join(f"{k}={v}" for k, v in sorted(tags.items()))
    return (
        f"with {f'tags {listed}' if listed else 'no tags'}: remediate did not create it (it "
        f"tags every device it creates); {trail}"
    )


def _serial(ctx: StepContext, name: str) -> str:
    return f"arn:{ctx.partition}:iam::{ctx.account_id}:mfa/{name}"


def create(ctx: StepContext, name: str) -> tuple[str, str]:
    """CreateVirtualMFADevice, sent once: its answer carries the seed, so a device made by a
    request whose answer was lost can never be enrolled; it is deleted and made again. Returns
    the device's serial number and seed."""
    lost = 0
    # A lost request's device may exist though IAM does not show it yet.
    unresolved = False
    tags = device_tags(ctx.caller_arn, datetime.now(UTC))
    while True:
        try:
            created = ctx.call(
                "CreateVirtualMFADevice", once=True, VirtualMFADeviceName=name, Tags=tags
            )
            device = created["VirtualMFADevice"]
            raw = device["Base32StringSeed"]
            seed = raw.decode("ascii") if isinstance(raw, bytes) else str(raw)
            return str(device["SerialNumber"]), seed
        except AwsError as exc:
            if exc.ambiguous:
                lost += 1
                if lost == MAX_SEND_TRIES:
                    break
                unresolved = not _delete_lost(ctx, name, exists=False, lost=lost)
            elif exc.code == ALREADY_EXISTS and unresolved:
                # The lost request's device, still invisible to the delete: it exists.
                _delete_lost(ctx, name, exists=True, lost=lost)
                unresolved = False
            else:
                raise
    # No create follows to say whether the last lost one made a device: wait for it as for
    # one IAM said exists, so the message below is true.
    serial = _serial(ctx, name)
    if _delete_lost(ctx, name, exists=True, lost=lost):
        left = f"virtual MFA device {serial}, made by a lost request, was deleted"
    else:
        left = f"IAM shows no virtual MFA device {serial}: no lost request left one"
    raise AwsError(
        f"AWS lost the answer to CreateVirtualMFADevice {name} {MAX_SEND_TRIES} times; {left}",
        tip="rerun",
        action="iam:CreateVirtualMFADevice",
    )


def _delete_lost(ctx: StepContext, name: str, *, exists: bool, lost: int) -> bool:
    """Delete the device a lost CreateVirtualMFADevice may have made; True if there was one.
    With ``exists`` (IAM said so), "no such entity" is IAM lagging and is waited out."""
    serial = _serial(ctx, name)
    about: tuple[tuple[EntityKind, str], ...] = (("mfa", name),) if exists else ()
    try:
        ctx.call("DeleteVirtualMFADevice", about=about, SerialNumber=serial)
    except AwsError as exc:
        if exc.code == "NoSuchEntity":
            return False
        # Its seed is nowhere: say which device it is, so someone deletes it.
        raise AwsError(
            f"AWS lost the answer to CreateVirtualMFADevice {name} "
            f"{'once' if lost == 1 else f'{lost} times'}, and virtual MFA device {serial} "
            f"may remain, unassigned, with a seed nobody holds: deleting it failed: "
            f"{exc.message}",
            tip=f"aws iam delete-virtual-mfa-device --serial-number {serial}, then rerun",
            code=exc.code,
            action=exc.action,
            ambiguous=exc.ambiguous,
        ) from exc
    ctx.ui.print(
        f"Deleted virtual MFA device {serial}: AWS created it but its answer, with the seed, "
        "was lost, so nobody could enroll it."
    )
    return True


def enable(
    ctx: StepContext, user: str, name: str, serial: str, codes: Callable[[], tuple[str, str]]
) -> None:
    """EnableMFADevice, sent once, with ``codes()`` for every send; after a lost answer, the
    device assigned to the user is success (and so is "already exists" for this user and
    device)."""

    def sent_codes() -> dict[str, str]:
        code1, code2 = codes()
        return {"AuthenticationCode1": code1, "AuthenticationCode2": code2}

    for _ in range(MAX_SEND_TRIES):
        try:
            ctx.call(
                "EnableMFADevice",
                once=True,
                fresh=sent_codes,
                about=(("user", user), ("mfa", name)),
                UserName=user,
                SerialNumber=serial,
            )
            return
        except AwsError as exc:
            if exc.code == ALREADY_EXISTS:
                # In use: by this user (an earlier try whose answer was lost) is success.
                what = f"MFA device {serial} of {user}"
                if eventually(what, lambda: assigned(ctx, user, serial) or None):
                    return
                raise
            if not exc.ambiguous:
                raise
            if assigned(ctx, user, serial):
                return
    raise AwsError(
        f"AWS lost the answer to EnableMFADevice for {user} {MAX_SEND_TRIES} times",
        tip="rerun: the device stays pending and its seed in the keyring",
        action="iam:EnableMFADevice",
    )


def assigned(ctx: StepContext, user: str, serial: str) -> bool:
    """Whether IAM lists the device ``serial`` as the user's."""
    devices = ctx.list("ListMFADevices", "MFADevices", about=(("user", user),), UserName=user)
    return any(d["SerialNumber"] == serial for d in devices)
