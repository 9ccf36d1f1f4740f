"""The built-in sandbox: a local moto server on loopback, seeded with a root user in use.

moto's credential report has no ``<root_account>`` row and a fixed generation time; the sandbox
(and the test suite, which reuses it) adds the root row the way real IAM shows it, and keeps a
login profile's PasswordResetRequired and a virtual MFA device's tags, which moto drops. moto has no
root credentials, root caller or centralized root access either: remediate.sandbox.root keeps
them (root_requests, root_iam and root_access answer for them), and the root row is drawn from
the root credentials it keeps.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

from remediate.core.errors import InputError
from remediate.sandbox import cloudtrail as sandbox_cloudtrail
from remediate.sandbox import cloudtrail_events, notifications, root_access, root_requests
from remediate.sandbox import root as sandbox_root
from remediate.sandbox import securityhub as sandbox_securityhub
from remediate.sandbox.root import (
    RootAccessKey,
    RootCredentials,
    RootMfaDevice,
    RootSigningCertificate,
)

SANDBOX_ACCOUNT_ID = "123456789012"
SANDBOX_REGION = "us-east-1"
# Static, fake credentials: the sandbox never talks to AWS.
SANDBOX_CREDENTIALS = {"AccessKeyId": "AKIASANDBOXEXAMPLE00", "SecretAccessKey": "sandbox"}
# Who those keys are, as STS says it (moto's answer for a key it does not know is a user "moto"
# of an "sts" ARN): the operator of the sandbox's account, named in its journal and findings.
SANDBOX_CALLER_ARN = f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:user/sandbox-operator"
_SANDBOX_CALLER_ID = "AIDASANDBOXOPERATOR0"

_ISO = "%Y-%m-%dT%H:%M:%S+00:00"


@dataclass(frozen=True)
class RootState:
    """An emulated root user: what its ``<root_account>`` row says, and the credentials it
    holds (a key that was used exists, active or not; ``mfa_active`` is one MFA device)."""

    password_last_used: datetime | None = None
    mfa_active: bool = False
    key_1_last_used: datetime | None = None
    key_1_active: bool = False
    key_2_last_used: datetime | None = None
    key_2_active: bool = False
    region: str = "us-east-1"
    service: str = "iam"
    created: datetime = datetime(2019, 5, 14, 8, 30, tzinfo=UTC)
    # Root has a console password (a login profile). An account created through Organizations
    # after root credentials management was enabled has none.
    login_profile: bool = True
    cert_1_active: bool = False
    cert_2_active: bool = False


def root_row_csv(account_id: str, state: RootState, partition: str = "aws") -> str:
    """A ``<root_account>`` row shaped as real IAM writes it (password_enabled not_supported)."""

    def date(value: datetime | None, missing: str = "N/A") -> str:
        return value.astimezone(UTC).strftime(_ISO) if value else missing

    def flag(value: bool) -> str:
        return "true" if value else "false"

    def cert(active: bool) -> list[str]:
        return [flag(active), date(state.created) if active else "N/A"]

    def key(active: bool, last_used: datetime | None) -> list[str]:
        if not (active or last_used):
            return ["false", "N/A", "N/A", "N/A", "N/A"]
        return [
            flag(active),
            date(state.created),
            date(last_used),
            state.region if last_used else "N/A",
            state.service if last_used else "N/A",
        ]

    fields = [
        "<root_account>",
        f"arn:{partition}:iam::{account_id}:root",
        date(state.created),
        "not_supported",
        date(state.password_last_used, "no_information"),
        "not_supported",
        "not_supported",
        flag(state.mfa_active),
        *key(state.key_1_active, state.key_1_last_used),
        *key(state.key_2_active, state.key_2_last_used),
        *cert(state.cert_1_active),
        *cert(state.cert_2_active),
    ]
    return ",".join(fields) + "\n"


_FAKE_CERTIFICATE = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBsandboxROOTsigningCERTIFICATEnotAREALoneXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\n"
    "-----END CERTIFICATE-----"
)


def root_credentials_of(
    account_id: str, state: RootState, partition: str = "aws"
) -> RootCredentials:
    """The credentials ``state`` describes, as the account's root user holds them."""
    created = state.created
    creds = RootCredentials(login_profile=created if state.login_profile else None)
    for slot, active, last_used in (
        (1, state.key_1_active, state.key_1_last_used),
        (2, state.key_2_active, state.key_2_last_used),
    ):
        # A key that was used exists, whether or not it is active now.
        if active or last_used is not None:
            creds.access_keys.append(
                RootAccessKey(
                    access_key_id=f"AKIA{account_id}ROT{slot}",  # 20 characters, as AWS's
                    secret_access_key=f"sandbox-root-secret-{account_id}-{slot}",
                    slot=slot,
                    status="Active" if active else "Inactive",
                    created=created,
                )
            )
    for slot, active in ((1, state.cert_1_active), (2, state.cert_2_active)):
        if active:
            creds.signing_certificates.append(
                RootSigningCertificate(
                    certificate_id=f"{account_id}ROOTCERTIFICATE{slot}",
                    body=_FAKE_CERTIFICATE,
                    slot=slot,
                    status="Active",
                    uploaded=created,
                )
            )
    if state.mfa_active:
        creds.mfa_devices.append(
            RootMfaDevice(f"arn:{partition}:iam::{account_id}:mfa/root-account-mfa-device", created)
        )
    return creds


