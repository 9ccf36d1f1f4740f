"""The virtual-mfa step: create a virtual MFA device, show its QR code, check two consecutive
TOTP codes locally, then enable it. Resumable: a pending device whose seed is in the keyring is
picked up again by the next run instead of creating a second one.

With --mfa-handoff the step creates the device, keeps its seed, writes its QR code to a file for
its owner and ends the run there, the device pending: the owner scans it and sends back two codes,
and a later run with --mfa-codes enables it (and runs the steps held back, such as the
membership that grants power).

Once the device is enabled with codes from an app that scanned it (typed here, or --mfa-codes),
its seed is forgotten: a seed kept beside the password would make one keyring both factors. Only
--mfa-auto, whose owner has not received the seed yet, keeps it.

Every device the step creates is tagged as remediate's (who made it, and when): a device of the
user's name that IAM shows without that tag is someone else's (any holder of the self-service
MFA policy can make one), reported with what IAM shows and how to clear it, never deleted."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from remediate.aws.calls import paginate
from remediate.aws.errors import ALREADY_EXISTS, NOT_FOUND_CODES
from remediate.core.errors import AwsError, InputError
from remediate.core.terminal import print_secret, safe
from remediate.detect.cloudtrail import global_events_region
from remediate.steps.base import (
    ANY_RESOURCE,
    Arns,
    Change,
    EntityKind,
    FieldSpec,
    Grant,
    MfaDevice,
    Step,
    StepContext,
    Unchanged,
    register,
)
from remediate.steps.iam import MANAGED_BY_KEY, MANAGED_BY_VALUE, is_managed

log = logging.getLogger(__name__)

# Beside remediate:managed-by, the tags that say who created a device and when (IAM keeps no
# creator of a virtual MFA device, nor its creation date).
CREATED_BY_KEY = "remediate:created-by"
CREATED_AT_KEY = "remediate:created-at"
# The characters IAM allows in a tag value; any other (a comma in a session name) becomes "_".
_TAG_VALUE = re.compile(r"[^\w\s.:/=+\-@]")

MAX_ATTEMPTS = 3
CLOCK_SKEW_WARNING = 30.0
# Tries of a create or an enable whose answer AWS lost (each looks before it tries again).
MAX_SEND_TRIES = 3


def device_name(serial: str) -> str:
    """``arn:aws:iam::123:mfa/path/alice`` -> ``alice``."""
    return serial.rsplit("/", 1)[-1]


def device_tags(caller_arn: str | None, now: datetime) -> list[dict[str, str]]:
    """The tags of a device remediate creates: whose it is, who made it, and when."""
    tags = {MANAGED_BY_KEY: MANAGED_BY_VALUE, CREATED_AT_KEY: now.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if caller_arn:
        tags[CREATED_BY_KEY] = _TAG_VALUE.sub("_", caller_arn)[:256]
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def _date(value: object) -> str:
    return value.strftime("%Y-%m-%d") if isinstance(value, datetime) else "an unknown date"


def named_after(serial: str, user: str) -> bool:
    """Whether the device ``serial`` has ``user``'s name (compared without regard to case, as
    IAM compares names)."""
    return device_name(serial).casefold() == user.casefold()


def clock_skew(ctx: StepContext) -> float | None:
    """Seconds between this machine's clock and AWS's (``Date`` header of the last response)."""
    stats = ctx.aws.stats
    if stats.server_date is None or stats.local_date is None:
        return None
    return (stats.local_date - stats.server_date).total_seconds()


def on_terminal(ctx: StepContext) -> bool:
    """Whether what the step shows (``ctx.ui``, standard error) reaches a terminal: the QR code
    and the seed go nowhere else, never into a redirected log file."""
    try:
        return bool(ctx.ui.file.isatty())
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def terminal_size(ctx: StepContext) -> tuple[int, int] | None:
    """Columns and rows of the terminal the step's messages reach, when it is one."""
    import os

    try:
        size = os.get_terminal_size(ctx.ui.file.fileno())
    except (AttributeError, ValueError, OSError):
        return None
    return size.columns, size.lines


def _ask(ctx: StepContext, prompt: str, again: Callable[[], object] | None = None) -> str:
    """One code from the person at the terminal; an empty line (Enter pressed early) asks
    again (after ``again``: the QR code drawn anew), and costs no attempt."""
    while True:
        line = ctx.prompter.line(prompt)
        if line is None:
            # Ctrl-D or a closed terminal: a step failure (exit 3), since earlier steps did change.
            raise InputError(
                "no MFA codes were entered (end of input)",
                tip="rerun to enroll the same device, or pass --mfa-codes CODE1 CODE2",
            )
        if line.strip():
            return line
        if again is not None:
            again()


