"""The virtual-mfa step: create a virtual MFA device, show its QR code, check two consecutive
TOTP codes locally, then enable it. Resumable: a pending device whose seed is in the keyring is
picked up again by the next run instead of creating a second one."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from remediate.aws.calls import call, paginate
from remediate.errors import InputError
from remediate.steps.base import Change, FieldSpec, Secret, Step, StepContext, register

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
    """One line from the person at the terminal.

    Not input(): it flushes stderr first and discards any error raised meanwhile, so a Ctrl-C
    pressed while the prompt is being written is lost and the read then blocks for good.
    """
    import sys

    ctx.ui.print(f"{prompt}: ", end="")
    ctx.ui.file.flush()
    line = sys.stdin.readline()
    if not line:
        # Ctrl-D or a closed terminal: a step failure (exit 3), since earlier steps did change.
        raise InputError(
            "no MFA codes were entered (end of input)",
            tip="rerun to enroll the same device, or pass --mfa-codes CODE1 CODE2",
        )
    return line.rstrip("\r\n")


@register
class VirtualMfaStep(Step):
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

    def resource(self, ctx: StepContext) -> str:
        return f"virtual MFA device of {self.params['user']}"

    def plan(self, ctx: StepContext) -> Change:
        user = self.params["user"]
        if not ctx.will_create("user", user):
            devices = paginate(ctx.iam, "ListMFADevices", "MFADevices", UserName=user)
            if devices:
                serial = devices[0]["SerialNumber"]
                ctx.results["mfa"] = {"serial_number": serial, "enabled": True}
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
        state: dict[str, Any] = {"name": name}
        details: list[str] = []
        if pending:
            if seed:
                state.update(serial=pending, seed=seed)
                details.append(f"resume enrolling pending device {pending}")
            else:
                state["stale"] = pending
                details.append(
                    f"delete pending device {pending} (no valid seed for it in the keyring, so "
                    "it cannot be enrolled) and create a fresh one"
                )
        if "serial" not in state:
            details.append(f"create virtual MFA device {state['name']} for {user}")
        details.append("enable it with two consecutive codes")
        self._warn_clock(ctx)
        return Change(
            state.get("serial", self.resource(ctx)),
            "create",
            details,
            makes_secret="seed" not in state,
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

    def preflight(self, ctx: StepContext, change: Change) -> None:
        from remediate.mfa import check_codes

        mfa = ctx.options.mfa
        if mfa.mode == "interactive" and not ctx.options.interactive:
            raise InputError(
                "no terminal to type the MFA codes on",
                tip="pass --mfa-auto, --mfa-codes CODE1 CODE2, or --no-mfa",
            )
        if mfa.mode == "codes":
            seed = change.state.get("seed")
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

    def apply(self, ctx: StepContext, change: Change) -> None:
        from remediate.mfa import otpauth_uri

        user = self.params["user"]
        if "stale" in change.state:
            ctx.ui.print(
                f"Deleting pending device {change.state['stale']}: the keyring holds no valid "
                "seed for it, so nobody can enroll it."
            )
            call(ctx.iam, "DeleteVirtualMFADevice", SerialNumber=change.state["stale"])
        serial, seed = change.state.get("serial"), change.state.get("seed")
        if serial is None or seed is None:
            created = call(
                ctx.iam, "CreateVirtualMFADevice", VirtualMFADeviceName=change.state["name"]
            )
            device = created["VirtualMFADevice"]
            serial = str(device["SerialNumber"])
            raw = device["Base32StringSeed"]
            seed = raw.decode("ascii") if isinstance(raw, bytes) else str(raw)
            # Keep the seed before anything else can fail, so the next run can resume.
            stored_in = None
            if ctx.secrets.usable():
                ctx.secrets.put(ctx.account_id, user, "mfa-seed", seed)
                stored_in = ctx.secrets.description()
            else:
                ctx.ui.print("[yellow]Warning:[/] no keyring: this device cannot be resumed.")
            ctx.produced.append(Secret(user, "mfa-seed", seed, stored_in))
        change.resource = serial
        ctx.results["mfa"] = {"serial_number": serial, "enabled": False}
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
        ctx.results["mfa"]["enabled"] = True

    def _show(self, ctx: StepContext, uri: str, seed: str) -> None:
        from remediate.mfa import render_qr_terminal, write_qr_png

        mfa = ctx.options.mfa
        if mfa.qr_file:
            write_qr_png(uri, Path(mfa.qr_file))
            ctx.ui.print(f"QR code written to {mfa.qr_file} (mode 0600).")
        if ctx.options.interactive and mfa.mode != "auto":
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
