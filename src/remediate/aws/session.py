"""Session factory: one boto3 session per account, adaptive retries, call counts, dry-run guard."""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import boto3
import botocore.exceptions
import botocore.session
from botocore.config import Config

from remediate import __version__
from remediate.aws.answers import CheckedParserFactory, check_answer
from remediate.core.clock import utc
from remediate.core.errors import AwsError, InputError, WriteRefusedError

log = logging.getLogger(__name__)

DEFAULT_REGION = "us-east-1"
DEFAULT_MAX_ATTEMPTS = 8
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0

# Operations that change nothing in the account; everything else is a write and refused in dry run.
# AssumeRole and AssumeRoot only hand out short-lived credentials: a dry run across accounts needs
# them to read each account, and the session they open refuses writes just the same.
# CloudTrail's LookupEvents reads the event history (--cloudtrail with a dry run).
_READ_PREFIXES = ("Get", "List", "Describe")
_READ_OPERATIONS = frozenset(
    {"GenerateCredentialReport", "AssumeRole", "AssumeRoot", "LookupEvents"}
)


def is_write(operation: str) -> bool:
    """Whether an API operation (e.g. ``CreateUser``) can change the account."""
    return not (operation.startswith(_READ_PREFIXES) or operation in _READ_OPERATIONS)


@functools.cache
def partition_of_region(region: str) -> str:
    """The partition a region belongs to (``aws``, ``aws-us-gov``, ``aws-cn``, ``aws-eusc``,
    ``aws-iso-*``...), from botocore's partition data; ``aws`` for a region it does not know.

    Cached: reading botocore's endpoint data costs ~80 ms, and a sweep makes a session per
    account."""
    import botocore.loaders
    import botocore.regions

    # A loader of its own, not a session's: a session would look the AWS profile up first, and
    # a profile that does not exist has nothing to do with which partition a region is in.
    loader = botocore.loaders.create_loader()
    loader._cache = _LOADER_CACHE  # type: ignore[attr-defined]  # see new_session
    resolver = botocore.regions.EndpointResolver(loader.load_data("endpoints"))
    try:
        return str(resolver.get_partition_for_region(region))
    except botocore.exceptions.UnknownRegionError:
        return "aws"


def configured_region() -> str | None:
    """The region a run without --region would use, read from the configuration alone (no AWS
    call): ``AWS_REGION``, then botocore's chain (``AWS_DEFAULT_REGION``, the region of the
    profile ``AWS_PROFILE`` names, or of the default profile)."""
    if os.environ.get("AWS_REGION"):
        return os.environ["AWS_REGION"]
    try:
        region = botocore.session.Session().get_config_variable("region")
    except (
        botocore.exceptions.ProfileNotFound,
        botocore.exceptions.InvalidConfigError,
        botocore.exceptions.ConfigParseError,
    ) as exc:
        raise config_error(exc, AwsOptions()) from exc
    return str(region) if region else None


# Parsed botocore data (service models, endpoints), shared by every session's loader.
_LOADER_CACHE: dict[Any, Any] = {}


def new_session(credentials: Any = None, *, isolated: bool = False, **kwargs: Any) -> boto3.Session:
    """A boto3 session whose loader shares parsed service models with every other session.

    Each session would otherwise parse them again (~0.1 s of CPU each), and an organization
    sweep makes one session per account. Each session keeps its own loader (boto3 adds a search
    path to it per session), sharing only the cache of files it has read. ``credentials`` is a
    botocore credentials object to use as is (it may renew itself).
    """
    import botocore.loaders
    import botocore.session

    if isolated:
        # No environment variable names the profile or the files: botocore's own way to
        # override them (session_vars), where setting them to None would fall back to the
        # environment.
        core = botocore.session.Session(
            session_vars={
                "profile": (None, [], None, None),
                "config_file": (None, [], os.devnull, None),
                "credentials_file": (None, [], os.devnull, None),
            }
        )
    else:
        core = botocore.session.get_session()
    loader = botocore.loaders.create_loader(core.get_config_variable("data_path"))
    # botocore's per-loader cache of parsed files, which it only reads after filling.
    loader._cache = _LOADER_CACHE  # type: ignore[attr-defined]
    core.register_component("data_loader", loader)
    # An answer that is not AWS's fails as one, whatever its body (remediate.aws.answers).
    core.register_component("response_parser_factory", CheckedParserFactory())
    core.register("before-parse", check_answer)
    if credentials is not None:
        # botocore has no public setter; boto3.Session(aws_access_key_id=...) would freeze them.
        core._credentials = credentials  # type: ignore[attr-defined]
    # sts:AssumeRoot refuses STS's global endpoint. Regional is botocore's default, but a config
    # file or AWS_STS_REGIONAL_ENDPOINTS=legacy would send us-east-1 calls to the global one.
    core.set_config_variable("sts_regional_endpoints", "regional")
    return boto3.Session(botocore_session=core, **kwargs)


