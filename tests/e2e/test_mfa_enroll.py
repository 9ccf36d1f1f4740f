"""End to end: the virtual-mfa step of `root-use --create-admin` against moto's server over HTTP.

moto's EnableMFADevice accepts any six digits, so the local TOTP check is the only guard here:
every rejection test counts the EnableMFADevice calls that reached moto's backend (patched in
this process, where the threaded server runs) and asserts there were none.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import stat
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyotp
import pytest
from moto.iam.exceptions import IAMException
from moto.iam.models import IAMBackend
from rich.console import Console

from remediate.aws.audit import is_write
from remediate.aws.session import CallStats
from remediate.credentials import totp as mfa
from remediate.credentials.backends import memory_keyring
from remediate.credentials.store import SecretStore
from remediate.credentials.totp import HALF_BLOCKS
from remediate.steps.base import RunOptions, StepContext
from remediate.steps.mfa_device import named_after
from remediate.steps.virtual_mfa import (
    CLOCK_SKEW_WARNING,
    VirtualMfaArgs,
    VirtualMfaStep,
    clock_skew,
)
from support.prompters import Scripted, nobody
from support.qrdecode import png_to_matrix, terminal_to_matrix
from support.screen import decode, decode_matrix
from support.terminal import Terminal

ACCOUNT = "123456789012"
USER = "alice"
SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/{USER}"


# --- fixtures and helpers ---------------------------------------------------------------------


class InvalidAuthenticationCode(IAMException):
    """What real IAM answers to EnableMFADevice with codes it does not accept (HTTP 403)."""

    code = "InvalidAuthenticationCode"


@dataclass
class Calls:
    """IAM calls as moto's backend saw them, and every operation the product sent."""

    backend: Counter[str] = field(default_factory=Counter)
    enabled_with: list[tuple[str, str]] = field(default_factory=list)  # the codes moto got
    operations: list[str] = field(default_factory=list)
    enable_failures: int = 0  # how many EnableMFADevice calls to reject before accepting

    @property
    def writes(self) -> list[str]:
        return [op for op in self.operations if is_write(op.split(":")[1])]

    def clear(self) -> None:
        self.backend.clear()
        self.enabled_with.clear()
        self.operations.clear()


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Count the MFA writes reaching moto, optionally rejecting EnableMFADevice like IAM does."""
    seen = Calls()

    def counted(method: str, operation: str) -> None:
        original = getattr(IAMBackend, method)

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            seen.backend[operation] += 1
            if operation == "EnableMFADevice":
                # moto's response handler passes (user, serial, code 1, code 2) positionally.
                seen.enabled_with.append((args[2], args[3]))
            if operation == "EnableMFADevice" and seen.enable_failures > 0:
                seen.enable_failures -= 1
                raise InvalidAuthenticationCode("Authentication code for device is not valid.")
            return original(self, *args, **kwargs)

        monkeypatch.setattr(IAMBackend, method, wrapper)

    counted("enable_mfa_device", "EnableMFADevice")
    counted("create_virtual_mfa_device", "CreateVirtualMFADevice")
    counted("delete_virtual_mfa_device", "DeleteVirtualMFADevice")

    original_record = CallStats.record

    def record(self: CallStats, service: str, operation: str) -> None:
        seen.operations.append(f"{service}:{operation}")
        original_record(self, service, operation)

    monkeypatch.setattr(CallStats, "record", record)
    return seen


@pytest.fixture
def terminal_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    """The step sees standard error as a terminal, as for a person who did not redirect it,
    while the test still captures it. The check itself is tested on real streams: a captured
    one below, a pseudo-terminal and a redirected file at the end of this file."""
    from remediate.render import enrollment

    monkeypatch.setattr(enrollment, "on_terminal", lambda ctx: True)


def fix(cli: Any, moto: Any, *extra: str, prompter: Any = None) -> Any:
    """`root-use --create-admin alice --yes` with extra options, against the moto server (no
    terminal unless ``prompter`` is a person at one)."""
    return cli(
        "root-use",
        "--endpoint-url",
        moto.endpoint_url,
        "--create-admin",
        USER,
        "--yes",
        *extra,
        prompter=prompter,
    )


def stored_seed(backend: Any, user: str = USER) -> str | None:
    return SecretStore(backend).get(ACCOUNT, user, "mfa-seed")


def current_codes(seed: str) -> tuple[str, str]:
    """The code of this step and of the next: consecutive, and still accepted if the step
    changes before the product checks them (they are then steps n-1 and n)."""
    step = mfa.totp_step(time.time())
    totp = pyotp.TOTP(seed)
    return totp.at(step * 30), totp.at((step + 1) * 30)


def codes_around(seed: str, start: float, end: float) -> set[str]:
    """Every code from the step before ``start`` to the step after ``end``."""
    totp = pyotp.TOTP(seed)
    steps = range(mfa.totp_step(start) - 1, mfa.totp_step(end) + 2)
    return {totp.at(s * 30) for s in steps}


def assert_no_secrets(text: str, seed: str, codes: set[str]) -> None:
    assert seed not in text
    assert seed.rstrip("=").lower() not in text.lower()
    for code in codes:
        # Digit boundaries: the account id 123456789012 holds six-digit runs of its own.
        assert not re.search(rf"(?<!\d){code}(?!\d)", text), "an MFA code leaked into the output"


def virtual_devices(moto: Any, status: str = "Any") -> list[dict[str, Any]]:
    devices: list[dict[str, Any]] = moto.client("iam").list_virtual_mfa_devices(
        AssignmentStatus=status
    )["VirtualMFADevices"]
    return devices


def user_mfa(moto: Any, user: str = USER) -> list[str]:
    devices = moto.client("iam").list_mfa_devices(UserName=user)["MFADevices"]
    return [d["SerialNumber"] for d in devices]


def group_members(moto: Any, group: str = "Administrators") -> list[str]:
    """Who is in the administrators group (none when it does not exist)."""
    iam = moto.client("iam")
    try:
        users = iam.get_group(GroupName=group)["Users"]
    except iam.exceptions.NoSuchEntityException:
        return []
    return [u["UserName"] for u in users]


def user_exists(moto: Any, user: str = USER) -> bool:
    return any(u["UserName"] == user for u in moto.client("iam").list_users()["Users"])


def mfa_step(doc: dict[str, Any]) -> dict[str, Any]:
    [step] = [s for s in doc["remediation"]["steps"] if s["kind"] == "virtual-mfa"]
    return step


def assert_uri_is_for(uri: str, seed: str) -> None:
    otp = pyotp.parse_uri(uri)
    assert isinstance(otp, pyotp.TOTP)
    assert otp.secret == seed.rstrip("=")
    assert otp.issuer == "Amazon Web Services"
    assert otp.name == f"{USER}@{ACCOUNT}"


def pending_device(moto: Any, backend: Any, calls: Calls) -> str:
    """A device an earlier run created and stored the seed of, but never enabled: its seed."""
    created = moto.client("iam").create_virtual_mfa_device(VirtualMFADeviceName=USER)
    seed: str = created["VirtualMFADevice"]["Base32StringSeed"].decode("ascii")
    SecretStore(backend).put(ACCOUNT, USER, "mfa-seed", seed)
    calls.clear()
    return seed


def leave_pending(cli: Any, moto: Any, calls: Calls, *extra: str) -> Any:
    """A first run whose EnableMFADevice AWS rejects: the device stays pending."""
    calls.enable_failures = 1
    r = fix(cli, moto, "--mfa-auto", "--output", "json", *extra)
    assert r.code == 3, r.err
    assert calls.enable_failures == 0
    calls.clear()
    return r


# --- --mfa-auto ---------------------------------------------------------------------------------


def test_mfa_auto_enrolls_and_keeps_the_seed(moto: Any, cli: Any, calls: Calls, test_keyring: Any):
    start = time.time()
    r = fix(cli, moto, "--mfa-auto", "--output", "json")
    end = time.time()
    assert r.code == 0, r.err

    assert user_mfa(moto) == [SERIAL]
    seed = stored_seed(test_keyring)
    assert seed is not None
    assert mfa.seed_is_valid(seed)
    doc = r.json()
    assert doc["mfa"] == {"serial_number": SERIAL, "enabled": True}
    step = mfa_step(doc)
    assert step["applied"] is True
    assert step["change"] == "create"
    assert step["resource"] == SERIAL
    assert {"user": USER, "kind": "mfa-seed"}.items() <= doc["secrets"][-1].items()
    assert "value" not in doc["secrets"][-1]
    assert calls.backend == {"CreateVirtualMFADevice": 1, "EnableMFADevice": 1}
    # The seed is never shown without --show-mfa-secret, nor the codes computed from it.
    assert_no_secrets(r.out + r.err, seed, codes_around(seed, start, end))
    assert "Scan this QR code" not in r.err
    assert "clock is" not in r.err  # moto's Date header agrees with this machine's clock


def test_debug_log_holds_no_secrets(
    moto: Any, cli: Any, test_keyring: Any, caplog: pytest.LogCaptureFixture
):
    # pytest's own log handlers make the CLI's logging.basicConfig a no-op: caplog at DEBUG
    # sees what --debug would print to stderr.
    caplog.set_level(logging.DEBUG)
    start = time.time()
    r = cli(
        "--debug",
        *("root-use", "--endpoint-url", moto.endpoint_url, "--create-admin", USER, "--yes"),
        "--mfa-auto",
    )
    end = time.time()
    assert r.code == 0, r.err
    seed = stored_seed(test_keyring)
    password = SecretStore(test_keyring).get(ACCOUNT, USER, "password")
    assert seed is not None
    assert password is not None
    text = r.out + r.err + caplog.text
    assert "EnableMFADevice" in caplog.text  # the AWS calls were logged
    assert password not in text
    assert base64.b64encode(seed.encode()).decode() not in text
    assert_no_secrets(text, seed, codes_around(seed, start, end))


def test_show_mfa_secret_prints_the_seed_when_asked(
    moto: Any, cli: Any, test_keyring: Any, terminal_stderr: None
):
    r = fix(cli, moto, "--mfa-auto", "--show-mfa-secret")
    assert r.code == 0, r.err
    assert f"MFA device {SERIAL}: enabled" in r.out
    seed = stored_seed(test_keyring)
    assert seed is not None
    assert f"Secret key for manual entry: {seed}" in r.err
    assert r.err.count(seed) == 1
    assert seed not in r.out


def test_rerun_with_mfa_in_place_writes_nothing(moto: Any, cli: Any, calls: Calls):
    assert fix(cli, moto, "--mfa-auto").code == 0
    calls.clear()

    r = fix(cli, moto, "--mfa-auto", "--output", "json")
    assert r.code == 0, r.err
    doc = r.json()
    assert mfa_step(doc)["change"] == "none"
    assert mfa_step(doc)["applied"] is False
    assert all(s["change"] == "none" for s in doc["remediation"]["steps"])
    assert doc["remediation"]["changed"] == 0
    assert doc["mfa"] == {"serial_number": SERIAL, "enabled": True}
    assert calls.backend == {}
    assert calls.writes == []
    assert "iam:ListMFADevices" in calls.operations


def test_no_mfa_skips_the_step(moto: Any, cli: Any, calls: Calls):
    r = fix(cli, moto, "--no-mfa", "--output", "json")
    assert r.code == 0, r.err
    doc = r.json()
    assert "virtual-mfa" not in {s["kind"] for s in doc["remediation"]["steps"]}
    assert doc["mfa"] is None
    assert user_exists(moto)
    assert virtual_devices(moto) == []
    assert calls.backend == {}


def test_no_terminal_and_no_codes_exits_2_before_any_change(moto: Any, cli: Any, calls: Calls):
    r = fix(cli, moto)
    assert r.code == 2, r.err
    assert "no terminal to type the MFA codes on" in r.err
    assert "Tip:" in r.err
    assert "--mfa-auto" in r.err
    assert calls.writes == []
    assert not user_exists(moto)
    assert virtual_devices(moto) == []


# --- codes rejected locally, before EnableMFADevice -------------------------------------------


def _wrong(seed: str) -> tuple[str, str]:
    return current_codes(pyotp.random_base32(32))


def _reused(seed: str) -> tuple[str, str]:
    code = current_codes(seed)[0]
    return code, code


def _not_consecutive(seed: str) -> tuple[str, str]:
    step = mfa.totp_step(time.time())
    return pyotp.TOTP(seed).at(step * 30), pyotp.TOTP(seed).at((step + 2) * 30)


def _swapped(seed: str) -> tuple[str, str]:
    first, second = current_codes(seed)
    return second, first


def _old(seed: str) -> tuple[str, str]:
    step = mfa.totp_step(time.time()) - 10  # five minutes ago
    return pyotp.TOTP(seed).at(step * 30), pyotp.TOTP(seed).at((step + 1) * 30)


@pytest.mark.parametrize(
    ("make_codes", "message"),
    [
        (_wrong, "the codes do not match this virtual MFA device"),
        (_reused, "you typed the same code twice"),
        (_not_consecutive, "code 2 is not the code right after code 1"),
        (_swapped, "code 2 is not the code right after code 1"),
        (_old, "minutes behind this computer's clock; check the phone's clock"),
    ],
    ids=["wrong", "reused", "not-consecutive", "swapped", "old"],
)
def test_bad_codes_are_rejected_before_enable(
    moto: Any, cli: Any, calls: Calls, test_keyring: Any, make_codes: Any, message: str
):
    seed = pending_device(moto, test_keyring, calls)
    code1, code2 = make_codes(seed)

    r = fix(cli, moto, "--mfa-codes", code1, code2)
    assert r.code == 2, r.err
    assert message in r.err
    # Nothing was shown in this run: the error names the device and how to show its code again.
    assert f"--mfa-codes for the pending virtual MFA device {SERIAL} of {USER}: " in r.err
    assert (
        f"Tip: show its QR code again with `remediate secrets show {USER} --what mfa-qr`" in r.err
    )
    assert "just shown" not in r.err
    assert calls.backend["EnableMFADevice"] == 0
    assert calls.writes == []
    assert [d["SerialNumber"] for d in virtual_devices(moto, "Unassigned")] == [SERIAL]
    assert not user_exists(moto)  # exit 2: not even the steps before this one ran
    assert stored_seed(test_keyring) == seed
    assert_no_secrets(r.out + r.err, seed, {code1, code2})


@pytest.mark.parametrize(
    "codes",
    [("12345", "abcdef"), ("1234567", "123456"), ("١٢٣٤٥٦", "123456")],
    ids=["short-and-letters", "seven-digits", "arabic-indic-digits"],
)
def test_malformed_codes_exit_2_before_any_aws_write(
    moto: Any, cli: Any, calls: Calls, test_keyring: Any, codes: tuple[str, str]
):
    pending_device(moto, test_keyring, calls)
    r = fix(cli, moto, "--mfa-codes", *codes)
    assert r.code == 2, r.err
    assert "invalid --mfa-codes" in r.err
    assert "6 digits" in r.err
    assert calls.backend["EnableMFADevice"] == 0
    assert calls.writes == []
    assert len(virtual_devices(moto, "Unassigned")) == 1
    assert not user_exists(moto)
    assert stored_seed(test_keyring) is not None
    for code in codes:
        assert code not in r.err


# --- --mfa-codes and resuming -------------------------------------------------------------------


def test_failed_enable_exits_3_and_leaves_the_device_pending(
    moto: Any, cli: Any, calls: Calls, test_keyring: Any
):
    r = leave_pending(cli, moto, calls)
    assert "error: step 'mfa' (virtual-mfa) failed" in r.err
    assert "InvalidAuthenticationCode" in r.err
    assert "Tip:" in r.err
    doc = r.json()
    step = mfa_step(doc)
    assert step["applied"] is False
    assert doc["mfa"] == {"serial_number": SERIAL, "enabled": False}
    assert "virtual-mfa" in doc["remediation"]["error"]
    # Everything before the step was applied and stays; the membership that grants power
    # comes after it, so alice is no administrator while her device is pending.
    steps = doc["remediation"]["steps"]
    mfa_at = [s["kind"] for s in steps].index("virtual-mfa")
    assert all(s["applied"] for s in steps[:mfa_at])
    assert [(s["id"], s["applied"]) for s in steps[mfa_at:]] == [
        ("mfa", False),
        ("membership", False),
    ]
    assert group_members(moto) == []
    assert [d["SerialNumber"] for d in virtual_devices(moto, "Unassigned")] == [SERIAL]
    assert user_mfa(moto) == []
    seed = stored_seed(test_keyring)
    assert seed is not None
    assert_no_secrets(r.out + r.err, seed, set())

    # The next run picks the same device up: no second one.
    r = fix(cli, moto, "--mfa-auto", "--output", "json")
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["mfa"] == {"serial_number": SERIAL, "enabled": True}
    assert f"resume enrolling pending device {SERIAL}" in mfa_step(doc)["details"]
    assert mfa_step(doc)["applied"] is True
    assert calls.backend == {"EnableMFADevice": 1}
    assert [d["SerialNumber"] for d in virtual_devices(moto)] == [SERIAL]
    assert user_mfa(moto) == [SERIAL]
    assert stored_seed(test_keyring) == seed
    # Once the device is enabled, the same run adds the membership.
    assert group_members(moto) == [USER]


def test_mfa_codes_enable_a_pending_device(moto: Any, cli: Any, calls: Calls, test_keyring: Any):
    leave_pending(cli, moto, calls)
    seed = stored_seed(test_keyring)
    assert seed is not None
    codes = current_codes(seed)

    # Blanks from a pasted line are accepted, and never sent to AWS.
    r = fix(cli, moto, "--mfa-codes", f" {codes[0]}", f"{codes[1]}\t", "--output", "json")
    assert r.code == 0, r.err
    assert r.json()["mfa"] == {"serial_number": SERIAL, "enabled": True}
    assert calls.backend == {"EnableMFADevice": 1}
    assert calls.enabled_with == [codes]
    assert len(virtual_devices(moto)) == 1
    assert user_mfa(moto) == [SERIAL]
    assert_no_secrets(r.out + r.err, seed, set(codes))
    # The codes came from an app that scanned it: nobody still has to receive the seed.
    assert stored_seed(test_keyring) is None


def test_mfa_codes_without_a_pending_device_exit_2_before_any_change(
    moto: Any, cli: Any, calls: Calls
):
    r = fix(cli, moto, "--mfa-codes", "123456", "654321")
    assert r.code == 2, r.err
    assert "needs a device pending from an earlier run" in r.err
    assert "Tip:" in r.err
    assert calls.writes == []
    assert not user_exists(moto)
    assert virtual_devices(moto) == []


def test_mfa_auto_and_mfa_codes_together_are_refused(moto: Any, cli: Any, calls: Calls):
    r = fix(cli, moto, "--mfa-auto", "--mfa-codes", "123456", "654321")
    assert r.code == 2, r.err
    assert "only one of --mfa-auto and --mfa-codes" in r.err
    assert calls.writes == []


# The tag remediate puts on every virtual MFA device it creates.
MANAGED = {"Key": "remediate:managed-by", "Value": "remediate"}


@pytest.mark.parametrize("kept", [None, "not a base32 seed"], ids=["no-seed", "invalid-seed"])
def test_stale_unassigned_device_without_seed_is_replaced(
    moto: Any, cli: Any, calls: Calls, test_keyring: Any, kept: str | None
):
    # One remediate created (its tag says so) and whose seed is lost: nobody can enroll it.
    moto.client("iam").create_virtual_mfa_device(VirtualMFADeviceName=USER, Tags=[MANAGED])
    if kept is not None:  # an entry edited by hand: it cannot enroll the device either
        SecretStore(test_keyring).put(ACCOUNT, USER, "mfa-seed", kept)
    calls.clear()

    r = fix(cli, moto, "--mfa-auto")
    assert r.code == 0, r.err
    assert f"delete pending device {SERIAL}" in r.out  # the plan says so...
    assert f"Deleting pending device {SERIAL}" in r.err  # ...and so does the apply
    assert calls.backend == {
        "DeleteVirtualMFADevice": 1,
        "CreateVirtualMFADevice": 1,
        "EnableMFADevice": 1,
    }
    [device] = virtual_devices(moto)
    assert device["SerialNumber"] == SERIAL
    assert device["User"]["UserName"] == USER
    assert user_mfa(moto) == [SERIAL]
    seed = stored_seed(test_keyring)
    assert seed is not None
    assert mfa.seed_is_valid(seed)


def _bob_holds_the_name(moto: Any) -> None:
    iam = moto.client("iam")
    iam.create_user(UserName="bob")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=USER)["VirtualMFADevice"][
        "SerialNumber"
    ]
    iam.enable_mfa_device(
        UserName="bob",
        SerialNumber=serial,
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )


def test_name_taken_by_another_users_device_is_refused_before_any_change(
    moto: Any, cli: Any, calls: Calls
):
    # The device must be named after alice: its policy allows mfa/alice and no other name.
    _bob_holds_the_name(moto)
    calls.clear()
    r = fix(cli, moto, "--mfa-auto", "--output", "json")
    assert r.code == 2, r.err
    assert (
        f"error: the virtual MFA device named {USER} ({SERIAL}) is assigned to IAM user bob: "
        in r.err
    )
    # What IAM shows of it, who made it (CloudTrail knows, IAM does not), and how to clear it.
    said = " ".join(r.err.split())
    assert f"IAM shows it enabled for bob on {datetime.now(UTC):%Y-%m-%d}" in said
    assert "with no tags: remediate did not create it (it tags every device it creates)" in said
    assert (
        "aws cloudtrail lookup-events --region us-east-1 --lookup-attributes "
        "AttributeKey=EventName,AttributeValue=CreateVirtualMFADevice"
    ) in said
    assert (
        f"aws iam deactivate-mfa-device --user-name bob --serial-number {SERIAL} && "
        f"aws iam delete-virtual-mfa-device --serial-number {SERIAL}"
    ) in said
    assert calls.writes == []
    assert user_mfa(moto, "bob") == [SERIAL]


def test_an_unassigned_device_remediate_did_not_create_is_reported_not_deleted(
    moto: Any, cli: Any, calls: Calls
):
    # Any user with the self-service MFA policy may create a device of any name: one named after
    # alice, not enabled, whose seed only its maker holds.
    moto.client("iam").create_virtual_mfa_device(VirtualMFADeviceName=USER)
    calls.clear()
    r = fix(cli, moto, "--mfa-auto")
    assert r.code == 2, r.err
    said = " ".join(r.err.split())
    assert (
        f"error: a virtual MFA device named {USER} ({SERIAL}) already exists, not assigned to "
        "any user, with no tags: remediate did not create it (it tags every device it creates)"
    ) in said
    assert "CreateVirtualMFADevice" in said
    assert f"aws iam delete-virtual-mfa-device --serial-number {SERIAL}" in said
    assert calls.writes == []
    assert [d["SerialNumber"] for d in virtual_devices(moto)] == [SERIAL]
    assert not user_exists(moto)


def test_devices_remediate_creates_say_so_in_their_tags(moto: Any, cli: Any):
    start = datetime.now(UTC).replace(microsecond=0)
    r = fix(cli, moto, "--mfa-auto")
    assert r.code == 0, r.err
    tags = moto.client("iam").list_mfa_device_tags(SerialNumber=SERIAL)["Tags"]
    found = {t["Key"]: t["Value"] for t in tags}
    assert found["remediate:managed-by"] == "remediate"
    # Who made it (the caller, as STS names it) and when.
    caller = moto.client("sts").get_caller_identity()["Arn"]
    assert found["remediate:created-by"] == caller
    made = datetime.strptime(found["remediate:created-at"], "%Y-%m-%dT%H:%M:%SZ")
    assert start <= made.replace(tzinfo=UTC) <= datetime.now(UTC)


class Person(Scripted):
    """Someone at the terminal who scans the QR code of the device being enrolled and types the
    two codes their app shows (read from the seed the run keeps until the device is enabled)."""

    def __init__(self, keyring: Any) -> None:
        super().__init__()
        self.keyring = keyring
        self.codes: tuple[str, str] | None = None

    def line(self, prompt: str) -> str | None:
        self.asked.append(prompt)
        if self.codes is None:
            seed = stored_seed(self.keyring)
            assert seed is not None
            self.codes = current_codes(seed)
        return self.codes[0] if prompt.startswith("MFA code 1") else self.codes[1]


def test_an_enrollment_typed_in_person_keeps_no_seed(
    moto: Any, cli: Any, calls: Calls, test_keyring: Any, terminal_stderr: None
):
    person = Person(test_keyring)
    r = fix(cli, moto, "--output", "json", prompter=person)
    assert r.code == 0, r.err
    assert user_mfa(moto) == [SERIAL]
    # The person scanned the code here: once the device is enabled, its seed is forgotten.
    assert stored_seed(test_keyring) is None
    assert SecretStore(test_keyring).pending_mfa(ACCOUNT, USER) is None
    doc = r.json()
    assert [s["kind"] for s in doc["secrets"]] == ["password"]
    assert doc["handover"]["kept_seed"] is None
    assert "Scan this QR code with an authenticator app:" in r.err


def test_devices_of_users_with_longer_names_are_left_alone(
    moto: Any, cli: Any, calls: Calls, test_keyring: Any
):
    # Users alice-2 and alice-ops each have a pending device of their own name, the seed in the
    # keyring. alice's device is "alice"; theirs are not hers to resume, replace or delete.
    iam = moto.client("iam")
    for other in (f"{USER}-2", f"{USER}-ops"):
        iam.create_user(UserName=other)
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName=other)["VirtualMFADevice"]
        SecretStore(test_keyring).put(
            ACCOUNT, other, "mfa-seed", device["Base32StringSeed"].decode("ascii")
        )
    calls.clear()
    r = fix(cli, moto, "--mfa-auto", "--output", "json")
    assert r.code == 0, r.err
    assert r.json()["mfa"] == {"serial_number": SERIAL, "enabled": True}
    assert calls.backend["DeleteVirtualMFADevice"] == 0
    assert sorted(d["SerialNumber"] for d in virtual_devices(moto, "Unassigned")) == [
        f"{SERIAL}-2",
        f"{SERIAL}-ops",
    ]


def test_devices_are_named_after_the_user_without_case() -> None:
    assert named_after(f"arn:aws:iam::{ACCOUNT}:mfa/alice", "alice")
    assert named_after(f"arn:aws:iam::{ACCOUNT}:mfa/path/ALICE", "alice")
    assert not named_after(f"arn:aws:iam::{ACCOUNT}:mfa/alice-2", "alice")


def test_three_wrong_pairs_at_the_prompt_fail_the_step(
    moto: Any,
    cli: Any,
    calls: Calls,
    test_keyring: Any,
    monkeypatch: pytest.MonkeyPatch,
    terminal_stderr: None,
):
    seed = pending_device(moto, test_keyring, calls)
    first, _ = current_codes(seed)
    before = pyotp.TOTP(seed).at((mfa.totp_step(time.time()) - 1) * 30)
    # Reused, the one before, then malformed: each refused with its reason in plain words,
    # empty lines asked again at no cost, and no fourth try.
    person = Scripted([first, "", first, before, "", "12345"])

    r = fix(cli, moto, "--output", "json", prompter=person)
    assert r.code == 3, r.err
    assert "Scan this QR code with an authenticator app:" in r.err
    assert "You typed the same code twice. Wait until the app shows a new code" in r.err
    assert "2 more tries." in r.err
    # Code 1 stood (it is still current): code 2 was asked again, and was code 1's predecessor.
    assert "Code 2 is not the code right after code 1." in r.err
    assert "1 more try." in r.err
    assert "error: step 'mfa' (virtual-mfa) failed: code 1 must be exactly 6 digits" in r.err
    assert "attempt(s)" not in r.err
    assert [q for q in person.asked if q.startswith("MFA code 1")] == ["MFA code 1"] * 3
    assert calls.backend["EnableMFADevice"] == 0
    doc = r.json()
    assert mfa_step(doc)["applied"] is False
    assert doc["mfa"] == {"serial_number": SERIAL, "enabled": False}
    assert [d["SerialNumber"] for d in virtual_devices(moto, "Unassigned")] == [SERIAL]
    assert stored_seed(test_keyring) == seed
    assert seed not in r.out + r.err


def test_a_wrong_code_1_is_refused_before_code_2_is_asked(
    moto: Any, cli: Any, calls: Calls, test_keyring: Any, terminal_stderr: None
):
    seed = pending_device(moto, test_keyring, calls)
    other = current_codes(pyotp.random_base32(32))
    first, second = current_codes(seed)
    person = Scripted([other[0], f"{first[:3]} {first[3:]}", f"{second[:3]}-{second[3:]}"])
    r = fix(cli, moto, prompter=person)
    assert r.code == 0, r.err
    assert person.asked[-3:] == [
        "MFA code 1",
        "MFA code 1",
        "MFA code 2 (the next one the app shows)",
    ]
    assert "Code 1 does not match this virtual MFA device." in r.err
    assert "2 more tries." in r.err
    # AWS gets six digits, without the space and the dash.
    assert calls.enabled_with == [(first, second)]


def test_a_wrong_code_1_where_the_qr_code_is_not_shown_says_how_to_show_it(
    moto: Any,
    cli: Any,
    calls: Calls,
    test_keyring: Any,
    terminal_stderr: None,
    monkeypatch: pytest.MonkeyPatch,
):
    from remediate.render import enrollment

    # Too small a terminal for the code, and --show-mfa-secret to enroll with instead.
    monkeypatch.setattr(enrollment, "terminal_size", lambda ctx: (60, 12))
    seed = pending_device(moto, test_keyring, calls)
    other = current_codes(pyotp.random_base32(32))
    first, second = current_codes(seed)
    person = Scripted([other[0], first, second])
    r = fix(cli, moto, "--show-mfa-secret", prompter=person)
    assert r.code == 0, r.err
    said = " ".join(r.err.split())
    assert "The QR code does not fit this terminal" in said
    assert (
        "Code 1 does not match this virtual MFA device. Show its QR code with `remediate secrets "
        "show alice --what mfa-qr` (or --qr-file PATH) and scan it" in said
    )
    assert "shown above" not in said
    assert "shown here" not in said


# --- QR code file -------------------------------------------------------------------------------


def test_qr_file_is_a_0600_png_of_the_otpauth_uri(
    moto: Any, cli: Any, test_keyring: Any, tmp_path: Path
):
    png = tmp_path / "alice-mfa.png"
    r = fix(cli, moto, "--mfa-auto", "--qr-file", str(png))
    assert r.code == 0, r.err
    assert f"QR code written to {png}" in r.err
    assert stat.S_IMODE(png.stat().st_mode) == 0o600

    seed = stored_seed(test_keyring)
    assert seed is not None
    uri = mfa.otpauth_uri(seed, USER, ACCOUNT)
    assert_uri_is_for(uri, seed)
    modules = png_to_matrix(png)
    assert modules == mfa.qr_matrix(uri)
    assert decode_matrix(modules) == [uri]


def test_existing_qr_file_exits_2_before_any_change(
    moto: Any, cli: Any, calls: Calls, tmp_path: Path
):
    png = tmp_path / "taken.png"
    png.write_bytes(b"someone else's file")
    png.chmod(0o644)
    r = fix(cli, moto, "--mfa-auto", "--qr-file", str(png))
    assert r.code == 2, r.err
    assert "already exists" in r.err
    assert png.read_bytes() == b"someone else's file"
    assert stat.S_IMODE(png.stat().st_mode) == 0o644
    assert calls.writes == []
    assert not user_exists(moto)


# --- clock check --------------------------------------------------------------------------------


def _context(skew: float | None) -> tuple[StepContext, io.StringIO]:
    stats = CallStats()
    if skew is not None:
        stats.server_date = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
        stats.local_date = stats.server_date + timedelta(seconds=skew)
    ui = io.StringIO()
    ctx = StepContext(
        aws=SimpleNamespace(stats=stats),  # type: ignore[arg-type]  # only stats is read
        account_id=ACCOUNT,
        partition="aws",
        secrets=SecretStore(memory_keyring()),
        options=RunOptions(),
        ui=Console(file=ui, highlight=False, soft_wrap=True, color_system=None),
        prompter=nobody(),
    )
    return ctx, ui


@pytest.mark.parametrize(
    ("skew", "warning"),
    [
        (None, None),
        (0.0, None),
        (CLOCK_SKEW_WARNING, None),
        (-CLOCK_SKEW_WARNING, None),
        (31.0, "31 s ahead of AWS's"),
        (-95.0, "95 s behind AWS's"),
    ],
)
def test_clock_warning_above_30_seconds(skew: float | None, warning: str | None) -> None:
    ctx, ui = _context(skew)
    assert clock_skew(ctx) == skew
    VirtualMfaStep("mfa", VirtualMfaArgs(USER))._warn_clock(ctx)
    if warning is None:
        assert ui.getvalue() == ""
    else:
        assert f"Warning: this machine's clock is {warning}" in ui.getvalue()
        assert "TOTP codes may be rejected" in ui.getvalue()


def test_dry_run_warns_of_a_clock_ahead_of_the_date_header(
    moto: Any, cli: Any, calls: Calls, monkeypatch: pytest.MonkeyPatch
):
    import remediate.aws.session

    class FastClock(datetime):
        """This machine's clock, two minutes ahead of moto's Date header."""

        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return datetime.now(tz) + timedelta(seconds=120)

    monkeypatch.setattr(remediate.aws.session, "datetime", FastClock)
    r = fix(cli, moto, "--mfa-auto", "--dry-run", "--output", "json")
    assert r.code == 0, r.err
    assert re.search(r"Warning: this machine's clock is 1[12]\d s ahead of AWS's", r.err), r.err
    step = mfa_step(r.json())
    assert (step["change"], step["applied"]) == ("create", False)
    assert f"create virtual MFA device {USER} for {USER}" in step["details"]
    assert calls.writes == []
    assert virtual_devices(moto) == []


# --- interactive, through a pseudo-terminal -----------------------------------------------------

needs_pty = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


@pytest.fixture
def terminal(moto: Any) -> Iterator[Any]:
    """Start the remediation for alice interactively on a pty (no --mfa-auto, no --mfa-codes),
    80x24 unless ``size`` says otherwise."""
    started: list[Terminal] = []

    def start(*extra: str, stderr: Any = None, size: tuple[int, int] = (80, 24)) -> Terminal:
        args = ("root-use", "--endpoint-url", moto.endpoint_url, "--create-admin", USER, "--yes")
        started.append(Terminal(*args, *extra, stderr=stderr, size=size))
        return started[-1]

    yield start
    for t in started:
        t.close()


def file_keyring() -> Any:
    """The keyring file the child process uses (same XDG_DATA_HOME as this test)."""
    from keyrings.alt.file import PlaintextKeyring

    return PlaintextKeyring()


def qr_rows(rows: list[str]) -> list[str]:
    """The QR code's lines among the rows a terminal shows: the run of rows that start with a
    wide stretch of half blocks, cut to the code's width (text may stand beside it)."""
    blocks = set(HALF_BLOCKS)
    start = [n for n, row in enumerate(rows) if set(row[:21]) <= blocks and row.strip()]
    if not start:
        return []
    code = []
    for row in rows[start[0] :]:
        if not (set(row[:21]) <= blocks and row.strip()):
            break
        code.append(row)
    # The first line's top half is the light quiet zone: no blank cell until the code ends.
    width = len(code[0]) - len(code[0].lstrip("▀▄█"))
    return [row[:width] for row in code]


