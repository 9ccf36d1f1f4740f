"""End to end against moto's server over HTTP: handing the new administrator over safely.

Privilege last (the membership that grants power waits for MFA), the MFA hand-off and its
finish with --mfa-codes, self-service MFA, adopting an existing user only when told to,
IAMUserChangePassword where users may not change their own password, --reset-password, the
hand-over commands in the summary and the JSON, and what `secrets show` and `secrets forget` say.
Each test reads the emulator's state back with boto3 rather than trusting the command's output.
"""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path
from typing import Any

import pyotp
import pytest

from remediate.credentials import totp as mfa
from remediate.credentials.store import SecretStore
from support.qrdecode import png_to_matrix
from support.wire import writes

ACCOUNT = "123456789012"
USER = "alice"
SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/{USER}"
CHANGE_PASSWORD = "arn:aws:iam::aws:policy/IAMUserChangePassword"
SELF_SERVICE = f"arn:aws:iam::{ACCOUNT}:policy/RemediateSelfServiceMFA"
# AWS's example as the IAM User Guide documents it now ("AWS: Allows MFA-authenticated IAM users to
# manage their own MFA device on the Security credentials page"), written out by hand: a device of
# any name, given only to one's own user. The last two NotAction entries are the addition AWS
# documents for its sibling example, so that the first sign-in's password reset works.
DOCUMENTED_SELF_SERVICE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowViewAccountInfo",
            "Effect": "Allow",
            "Action": "iam:ListVirtualMFADevices",
            "Resource": "*",
        },
        {
            "Sid": "AllowManageOwnVirtualMFADevice",
            "Effect": "Allow",
            "Action": ["iam:CreateVirtualMFADevice"],
            "Resource": "arn:aws:iam::*:mfa/*",
        },
        {
            "Sid": "AllowManageOwnUserMFA",
            "Effect": "Allow",
            "Action": [
                "iam:DeactivateMFADevice",
                "iam:EnableMFADevice",
                "iam:GetUser",
                "iam:GetMFADevice",
                "iam:ListMFADevices",
                "iam:ResyncMFADevice",
            ],
            "Resource": "arn:aws:iam::*:user/${aws:username}",
        },
        {
            "Sid": "DenyAllExceptListedIfNoMFA",
            "Effect": "Deny",
            "NotAction": [
                "iam:CreateVirtualMFADevice",
                "iam:EnableMFADevice",
                "iam:GetUser",
                "iam:ListMFADevices",
                "iam:ListVirtualMFADevices",
                "iam:ResyncMFADevice",
                "sts:GetSessionToken",
                "iam:ChangePassword",
                "iam:GetAccountPasswordPolicy",
            ],
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        },
    ],
}
MANAGED = {"Key": "remediate:managed-by", "Value": "remediate"}


def fix(cli: Any, moto: Any, *extra: str, user: str = USER, prompter: Any = None) -> Any:
    """`root-use --create-admin USER --yes EXTRA` against the moto server, no terminal."""
    return cli(
        "root-use",
        "--endpoint-url",
        moto.endpoint_url,
        "--create-admin",
        user,
        "--yes",
        *extra,
        prompter=prompter,
    )


def members(moto: Any, group: str = "Administrators") -> list[str]:
    iam = moto.client("iam")
    try:
        return [u["UserName"] for u in iam.get_group(GroupName=group)["Users"]]
    except iam.exceptions.NoSuchEntityException:
        return []


def user_policies(moto: Any, user: str = USER) -> list[str]:
    attached = moto.client("iam").list_attached_user_policies(UserName=user)["AttachedPolicies"]
    return sorted(p["PolicyArn"] for p in attached)


def virtual_devices(moto: Any) -> list[dict[str, Any]]:
    devices: list[dict[str, Any]] = moto.client("iam").list_virtual_mfa_devices()[
        "VirtualMFADevices"
    ]
    return devices


def enabled_devices(moto: Any, user: str = USER) -> list[str]:
    devices = moto.client("iam").list_mfa_devices(UserName=user)["MFADevices"]
    return [d["SerialNumber"] for d in devices]


def codes_from(seed: str) -> tuple[str, str]:
    """Two consecutive codes, as the owner's app shows them after scanning the QR code."""
    step = mfa.totp_step(time.time())
    totp = pyotp.TOTP(seed)
    return totp.at(step * 30), totp.at((step + 1) * 30)


def changes(doc: dict[str, Any]) -> dict[str, str]:
    return {s["id"]: s["change"] for s in doc["remediation"]["steps"]}


@pytest.fixture
def updates(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, bool]]:
    """UpdateLoginProfile as moto's backend received it over HTTP: (user, password, reset)."""
    from moto.iam.models import IAMBackend

    seen: list[tuple[str, str, bool]] = []
    original = IAMBackend.update_login_profile

    def update(self: Any, user_name: str, password: str, password_reset_required: bool) -> Any:
        seen.append((user_name, password, password_reset_required))
        return original(self, user_name, password, password_reset_required)

    monkeypatch.setattr(IAMBackend, "update_login_profile", update)
    return seen


