"""IAM answering for the root user, in the sandbox: the eight root credential operations when
``UserName`` is omitted, and GetAccountSummary's root fields, from the credentials
:mod:`remediate.sandbox.root` keeps.

Where root's answers need a ``UserName`` (login profile, certificates, MFA devices) it is the
account id. A missing credential is IAM's ``NoSuchEntity``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from remediate.sandbox import root as sandbox_root
from remediate.sandbox.root import RootCredentials, iam_error


def _empty() -> object:
    from moto.core.responses import EmptyResult

    return EmptyResult()


def _no_login_profile(account_id: str) -> Exception:
    return iam_error("NoSuchEntity", f"Login Profile for User {account_id} cannot be found.")


def _get_login_profile(response: Any, account_id: str, creds: RootCredentials) -> object:
    if creds.login_profile is None:
        raise _no_login_profile(account_id)
    return {
        "LoginProfile": {
            "UserName": account_id,
            "CreateDate": creds.login_profile,
            "PasswordResetRequired": False,
        }
    }


def _delete_login_profile(response: Any, account_id: str, creds: RootCredentials) -> object:
    if creds.login_profile is None:
        raise _no_login_profile(account_id)
    creds.login_profile = None
    return _empty()


def _list_access_keys(response: Any, account_id: str, creds: RootCredentials) -> object:
    return {
        "AccessKeyMetadata": [
            {"AccessKeyId": k.access_key_id, "Status": k.status, "CreateDate": k.created}
            for k in creds.access_keys
        ],
        "IsTruncated": False,
    }


def _delete_access_key(response: Any, account_id: str, creds: RootCredentials) -> object:
    key_id = str(response._get_param("AccessKeyId"))
    found = [k for k in creds.access_keys if k.access_key_id == key_id]
    if not found:
        raise iam_error("NoSuchEntity", f"The Access Key with id {key_id} cannot be found.")
    creds.access_keys.remove(found[0])
    sandbox_root.revoke(key_id)
    return _empty()


def _list_signing_certificates(response: Any, account_id: str, creds: RootCredentials) -> object:
    return {
        "Certificates": [
            {
                "UserName": account_id,
                "CertificateId": c.certificate_id,
                "CertificateBody": c.body,
                "Status": c.status,
                "UploadDate": c.uploaded,
            }
            for c in creds.signing_certificates
        ],
        "IsTruncated": False,
    }


def _delete_signing_certificate(response: Any, account_id: str, creds: RootCredentials) -> object:
    cert_id = str(response._get_param("CertificateId"))
    certs = [c for c in creds.signing_certificates if c.certificate_id == cert_id]
    if not certs:
        raise iam_error("NoSuchEntity", f"The Certificate with id {cert_id} cannot be found.")
    creds.signing_certificates.remove(certs[0])
    return _empty()


def _list_mfa_devices(response: Any, account_id: str, creds: RootCredentials) -> object:
    return {
        "MFADevices": [
            {
                "UserName": account_id,
                "SerialNumber": d.serial_number,
                "EnableDate": d.enabled,
            }
            for d in creds.mfa_devices
        ],
        "IsTruncated": False,
    }


def _deactivate_mfa_device(response: Any, account_id: str, creds: RootCredentials) -> object:
    serial = str(response._get_param("SerialNumber"))
    devices = [d for d in creds.mfa_devices if d.serial_number == serial]
    if not devices:
        raise iam_error("NoSuchEntity", f"MFA Device with serial number {serial} not found.")
    creds.mfa_devices.remove(devices[0])
    return _empty()


_OPERATIONS: dict[str, Callable[[Any, str, RootCredentials], object]] = {
    "GetLoginProfile": _get_login_profile,
    "DeleteLoginProfile": _delete_login_profile,
    "ListAccessKeys": _list_access_keys,
    "DeleteAccessKey": _delete_access_key,
    "ListSigningCertificates": _list_signing_certificates,
    "DeleteSigningCertificate": _delete_signing_certificate,
    "ListMFADevices": _list_mfa_devices,
    "DeactivateMFADevice": _deactivate_mfa_device,
}
# The IAM operations that act on the root user when ``UserName`` is omitted, answered here.
ROOT_CREDENTIAL_OPERATIONS = frozenset(_OPERATIONS)


def root_credential_operation(response: Any, account_id: str, operation: str) -> object:
    """One of the eight root credential operations, on the account's root user: its answer, or
    IAM's error raised."""
    with sandbox_root.changing(account_id) as creds:
        return _OPERATIONS[operation](response, account_id, creds)


def account_summary(self: Any, original: Any) -> Any:
    """GetAccountSummary with the root user's part filled in (moto has no AccountPasswordPresent
    and always answers AccountMFAEnabled 0): 1 or 0, as IAM answers them."""
    result = original(self)
    creds = sandbox_root.root_credentials(str(self.current_account))
    if creds is None:
        return result
    summary = result.result["SummaryMap"]
    summary["AccountPasswordPresent"] = int(creds.login_profile is not None)
    summary["AccountMFAEnabled"] = int(bool(creds.mfa_devices))
    summary["AccountAccessKeysPresent"] = int(bool(creds.access_keys))
    summary["AccountSigningCertificatesPresent"] = int(bool(creds.signing_certificates))
    return result