def qr_block(screen: str) -> str:
    """The half-block QR code as written (with whatever stands beside it cut off)."""
    return "\n".join(qr_rows(screen.split("\n"))) + "\n"


@needs_pty
def test_interactive_enrollment_on_a_terminal(moto: Any, terminal: Any):
    term = terminal()
    term.expect("MFA code 1")
    term.settle()
    seed = stored_seed(file_keyring())
    assert seed is not None
    uri = mfa.otpauth_uri(seed, USER, ACCOUNT)
    assert_uri_is_for(uri, seed)

    # All of the code is on the 80x24 screen while code 1 is asked for, and a camera reads it.
    rows = term.visible()
    fit = mfa.fit_terminal_qr(uri, 80, 24)
    assert fit is not None
    assert qr_rows(rows) == list(fit.lines)
    assert terminal_to_matrix("\n".join(fit.lines)) == mfa.qr_matrix(uri, quiet_zone=fit.quiet_zone)
    assert decode(rows) == [uri]
    assert rows[-1].startswith(fit.lines[-1] + "  MFA code 1: ")
    assert seed not in term.screen()

    # Each code is checked as it is typed: another device's code 1 is refused at once.
    wrong = current_codes(pyotp.random_base32(32))
    term.type(wrong[0] + "\n")
    term.expect("Code 1 does not match")
    term.expect("MFA code 1", count=2)
    assert "MFA code 2" not in term.screen()
    # Asked again, code 1 comes with the whole code drawn anew, the reason beside it.
    term.settle()
    rows = term.visible()
    assert decode(rows) == [uri]
    assert rows[-1].startswith(fit.lines[-1] + "  MFA code 1: ")
    beside = " ".join(row[fit.width :].strip() for row in rows)
    assert "Code 1 does not match this virtual MFA device. Scan the QR code shown here" in beside
    assert "2 more tries" in beside
    # An empty line (Enter pressed early) asks again and costs no try; the code is drawn anew.
    term.type("\n")
    term.expect("MFA code 1", count=3)
    term.settle()
    rows = term.visible()
    assert decode(rows) == [uri]
    assert rows[-1].startswith(fit.lines[-1] + "  MFA code 1: ")
    assert user_mfa(moto) == []

    # Codes typed as the app shows them, "123 456", are taken.
    code1, code2 = current_codes(seed)
    term.type(f"{code1[:3]} {code1[3:]}\n")
    term.expect("MFA code 2")
    term.type(f"{code2[:3]}-{code2[3:]}\n")
    assert term.wait() == 0, term.screen()
    assert f"MFA device {SERIAL}: enabled" in term.screen()
    assert "1 more try" not in term.screen()
    assert user_mfa(moto) == [SERIAL]
    assert len(virtual_devices(moto)) == 1
    # In person: the QR code was scanned here, so the hand-over names the console sign-in only,
    # and ends with forgetting what the keyring still holds: the password, for the seed was
    # forgotten once the device was enabled.
    assert stored_seed(file_keyring()) is None
    # The terminal is 80 columns: long lines wrap at word boundaries, so join them back.
    screen = " ".join(term.screen().split())
    assert f"remediate secrets show alice --account {ACCOUNT} --what console" in screen
    assert "--what mfa-qr" not in screen
    assert f"remediate secrets forget alice --account {ACCOUNT}" in screen