# --- 1. privilege last -------------------------------------------------------------------------


def test_the_membership_that_grants_power_comes_last(moto: Any, cli: Any) -> None:
    r = fix(cli, moto, "--access", "both", "--mfa-auto", "--dry-run", "-o", "json")
    assert r.code == 0, r.err
    assert list(changes(r.json())) == [
        "admin-group",
        "admin-policy",
        "admin-user",
        "console-access",
        "programmatic-access",
        "mfa",
        "membership",
    ]


def test_no_mfa_on_an_administrator_is_warned_about_in_plan_and_summary(
    moto: Any, cli: Any
) -> None:
    r = fix(cli, moto, "--no-mfa")
    assert r.code == 0, r.err
    warning = (
        "Warning: alice joins Administrators with no MFA device, and this run enrolls none: the "
        "account's most powerful user has no second factor"
    )
    plan, summary = r.out.split("changes to apply.")
    assert warning in plan
    assert warning in summary
    assert members(moto) == [USER]
    # A rerun says so again: alice is in the group, still without a second factor.
    again = fix(cli, moto, "--no-mfa", "-o", "json")
    assert again.code == 0, again.err
    [membership] = [s for s in again.json()["remediation"]["steps"] if s["id"] == "membership"]
    assert membership["change"] == "none"
    assert membership["warnings"] == [
        "alice is in Administrators with no MFA device, and this run enrolls none: the account's "
        "most powerful user has no second factor (for root-use: rerun without --no-mfa, or with "
        "--mfa-self-service)"
    ]


def test_no_warning_where_the_user_has_mfa(moto: Any, cli: Any) -> None:
    assert fix(cli, moto, "--mfa-auto").code == 0
    r = fix(cli, moto, "--no-mfa", "-o", "json")
    assert r.code == 0, r.err
    assert all(s["warnings"] == [] for s in r.json()["remediation"]["steps"])
    assert "Warning" not in r.err


# --- 2. MFA hand-off, then --mfa-codes ---------------------------------------------------------


def test_handoff_then_mfa_codes_completes_with_one_device_and_the_membership(
    moto: Any, cli: Any, test_keyring: Any, tmp_path: Path, sent: list[str]
) -> None:
    png = tmp_path / "alice-mfa.png"
    # Unattended: no terminal at all, and JSON for the script that sends the QR code on.
    r = fix(cli, moto, "--mfa-handoff", "--qr-file", str(png), "-o", "json")
    assert r.code == 0, r.err
    doc = r.json()

    # The device exists, pending; its seed is kept; the QR code holds it, for its owner only.
    [device] = virtual_devices(moto)
    assert device["SerialNumber"] == SERIAL
    assert "User" not in device
    seed = SecretStore(test_keyring).get(ACCOUNT, USER, "mfa-seed")
    assert seed is not None
    assert stat.S_IMODE(png.stat().st_mode) == 0o600
    assert png_to_matrix(png) == mfa.qr_matrix(mfa.otpauth_uri(seed, USER, ACCOUNT))
    assert seed not in r.out + r.err
    # Privilege last: alice is not in the administrators group yet.
    assert members(moto) == []
    assert doc["mfa"] == {"serial_number": SERIAL, "enabled": False}
    steps = {s["id"]: s for s in doc["remediation"]["steps"]}
    assert (steps["mfa"]["change"], steps["mfa"]["applied"]) == ("create", True)
    assert (steps["membership"]["change"], steps["membership"]["applied"]) == ("none", False)
    assert steps["membership"]["details"][0].startswith("held back for a later run")
    finish = f"remediate root-use --create-admin alice --endpoint-url {moto.endpoint_url}"
    assert doc["handover"]["finish_mfa"] == f"{finish} --mfa-codes CODE1 CODE2"
    assert doc["handover"]["qr_file"] == str(png)
    # Forgetting now would lose the seed the finish command needs: the finishing run offers it.
    assert doc["handover"]["forget"] is None
    assert "CreateVirtualMFADevice" in " ".join(sent)
    assert "iam:EnableMFADevice" not in sent

    # A rerun of the hand-off changes nothing, and still holds the membership back.
    sent.clear()
    again = fix(cli, moto, "--mfa-handoff", "--qr-file", str(tmp_path / "other.png"))
    assert again.code == 0, again.err
    assert "Nothing needs changing" in again.out
    assert "waits for alice's two codes (hand-off)" in again.out
    assert writes(sent) == []
    assert not (tmp_path / "other.png").exists()

    # The owner scanned it and sent back two codes: the finish command enables that very
    # device, and the same run adds the membership.
    done = fix(cli, moto, "--mfa-codes", *codes_from(seed), "-o", "json")
    assert done.code == 0, done.err
    assert done.json()["mfa"] == {"serial_number": SERIAL, "enabled": True}
    assert changes(done.json())["membership"] == "create"
    assert [d["SerialNumber"] for d in virtual_devices(moto)] == [SERIAL]
    assert enabled_devices(moto) == [SERIAL]
    assert members(moto) == [USER]
    # alice's codes show her app holds the seed: the finishing run forgets it. The password
    # stays in the keyring until forgotten: the summary says to.
    assert SecretStore(test_keyring).get(ACCOUNT, USER, "mfa-seed") is None
    assert done.json()["handover"]["kept_seed"] is None
    assert done.json()["handover"]["forget"] == (
        f"remediate secrets forget alice --account {ACCOUNT}"
    )
    assert "Nothing needs changing" in fix(cli, moto, "--mfa-auto").out


