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

The device's lifecycle in IAM is remediate.steps.mfa_device's; the person at the terminal who
scans its QR code and types the codes is the context's Enrollment (remediate.steps.enrollment).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from remediate.aws.calls import paginate
from remediate.core.errors import InputError
from remediate.core.terminal import print_secret, safe
from remediate.credentials import totp
from remediate.steps import mfa_device
from remediate.steps.access import Access, anywhere, the_user, the_users_device
from remediate.steps.base import Change, MfaDevice, StepContext, Unchanged
from remediate.steps.enrollment import CodeRequest
from remediate.steps.iam import MANAGED_BY_KEY, MANAGED_BY_VALUE, is_managed
from remediate.steps.kind import Step, register
from remediate.steps.params import param

log = logging.getLogger(__name__)

CLOCK_SKEW_WARNING = 30.0


def _date(value: object) -> str:
    return value.strftime("%Y-%m-%d") if isinstance(value, datetime) else "an unknown date"


def clock_skew(ctx: StepContext) -> float | None:
    """Seconds between this machine's clock and AWS's (``Date`` header of the last response)."""
    stats = ctx.aws.stats
    if stats.server_date is None or stats.local_date is None:
        return None
    return (stats.local_date - stats.server_date).total_seconds()


@dataclass(frozen=True)
class MfaPlan:
    """The device to enroll: a new one named ``name``, or the pending ``serial`` whose ``seed``
    the keyring holds; ``stale`` is a pending device nobody can enroll, to delete first."""

    name: str
    serial: str | None = None
    seed: str | None = None
    stale: str | None = None


