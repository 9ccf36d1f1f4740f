"""The virtual-mfa step: create a virtual MFA device, show its QR code, check two consecutive
TOTP codes locally, then enable it. Resumable: a pending device whose seed is in the keyring is
picked up again by the next run instead of creating a second one."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from remediate.aws.calls import call, paginate
from remediate.errors import InputError
from remediate.steps.base import Change, FieldSpec, MfaDevice, Step, StepContext, register

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
CLOCK_SKEW_WARNING = 30.0


def device_name(serial: str) -> str:
    """``arn:aws:iam::123:mfa/path/alice`` -> ``alice``."""
    return serial.rsplit("/", 1)[-1]


def free_device_name(user: str, taken: set[str]) -> str:
    """The user's name, or ``user-2``, ``user-3``... when another user's device holds it."""
    if user not in taken:
        return user
    n = 2
    # No truncation: device names may be longer than user names (64), and cutting "-2" off a
    # 64-character name would give back the very name that is taken.
    while f"{user}-{n}" in taken:
        n += 1
    return f"{user}-{n}"


def clock_skew(ctx: StepContext) -> float | None:
    """Seconds between this machine's clock and AWS's (``Date`` header of the last response)."""
    stats = ctx.aws.stats
    if stats.server_date is None or stats.local_date is None:
        return None
    return (stats.local_date - stats.server_date).total_seconds()


def _ask(ctx: StepContext, prompt: str) -> str:
    """One line from the person at the terminal."""
    line = ctx.prompter.line(prompt)
    if line is None:
        # Ctrl-D or a closed terminal: a step failure (exit 3), since earlier steps did change.
        raise InputError(
            "no MFA codes were entered (end of input)",
            tip="rerun to enroll the same device, or pass --mfa-codes CODE1 CODE2",
        )
    return line


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
    """

    kind = "virtual-mfa"
    fields = {"user": FieldSpec("string", format="iam-user-name")}
    permissions = (
        "iam:ListMFADevices",
        "iam:ListVirtualMFADevices",
        "iam:CreateVirtualMFADevice",
        "iam:DeleteVirtualMFADevice",
        "iam:EnableMFADevice",
    )
    asks_for_codes = True
    writes_per_change = 2  # CreateVirtualMFADevice, then EnableMFADevice

    def resource(self, ctx: StepContext) -> str:
        return f"virtual MFA device of {self.params['user']}"

    def ensures(self) -> frozenset[tuple[str, str]]:
        return frozenset({("mfa", str(self.params["user"]))})

    def plan(self, ctx: StepContext) -> Change[MfaPlan]:
        user = self.params["user"]
        if not ctx.will_create("user", user):
            devices = paginate(ctx.iam, "ListMFADevices", "MFADevices", UserName=user)
            if devices:
                serial = devices[0]["SerialNumber"]
                ctx.outcome.mfa = MfaDevice(serial, enabled=True)
                return Change(serial, "none", [f"{user} already has MFA device {serial}"])
        virtual = paginate(
            ctx.iam, "ListVirtualMFADevices", "VirtualMFADevices", AssignmentStatus="Any"
        )
        taken = {device_name(d["SerialNumber"]) for d in virtual if d.get("User")}
        unassigned = {
            device_name(d["SerialNumber"]): d["SerialNumber"] for d in virtual if not d.get("User")
        }
        # The pending device of an earlier run has the name that run chose, which is not the
        # user's own name when another user's device holds it (alice-2): look for that name.
        name = free_device_name(user, taken)
        pending = unassigned.get(name)
        seed = self._seed(ctx, user) if pending else None
        while pending and seed is None and name != user and self._seed(ctx, name):
            # The pending enrollment of the user who has this name: not ours to delete.
            taken.add(name)
            name = free_device_name(user, taken)
            pending = unassigned.get(name)
        details: list[str] = []
        if pending and seed:
            state = MfaPlan(name, serial=pending, seed=seed)
            details.append(f"resume enrolling pending device {pending}")
        else:
            state = MfaPlan(name, stale=pending)
            if pending:
                details.append(
                    f"delete pending device {pending} (no valid seed for it in the keyring, so "
                    "it cannot be enrolled) and create a fresh one"
                )
            details.append(f"create virtual MFA device {name} for {user}")
        details.append("enable it with two consecutive codes")
        self._warn_clock(ctx)
        return Change(
            state.serial or self.resource(ctx),
            "create",
            details,
            makes_secret=state.seed is None,
            state=state,
        )

    @staticmethod
    def _seed(ctx: StepContext, user: str) -> str | None:
        from remediate.mfa import seed_is_valid

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
        from remediate.mfa import check_codes

        mfa = ctx.options.mfa
        if mfa.mode == "interactive" and not ctx.prompter.interactive:
            raise InputError(
                "no terminal to type the MFA codes on",
                tip="pass --mfa-auto, --mfa-codes CODE1 CODE2, or --no-mfa",
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
            check_codes(seed, *mfa.codes, now=time.time())
        if mfa.qr_file and Path(mfa.qr_file).exists():
            raise InputError(f"{mfa.qr_file} already exists; choose another --qr-file path")

    def apply(self, ctx: StepContext, change: Change[MfaPlan]) -> None:
        from remediate.mfa import otpauth_uri

        user = self.params["user"]
        plan = change.planned
        if plan.stale:
            ctx.ui.print(
                f"Deleting pending device {plan.stale}: the keyring holds no valid "
                "seed for it, so nobody can enroll it."
            )
            call(ctx.iam, "DeleteVirtualMFADevice", SerialNumber=plan.stale)
        serial, seed = plan.serial, plan.seed
        if serial is None or seed is None:
            created = call(ctx.iam, "CreateVirtualMFADevice", VirtualMFADeviceName=plan.name)
            device = created["VirtualMFADevice"]
            serial = str(device["SerialNumber"])
            raw = device["Base32StringSeed"]
            seed = raw.decode("ascii") if isinstance(raw, bytes) else str(raw)
            # Keep the seed before anything else can fail, so the next run can resume.
            if ctx.keep_secret(user, "mfa-seed", seed).stored_in is None:
                ctx.ui.print("[yellow]Warning:[/] no keyring: this device cannot be resumed.")
        change.resource = serial
        device_state = ctx.outcome.mfa = MfaDevice(serial, enabled=False)
        uri = otpauth_uri(seed, user, ctx.account_id)
        self._show(ctx, uri, seed)
        code1, code2 = self._codes(ctx, seed)
        call(
            ctx.iam,
            "EnableMFADevice",
            UserName=user,
            SerialNumber=serial,
            AuthenticationCode1=code1,
            AuthenticationCode2=code2,
        )
        device_state.enabled = True

    def _show(self, ctx: StepContext, uri: str, seed: str) -> None:
        from remediate.mfa import render_qr_terminal, write_qr_png

        mfa = ctx.options.mfa
        if mfa.qr_file:
            write_qr_png(uri, Path(mfa.qr_file))
            ctx.ui.print(f"QR code written to {mfa.qr_file} (mode 0600).")
        if ctx.prompter.interactive and mfa.mode != "auto":
            ctx.ui.print("Scan this QR code with an authenticator app:")
            ctx.ui.file.write(render_qr_terminal(uri))
            ctx.ui.file.flush()
        if mfa.show_secret:
            ctx.ui.print(f"Secret key for manual entry: {seed}")

    def _codes(self, ctx: StepContext, seed: str) -> tuple[str, str]:
        from remediate.mfa import MfaCodeError, auto_codes, check_codes

        mfa = ctx.options.mfa
        if mfa.mode == "auto":
            return auto_codes(seed, now=time.time())
        if mfa.mode == "codes":
            assert mfa.codes is not None
            check_codes(seed, *mfa.codes, now=time.time())
            # check_codes accepts surrounding blanks (" 123456" from a pasted line); AWS does not.
            return mfa.codes[0].strip(), mfa.codes[1].strip()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            code1 = _ask(ctx, "MFA code 1")
            code2 = _ask(ctx, "MFA code 2 (the next one the app shows)")
            try:
                check_codes(seed, code1, code2, now=time.time())
                return code1.strip(), code2.strip()
            except MfaCodeError as exc:
                left = MAX_ATTEMPTS - attempt
                ctx.ui.print(
                    f"[red]{exc.message}[/]" + (f" ({left} attempt(s) left)" if left else "")
                )
                if not left:
                    raise
        raise AssertionError("unreachable")