def test_handoff_summary_names_the_user_and_the_file(moto: Any, cli: Any, tmp_path: Path) -> None:
    png = tmp_path / "qr-{account}.png"
    r = fix(cli, moto, "--mfa-handoff", "--qr-file", str(png))
    assert r.code == 0, r.err
    written = tmp_path / f"qr-{ACCOUNT}.png"
    assert written.exists()
    assert f"MFA device {SERIAL}: pending, waiting for alice's two codes (hand-off)" in r.out
    assert "send alice the QR code in this file (mode 0600) to scan:" in r.out
    assert f"\n    {written}\n" in r.out  # the path on a line of its own, to copy
    assert (
        f"remediate root-use --create-admin alice --endpoint-url {moto.endpoint_url} "
        "--mfa-codes CODE1 CODE2"
    ) in r.out
    # Forgetting now would lose the seed the finish needs: the finishing run gives the command.
    assert f"remediate secrets forget alice --account {ACCOUNT}" not in r.out
    assert "After the finishing run, forget alice's secrets" in r.out


def test_handoff_needs_a_keyring_even_with_show_secrets(
    moto: Any, cli: Any, tmp_path: Path, sent: list[str]
) -> None:
    import keyring
    import keyring.backends.fail

    keyring.set_keyring(keyring.backends.fail.Keyring())
    png = tmp_path / "qr.png"
    r = fix(cli, moto, "--mfa-handoff", "--qr-file", str(png), "--show-secrets")
    assert r.code == 2, r.err
    assert "--mfa-handoff keeps the device's seed in the keyring until --mfa-codes" in r.err
    assert writes(sent) == []
    assert not png.exists()


def test_forgetting_during_a_handoff_keeps_the_pending_seed(
    moto: Any, cli: Any, test_keyring: Any, tmp_path: Path
) -> None:
    r = fix(cli, moto, "--mfa-handoff", "--qr-file", str(tmp_path / "qr.png"))
    assert r.code == 0, r.err
    store = SecretStore(test_keyring)
    seed = store.get(ACCOUNT, USER, "mfa-seed")
    assert seed is not None
    # The operator forgets too early (writing the QR file counted as showing the seed).
    forget = cli("secrets", "forget", USER, "--yes")
    assert forget.code == 0, forget.err
    assert f"Keeping alice's MFA seed: the device {SERIAL} is pending (not enabled)" in forget.err
    assert "--include-pending-mfa" in forget.err
    assert store.get(ACCOUNT, USER, "mfa-seed") == seed
    assert store.get(ACCOUNT, USER, "password") is None

    # alice sends back her two codes: the finish still works, and forgets the seed itself (her
    # app holds it), so nothing is left to forget.
    done = fix(cli, moto, "--mfa-codes", *codes_from(seed))
    assert done.code == 0, done.err
    assert enabled_devices(moto) == [SERIAL]
    assert members(moto) == [USER]
    assert store.get(ACCOUNT, USER, "mfa-seed") is None
    assert f"remediate secrets forget alice --account {ACCOUNT}" not in done.out
    again = cli("secrets", "forget", USER, "--yes")
    assert again.code == 0, again.err
    assert "Keeping" not in again.err


def test_forgetting_a_pending_seed_when_asked_to(
    moto: Any, cli: Any, test_keyring: Any, tmp_path: Path
) -> None:
    assert fix(cli, moto, "--mfa-handoff", "--qr-file", str(tmp_path / "qr.png")).code == 0
    store = SecretStore(test_keyring)
    r = cli("secrets", "forget", USER, "--yes", "--include-pending-mfa")
    assert r.code == 0, r.err
    assert "Keeping" not in r.err
    assert store.get(ACCOUNT, USER, "mfa-seed") is None
    assert [k for a, u, k in store.entries() if u == USER] == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--mfa-handoff",), "--mfa-handoff needs --qr-file PATH"),
        (
            ("--mfa-handoff", "--qr-file", "/nonexistent/qr/{account}.png"),
            "cannot write /nonexistent/qr/123456789012.png: /nonexistent/qr is not a directory",
        ),
        (("--mfa-handoff", "--qr-file", "x.png", "--mfa-auto"), "it takes no --mfa-auto"),
        (("--mfa-handoff", "--qr-file", "x.png", "--no-mfa"), "--no-mfa skips MFA enrollment"),
        (("--mfa-self-service", "--no-mfa"), "--mfa-self-service creates no device"),
        (("--mfa-self-service", "--mfa-auto"), "--mfa-self-service creates no device"),
        (("--reset-password", "--password-stdin"), "--reset-password sets a new generated"),
        (("--reset-password", "--access", "programmatic"), "--reset-password needs console"),
    ],
)
def test_bad_handover_options_exit_2_before_any_change(
    moto: Any, cli: Any, sent: list[str], extra: tuple[str, ...], message: str
) -> None:
    r = fix(cli, moto, *extra)
    assert r.code == 2, r.err
    assert message in r.err
    assert writes(sent) == []
    assert moto.client("iam").list_users()["Users"] == []