def _tries_left(left: int) -> str:
    return f"{left} more {'try' if left == 1 else 'tries'}"


@dataclass(frozen=True)
class MfaPlan:
    """The device to enroll: a new one named ``name``, or the pending ``serial`` whose ``seed``
    the keyring holds; ``stale`` is a pending device nobody can enroll, to delete first."""

    name: str
    serial: str | None = None
    seed: str | None = None
    stale: str | None = None


@register
class VirtualMfaStep(Step[MfaPlan]):
    """A virtual MFA device is enabled for the user.

    ```yaml
    - id: mfa
      kind: virtual-mfa
      with: {user: alice}
    ```
    Codes come from a person at the terminal, from --mfa-codes, or (--mfa-auto) are computed
    from the seed, which stays in the keyring so the owner can enroll the same device later.
    With --mfa-handoff the device is created and its QR code written, and the run ends there.
    """

    kind = "virtual-mfa"
    fields = {"user": FieldSpec("string", format="iam-user-name")}
    permissions = (
        "iam:ListMFADevices",
        "iam:ListVirtualMFADevices",
        "iam:CreateVirtualMFADevice",
        "iam:DeleteVirtualMFADevice",
        "iam:EnableMFADevice",
        "iam:ListMFADeviceTags",
        "iam:TagMFADevice",
    )
    asks_for_codes = True
    writes_per_change = 2  # CreateVirtualMFADevice, then EnableMFADevice

    def grants(self, arns: Arns) -> list[Grant]:
        user = self.params["user"]
        # The device has the user's name and no other (plan): a pattern such as mfa/alice-*
        # would also match mfa/alice-ops, the device of user alice-ops.
        return [
            Grant(("iam:ListMFADevices", "iam:EnableMFADevice"), (arns.user(user),)),
            Grant(("iam:ListVirtualMFADevices",), (ANY_RESOURCE,)),
            Grant(("iam:CreateVirtualMFADevice", "iam:DeleteVirtualMFADevice"), (arns.mfa(user),)),
            # Whose a device of the user's name is: remediate's tag, or none.
            Grant(("iam:ListMFADeviceTags",), (arns.mfa(user),)),
            # CreateVirtualMFADevice with Tags needs TagMFADevice too: only with remediate's mark.
            Grant(
                ("iam:TagMFADevice",),
                (arns.mfa(user),),
                {"StringEquals": {f"aws:RequestTag/{MANAGED_BY_KEY}": MANAGED_BY_VALUE}},
            ),
        ]

    def resource(self, ctx: StepContext) -> str:
        return f"virtual MFA device of {self.params['user']}"

    def ensures(self) -> frozenset[tuple[str, str]]:
        return frozenset({("mfa", str(self.params["user"]))})

    def plan(self, ctx: StepContext) -> Change[MfaPlan]:
        user = self.params["user"]
        if not ctx.will_create("user", user):
            devices = ctx.list(
                "ListMFADevices", "MFADevices", about=(("user", user),), UserName=user
            )
            if devices:
                serial = devices[0]["SerialNumber"]
                ctx.outcome.mfa = MfaDevice(serial, enabled=True, user=user)
                return Change(serial, "none", [f"{user} already has MFA device {serial}"])
        virtual = paginate(
            ctx.iam, "ListVirtualMFADevices", "VirtualMFADevices", AssignmentStatus="Any"
        )
        # The device is named after the user, as the console names it, and nothing else: the
        # policy scopes it to mfa/USER alone (grants). Device names are unique in an account.
        name = user
        same = [d for d in virtual if named_after(d["SerialNumber"], user)]
        holder = next((d for d in same if d.get("User")), None)
        if holder is not None:
            serial = holder["SerialNumber"]
            other = holder["User"].get("UserName", "another user")
            if str(other).casefold() == user.casefold():  # listed here, not yet by ListMFADevices
                ctx.outcome.mfa = MfaDevice(serial, enabled=True, user=user)
                return Change(serial, "none", [f"{user} already has MFA device {serial}"])
            raise InputError(
                f"the virtual MFA device named {user} ({serial}) is assigned to IAM user "
                f"{other}: IAM shows it enabled for {other} on {_date(holder.get('EnableDate'))}"
                f", {self._whose(ctx, serial)}; {user}'s device must have {user}'s name, the "
                "only one its policy allows: nothing was changed",
                tip=f"remediate never touches {other}'s device; if {other} should not have it, "
                f"clear it: aws iam deactivate-mfa-device --user-name {other} --serial-number "
                f"{serial} && aws iam delete-virtual-mfa-device --serial-number {serial}, then "
                "rerun",
            )
        pending = next((d["SerialNumber"] for d in same), None)
        seed = self._seed(ctx, user) if pending else None
        if pending and not seed and not is_managed(self._tags(ctx, pending)):
            # Not remediate's, and nobody here can enroll it: someone made it for this name.
            raise InputError(
                f"a virtual MFA device named {user} ({pending}) already exists, not assigned to "
                f"any user, {self._whose(ctx, pending)}, and the keyring holds no seed of it: "
                "nothing was changed",
                tip="if nobody is enrolling it, delete it: aws iam delete-virtual-mfa-device "
                f"--serial-number {pending}, then rerun",
            )
        details: list[str] = []
        handoff = ctx.options.mfa.mode == "handoff"
        ends_run = (
            f"the MFA device of {user} waits for the two codes {user} sends back "
            "(--mfa-handoff): a later run with --mfa-codes CODE1 CODE2 enables it"
            if handoff
            else None
        )
        if pending and seed and handoff:
            ctx.saw("mfa", name)
            ctx.outcome.mfa = MfaDevice(
                pending, enabled=False, user=user, handoff=True, seed_kept=True
            )
            return Change(
                pending,
                "none",
                [
                    f"pending device {pending} waits for {user}'s two codes (hand-off): finish "
                    "with --mfa-codes CODE1 CODE2; `remediate secrets show "
                    f"{user} --what mfa-qr` shows its QR code again"
                ],
                ends_run=ends_run,
            )
        if pending and seed:
            state = MfaPlan(name, serial=pending, seed=seed)
            ctx.saw("mfa", name)
            details.append(f"resume enrolling pending device {pending}")
        else:
            ctx.plan_create("mfa", name)
            state = MfaPlan(name, stale=pending)
            if pending:
                details.append(
                    f"delete pending device {pending} (no valid seed for it in the keyring, so "
                    "it cannot be enrolled) and create a fresh one"
                )
            details.append(f"create virtual MFA device {name} for {user}")
        if handoff:
            details.append(
                f"write its QR code to {ctx.options.mfa.qr_path(ctx.account_id)} for {user} to "
                "scan, and end the run there with the device pending: --mfa-codes CODE1 CODE2, "
                f"with the two codes {user} sends back, enables it"
            )
        else:
            details.append("enable it with two consecutive codes")
            self._warn_clock(ctx)
        return Change(
            state.serial or self.resource(ctx),
            "create",
            details,
            makes_secret=state.seed is None,
            state=state,
            ends_run=ends_run,
        )

    @staticmethod
    def _tags(ctx: StepContext, serial: str) -> dict[str, str]:
        """A device's tags (ListMFADeviceTags: ListVirtualMFADevices leaves them out)."""
        try:
            listed = paginate(ctx.iam, "ListMFADeviceTags", "Tags", SerialNumber=serial)
        except AwsError as exc:
            if exc.code in NOT_FOUND_CODES:  # deleted since it was listed
                return {}
            raise
        return {str(t["Key"]): str(t["Value"]) for t in listed}

    def _whose(self, ctx: StepContext, serial: str) -> str:
        """Who made a device, as far as IAM shows: remediate's tags, else none of them; and
        where the rest is (IAM keeps no creator; CloudTrail's CreateVirtualMFADevice does)."""
        tags = self._tags(ctx, serial)
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

    @staticmethod
    def _seed(ctx: StepContext, user: str) -> str | None:
        from remediate.credentials.totp import seed_is_valid

        seed = ctx.secrets.get(ctx.account_id, user, "mfa-seed") if ctx.secrets.usable() else None
        # An entry that is no base32 seed (edited by hand) cannot enroll anything; using it would
        # stop the run with a traceback on every rerun instead of replacing the device.
        return seed if seed and seed_is_valid(seed) else None

    def _warn_clock(self, ctx: StepContext) -> None:
        skew = clock_skew(ctx)
        if skew is not None and abs(skew) > CLOCK_SKEW_WARNING:
            ctx.ui.print(
                f"[yellow]Warning:[/] this machine's clock is {abs(skew):.0f} s "
                f"{'ahead of' if skew > 0 else 'behind'} AWS's; TOTP codes may be rejected."
            )

    def preflight(self, ctx: StepContext, change: Change[MfaPlan]) -> None:
        mfa = ctx.options.mfa
        qr_path = mfa.qr_path(ctx.account_id)
        if mfa.mode == "handoff":
            if qr_path is None:
                raise InputError("--mfa-handoff needs --qr-file PATH: the QR code to send")
            # The seed must outlive this run: --mfa-codes enables the device with it later.
            if not ctx.secrets.usable():
                why = "the keyring cannot keep it"
                try:
                    ctx.secrets.require_usable()
                except InputError as exc:
                    why = exc.message
                raise InputError(
                    "--mfa-handoff keeps the device's seed in the keyring until --mfa-codes "
                    f"enables it: {why}",
                    tip="use an encrypted keyring backend (--show-secrets cannot stand in for "
                    "it here), or enroll in person",
                )
        if mfa.mode == "interactive" and not ctx.prompter.interactive:
            raise InputError(
                "no terminal to type the MFA codes on",
                tip="pass --mfa-auto, --mfa-codes CODE1 CODE2, or --no-mfa",
            )
        # The QR code and the seed hold the device's secret: shown only on a terminal, never
        # written into wherever standard error was redirected (2>log).
        if mfa.mode == "interactive" and not mfa.qr_file and not on_terminal(ctx):
            raise InputError(
                "the MFA QR code goes to standard error, which is not a terminal (redirected?), "
                "and it holds the device's secret",
                tip="pass --qr-file PATH for a 0600 PNG to scan, or --mfa-auto, or --mfa-codes "
                "CODE1 CODE2 for a device already scanned",
            )
        if mfa.mode == "interactive" and not mfa.qr_file and not mfa.show_secret:
            self._require_room(ctx, change.planned)
        if mfa.show_secret and not on_terminal(ctx):
            raise InputError(
                "--show-mfa-secret prints the MFA secret on standard error, which is not a "
                "terminal (redirected?)",
                tip="run it with standard error on the terminal, use --qr-file PATH instead, or "
                "hand the secret over later: remediate secrets show USER --what mfa-secret",
            )
        if mfa.mode == "codes":
            seed = change.planned.seed
            if seed is None:
                raise InputError(
                    f"--mfa-codes needs a device pending from an earlier run for "
                    f"{self.params['user']}, and there is none with its seed in the keyring",
                    tip="run once interactively, or with --mfa-auto",
                )
            assert mfa.codes is not None
            self._given_codes(ctx, seed, change.planned.serial)
        if qr_path and Path(qr_path).exists():
            raise InputError(f"{qr_path} already exists; choose another --qr-file path")
        if qr_path and not Path(qr_path).parent.is_dir():
            # Found only once the device exists, it would leave the QR code unwritten.
            raise InputError(
                f"cannot write {qr_path}: {Path(qr_path).parent} is not a directory",
                tip="create it, or choose another --qr-file path",
            )

    def _require_room(self, ctx: StepContext, plan: MfaPlan) -> None:
        """Refuse, before any change, a terminal too small for the QR code when it is the only
        way to enroll (no --qr-file, no --show-mfa-secret)."""
        from remediate.credentials.totp import (
            AWS_SEED_LENGTH,
            fit_terminal_qr,
            otpauth_uri,
            qr_size,
        )

        size = terminal_size(ctx) if on_terminal(ctx) else None
        if size is None:
            return
        # A new device's seed is not known yet: AWS's seeds all have the same length.
        seed = plan.seed or "A" * AWS_SEED_LENGTH
        uri = otpauth_uri(seed, self.params["user"], ctx.account_id)
        if fit_terminal_qr(uri, *size) is not None:
            return
        width, height = qr_size(uri)
        raise InputError(
            f"the MFA QR code does not fit this terminal ({size[0]}x{size[1]}): it needs "
            f"{height + 2} rows, or {height} rows and {width + 24} columns",
            tip="make the window larger, or pass --qr-file PATH (a 0600 PNG to scan) or "
            "--show-mfa-secret (a key to type into the app)",
        )

    def apply(self, ctx: StepContext, change: Change[MfaPlan]) -> Unchanged | None:
        from remediate.credentials.totp import otpauth_uri

        user = self.params["user"]
        plan = change.planned
        if ctx.turned_out_to_exist("user", user):
            # The plan thought the user new (a stale read): look before enrolling a second device.
            devices = ctx.list(
                "ListMFADevices", "MFADevices", about=(("user", user),), UserName=user
            )
            if devices:
                ctx.outcome.mfa = MfaDevice(devices[0]["SerialNumber"], enabled=True, user=user)
                return Unchanged(f"{user} already had MFA device {devices[0]['SerialNumber']}")
        if plan.stale:
            ctx.ui.print(
                f"Deleting pending device {safe(plan.stale)}: the keyring holds no valid "
                "seed for it, so nobody can enroll it."
            )
            ctx.call("DeleteVirtualMFADevice", SerialNumber=plan.stale)
        serial, seed = plan.serial, plan.seed
        kept = True
        if serial is None or seed is None:
            serial, seed = self._create(ctx, plan.name)
            # Keep the seed before anything else can fail, so the next run can resume.
            if ctx.keep_secret(user, "mfa-seed", seed).stored_in is None:
                kept = False
                ctx.ui.print("[yellow]Warning:[/] no keyring: this device cannot be resumed.")
        change.resource = serial
        handoff = ctx.options.mfa.mode == "handoff"
        device_state = ctx.outcome.mfa = MfaDevice(
            serial,
            enabled=False,
            user=user,
            handoff=handoff,
            qr_file=ctx.options.mfa.qr_path(ctx.account_id),
            seed_kept=kept,
        )
        ctx.outcome.user = user
        uri = otpauth_uri(seed, user, ctx.account_id)
        self._show(ctx, uri, seed)
        if handoff:
            return None  # the owner's two codes come back to a later run (--mfa-codes)
        self._enable(ctx, user, plan.name, serial, seed)
        device_state.enabled = True
        if ctx.options.mfa.mode != "auto":
            self._forget_seed(ctx, user, device_state)
        return None

    @staticmethod
    def _forget_seed(ctx: StepContext, user: str, device: MfaDevice) -> None:
        """Enabled with codes from an app that scanned it: nobody still has to receive the
        seed, and kept beside the password it would be a second factor in the same keyring."""
        if ctx.secrets.usable():
            ctx.secrets.delete(ctx.account_id, user, "mfa-seed")
            ctx.outcome.kept_before = tuple(
                kind
                for kind in ("password", "access-key")
                if ctx.secrets.get(ctx.account_id, user, kind) is not None
            )
        # Not to be shown or listed either (--show-secrets, the JSON document): it was handed.
        ctx.outcome.secrets = [
            s for s in ctx.outcome.secrets if not (s.user == user and s.kind == "mfa-seed")
        ]
        device.seed_kept = False
        device.seed_forgotten = True

    def _create(self, ctx: StepContext, name: str) -> tuple[str, str]:
        """CreateVirtualMFADevice, sent once: its answer carries the seed, so a device made by a
        request whose answer was lost can never be enrolled; it is deleted and made again."""
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
                    unresolved = not self._delete_lost(ctx, name, exists=False, lost=lost)
                elif exc.code == ALREADY_EXISTS and unresolved:
                    # The lost request's device, still invisible to the delete: it exists.
                    self._delete_lost(ctx, name, exists=True, lost=lost)
                    unresolved = False
                else:
                    raise
        # No create follows to say whether the last lost one made a device: wait for it as for
        # one IAM said exists, so the message below is true.
        serial = self._serial(ctx, name)
        if self._delete_lost(ctx, name, exists=True, lost=lost):
            left = f"virtual MFA device {serial}, made by a lost request, was deleted"
        else:
            left = f"IAM shows no virtual MFA device {serial}: no lost request left one"
        raise AwsError(
            f"AWS lost the answer to CreateVirtualMFADevice {name} {MAX_SEND_TRIES} times; {left}",
            tip="rerun",
            action="iam:CreateVirtualMFADevice",
        )

    @staticmethod
    def _serial(ctx: StepContext, name: str) -> str:
        return f"arn:{ctx.partition}:iam::{ctx.account_id}:mfa/{name}"

    def _delete_lost(self, ctx: StepContext, name: str, *, exists: bool, lost: int) -> bool:
        """Delete the device a lost CreateVirtualMFADevice may have made; True if there was one.
        With ``exists`` (IAM said so), "no such entity" is IAM lagging and is waited out."""
        serial = self._serial(ctx, name)
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

    def _enable(self, ctx: StepContext, user: str, name: str, serial: str, seed: str) -> None:
        """EnableMFADevice, sent once; after a lost answer, the device assigned to the user is
        success (and so is "already exists" for this user and device)."""
        codes = None if ctx.options.mfa.mode == "auto" else self._codes(ctx, seed, serial)

        def sent_codes() -> dict[str, str]:
            # Computed codes are computed again for every send: a code goes stale in 30 s, and
            # IAM refuses a code it has already seen.
            code1, code2 = codes or self._codes(ctx, seed)
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
                    from remediate.aws.calls import eventually

                    what = f"MFA device {serial} of {user}"
                    if eventually(what, lambda: self._assigned(ctx, user, serial) or None):
                        return
                    raise
                if not exc.ambiguous:
                    raise
                if self._assigned(ctx, user, serial):
                    return
        raise AwsError(
            f"AWS lost the answer to EnableMFADevice for {user} {MAX_SEND_TRIES} times",
            tip="rerun: the device stays pending and its seed in the keyring",
            action="iam:EnableMFADevice",
        )

    @staticmethod
    def _assigned(ctx: StepContext, user: str, serial: str) -> bool:
        devices = ctx.list("ListMFADevices", "MFADevices", about=(("user", user),), UserName=user)
        return any(d["SerialNumber"] == serial for d in devices)

    def _show(self, ctx: StepContext, uri: str, seed: str) -> None:
        from remediate.credentials.totp import write_qr_png

        mfa = ctx.options.mfa
        terminal = on_terminal(ctx)  # preflight refused the run where it had to be one
        qr_path = mfa.qr_path(ctx.account_id)
        user = self.params["user"]
        if qr_path:
            write_qr_png(uri, Path(qr_path))
            self._shown(ctx, user)
            ctx.ui.print(f"QR code written to {safe(qr_path)} (mode 0600).")
        if mfa.show_secret and terminal:
            # Before the code: the code's last line may hold the first prompt.
            print_secret(ctx.ui, "Secret key for manual entry: ", seed)
            self._shown(ctx, user)
        # A hand-off's QR code is for its owner, in the file: not for the operator's screen.
        if ctx.prompter.interactive and mfa.mode not in ("auto", "handoff") and terminal:
            self._show_qr(ctx, uri, reserved=1 if mfa.show_secret else 0)
            self._shown(ctx, user)
            if ctx.outcome.mfa is not None:
                ctx.outcome.mfa.scanned_here = True

    @staticmethod
    def _shown(ctx: StepContext, user: str) -> None:
        """The seed reached a person (a QR code shown or written, the secret printed)."""
        if ctx.secrets.usable() and ctx.secrets.get(ctx.account_id, user, "mfa-seed"):
            ctx.secrets.mark_shown(ctx.account_id, user, "mfa-seed")

    def _show_qr(
        self, ctx: StepContext, uri: str, *, reserved: int, note: str | None = None
    ) -> bool:
        """The QR code, all of it on the screen while code 1 is typed: sized to the terminal,
        or, where it cannot fit, what to do instead (the prompts follow either way). ``note``
        (why code 1 is asked again) goes above or beside a redrawn code, so that neither scrolls
        off the screen. False when the code is not on the screen."""
        from remediate.credentials.totp import lay_out_qr, qr_size, render_qr_terminal

        size = terminal_size(ctx)
        out = ctx.ui.file
        if size is None:  # a terminal of unknown size: the code as `secrets show` prints it
            if note is not None:
                ctx.ui.print(safe(note))
            ctx.ui.print("Scan this QR code with an authenticator app:")
            out.write(render_qr_terminal(uri))
            out.flush()
            return True
        columns, rows = size[0], size[1] - reserved
        screen = None
        if note is not None:
            plain = safe(note, markup=False)
            screen = lay_out_qr(uri, columns, rows, above=plain, beside=plain)
            if screen is None:  # no room for both: the code wins, the note goes first
                ctx.ui.print(safe(note))
        if screen is None:
            screen = lay_out_qr(
                uri,
                columns,
                rows,
                above="Scan this QR code with an authenticator app:",
                beside="Scan this QR code with an authenticator app, then type the two codes it "
                "shows.",
            )
        if screen is None:
            width, height = qr_size(uri)
            user = self.params["user"]
            ctx.ui.print(
                f"[yellow]The QR code does not fit this terminal[/] ({size[0]}x{size[1]}; it needs "
                f"{height + 2} rows, or {height} rows and {width + 24} columns). Make the window "
                "larger and show it with `remediate secrets show "
                f"{safe(user)} --what mfa-qr` in another terminal (add --qr-file PATH for a PNG, "
                "or use --what mfa-secret to type the key in), then type the codes here."
            )
            return False
        out.write("\n".join(screen))
        out.flush()
        return True

    def _given_codes(self, ctx: StepContext, seed: str, serial: str | None) -> tuple[str, str]:
        """--mfa-codes, checked; an error names the device and how to show its QR code again
        (none was shown in this run)."""
        from remediate.credentials.totp import MfaCodeError, check_codes, normalize_code

        mfa = ctx.options.mfa
        assert mfa.codes is not None
        user = self.params["user"]
        try:
            check_codes(seed, *mfa.codes, now=time.time())
        except MfaCodeError as exc:
            device = f"the pending virtual MFA device {serial} of {user}" if serial else user
            raise MfaCodeError(
                f"--mfa-codes for {device}: {exc.message}",
                tip=f"show its QR code again with `remediate secrets show {user} --what mfa-qr` "
                "(or --qr-file PATH), scan it if the app has no entry for it, then pass the two "
                "newest codes",
                reason=exc.reason,
            ) from None
        # AWS takes six digits: no blanks from a pasted line, no spaces or dashes.
        return normalize_code(mfa.codes[0]), normalize_code(mfa.codes[1])

    def _codes(self, ctx: StepContext, seed: str, serial: str | None = None) -> tuple[str, str]:
        from remediate.credentials.totp import (
            MfaCodeError,
            auto_codes,
            check_code,
            check_codes,
            fit_terminal_qr,
            normalize_code,
            otpauth_uri,
        )

        mfa = ctx.options.mfa
        if mfa.mode == "auto":
            return auto_codes(seed, now=time.time())
        if mfa.mode == "codes":
            return self._given_codes(ctx, seed, serial)
        user = self.params["user"]
        uri = otpauth_uri(seed, user, ctx.account_id)
        reserved = 1 if mfa.show_secret else 0
        # The code stays on the screen while code 1 is asked again: each retry draws it anew.
        size = terminal_size(ctx)
        redraw = on_terminal(ctx) and (
            size is None or fit_terminal_qr(uri, size[0], size[1] - reserved) is not None
        )

        def draw(note: str | None = None) -> bool:
            return self._show_qr(ctx, uri, reserved=reserved, note=note)

        failures = 0
        code1: str | None = None
        while True:
            # Each code is checked as it is typed: a wrong code 1 is said before code 2 is asked.
            try:
                if code1 is None:
                    typed = _ask(ctx, "MFA code 1", draw if redraw else None)
                    check_code(seed, typed, now=time.time())
                    code1 = typed
                code2 = _ask(ctx, "MFA code 2 (the next one the app shows)")
                check_codes(seed, code1, code2, now=time.time())
                return normalize_code(code1), normalize_code(code2)
            except MfaCodeError as exc:
                failures += 1
                left = MAX_ATTEMPTS - failures
                if not left:
                    raise
                tip = exc.tip or ""
                if exc.reason == "wrong":
                    older = "an older entry in the app for this user has another secret"
                    if redraw:
                        tip = f"scan the QR code shown here: {older}"
                    elif mfa.qr_file:
                        tip = f"scan the QR code in {mfa.qr_file}: {older}"
                    else:
                        tip = (
                            f"show its QR code with `remediate secrets show {user} --what "
                            f"mfa-qr` (or --qr-file PATH) and scan it: {older}"
                        )
                # A mistyped code 2 leaves code 1 good while it is current: ask code 2 again.
                keep = code1 is not None and exc.reason in ("malformed", "same", "wrong")
                if keep and code1 is not None:
                    try:
                        check_code(seed, code1, now=time.time())
                    except MfaCodeError:
                        keep = False
                message = exc.message[:1].upper() + exc.message[1:]
                said = f"{message}. {tip[:1].upper() + tip[1:]}. {_tries_left(left)}."
                if keep or not redraw:
                    ctx.ui.print(f"[red]{safe(message)}.[/] {safe(said[len(message) + 2 :])}")
                else:
                    draw(said)
                if not keep:
                    code1 = None