@needs_pty
def test_on_a_tall_terminal_the_code_keeps_the_full_quiet_zone(moto: Any, terminal: Any):
    term = terminal(size=(100, 40))
    term.expect("MFA code 1")
    term.settle()
    seed = stored_seed(file_keyring())
    assert seed is not None
    uri = mfa.otpauth_uri(seed, USER, ACCOUNT)
    rows = term.visible()
    assert qr_rows(rows) == render_lines(uri, 4)
    assert (
        "Scan this QR code with an authenticator app:"
        in rows[rows.index(qr_rows(rows)[0].ljust(100)) - 1]
    )
    assert decode(rows) == [uri]


def render_lines(uri: str, quiet_zone: int) -> list[str]:
    return mfa.render_qr_terminal(uri, quiet_zone=quiet_zone).splitlines()


@needs_pty
def test_a_terminal_too_small_for_the_code_is_refused_before_any_change(moto: Any, terminal: Any):
    term = terminal(size=(80, 20))
    assert term.wait() == 2, term.screen()
    screen = term.screen()
    assert "error: the MFA QR code does not fit this terminal (80x20)" in screen
    assert "--qr-file PATH" in screen
    assert "--show-mfa-secret" in screen
    assert not QR_GLYPHS & set(screen)
    assert not user_exists(moto)
    assert virtual_devices(moto) == []