# --- 3. self-service MFA -----------------------------------------------------------------------


def test_self_service_attaches_the_policy_once_and_a_rerun_changes_nothing(
    moto: Any, cli: Any, test_keyring: Any, sent: list[str]
) -> None:
    r = fix(cli, moto, "--mfa-self-service", "-o", "json")
    assert r.code == 0, r.err
    iam = moto.client("iam")
    policy = iam.get_policy(PolicyArn=SELF_SERVICE)["Policy"]
    version = iam.get_policy_version(PolicyArn=SELF_SERVICE, VersionId=policy["DefaultVersionId"])
    assert version["PolicyVersion"]["Document"] == DOCUMENTED_SELF_SERVICE
    assert user_policies(moto) == sorted([CHANGE_PASSWORD, SELF_SERVICE])
    # No device: alice assigns her own; the operator never holds a seed.
    assert virtual_devices(moto) == []
    assert SecretStore(test_keyring).get(ACCOUNT, USER, "mfa-seed") is None
    # The group's power waits for a device IAM shows enabled: alice is in no group yet.
    assert members(moto) == []
    handover = r.json()["handover"]
    assert handover["first_sign_in"][1] == (
        "open Security credentials and assign an MFA device (an authenticator app), named as "
        "they like but unique in the account, e.g. alice-phone"
    )
    assert all(s["warnings"] == [] for s in r.json()["remediation"]["steps"])

    sent.clear()
    again = fix(cli, moto, "--mfa-self-service", "-o", "json")
    assert again.code == 0, again.err
    assert set(changes(again.json()).values()) == {"none"}
    assert writes(sent) == []

    # Created once per account: another user gets the same policy attached, not a second one.
    other = fix(cli, moto, "--mfa-self-service", "-o", "json", user="bob")
    assert other.code == 0, other.err
    assert changes(other.json())["mfa-self-service"] == "update"
    policies = iam.list_policies(Scope="Local")["Policies"]
    assert [p["Arn"] for p in policies] == [SELF_SERVICE]
    assert SELF_SERVICE in user_policies(moto, "bob")


def enroll_own_device(moto: Any, user: str = USER, name: str = "alice-phone") -> str:
    """What the user does at first sign-in, through IAM as the console does it: a virtual MFA
    device of their own, enabled with two consecutive codes of their app. Its serial number."""
    iam = moto.client("iam")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    code1, code2 = codes_from(device["Base32StringSeed"].decode("ascii"))
    iam.enable_mfa_device(
        UserName=user,
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1=code1,
        AuthenticationCode2=code2,
    )
    return str(device["SerialNumber"])


@pytest.mark.parametrize("access", ["both", "programmatic"])
def test_self_service_with_an_access_key_exits_2_before_any_write(
    moto: Any, cli: Any, sent: list[str], access: str
) -> None:
    r = fix(cli, moto, "--access", access, "--mfa-self-service")
    assert r.code == 2, r.err
    assert f"error: --mfa-self-service with --access {access} is no second factor" in r.err
    tip = " ".join(r.err.split())
    assert "--mfa-handoff --qr-file PATH" in tip
    assert "--access console" in tip
    assert writes(sent) == []
    assert moto.client("iam").list_users()["Users"] == []


def test_playbook_run_refuses_self_service_with_an_access_key(
    moto: Any, cli: Any, sent: list[str]
) -> None:
    r = cli(
        "playbook",
        "run",
        "root-use",
        "--endpoint-url",
        moto.endpoint_url,
        *("--var", "user=alice", "--var", "access=both"),
        *("--var", "mfa=false", "--var", "mfa_self_service=true", "--yes"),
    )
    assert r.code == 2, r.err
    assert "error: self-service MFA with an access key for alice is no second factor" in r.err
    assert writes(sent) == []
    assert moto.client("iam").list_users()["Users"] == []