_root_states: dict[str, RootState] = {}
_patch_lock = threading.Lock()
_patched = False


def set_root_state(account_id: str, state: RootState | None) -> None:
    """Seed (or, with ``None``, remove) an emulated account's root user: the root row of its
    credential report, and the root credentials behind it."""
    if state is None:
        _root_states.pop(account_id, None)
        sandbox_root.forget_root_credentials(account_id)
    else:
        _root_states[account_id] = state
        sandbox_root.seed_root_credentials(account_id, root_credentials_of(account_id, state))


def clear_root_states() -> None:
    """Forget every emulated root user, and centralized root access with them."""
    _root_states.clear()
    sandbox_root.clear()
    sandbox_cloudtrail.clear()


def reported_root_state(account_id: str, state: RootState) -> RootState:
    """``state`` as the root credentials stand now: a deleted key, certificate or MFA device is
    gone from the root row too (a deleted key's last use with it)."""
    creds = sandbox_root.root_credentials(account_id)
    if creds is None:
        return state
    keys = {k.slot: k for k in creds.access_keys}
    certs = {c.slot for c in creds.signing_certificates if c.status == "Active"}

    def key_active(slot: int) -> bool:
        return slot in keys and keys[slot].status == "Active"

    return replace(
        state,
        mfa_active=bool(creds.mfa_devices),
        key_1_active=key_active(1),
        key_1_last_used=state.key_1_last_used if 1 in keys else None,
        key_2_active=key_active(2),
        key_2_last_used=state.key_2_last_used if 2 in keys else None,
        cert_1_active=1 in certs,
        cert_2_active=2 in certs,
        login_profile=creds.login_profile is not None,
    )