@needs_pty
def test_show_mfa_secret_on_a_small_terminal_enrolls_without_the_code(moto: Any, terminal: Any):
    term = terminal("--show-mfa-secret", size=(80, 20))
    term.expect("MFA code 1")
    seed = stored_seed(file_keyring())
    assert seed is not None
    screen = term.screen()
    assert f"Secret key for manual entry: {seed}" in screen  # whole: never wrapped inside
    words = " ".join(screen.split())  # the rest wraps at the terminal's width
    assert "The QR code does not fit this terminal (80x20" in words
    assert "remediate secrets show alice --what mfa-qr" in words
    code1, code2 = current_codes(seed)
    term.type(code1 + "\n")
    term.expect("MFA code 2")
    term.type(code2 + "\n")
    assert term.wait() == 0, term.screen()
    assert user_mfa(moto) == [SERIAL]


@needs_pty
def test_interrupted_enrollment_resumes_the_same_device(
    moto: Any, cli: Any, terminal: Any, calls: Calls
):
    import keyring

    # Ctrl-C at the code prompt: a new line, one line of what was and was not changed, exit
    # 130; the device stays pending.
    term = terminal()
    term.expect("MFA code 1")
    first_qr = qr_block(term.screen())
    term.type("\x03")
    assert term.wait() == 130, term.screen()
    screen = term.screen()
    assert "MFA code 1: ^C\ninterrupted during step 'mfa' (virtual-mfa); applied: " in screen
    # One message, wrapped at words to the terminal's 80 columns.
    said = " ".join(screen.split())
    assert "in step 'mfa': iam:CreateVirtualMFADevice applied; not applied: mfa" in said
    assert "Applied 5 of 6" not in screen
    assert "Traceback" not in screen
    seed = stored_seed(file_keyring())
    assert seed is not None
    assert [d["SerialNumber"] for d in virtual_devices(moto, "Unassigned")] == [SERIAL]
    assert user_mfa(moto) == []
    assert calls.backend == {"CreateVirtualMFADevice": 1}

    # The next run shows the same QR code again. Ctrl-D there fails the step like any error
    # (exit 3, the JSON document says not applied), not as a silent exit-2 abort.
    term = terminal("--output", "json")
    term.expect("MFA code 1")
    # The plan's detail may wrap at the terminal's width: read it as words.
    assert f"resume enrolling pending device {SERIAL}" in " ".join(term.screen().split())
    assert qr_block(term.screen()) == first_qr
    term.type("\x04")
    assert term.wait() == 3, term.screen()
    screen = term.screen()
    assert "no MFA codes were entered" in screen
    assert "Traceback" not in screen
    doc = json.loads(screen[screen.index("\n{") : screen.rindex("}") + 1])
    assert mfa_step(doc)["applied"] is False
    assert doc["mfa"] == {"serial_number": SERIAL, "enabled": False}
    assert calls.backend == {"CreateVirtualMFADevice": 1}

    # A run with --mfa-auto and the same keyring enables that very device.
    keyring.set_keyring(file_keyring())
    r = fix(cli, moto, "--mfa-auto", "--output", "json")
    assert r.code == 0, r.err
    assert r.json()["mfa"] == {"serial_number": SERIAL, "enabled": True}
    assert calls.backend == {"CreateVirtualMFADevice": 1, "EnableMFADevice": 1}
    assert len(virtual_devices(moto)) == 1
    assert stored_seed(file_keyring()) == seed