def test_self_service_membership_waits_for_a_device_iam_shows_enabled(
    moto: Any, cli: Any, test_keyring: Any, sent: list[str]
) -> None:
    # A dry run first: it plans the attachment, holds the membership back, writes nothing.
    dry = fix(cli, moto, "--mfa-self-service", "--dry-run", "-o", "json")
    assert dry.code == 0, dry.err
    assert changes(dry.json())["membership"] == "none"
    assert writes(sent) == []

    r = fix(cli, moto, "--mfa-self-service", "-o", "json")
    assert r.code == 0, r.err
    # Read back from IAM: the policy is attached, and alice is in no group.
    assert SELF_SERVICE in user_policies(moto)
    assert members(moto) == []
    assert enabled_devices(moto) == []
    doc = r.json()
    steps = {s["id"]: s for s in doc["remediation"]["steps"]}
    # The policy written (the sandbox's caller may: an administrator), then attached.
    policy_step = steps["mfa-self-service-policy"]
    assert (policy_step["change"], policy_step["applied"]) == ("create", True)
    assert (steps["mfa-self-service"]["change"], steps["mfa-self-service"]["applied"]) == (
        "update",
        True,
    )
    assert (steps["membership"]["change"], steps["membership"]["applied"]) == ("none", False)
    waits = (
        "alice joins no group until IAM shows an MFA device enabled for alice (self-service): "
        "rerun once alice has enabled one"
    )
    assert steps["membership"]["details"][0] == f"held back for a later run: {waits}"
    handover = doc["handover"]
    finish = (
        "remediate root-use --create-admin alice --mfa-self-service --endpoint-url "
        f"{moto.endpoint_url}"
    )
    assert handover["finish_mfa"] == finish
    # Exactly what alice can do before enrolling, after it, and once the run is finished.
    assert handover["self_service"] == [
        "before enrolling, alice can sign in, change the temporary password, and create and "
        "enable their own virtual MFA device (reading their own user and devices to do so): "
        "nothing else (RemediateSelfServiceMFA denies every other action)",
        "after enrolling, nothing more until you finish: alice is in no group",
        "before you finish, check with alice that the MFA device the plan names is theirs: a "
        "device enabled by whoever first used the password would pass too",
        "finishing detaches RemediateSelfServiceMFA, so that no further MFA device can be "
        "created or enabled without an MFA session, and then adds alice to Administrators: "
        "alice has what Administrators grants",
    ]
    # Not the old promise, which an access key could keep for itself.
    assert "get-session-token" not in r.out + r.err + json.dumps(handover)
    # The text summary says the same, and how to finish.
    text = fix(cli, moto, "--mfa-self-service", user="bob")
    assert text.code == 0, text.err
    words = " ".join(text.out.split())
    assert "before enrolling, bob can sign in, change the temporary password" in words
    assert (
        "Once bob has enabled an MFA device, finish (the steps held back run then): "
        f"remediate root-use --create-admin bob --mfa-self-service --endpoint-url "
        f"{moto.endpoint_url}"
    ) in words

    # A rerun before alice enrolls changes nothing, and still holds the membership back.
    sent.clear()
    again = fix(cli, moto, "--mfa-self-service")
    assert again.code == 0, again.err
    assert writes(sent) == []
    assert f"Nothing needs changing now; {waits}." in " ".join(again.out.split())
    assert members(moto) == []

    # alice signs in and enables a device of her own: the rerun's plan names it, a dry run of
    # it writes nothing...
    serial = enroll_own_device(moto)
    sent.clear()
    plan = fix(cli, moto, "--mfa-self-service", "--dry-run")
    assert plan.code == 0, plan.err
    assert writes(sent) == []
    assert f"alice has MFA device {serial} (enabled 20" in plan.out
    # ...and the rerun detaches the policy first, then adds the membership: privilege last.
    done = fix(cli, moto, "--mfa-self-service", "-o", "json")
    assert done.code == 0, done.err
    assert writes(sent) == ["iam:DetachUserPolicy", "iam:AddUserToGroup"]
    assert SELF_SERVICE not in user_policies(moto)
    assert members(moto) == [USER]
    assert changes(done.json())["mfa-self-service"] == "delete"
    assert done.json()["handover"]["finish_mfa"] is None
    assert done.json()["handover"]["self_service"] == [
        f"alice enrolled MFA device {serial}, and RemediateSelfServiceMFA is detached: no "
        "further MFA device without an MFA session",
        "alice is in Administrators and has what it grants",
    ]

    # A second rerun changes nothing.
    sent.clear()
    last = fix(cli, moto, "--mfa-self-service", "-o", "json")
    assert last.code == 0, last.err
    assert set(changes(last.json()).values()) == {"none"}
    assert writes(sent) == []


def test_self_service_for_a_user_with_mfa_already_needs_no_policy(
    moto: Any, cli: Any, sent: list[str]
) -> None:
    assert fix(cli, moto, "--no-mfa").code == 0
    enroll_own_device(moto)
    sent.clear()
    r = fix(cli, moto, "--mfa-self-service", "-o", "json")
    assert r.code == 0, r.err
    assert changes(r.json())["mfa-self-service"] == "none"
    assert SELF_SERVICE not in user_policies(moto)
    assert writes(sent) == []


