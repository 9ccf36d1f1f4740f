"""botocore's failures as remediate's errors: one line naming the action and a tip, with AWS's
error code; and the codes the rest of remediate decides on (not found, access denied, throttled,
already exists...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from remediate.core.errors import AwsError

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

# botocore is imported inside translate(): step kinds import the codes, and commands that only
# read playbooks (`permissions`, `playbook list`, input checks) must not pay for botocore.

NOT_FOUND_CODES = frozenset({"NoSuchEntity", "NoSuchEntityException", "NotFoundException"})
ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
)
BAD_CREDENTIALS_CODES = frozenset(
    {
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "UnrecognizedClientException",
        "InvalidAccessKeyId",
    }
)
THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"}
)
# HTTP 409: another change to the entity is in progress; botocore does not retry these.
CONFLICT_CODES = frozenset({"ConcurrentModification", "EntityTemporarilyUnmodifiable"})
ALREADY_EXISTS = "EntityAlreadyExists"
# Not an AWS code: the request never left (no connection), so nothing was applied.
UNREACHABLE = "EndpointUnreachable"

CREDENTIALS_TIP = (
    "configure credentials (`aws configure`, AWS_PROFILE, or AWS_ACCESS_KEY_ID/"
    "AWS_SECRET_ACCESS_KEY), or try the built-in sandbox with --sandbox"
)
ENDPOINT_TIP = "check the network, --region and --endpoint-url (or AWS_ENDPOINT_URL)"
# Nothing listens on a loopback port: most often a sandbox that stopped (or restarted elsewhere).
SANDBOX_TIP = (
    "is `remediate sandbox serve` running? A restart picks a new port: paste its lines again; "
    "else check --endpoint-url (or AWS_ENDPOINT_URL)"
)
NOT_AWS_TIP = (
    "check --endpoint-url (or AWS_ENDPOINT_URL, or the profile's endpoint_url): it must be an "
    "AWS API endpoint or an emulator of one"
)
# Not AWS codes: an answer that is no AWS answer at all (a web page, another service).
NOT_AWS = "NotAnAwsResponse"


def _endpoint_of(exc: Exception) -> str:
    url = getattr(exc, "kwargs", {}).get("endpoint_url")
    return f" {url}" if url else ""


def translate(exc: Exception, action: str) -> AwsError:
    """One line and a tip for a botocore failure of ``action``."""
    import botocore.exceptions
    from botocore.parsers import ResponseParserError

    if isinstance(exc, ResponseParserError):
        # The endpoint answered, but not in AWS's format: an HTML page, another protocol.
        return AwsError(
            f"the endpoint's answer to {action} is not an AWS API response",
            tip=NOT_AWS_TIP,
            code=NOT_AWS,
            action=action,
            ambiguous=True,  # something answered: whether it acted on the request is unknown
        )
    if isinstance(exc, botocore.exceptions.ClientError):
        return _client_error(exc, action)
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return AwsError("no AWS credentials found", tip=CREDENTIALS_TIP, action=action)
    if isinstance(exc, botocore.exceptions.PartialCredentialsError):
        return AwsError(f"incomplete AWS credentials: {exc}", tip=CREDENTIALS_TIP, action=action)
    if _no_answer(exc):
        return _connection_error(exc, action)
    if isinstance(exc, botocore.exceptions.SSLError):
        return AwsError(
            f"TLS failed with the AWS endpoint{_endpoint_of(exc)} for {action} ({_reason(exc)})",
            tip="check --endpoint-url and the machine's CA certificates (AWS_CA_BUNDLE)",
            code=UNREACHABLE,
            action=action,
        )
    if isinstance(
        exc,
        botocore.exceptions.CredentialRetrievalError
        | botocore.exceptions.RefreshWithMFAUnsupportedError
        | botocore.exceptions.TokenRetrievalError
        | botocore.exceptions.SSOError,
    ):
        return AwsError(
            f"cannot get AWS credentials: {_reason(exc)}", tip=CREDENTIALS_TIP, action=action
        )
    return AwsError(f"{action} failed: {_reason(exc)}", action=action)


def _client_error(exc: ClientError, action: str) -> AwsError:
    """An error AWS (or something in its place) answered ``action`` with."""
    err = exc.response.get("Error", {})
    code = str(err.get("Code", "Unknown"))
    message = " ".join(str(err.get("Message", "")).split())
    if code.isdigit() or code == "Unknown":
        # botocore names an error by its HTTP status when the body had no AWS error in it.
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or code
        return AwsError(
            f"the endpoint answered {action} with HTTP {status} and no AWS error: it does "
            "not look like an AWS API endpoint",
            tip=NOT_AWS_TIP,
            code=NOT_AWS,
            action=action,
            ambiguous=int(status) >= 500 if str(status).isdigit() else False,
        )
    if code in ACCESS_DENIED_CODES:
        return AwsError(
            f"access denied: the caller may not perform {action} ({message})",
            tip=f"grant {action} to the caller; `remediate permissions` prints the policy",
            code=code,
            action=action,
        )
    if code in BAD_CREDENTIALS_CODES:
        return AwsError(
            f"AWS rejected the credentials ({code}) on {action}",
            tip=CREDENTIALS_TIP,
            code=code,
            action=action,
        )
    if code in THROTTLING_CODES:
        return AwsError(
            f"AWS throttled {action} beyond the retry limit",
            tip="wait a minute and rerun, or raise AWS_MAX_ATTEMPTS",
            code=code,
            action=action,
        )
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return AwsError(
        f"{action} failed: {code}: {message}",
        code=code,
        action=action,
        # A server error may come after the change was made.
        ambiguous=status >= 500,
    )


def _no_answer(exc: Exception) -> bool:
    """A connection that failed or an answer that never came."""
    import botocore.exceptions

    return isinstance(
        exc,
        botocore.exceptions.EndpointConnectionError
        | botocore.exceptions.ConnectionClosedError
        | botocore.exceptions.ConnectTimeoutError
        | botocore.exceptions.ReadTimeoutError
        | botocore.exceptions.ProxyConnectionError,
    )


def _connection_error(exc: Exception, action: str) -> AwsError:
    """No answer to ``action``: sent and lost (it may have been applied), or never sent."""
    import botocore.exceptions

    # Sent, answer lost: the request may have been applied. Not sent: it was not.
    sent = isinstance(
        exc, botocore.exceptions.ReadTimeoutError | botocore.exceptions.ConnectionClosedError
    )
    if sent:
        what = f"the connection to the AWS endpoint{_endpoint_of(exc)} was lost during {action}"
    else:
        what = f"cannot reach the AWS endpoint{_endpoint_of(exc)} for {action}"
    return AwsError(
        f"{what} ({_network_reason(exc)})",
        tip=SANDBOX_TIP if not sent and _loopback(exc) else ENDPOINT_TIP,
        code=None if sent else UNREACHABLE,
        action=action,
        ambiguous=sent,
    )


def _loopback(exc: Exception) -> bool:
    """Whether the endpoint is on this machine: where `remediate sandbox serve` listens."""
    from urllib.parse import urlsplit

    url = getattr(exc, "kwargs", {}).get("endpoint_url")
    try:
        host = urlsplit(str(url)).hostname if url else None
    except ValueError:
        return False
    return host in ("127.0.0.1", "localhost", "::1")


def _network_reason(exc: Exception) -> str:
    """Why a connection failed, in the operating system's words ("[Errno 111] Connection
    refused", "Name or service not known"), without urllib3's object dumps."""
    import re

    error = getattr(exc, "kwargs", {}).get("error")
    text = " ".join(str(error if error is not None else exc).split())
    found = re.search(r"\[Errno -?\d+\] [^'\")\]]+", text)
    if found:
        return found.group(0).strip()
    if "timed out" in text.lower():
        return "timed out"
    return _reason(exc)


def _reason(exc: Exception) -> str:
    """botocore's message on one line, cut short: a URL, an errno, a host name."""
    return " ".join(str(exc).split())[:300]