@needs_pty
def test_ctrl_c_at_the_code_prompt_leaves_alice_outside_the_administrators(
    moto: Any, cli: Any, terminal: Any
):
    import keyring

    term = terminal()
    term.expect("MFA code 1")
    term.type("\x03")
    assert term.wait() == 130, term.screen()
    screen = term.screen()
    # Privilege last: console access is in place and the device pending, but the membership
    # that makes alice an administrator comes after MFA, so the run never reached it.
    assert group_members(moto) == []
    assert moto.client("iam").get_login_profile(UserName=USER)["LoginProfile"]
    assert user_mfa(moto) == []
    assert [d["SerialNumber"] for d in virtual_devices(moto, "Unassigned")] == [SERIAL]
    # Ctrl-C ends with one line saying what was and was not changed: the membership was not.
    line = " ".join(screen.split())
    assert "interrupted during step 'mfa' (virtual-mfa)" in line
    assert "not applied: mfa, membership; rerun to continue from there" in line

    # With the two codes the app shows, that command enables the device and adds the membership.
    seed = stored_seed(file_keyring())
    assert seed is not None
    keyring.set_keyring(file_keyring())
    r = fix(cli, moto, "--mfa-codes", *current_codes(seed), "--output", "json")
    assert r.code == 0, r.err
    assert r.json()["mfa"] == {"serial_number": SERIAL, "enabled": True}
    assert group_members(moto) == [USER]
    assert len(virtual_devices(moto)) == 1