def test_a_policy_of_that_name_saying_anything_else_is_never_attached(
    moto: Any, cli: Any, sent: list[str]
) -> None:
    permissive = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}
    permissive["Statement"][0]["Resource"] = "*"
    moto.client("iam").create_policy(
        PolicyName="RemediateSelfServiceMFA", PolicyDocument=json.dumps(permissive)
    )
    sent.clear()
    r = fix(cli, moto, "--mfa-self-service")
    assert r.code == 2, r.err
    assert "says something other than AWS's self-service MFA example" in r.err
    assert writes(sent) == []


def test_the_self_service_policy_lets_a_device_have_any_name(moto: Any) -> None:
    """The console suggests no name: a user who calls the device "phone" must not be denied."""
    from remediate.steps.self_service import self_service_document

    allow = next(
        s
        for s in self_service_document("aws-cn")["Statement"]
        if "iam:CreateVirtualMFADevice" in s.get("Action", [])
    )
    assert allow["Resource"] == "arn:aws-cn:iam::*:mfa/*"


# --- 4. adopting an existing user --------------------------------------------------------------


def test_adopting_an_existing_user_needs_the_flag(moto: Any, cli: Any, sent: list[str]) -> None:
    iam = moto.client("iam")
    iam.create_user(UserName=USER, Tags=[{"Key": "Team", "Value": "web"}])
    iam.create_group(GroupName="devs")
    iam.add_user_to_group(UserName=USER, GroupName="devs")
    key = iam.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    iam.create_login_profile(UserName=USER, Password="Theirs-Pass-123!")
    sent.clear()

    r = fix(cli, moto, "--no-mfa")
    assert r.code == 2, r.err
    assert "IAM user alice already exists and remediate did not create it" in r.err
    assert "--adopt-existing-user" in r.err
    assert writes(sent) == []
    assert members(moto) == []
    # The plan says prominently what alice has: when created, groups, keys, console access.
    warning = next(line for line in r.out.splitlines() if "Warning: IAM user alice" in line)
    assert "groups: devs;" in warning
    assert f"access keys: {key} (Active, created " in warning
    assert "console access: yes (password set " in warning
    assert "created 20" in warning

    # A dry run shows the same and exits 0: it applies nothing.
    assert fix(cli, moto, "--no-mfa", "--dry-run").code == 0
    assert writes(sent) == []

    r = fix(cli, moto, "--no-mfa", "--adopt-existing-user", "-o", "json")
    assert r.code == 0, r.err
    assert changes(r.json())["admin-user"] == "update"
    tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=USER)["Tags"]}
    assert tags == {"Team": "web", "remediate:managed-by": "remediate"}
    assert members(moto) == [USER]
    # Adopted once, remediate's from then on: no flag needed.
    assert "Nothing needs changing" in fix(cli, moto, "--no-mfa").out


def test_a_user_remediate_created_needs_no_flag(moto: Any, cli: Any) -> None:
    assert fix(cli, moto, "--no-mfa").code == 0
    tags = moto.client("iam").list_user_tags(UserName=USER)["Tags"]
    assert tags == [MANAGED]
    r = fix(cli, moto, "--no-mfa", "--tag", "Team=sec", "-o", "json")
    assert r.code == 0, r.err
    assert changes(r.json())["admin-user"] == "update"


def test_remediates_own_tag_cannot_be_given(moto: Any, cli: Any, sent: list[str]) -> None:
    r = fix(cli, moto, "--no-mfa", "--tag", "Remediate:Managed-By=me")
    assert r.code == 2, r.err
    assert "the tag key remediate:managed-by is remediate's own" in r.err
    assert writes(sent) == []


# --- 5. a password reset that can be completed -------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "attached"),
    [
        (None, True),  # AWS's default policy does not let users change their own password
        ({"AllowUsersToChangePassword": False, "MinimumPasswordLength": 12}, True),
        ({"AllowUsersToChangePassword": True}, False),
    ],
    ids=["no-policy", "policy-forbids", "policy-allows"],
)
def test_change_password_policy_where_users_may_not_change_their_own(
    moto: Any, cli: Any, policy: dict[str, Any] | None, attached: bool
) -> None:
    if policy is not None:
        moto.client("iam").update_account_password_policy(**policy)
    r = fix(cli, moto, "--no-mfa", "-o", "json")
    assert r.code == 0, r.err
    assert user_policies(moto) == ([CHANGE_PASSWORD] if attached else [])
    [console] = [s for s in r.json()["remediation"]["steps"] if s["id"] == "console-access"]
    said = any("IAMUserChangePassword" in d for d in console["details"])
    assert said is attached
    # Attached once: a rerun changes nothing.
    assert "Nothing needs changing" in fix(cli, moto, "--no-mfa").out


def test_change_password_policy_for_an_existing_profile_that_requires_a_reset(
    moto: Any, cli: Any
) -> None:
    iam = moto.client("iam")
    iam.create_user(UserName=USER, Tags=[MANAGED])
    iam.create_login_profile(UserName=USER, Password="Given-Pass-123!", PasswordResetRequired=True)
    r = fix(cli, moto, "--no-mfa", "-o", "json")
    assert r.code == 0, r.err
    assert changes(r.json())["console-access"] == "update"
    assert user_policies(moto) == [CHANGE_PASSWORD]