def install_root_rows() -> None:
    """Teach moto's IAM backend to put the seeded root row first, with a real generation time."""
    global _patched
    with _patch_lock:
        if _patched:
            return
        from moto.iam.models import IAMBackend
        from moto.iam.responses import IamResponse

        original_report = IAMBackend.get_credential_report
        original_response = IamResponse.get_credential_report

        def get_credential_report(self: Any) -> str:
            content: str = original_report(self)
            state = _root_states.get(self.account_id)
            if state is None:
                return content
            header, _, users = content.partition("\n")
            state = reported_root_state(self.account_id, state)
            return header + "\n" + root_row_csv(self.account_id, state, self.partition) + users

        def get_credential_report_response(self: Any) -> Any:
            result: Any = original_response(self)
            result.result["GeneratedTime"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            return result

        setattr(IAMBackend, "get_credential_report", get_credential_report)  # noqa: B010
        setattr(IamResponse, "get_credential_report", get_credential_report_response)  # noqa: B010
        _find_access_keys_in_existing_backends()
        _keep_password_reset_required()
        _keep_virtual_mfa_device_tags()
        root_requests.install()  # after the above: it looks root keys up first
        _name_the_sandbox_caller()  # after root_requests: it wraps the same STS answer
        root_access.install()
        sandbox_cloudtrail.install()
        sandbox_securityhub.install()
        notifications.install()
        _patched = True


def _name_the_sandbox_caller() -> None:
    """GetCallerIdentity with the sandbox's own keys answers as the sandbox's operator, not as
    moto's placeholder; every other key as before."""
    from moto.sts.models import STSBackend

    original = STSBackend.get_caller_identity

    def get_caller_identity(self: Any, access_key_id: str, region: str) -> Any:
        if access_key_id == SANDBOX_CREDENTIALS["AccessKeyId"]:
            return _SANDBOX_CALLER_ID, SANDBOX_CALLER_ARN, SANDBOX_ACCOUNT_ID
        return original(self, access_key_id, region)

    setattr(STSBackend, "get_caller_identity", get_caller_identity)  # noqa: B010


def _keep_password_reset_required() -> None:
    """Keep CreateLoginProfile's PasswordResetRequired, as IAM does; moto drops it, and a later
    run that reads the flag back (a password nobody saw, --reset-password) would be misled."""
    from moto.iam.responses import IamResponse

    original: Any = IamResponse.create_login_profile

    def create_login_profile(self: Any) -> Any:
        result: Any = original(self)
        if str(self._get_param("PasswordResetRequired")).lower() == "true":
            self.backend.get_user(self._get_param("UserName")).password_reset_required = True
            result.result["LoginProfile"]["PasswordResetRequired"] = True
        return result

    setattr(IamResponse, "create_login_profile", create_login_profile)  # noqa: B010


# Where the sandbox keeps a virtual MFA device's tags: not ``tags``, which moto would put in
# ListVirtualMFADevices' answer, where IAM leaves them out (botocore's IAM model says so).
_DEVICE_TAGS = "remediate_sandbox_tags"


def _keep_virtual_mfa_device_tags() -> None:
    """Keep the Tags of CreateVirtualMFADevice and answer ListMFADeviceTags, as IAM does; moto
    drops the tags and has no ListMFADeviceTags. remediate tags the devices it creates, and tells
    them from someone else's by those tags."""
    from moto.core.responses import ActionResult
    from moto.iam.exceptions import NotFoundException
    from moto.iam.responses import IamResponse

    original: Any = IamResponse.create_virtual_mfa_device

    def create_virtual_mfa_device(self: Any) -> Any:
        result: Any = original(self)
        device = result.result["VirtualMFADevice"]
        tags = [{"Key": t["Key"], "Value": t["Value"]} for t in self._get_param("Tags", [])]
        setattr(device, _DEVICE_TAGS, tags)
        return result

    def list_mfa_device_tags(self: Any) -> Any:
        serial = self._get_param("SerialNumber")
        device = self.backend.virtual_mfa_devices.get(serial)
        if device is None:
            raise NotFoundException(f"VirtualMFADevice with serial number {serial} not found")
        tags = sorted(getattr(device, _DEVICE_TAGS, []), key=lambda t: t["Key"])
        return ActionResult({"Tags": tags, "IsTruncated": False})

    setattr(IamResponse, "create_virtual_mfa_device", create_virtual_mfa_device)  # noqa: B010
    setattr(IamResponse, "list_mfa_device_tags", list_mfa_device_tags)  # noqa: B010


def _find_access_keys_in_existing_backends() -> None:
    """Look a request's access key up only in the IAM backends that exist.

    moto finds the caller's account by touching the IAM backend of every partition, and so builds
    five of them, each loading all AWS managed policies: a second of start-up on the first request.
    A backend not built yet holds no access key, so skipping it changes no answer.
    """
    import moto.iam.models as iam_models
    from moto.core.models import DEFAULT_ACCOUNT_ID

    def get_account_id_from(access_key: str) -> str:
        for account_id, account in list(iam_models.iam_backends.items()):
            for backend in list(account.values()):
                if access_key in backend.access_keys:
                    return str(account_id)
        return str(DEFAULT_ACCOUNT_ID)

    setattr(iam_models, "get_account_id_from", get_account_id_from)  # noqa: B010


def generate_credential_report(
    account_id: str = SANDBOX_ACCOUNT_ID, partition: str = "aws"
) -> None:
    """Have a recent credential report ready in the emulated account, as a real account has after
    a recent GenerateCredentialReport (which then answers COMPLETE, not STARTED)."""
    from moto.iam.models import iam_backends

    iam_backends[account_id][partition].generate_report()


def _check_port(port: int) -> None:
    """Refuse a port something else listens on: moto's server would fail to bind in its own
    thread and leave start() waiting for ever."""
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise InputError(
                f"the sandbox cannot listen on 127.0.0.1:{port}: {exc.strerror}",
                tip="choose another --port, or leave it out for a free one",
            ) from None


class Sandbox:
    """A moto server on a free loopback port, seeded with an account whose root password was used
    two days ago and a recent credential report, and (``organization``) an organization whose
    member accounts are in different states. Use as a context manager; ``endpoint_url`` is where
    to send requests."""

    def __init__(
        self, root_state: RootState | None = None, *, organization: bool = False, port: int = 0
    ) -> None:
        now = datetime.now(UTC)
        self.root_state = root_state or RootState(password_last_used=now - timedelta(days=2))
        self.organization = organization
        self.port = port  # 0: a free one
        self._server: Any = None
        self.endpoint_url = ""

    def client(self, service: str) -> Any:
        """A client of the sandbox's own, with its fake keys and never read-only: seeding the
        emulator is set-up, not part of any command (a dry run included)."""
        from remediate.aws.session import new_session

        # Isolated: a profile of the person's (AWS_PROFILE) has nothing to do with the sandbox.
        session = new_session(
            aws_access_key_id=SANDBOX_CREDENTIALS["AccessKeyId"],
            aws_secret_access_key=SANDBOX_CREDENTIALS["SecretAccessKey"],
            region_name=SANDBOX_REGION,
            isolated=True,
        )
        make_client: Any = session.create_client
        return make_client(service, endpoint_url=self.endpoint_url)

    def start(self) -> Sandbox:
        # AdministratorAccess exists in moto only when AWS managed policies are loaded.
        os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as exc:
            raise InputError(
                f"the sandbox needs moto's server, which is not installed ({exc.name})",
                tip="install the sandbox extra: pip install 'remediate[sandbox]'",
            ) from exc

        install_root_rows()
        # werkzeug logs every request at INFO through the root logger: that is noise on the
        # CLI's stderr, wanted only with --debug.
        if not logging.getLogger("remediate").isEnabledFor(logging.DEBUG):
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
        if self.port:
            _check_port(self.port)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        set_root_state(SANDBOX_ACCOUNT_ID, self.root_state)
        generate_credential_report(SANDBOX_ACCOUNT_ID)
        # What root did (CloudTrail's event history), consistent with the root row: a password
        # used two days ago, no MFA any more.
        sandbox_cloudtrail.add_events(
            SANDBOX_ACCOUNT_ID,
            cloudtrail_events.sandbox_activity(SANDBOX_ACCOUNT_ID, datetime.now(UTC)),
        )
        sandbox_securityhub.enable(SANDBOX_ACCOUNT_ID, SANDBOX_REGION)
        if self.organization:
            seed_organization(self.client("organizations"))
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# Member accounts of the sandbox's organization, each in a different state.
SANDBOX_MEMBERS: tuple[tuple[str, str], ...] = (
    (
        "dev",
        "an access key of the root user used yesterday; root also has a password and a signing "
        "certificate, and no MFA",
    ),
    ("prod", "root password last used 40 days ago, root MFA active"),
    ("audit", "root never used and holds no credentials at all (no password, no MFA)"),
)


def _member_state(name: str) -> RootState:
    now = datetime.now(UTC)
    if name == "dev":
        return RootState(
            key_1_active=True, key_1_last_used=now - timedelta(days=1), cert_1_active=True
        )
    if name == "prod":
        return RootState(password_last_used=now - timedelta(days=40), mfa_active=True)
    return RootState(login_profile=False)


def seed_organization(
    organizations: Any,
    *,
    central_root_access: tuple[str, ...] = (sandbox_root.ROOT_CREDENTIALS_MANAGEMENT,),
) -> list[str]:
    """Make the sandbox account an organization's management account with three members, whose
    root users are in different states; returns the member account ids.

    ``central_root_access`` is what is already enabled of centralized root access (with trusted
    access for IAM), set up in process: by default root credentials management but not root
    sessions, so `root-credentials audit` and `delete` work and `centralize` has one change left.
    """
    organizations.create_organization(FeatureSet="ALL")
    members = []
    for name, _ in SANDBOX_MEMBERS:
        status = organizations.create_account(
            Email=f"{name}@sandbox.example.com", AccountName=name
        )["CreateAccountStatus"]
        account_id = str(status["AccountId"])
        set_root_state(account_id, _member_state(name))
        generate_credential_report(account_id)
        sandbox_cloudtrail.add_events(
            account_id, cloudtrail_events.member_activity(account_id, name, datetime.now(UTC))
        )
        sandbox_securityhub.enable(account_id, SANDBOX_REGION)
        members.append(account_id)
    if central_root_access:
        management = organizations.describe_organization()["Organization"]["MasterAccountId"]
        sandbox_root.enable_central_root_access(str(management), central_root_access)
    return members