# --- the QR code and the seed go to a terminal only ---------------------------------------------

QR_GLYPHS = set("▄▀█")


def test_qr_code_is_refused_where_stderr_is_not_a_terminal(moto: Any, cli: Any, calls: Calls):
    # A person types at the terminal, but standard error (where the QR code goes) is captured,
    # as with `2>log`.
    person = Scripted(["123456", "654321"])
    r = fix(cli, moto, prompter=person)
    assert r.code == 2, r.err
    assert "the MFA QR code goes to standard error, which is not a terminal" in r.err
    assert "--qr-file PATH" in r.err
    assert not QR_GLYPHS & set(r.out + r.err)
    assert person.asked == []
    assert calls.writes == []
    assert not user_exists(moto)


def test_show_mfa_secret_is_refused_where_stderr_is_not_a_terminal(
    moto: Any, cli: Any, calls: Calls, test_keyring: Any
):
    r = fix(cli, moto, "--mfa-auto", "--show-mfa-secret")
    assert r.code == 2, r.err
    assert "--show-mfa-secret prints the MFA secret on standard error" in r.err
    assert "remediate secrets show USER --what mfa-secret" in r.err
    assert calls.writes == []
    assert stored_seed(test_keyring) is None


def test_qr_file_lets_a_person_enroll_with_stderr_redirected(
    moto: Any, cli: Any, calls: Calls, test_keyring: Any, tmp_path: Path
):
    seed = pending_device(moto, test_keyring, calls)
    png = tmp_path / "alice.png"
    person = Scripted(list(current_codes(seed)))
    r = fix(cli, moto, "--qr-file", str(png), prompter=person)
    assert r.code == 0, r.err
    assert user_mfa(moto) == [SERIAL]
    assert png_to_matrix(png) == mfa.qr_matrix(mfa.otpauth_uri(seed, USER, ACCOUNT))
    assert "Scan this QR code" not in r.err
    assert not QR_GLYPHS & set(r.out + r.err)
    assert seed not in r.out + r.err