def test_the_sandbox_keeps_the_reset_flag_as_iam_does(
    moto: Any, cli: Any, test_keyring: Any
) -> None:
    """The suite's emulator is remediate's own sandbox (`--sandbox`, `sandbox serve`): what it
    does here, it does there, with no patch of the tests' own."""
    assert fix(cli, moto, "--no-mfa").code == 0
    profile = moto.client("iam").get_login_profile(UserName=USER)["LoginProfile"]
    assert profile["PasswordResetRequired"] is True
    assert cli("secrets", "forget", USER, "--yes").code == 0
    r = fix(cli, moto, "--no-mfa", "--dry-run")
    assert r.code == 0, r.err
    assert "(a reset is still required) and the keyring holds none" in r.out
    assert "--reset-password sets a new one" in r.out


# --- 6. handover commands, one access key format -----------------------------------------------


def test_handover_commands_name_the_user(moto: Any, cli: Any, test_keyring: Any) -> None:
    r = fix(cli, moto, "--access", "both", "--mfa-auto", user="dana")
    assert r.code == 0, r.err
    show = f"remediate secrets show dana --account {ACCOUNT} --what"
    for what in ("console", "access-key", "mfa-qr"):
        assert f"{show} {what}" in r.out
    assert "USER" not in r.out
    assert r.out.rstrip().endswith(f"remediate secrets forget dana --account {ACCOUNT}")
    # The text summary names the access key by its id (no secret).
    key_id = json.loads(SecretStore(test_keyring).get(ACCOUNT, "dana", "access-key") or "{}")[
        "AccessKeyId"
    ]
    assert f"dana's access key {key_id}: stored in" in r.out

    doc = fix(cli, moto, "--access", "both", "--mfa-auto", "-o", "json", user="erin").json()
    handover = doc["handover"]
    assert handover["user"] == "erin"
    assert [s["command"] for s in handover["show"]] == [
        f"remediate secrets show erin --account {ACCOUNT} --what {what}"
        for what in ("console", "access-key", "mfa-qr")
    ]
    assert handover["forget"] == f"remediate secrets forget erin --account {ACCOUNT}"
    assert handover["finish_mfa"] is None


def test_a_kept_seed_is_marked_as_defeating_mfa_until_forgotten(
    moto: Any, cli: Any, tmp_path: Path
) -> None:
    # --mfa-auto: the seed stays for alice to scan later, beside her password.
    r = fix(cli, moto, "--mfa-auto", "-o", "json")
    assert r.code == 0, r.err
    assert r.json()["handover"]["kept_seed"] == (
        "the keyring keeps the seed of alice's MFA device: it defeats MFA until forgotten "
        "(whoever reads the keyring can make alice's codes); once alice has scanned it: "
        f"remediate secrets forget alice --account {ACCOUNT}"
    )
    text = fix(cli, moto, "--mfa-auto", user="bob")
    words = " ".join(text.out.split())
    assert "Warning: the keyring keeps the seed of bob's MFA device: it defeats MFA" in words
    assert "it defeats MFA until forgotten" in words
    # Pending (a hand-off): kept until the run that enables it forgets it.
    handoff = fix(cli, moto, "--mfa-handoff", "--qr-file", str(tmp_path / "qr.png"), "-o",
                  "json", user="carol")  # fmt: skip
    assert handoff.code == 0, handoff.err
    assert handoff.json()["handover"]["kept_seed"] == (
        "the keyring keeps the seed of carol's pending MFA device: it defeats MFA until "
        "forgotten; the run that enables the device with carol's codes forgets it"
    )
    # `secrets list` marks each of them too.
    listed = cli("secrets", "list")
    assert listed.code == 0, listed.err
    lines = {line.split()[1]: line for line in listed.out.splitlines()}
    assert lines["alice"] == (
        f"{ACCOUNT}  alice  mfa-seed, password  (the mfa-seed defeats MFA until forgotten: "
        f"remediate secrets forget alice --account {ACCOUNT})"
    )
    assert lines["carol"].endswith(
        "(the mfa-seed defeats MFA until forgotten: the run that enables carol's pending "
        "device with --mfa-codes forgets it)"
    )
    doc = cli("secrets", "list", "-o", "json").json()
    alice = next(e for e in doc["secrets"] if e["user"] == "alice")
    assert alice["warnings"] == [
        f"the mfa-seed defeats MFA until forgotten: remediate secrets forget alice --account "
        f"{ACCOUNT}"
    ]


def test_only_the_secrets_generated_are_handed_over(moto: Any, cli: Any) -> None:
    r = fix(cli, moto, "--no-mfa", "-o", "json")
    assert r.code == 0, r.err
    assert [s["what"] for s in r.json()["handover"]["show"]] == ["console sign-in"]
    rerun = fix(cli, moto, "--no-mfa", "-o", "json")
    assert rerun.json()["handover"] is None