def _source(option: str | None, flag: str, *env: str) -> str:
    """Where a setting came from, for a message: the option, an environment variable, or the
    AWS config."""
    if option:
        return flag
    for name in env:
        if os.environ.get(name):
            return name
    return "the AWS config"


def _endpoint_source(options: AwsOptions) -> str:
    if options.endpoint_url:
        return f"{options.endpoint_url[:120]!r} (--endpoint-url)"
    return "from AWS_ENDPOINT_URL or the AWS config"


def config_error(exc: Exception, options: AwsOptions) -> InputError | AwsError:
    """One line for a botocore failure to set a session or client up: what the person gave (a
    profile, a region, the config file) is an input error naming where it came from; anything
    else (credentials that cannot be fetched) an AWS error."""
    from remediate.aws.calls import translate

    if isinstance(exc, botocore.exceptions.ProfileNotFound):
        name = exc.kwargs.get("profile") or options.profile
        source = _source(options.profile, "--profile", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
        if source == "the AWS config":
            source = "a source_profile in the AWS config"
        return InputError(
            f"AWS profile {str(name)[:80]!r} not found (named by {source})",
            tip=_profiles_tip(),
        )
    if isinstance(exc, botocore.exceptions.InvalidRegionError):
        region = exc.kwargs.get("region_name") or options.region
        source = _source(options.region, "--region", "AWS_REGION", "AWS_DEFAULT_REGION")
        return InputError(
            f"invalid AWS region {str(region)[:80]!r} (from {source})",
            tip="use a region name such as us-east-1",
        )
    if isinstance(
        exc, botocore.exceptions.InvalidConfigError | botocore.exceptions.ConfigParseError
    ):
        return InputError(
            f"the AWS config cannot be used: {' '.join(str(exc).split())[:200]}",
            tip="fix ~/.aws/config (or AWS_CONFIG_FILE)",
        )
    return translate(exc, "the credentials")


def _profiles_tip() -> str:
    try:
        names = sorted(botocore.session.Session().available_profiles)
    except Exception:  # a config file that cannot be parsed: the tip is only a tip
        names = []
    if names and len(names) <= 8:
        return f"profiles in the AWS config: {', '.join(names)}"
    return "list profiles with `aws configure list-profiles`"


@dataclass(frozen=True)
class AwsOptions:
    """How to reach AWS: ``None`` everywhere means boto3's standard chain and environment."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    # An http:// endpoint on another machine, however it was set (AWS_ENDPOINT_URL, the config
    # file), is refused unless this is true: secrets would cross the network in clear text.
    allow_insecure_endpoint: bool = False
    # The built-in sandbox: no AWS config file or profile is read (see new_session).
    isolated: bool = False


# API parameters that name what a write acts on: the only ones the audit trail records. Never a
# password, a secret key, an MFA code or a policy document.
NAME_PARAMETERS = (
    "UserName",
    "GroupName",
    "RoleName",
    "PolicyArn",
    "VirtualMFADeviceName",
    "SerialNumber",
    "AccessKeyId",
    "CertificateId",
    "ServicePrincipal",
)
# Where a create's answer names what it made (ids, never the secret beside them).
_ANSWER_NAMES = (
    ("AccessKey", "AccessKeyId"),
    ("VirtualMFADevice", "SerialNumber"),
)


@dataclass(frozen=True)
class WriteCall:
    """One write call as the audit trail records it: the action, the names it acted on, what an
    update changed, and how it ended (``applied``, ``failed (Code)``, or ``unknown (...)`` when
    no answer came back and it may or may not have been applied)."""

    action: str
    names: tuple[tuple[str, str], ...]
    details: tuple[str, ...] = ()
    outcome: str = "applied"

    def name(self, parameter: str) -> str | None:
        return next((v for k, v in self.names if k == parameter), None)


def _shown_tag(text: str) -> str:
    return f"`{text}`"


def _tag_details(
    operation: str, params: dict[str, Any], seen: dict[str, dict[str, str]]
) -> tuple[str, ...]:
    """What a tagging write changes, from the tags last read for that user: ``tag `Team`:
    `sec` -> `ops```."""
    tags = params.get("Tags")
    if not isinstance(tags, list):
        return ()
    before = {
        k.casefold(): v for k, v in seen.get(str(params.get("UserName", "")).casefold(), {}).items()
    }
    details = []
    for t in tags:
        if not isinstance(t, dict):
            continue
        key, value = str(t.get("Key", "")), str(t.get("Value", ""))
        if operation.startswith("Create"):
            details.append(f"tag {_shown_tag(key)} = {_shown_tag(value)}")
        elif key.casefold() in before:
            old = before[key.casefold()]
            details.append(f"tag {_shown_tag(key)}: {_shown_tag(old)} -> {_shown_tag(value)}")
        else:
            details.append(f"tag {_shown_tag(key)}: added {_shown_tag(value)}")
    return tuple(details)


@dataclass
class CallStats:
    """API calls made through one session, for benchmarks and for the clock check."""

    operations: Counter[str] = field(default_factory=Counter)
    server_date: datetime | None = None
    local_date: datetime | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def reads(self) -> int:
        return sum(n for op, n in self.operations.items() if not is_write(op.split(":")[1]))

    @property
    def writes(self) -> int:
        return sum(n for op, n in self.operations.items() if is_write(op.split(":")[1]))

    def record(self, service: str, operation: str) -> None:
        with self._lock:
            self.operations[f"{service}:{operation}"] += 1


class Aws:
    """One account's boto3 session and its clients.

    With ``read_only`` the session itself refuses every write call before it is sent, so a dry
    run cannot change the account whatever the code above it does.
    """

    def __init__(
        self,
        options: AwsOptions,
        *,
        read_only: bool = False,
        session: boto3.Session | None = None,
        credentials: Any = None,
    ) -> None:
        self.options = options
        self.read_only = read_only
        self.stats = CallStats()
        # A botocore credentials object this session's clients sign with, instead of the boto3
        # session's own (a session shared with the thread's caller: see ``sharing``).
        self._credentials = credentials
        # Every write call this session made, in order, with its outcome; ``on_write`` hears
        # of each as it ends (the audit trail).
        self.writes: list[WriteCall] = []
        self.on_write: Callable[[WriteCall], None] | None = None
        # The write call on its way, until its answer comes: what Ctrl-C may have cut short.
        self._in_flight: WriteCall | None = None
        # Each user's tags as last read (GetUser), so a tagging write can say what it changed.
        self.tags_seen: dict[str, dict[str, str]] = {}
        # The AWS task policy when these are sts:AssumeRoot credentials (set by whoever opened
        # them): only such a session may omit UserName for root's password and MFA devices.
        self.root_task: str | None = None
        try:
            self._session = session or new_session(
                profile_name=options.profile, region_name=options.region, isolated=options.isolated
            )
            if options.profile and options.profile not in self._session.available_profiles:
                raise botocore.exceptions.ProfileNotFound(profile=options.profile)
            self.region = options.region or self._session.region_name or DEFAULT_REGION
        except botocore.exceptions.BotoCoreError as exc:
            raise config_error(exc, options) from exc
        self.partition = partition_of_region(self.region)
        # (service, retries, region) -> (client, the access key id it signs with).
        self._clients: dict[tuple[str, bool, str], tuple[Any, str | None]] = {}
        self._lock = threading.Lock()
        self._retrying: Any = None  # the spinner while botocore waits to send a call again

    @classmethod
    def from_credentials(
        cls, options: AwsOptions, credentials: dict[str, str], *, read_only: bool = False
    ) -> Aws:
        """A session for explicit credentials (an assumed role, or the sandbox's fake keys)."""
        session = new_session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials.get("SessionToken"),
            region_name=options.region,
            isolated=options.isolated,
        )
        return cls(options, read_only=read_only, session=session)

    @classmethod
    def from_credentials_object(
        cls, options: AwsOptions, credentials: Any, *, read_only: bool = False
    ) -> Aws:
        """A session using a botocore credentials object, shared as is: a refreshable one (an
        assumed role, SSO) renews itself before it expires, for every session sharing it."""
        session = new_session(credentials, region_name=options.region, isolated=options.isolated)
        return cls(options, read_only=read_only, session=session)

    @classmethod
    def sharing(cls, other: Aws, credentials: Any, *, read_only: bool) -> Aws:
        """A session for other credentials (an assumed role) that shares ``other``'s boto3 session
        and so must stay in ``other``'s thread: building a botocore session costs ~20 ms of CPU,
        a client a few, and a sweep opens one session per account. Its clients, counts and
        dry-run guard are its own."""
        options = dataclasses.replace(other.options, region=other.region)
        return cls(options, read_only=read_only, session=other._session, credentials=credentials)

    def copy(self, *, read_only: bool) -> Aws:
        """A new session (its own boto3 session and clients) with these credentials, for
        another thread: boto3 clients are not shared across threads.

        The credentials object itself is shared, not rebuilt from the options: the sandbox or an
        assumed role has no profile to rebuild from, a profile that assumes a role would prompt
        again, and refreshable credentials keep renewing themselves (they lock while they do).
        The region is pinned so the copy stays in this session's partition.
        """
        options = dataclasses.replace(self.options, region=self.region)
        creds = self._credentials or self._session.get_credentials()
        if creds is None:
            return Aws(options, read_only=read_only)
        return Aws.from_credentials_object(options, creds, read_only=read_only)

    def _before_parameter_build(
        self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        if not is_write(model.name):
            return
        service = model.service_model.endpoint_prefix
        names = tuple((k, str(params[k])) for k in NAME_PARAMETERS if params.get(k) is not None)
        details = _tag_details(model.name, params, self.tags_seen)
        context["remediate.write"] = WriteCall(f"{service}:{model.name}", names, details)

    def _before_call(self, model: Any, context: Any = None, **_: Any) -> None:
        service = model.service_model.endpoint_prefix
        if self.read_only and is_write(model.name):
            raise WriteRefusedError(
                f"dry run: refused the write call {service}:{model.name}",
                tip="this is a bug in remediate; nothing was changed",
                action=f"{service}:{model.name}",
            )
        self.stats.record(service, model.name)
        log.debug("AWS call %s:%s", service, model.name)
        if isinstance(context, dict) and "remediate.write" in context:
            self._in_flight = context["remediate.write"]

    def _after_call(
        self, http_response: Any = None, parsed: Any = None, context: Any = None, **_: Any
    ) -> None:
        self._call_done()
        date = getattr(http_response, "headers", {}).get("Date") if http_response else None
        if date:
            try:
                server = parsedate_to_datetime(date)
                # "-0000" (and a missing zone) parse to a naive datetime: HTTP dates are UTC.
                self.stats.server_date = utc(server)
                self.stats.local_date = datetime.now(UTC)
            except (TypeError, ValueError):
                pass
        if not isinstance(parsed, dict):
            return
        user = parsed.get("User")
        if isinstance(user, dict) and isinstance(user.get("UserName"), str):
            tags = user.get("Tags") or []
            self.tags_seen[user["UserName"].casefold()] = {
                str(t.get("Key")): str(t.get("Value")) for t in tags if isinstance(t, dict)
            }
        pending = context.pop("remediate.write", None) if isinstance(context, dict) else None
        if pending is None:
            return
        status = int(getattr(http_response, "status_code", 0) or 0)
        if status >= 300:
            code = parsed.get("Error", {}).get("Code") or f"HTTP {status}"
            outcome = f"failed ({code})"
        else:
            outcome = "applied"
        names = list(pending.names)
        for key, field_name in _ANSWER_NAMES:
            made = parsed.get(key)
            if isinstance(made, dict) and made.get(field_name) and not pending.name(field_name):
                names.append((field_name, str(made[field_name])))
        self._ended(dataclasses.replace(pending, names=tuple(names), outcome=outcome))

    def _after_call_error(self, exception: Any = None, context: Any = None, **_: Any) -> None:
        self._call_done()
        pending = context.pop("remediate.write", None) if isinstance(context, dict) else None
        if pending is None:
            return
        lost = isinstance(
            exception,
            botocore.exceptions.ReadTimeoutError | botocore.exceptions.ConnectionClosedError,
        )
        outcome = (
            "unknown (the answer was lost: it may have been applied)"
            if lost
            else f"failed ({type(exception).__name__}: not sent)"
        )
        self._ended(dataclasses.replace(pending, outcome=outcome))

    def _needs_retry(
        self,
        response: Any = None,
        attempts: int = 0,
        caught_exception: Any = None,
        operation: Any = None,
        **_: Any,
    ) -> None:
        """Say (with -v, and with a spinner on a terminal) that botocore is about to send a call
        again: throttled, a server error, a connection that failed. It decides; this only tells."""
        from remediate.aws.calls import THROTTLING_CODES

        reason = None
        if caught_exception is not None:
            reason = type(caught_exception).__name__
        elif response is not None:
            http, parsed = response
            code = parsed.get("Error", {}).get("Code") if isinstance(parsed, dict) else None
            status = int(getattr(http, "status_code", 0) or 0)
            if code in THROTTLING_CODES or status >= 500:
                reason = code or f"HTTP {status}"
        limit = self._attempts
        if reason is None or operation is None or attempts >= limit:
            return
        service = operation.service_model.endpoint_prefix
        action = f"{service}:{operation.name}"
        log.info("%s: %s (attempt %d of %d); botocore tries again", action, reason, attempts, limit)
        if self._retrying is None:
            from remediate.core.spinner import Waiting

            self._retrying = Waiting()
        self._retrying.show(
            # The attempt first: it is what a narrow terminal keeps of the line.
            f"attempt {attempts + 1} of {limit}: AWS answered {action} with {reason}; trying "
            "again with backoff"
        )

    def _call_done(self) -> None:
        if self._retrying is not None:
            self._retrying.clear()

    def _ended(self, write: WriteCall) -> None:
        self._in_flight = None
        self.writes.append(write)
        if self.on_write is not None:
            self.on_write(write)

    def interrupted_write(self) -> WriteCall | None:
        """The write call Ctrl-C cut short, if one was on its way (recorded as such, once): it
        may or may not have been applied."""
        pending = self._in_flight
        if pending is None:
            return None
        self._ended(
            dataclasses.replace(pending, outcome="unknown (interrupted: it may have been applied)")
        )
        return self.writes[-1]

    @property
    def _attempts(self) -> int:
        """Attempts per call, the first included (AWS_MAX_ATTEMPTS, else 8)."""
        try:
            return int(os.environ.get("AWS_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS)
        except ValueError:
            return DEFAULT_MAX_ATTEMPTS

    def _config(self, *, retries: bool) -> Config:
        # total_max_attempts counts the first attempt (max_attempts would count retries only),
        # as AWS_MAX_ATTEMPTS does.
        if retries:
            policy = {"mode": "adaptive", "total_max_attempts": self._attempts}
        else:
            # One attempt: the caller decides what a lost answer means (remediate.aws.calls).
            policy = {"mode": "standard", "total_max_attempts": 1}
        return Config(
            retries=policy,  # type: ignore[arg-type]
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            user_agent_extra=f"remediate/{__version__}",
        )

    def client(self, service: str, *, retries: bool = True, region: str | None = None) -> Any:
        """A client for ``service`` (cached: one per service and session, never across threads).

        ``retries=False`` gives a client that never resends a request by itself, for calls that
        create something that must exist once (an access key, a virtual MFA device...): botocore
        would resend one whose answer was lost although AWS had applied it. Global services
        (IAM, Organizations) get their endpoint from botocore for this session's region.
        ``region`` is for regional services read in several regions (CloudTrail's event
        history): one client per region, this session's region by default.
        """
        key = (service, retries, region or self.region)
        # Refreshable credentials renew on reading; a client built with keys that have since
        # been renewed is built again (only sessions given a credentials object have any).
        frozen = self._credentials.get_frozen_credentials() if self._credentials else None
        signs_with = str(frozen.access_key) if frozen is not None else None
        with self._lock:
            cached = self._clients.get(key)
            if cached is None or cached[1] != signs_with:
                kwargs: dict[str, Any] = {
                    "region_name": region or self.region,
                    "config": self._config(retries=retries),
                }
                if self.options.endpoint_url:
                    kwargs["endpoint_url"] = self.options.endpoint_url
                if frozen is not None:
                    kwargs.update(
                        aws_access_key_id=frozen.access_key,
                        aws_secret_access_key=frozen.secret_key,
                        aws_session_token=frozen.token,
                    )
                make_client: Any = self._session.client
                try:
                    # Credentials and the endpoint are resolved here: a profile, a region or an
                    # endpoint from the environment or the AWS config fails here, not in a call.
                    client = make_client(service, **kwargs)
                except botocore.exceptions.BotoCoreError as exc:
                    raise config_error(exc, self.options) from exc
                except ValueError as exc:
                    # botocore: "Invalid endpoint: ..." for an endpoint URL that is no URL.
                    raise InputError(
                        f"the {service} endpoint {_endpoint_source(self.options)} is not a URL "
                        f"({' '.join(str(exc).split())[:160]})",
                        tip="give an http:// or https:// URL with a host, e.g. "
                        "https://iam.amazonaws.com",
                    ) from exc
                except OSError as exc:
                    # A credential_process that cannot be run.
                    raise AwsError(
                        f"cannot get AWS credentials: {exc.strerror or exc}"
                        + (f": {exc.filename}" if exc.filename else ""),
                        tip="check the profile's credential_process in the AWS config",
                    ) from exc
                self._check_endpoint(service, str(client.meta.endpoint_url))
                # On the client's own events: a shared boto3 session serves other accounts too.
                events = client.meta.events
                events.register("before-parameter-build", self._before_parameter_build)
                events.register("before-call", self._before_call)
                events.register("after-call", self._after_call)
                events.register("after-call-error", self._after_call_error)
                if retries:
                    # Only where botocore resends: the once-only client never does.
                    events.register("needs-retry", self._needs_retry)
                cached = self._clients[key] = (client, signs_with)
            return cached[0]

    def _check_endpoint(self, service: str, url: str) -> None:
        """--endpoint-url was checked with the other options; this catches an endpoint set by
        AWS_ENDPOINT_URL(_service) or a profile's endpoint_url, before any request is sent."""
        from remediate.core.validate import PLAIN_HTTP_TIP, plain_text_remote

        remote = None if self.options.allow_insecure_endpoint else plain_text_remote(url)
        if remote:
            raise InputError(
                f"the {service} endpoint {url[:120]} (from the environment or the AWS config) is "
                f"plain http to {remote}: passwords and secret keys would cross the network in "
                "clear text",
                tip=PLAIN_HTTP_TIP,
            )

    @property
    def access_key_id(self) -> str | None:
        """The id of the access key this session signs with (an id, not a secret), if any."""
        creds = self._credentials or self._session.get_credentials()
        return None if creds is None else str(creds.access_key)

    @property
    def iam(self) -> Any:
        return self.client("iam")

    @property
    def iam_once(self) -> Any:
        """IAM without automatic resends: for creates that must happen once."""
        return self.client("iam", retries=False)

    @property
    def sts(self) -> Any:
        return self.client("sts")


def sts_credentials(fetch: Callable[[], Any], *, method: str, short_lived: bool = False) -> Any:
    """Refreshable credentials from an STS answer's ``Credentials``, which ``fetch`` asks for
    again before they expire. ``short_lived`` fits them to a 15-minute session: botocore's
    defaults renew 15 minutes before expiry (advisory) and block 10 minutes before (mandatory),
    which for a 900-second session would mean asking STS again before nearly every call."""
    from botocore.credentials import RefreshableCredentials

    def metadata() -> dict[str, str]:
        credentials = fetch()
        return {
            "access_key": str(credentials["AccessKeyId"]),
            "secret_key": str(credentials["SecretAccessKey"]),
            "token": str(credentials["SessionToken"]),
            "expiry_time": credentials["Expiration"].isoformat(),
        }

    timeouts = {"advisory_timeout": 120, "mandatory_timeout": 60} if short_lived else {}
    return RefreshableCredentials.create_from_metadata(
        metadata=metadata(), refresh_using=metadata, method=method, **timeouts
    )