@needs_pty
def test_qr_code_never_reaches_a_redirected_stderr(moto: Any, terminal: Any, tmp_path: Path):
    # `remediate root-use --create-admin alice 2>log` typed on a terminal.
    log = tmp_path / "log"
    with log.open("wb") as redirected:
        term = terminal("--show-mfa-secret", stderr=redirected)
        assert term.wait() == 2, term.screen()
    text = log.read_text(encoding="utf-8")
    assert "error: the MFA QR code goes to standard error, which is not a terminal" in text
    assert not QR_GLYPHS & set(text + term.screen())
    assert "Secret key" not in text
    assert virtual_devices(moto) == []
    assert not user_exists(moto)
    assert stored_seed(file_keyring()) is None


@needs_pty
def test_ctrl_c_under_the_sandbox_says_a_rerun_starts_afresh() -> None:
    # The in-process sandbox, and its keyring, end with the command: nothing to continue from.
    term = Terminal("root-use", "--sandbox", "--create-admin", USER, "--yes")
    try:
        term.expect("MFA code 1", timeout=90)
        term.type("\x03")
        assert term.wait() == 130, term.screen()
        written = term.screen().split("MFA code 1: ^C")[-1]
        said = " ".join(written.split())
    finally:
        term.close()
    # One message over several lines, each cut at a word by remediate, none by the terminal.
    assert len(written.strip().splitlines()) > 1
    assert all(len(line) <= 80 for line in written.splitlines()), written
    assert "applied: admin-group" in said
    assert "a --sandbox rerun starts afresh (`remediate sandbox serve` keeps one running" in said
    assert "continue from there" not in said
    assert "kept in" not in said


@needs_pty
def test_a_failed_step_under_the_sandbox_says_a_rerun_starts_afresh() -> None:
    term = Terminal("root-use", "--sandbox", "--create-admin", USER, "--yes")
    try:
        for n in range(1, 4):
            term.expect("MFA code 1", count=n, timeout=90)
            term.type(current_codes(pyotp.random_base32(32))[0] + "\n")
        assert term.wait() == 3, term.screen()
        written = term.screen().split("error:")[-1]
        said = " ".join(written.split())
    finally:
        term.close()
    assert all(len(line) <= 80 for line in f"error:{written}".splitlines()), written
    assert "virtual MFA device; already applied: admin-group" in said
    # The step's own tip, then how a rerun goes under the sandbox.
    assert "Tip: scan the QR code again" in said
    assert "then rerun; a --sandbox rerun starts afresh" in said
    assert "continues from where it stopped" not in said