@dataclass(frozen=True)
class VirtualMfaArgs:
    user: str = param(format="iam-user-name")


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
    args: VirtualMfaArgs
    # The device has the user's name and no other (plan): a pattern such as mfa/alice-* would
    # also match mfa/alice-ops, the device of user alice-ops.
    access = (
        Access(("iam:ListMFADevices", "iam:EnableMFADevice"), the_user),
        Access(("iam:ListVirtualMFADevices",), anywhere),
        Access(("iam:CreateVirtualMFADevice", "iam:DeleteVirtualMFADevice"), the_users_device),
        # Whose a device of the user's name is: remediate's tag, or none.
        Access(("iam:ListMFADeviceTags",), the_users_device),
        # CreateVirtualMFADevice with Tags needs TagMFADevice too: only with remediate's mark.
        Access(
            ("iam:TagMFADevice",),
            the_users_device,
            lambda args, arns: {
                "StringEquals": {f"aws:RequestTag/{MANAGED_BY_KEY}": MANAGED_BY_VALUE}
            },
        ),
    )
    asks_for_codes = True
    writes_per_change = 2  # CreateVirtualMFADevice, then EnableMFADevice

    @property
    def user(self) -> str:
        return self.args.user

    def resource(self, ctx: StepContext) -> str:
        return f"virtual MFA device of {self.args.user}"

    def ensures(self) -> frozenset[tuple[str, str]]:
        return frozenset({("mfa", self.args.user)})

    def plan(self, ctx: StepContext) -> Change[MfaPlan]:
        user = self.args.user
        # The device is named after the user, as the console names it, and nothing else: the
        # policy scopes it to mfa/USER alone (access). Device names are unique in an account.
        name = user
        enabled = self._enabled(ctx, user)
        if enabled is not None:
            return enabled
        virtual = paginate(
            ctx.iam, "ListVirtualMFADevices", "VirtualMFADevices", AssignmentStatus="Any"
        )
        same = [d for d in virtual if mfa_device.named_after(d["SerialNumber"], user)]
        held = self._held(ctx, user, same)
        if held is not None:
            return held
        pending, seed = self._pending(ctx, user, same)
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
        details: list[str] = []
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
    def _enabled(ctx: StepContext, user: str) -> Change[MfaPlan] | None:
        """The plan when IAM lists an MFA device of the user's."""
        if ctx.will_create("user", user):
            return None
        devices = ctx.list("ListMFADevices", "MFADevices", about=(("user", user),), UserName=user)
        if not devices:
            return None
        serial = devices[0]["SerialNumber"]
        ctx.outcome.mfa = MfaDevice(serial, enabled=True, user=user)
        return Change(serial, "none", [f"{user} already has MFA device {serial}"])

    @staticmethod
    def _held(ctx: StepContext, user: str, same: list[Any]) -> Change[MfaPlan] | None:
        """The plan when the device of the user's name is assigned: the user's (not listed by
        ListMFADevices yet), or refused when it is another user's (the user's must have that
        name)."""
        holder = next((d for d in same if d.get("User")), None)
        if holder is None:
            return None
        serial = holder["SerialNumber"]
        other = holder["User"].get("UserName", "another user")
        if str(other).casefold() == user.casefold():  # listed here, not yet by ListMFADevices
            ctx.outcome.mfa = MfaDevice(serial, enabled=True, user=user)
            return Change(serial, "none", [f"{user} already has MFA device {serial}"])
        raise InputError(
            f"the virtual MFA device named {user} ({serial}) is assigned to IAM user "
            f"{other}: IAM shows it enabled for {other} on {_date(holder.get('EnableDate'))}"
            f", {mfa_device.whose(ctx, serial)}; {user}'s device must have {user}'s name, the "
            "only one its policy allows: nothing was changed",
            tip=f"remediate never touches {other}'s device; if {other} should not have it, "
            f"clear it: aws iam deactivate-mfa-device --user-name {other} --serial-number "
            f"{serial} && aws iam delete-virtual-mfa-device --serial-number {serial}, then "
            "rerun",
        )

    def _pending(
        self, ctx: StepContext, user: str, same: list[Any]
    ) -> tuple[str | None, str | None]:
        """The unassigned device of the user's name, and its seed when the keyring holds it. One
        that is not remediate's, whose seed nobody here holds, is refused."""
        pending = next((d["SerialNumber"] for d in same), None)
        seed = self._seed(ctx, user) if pending else None
        if pending and not seed and not is_managed(mfa_device.tags_of(ctx, pending)):
            # Not remediate's, and nobody here can enroll it: someone made it for this name.
            raise InputError(
                f"a virtual MFA device named {user} ({pending}) already exists, not assigned to "
                f"any user, {mfa_device.whose(ctx, pending)}, and the keyring holds no seed of "
                "it: nothing was changed",
                tip="if nobody is enrolling it, delete it: aws iam delete-virtual-mfa-device "
                f"--serial-number {pending}, then rerun",
            )
        return pending, seed

    @staticmethod
    def _seed(ctx: StepContext, user: str) -> str | None:
        seed = ctx.secrets.get(ctx.account_id, user, "mfa-seed") if ctx.secrets.usable() else None
        # An entry that is no base32 seed (edited by hand) cannot enroll anything; using it would
        # stop the run with a traceback on every rerun instead of replacing the device.
        return seed if seed and totp.seed_is_valid(seed) else None

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
        if mfa.mode == "interactive" and not mfa.qr_file and not ctx.enrollment.on_terminal():
            raise InputError(
                "the MFA QR code goes to standard error, which is not a terminal (redirected?), "
                "and it holds the device's secret",
                tip="pass --qr-file PATH for a 0600 PNG to scan, or --mfa-auto, or --mfa-codes "
                "CODE1 CODE2 for a device already scanned",
            )
        if mfa.mode == "interactive" and not mfa.qr_file and not mfa.show_secret:
            self._require_room(ctx, change.planned)
        if mfa.show_secret and not ctx.enrollment.on_terminal():
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
                    f"{self.args.user}, and there is none with its seed in the keyring",
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
        # A new device's seed is not known yet: AWS's seeds all have the same length.
        seed = plan.seed or "A" * totp.AWS_SEED_LENGTH
        uri = totp.otpauth_uri(seed, self.args.user, ctx.account_id)
        size = ctx.enrollment.too_small(uri)
        if size is None:
            return
        width, height = totp.qr_size(uri)
        raise InputError(
            f"the MFA QR code does not fit this terminal ({size[0]}x{size[1]}): it needs "
            f"{height + 2} rows, or {height} rows and {width + 24} columns",
            tip="make the window larger, or pass --qr-file PATH (a 0600 PNG to scan) or "
            "--show-mfa-secret (a key to type into the app)",
        )

    def apply(self, ctx: StepContext, change: Change[MfaPlan]) -> Unchanged | None:
        user = self.args.user
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
            serial, seed = mfa_device.create(ctx, plan.name)
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
        uri = totp.otpauth_uri(seed, user, ctx.account_id)
        self._show(ctx, uri, seed)
        if handoff:
            return None  # the owner's two codes come back to a later run (--mfa-codes)
        # Codes computed for --mfa-auto are computed again for every send: a code goes stale in
        # 30 s, and IAM refuses a code it has already seen.
        typed = None if ctx.options.mfa.mode == "auto" else self._codes(ctx, seed, serial)
        mfa_device.enable(ctx, user, plan.name, serial, lambda: typed or self._codes(ctx, seed))
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

    def _show(self, ctx: StepContext, uri: str, seed: str) -> None:
        mfa = ctx.options.mfa
        terminal = ctx.enrollment.on_terminal()  # preflight refused the run where it had to be one
        qr_path = mfa.qr_path(ctx.account_id)
        user = self.args.user
        if qr_path:
            totp.write_qr_png(uri, Path(qr_path))
            self._shown(ctx, user)
            ctx.ui.print(f"QR code written to {safe(qr_path)} (mode 0600).")
        if mfa.show_secret and terminal:
            # Before the code: the code's last line may hold the first prompt.
            print_secret(ctx.ui, "Secret key for manual entry: ", seed)
            self._shown(ctx, user)
        # A hand-off's QR code is for its owner, in the file: not for the operator's screen.
        if ctx.prompter.interactive and mfa.mode not in ("auto", "handoff") and terminal:
            ctx.enrollment.show_qr(user, uri, reserved=1 if mfa.show_secret else 0)
            self._shown(ctx, user)
            if ctx.outcome.mfa is not None:
                ctx.outcome.mfa.scanned_here = True

    @staticmethod
    def _shown(ctx: StepContext, user: str) -> None:
        """The seed reached a person (a QR code shown or written, the secret printed)."""
        if ctx.secrets.usable() and ctx.secrets.get(ctx.account_id, user, "mfa-seed"):
            ctx.secrets.mark_shown(ctx.account_id, user, "mfa-seed")

    def _given_codes(self, ctx: StepContext, seed: str, serial: str | None) -> tuple[str, str]:
        """--mfa-codes, checked; an error names the device and how to show its QR code again
        (none was shown in this run)."""
        mfa = ctx.options.mfa
        assert mfa.codes is not None
        user = self.args.user
        try:
            totp.check_codes(seed, *mfa.codes, now=time.time())
        except totp.MfaCodeError as exc:
            device = f"the pending virtual MFA device {serial} of {user}" if serial else user
            raise totp.MfaCodeError(
                f"--mfa-codes for {device}: {exc.message}",
                tip=f"show its QR code again with `remediate secrets show {user} --what mfa-qr` "
                "(or --qr-file PATH), scan it if the app has no entry for it, then pass the two "
                "newest codes",
                reason=exc.reason,
            ) from None
        # AWS takes six digits: no blanks from a pasted line, no spaces or dashes.
        return totp.normalize_code(mfa.codes[0]), totp.normalize_code(mfa.codes[1])

    def _codes(self, ctx: StepContext, seed: str, serial: str | None = None) -> tuple[str, str]:
        mfa = ctx.options.mfa
        if mfa.mode == "auto":
            return totp.auto_codes(seed, now=time.time())
        if mfa.mode == "codes":
            return self._given_codes(ctx, seed, serial)
        user = self.args.user
        uri = totp.otpauth_uri(seed, user, ctx.account_id)
        reserved = 1 if mfa.show_secret else 0
        return ctx.enrollment.codes(CodeRequest(user, uri, seed, mfa.qr_file, reserved))