def test_show_secrets_prints_the_access_key_as_a_credentials_profile(
    moto: Any, cli: Any, test_keyring: Any
) -> None:
    r = fix(cli, moto, "--access", "programmatic", "--no-mfa", "--show-secrets")
    assert r.code == 0, r.err
    key = json.loads(SecretStore(test_keyring).get(ACCOUNT, USER, "access-key") or "{}")
    assert (
        "      [alice]\n"
        f"      aws_access_key_id = {key['AccessKeyId']}\n"
        f"      aws_secret_access_key = {key['SecretAccessKey']}\n"
    ) in r.out
    assert r.out.count(key["SecretAccessKey"]) == 1


def test_secrets_show_console_hands_over_url_user_and_password(
    moto: Any, cli: Any, test_keyring: Any
) -> None:
    assert fix(cli, moto, "--no-mfa").code == 0
    password = SecretStore(test_keyring).get(ACCOUNT, USER, "password")
    r = cli("secrets", "show", USER, "--what", "console")
    assert r.code == 0, r.err
    assert r.out == (
        f"Sign-in URL: https://{ACCOUNT}.signin.aws.amazon.com/console\n"
        f"User name:   {USER}\n"
        f"Password:    {password}\n"
    )


# --- 7. forgetting, and --reset-password -------------------------------------------------------


def test_forget_warns_about_a_password_never_handed_over(
    moto: Any, cli: Any, test_keyring: Any
) -> None:
    assert fix(cli, moto, "--no-mfa").code == 0
    r = cli("secrets", "forget", USER, "--yes")
    assert r.code == 0, r.err
    assert "Warning: alice's console password was never shown" in r.err
    assert "its login profile still requires a reset" in r.err
    assert "remediate root-use --create-admin alice --reset-password" in r.err
    assert SecretStore(test_keyring).entries() == []


def test_forget_after_the_handover_says_nothing_more(
    moto: Any, cli: Any, test_keyring: Any
) -> None:
    assert fix(cli, moto, "--no-mfa").code == 0
    assert cli("secrets", "show", USER, "--what", "console").code == 0
    r = cli("secrets", "forget", USER, "--yes")
    assert r.code == 0, r.err
    assert "Warning" not in r.err
    assert f"Deleted password of {USER} (account {ACCOUNT})." in r.out


def test_reset_password_replaces_the_keyring_value_and_requires_a_reset(
    moto: Any,
    cli: Any,
    test_keyring: Any,
    updates: list[tuple[str, str, bool]],
) -> None:
    from moto.iam.models import iam_backends

    assert fix(cli, moto, "--no-mfa").code == 0
    store = SecretStore(test_keyring)
    first = store.get(ACCOUNT, USER, "password")
    assert cli("secrets", "forget", USER, "--yes").code == 0
    # Nobody knows the password now, and alice never changed it: the plan says what to do.
    r = fix(cli, moto, "--no-mfa", "--dry-run")
    assert "a reset is still required) and the keyring holds none" in r.out
    assert "--reset-password sets a new one" in r.out

    r = fix(cli, moto, "--no-mfa", "--reset-password", "-o", "json")
    assert r.code == 0, r.err
    assert changes(r.json())["console-access"] == "update"
    second = store.get(ACCOUNT, USER, "password")
    assert second is not None
    assert second != first
    assert iam_backends[ACCOUNT]["global"].users[USER].password == second
    # The request asked IAM for a reset at the next sign-in.
    assert updates == [(USER, second, True)]
    assert store.get(ACCOUNT, USER, "pending-password") is None
    assert [s["command"] for s in r.json()["handover"]["show"]] == [
        f"remediate secrets show alice --account {ACCOUNT} --what console"
    ]
    assert second not in r.out + r.err


def test_an_interrupted_reset_is_finished_by_the_next_run(
    moto: Any, cli: Any, test_keyring: Any, updates: list[tuple[str, str, bool]]
) -> None:
    from moto.iam.models import iam_backends

    assert fix(cli, moto, "--no-mfa").code == 0
    # A reset that died after keeping its new password as pending, before or after sending it:
    # the keyring's password may no longer be the one in effect.
    store = SecretStore(test_keyring)
    kept = {"password": "Pending-Pass-123!x", "stored": "2026-01-01T00:00:00+00:00", "reset": True}
    store.put(ACCOUNT, USER, "pending-password", json.dumps(kept))
    r = fix(cli, moto, "--no-mfa", "-o", "json")
    assert r.code == 0, r.err
    assert changes(r.json())["console-access"] == "update"
    assert updates == [(USER, "Pending-Pass-123!x", True)]
    assert iam_backends[ACCOUNT]["global"].users[USER].password == "Pending-Pass-123!x"
    assert store.get(ACCOUNT, USER, "password") == "Pending-Pass-123!x"
    assert store.get(ACCOUNT, USER, "pending-password") is None
