"""Session factory: one botocore session per account, adaptive retries, call counts, dry-run guard.

botocore's own sessions and clients, not boto3's, which wrap them: importing boto3 brings
s3transfer with it, and every command that calls AWS would pay for it at start-up.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import botocore.exceptions
import botocore.session
from botocore.config import Config
from botocore.credentials import Credentials, RefreshableCredentials

from remediate import __version__
from remediate.aws.answers import CheckedParserFactory, check_answer
from remediate.aws.audit import WriteAudit, WriteCall, is_write
from remediate.aws.errors import THROTTLING_CODES
from remediate.aws.loader import model_loader, partition_of_region
from remediate.aws.options import AwsOptions, config_error, endpoint_source
from remediate.core.clock import utc
from remediate.core.errors import AwsError, InputError, WriteRefusedError
from remediate.core.spinner import Waiting
from remediate.core.validate import PLAIN_HTTP_TIP, plain_text_remote

log = logging.getLogger(__name__)

DEFAULT_REGION = "us-east-1"
DEFAULT_MAX_ATTEMPTS = 8
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0


def new_session(
    credentials: Credentials | None = None,
    *,
    profile_name: str | None = None,
    region_name: str | None = None,
    aws_access_key_id: str | None = None,
    aws_secret_access_key: str | None = None,
    aws_session_token: str | None = None,
    isolated: bool = False,
) -> botocore.session.Session:
    """A botocore session whose loader, and the models it has parsed, every other session shares
    (remediate.aws.loader). ``credentials`` is a botocore credentials object to use as is (it
    may renew itself); the keys, a profile and a region are set as boto3's Session sets them.
    """
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
    core.register_component("data_loader", model_loader(core.get_config_variable("data_path")))
    # An answer that is not AWS's fails as one, whatever its body (remediate.aws.answers).
    core.register_component("response_parser_factory", CheckedParserFactory())
    core.register("before-parse", check_answer)
    if credentials is not None:
        # botocore has no public setter; set_credentials() would freeze them.
        core._credentials = credentials  # type: ignore[attr-defined]
    # sts:AssumeRoot refuses STS's global endpoint. Regional is botocore's default, but a config
    # file or AWS_STS_REGIONAL_ENDPOINTS=legacy would send us-east-1 calls to the global one.
    core.set_config_variable("sts_regional_endpoints", "regional")
    if profile_name is not None:
        core.set_config_variable("profile", profile_name)
    if aws_access_key_id is not None and aws_secret_access_key is not None:
        core.set_credentials(aws_access_key_id, aws_secret_access_key, aws_session_token)
    if region_name is not None:
        core.set_config_variable("region", region_name)
    return core


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
    """One account's botocore session and its clients.

    With ``read_only`` the session itself refuses every write call before it is sent, so a dry
    run cannot change the account whatever the code above it does.
    """

    def __init__(
        self,
        options: AwsOptions,
        *,
        read_only: bool = False,
        session: botocore.session.Session | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        self.options = options
        self.read_only = read_only
        self.stats = CallStats()
        # A botocore credentials object this session's clients sign with, instead of the
        # botocore session's own (a session shared with the thread's caller: see ``sharing``).
        self._credentials = credentials
        # Every write call this session made, in order, with its outcome (the audit trail).
        self.audit = WriteAudit()
        # The AWS task policy when these are sts:AssumeRoot credentials (set by whoever opened
        # them): only such a session may omit UserName for root's password and MFA devices.
        self.root_task: str | None = None
        try:
            self._session = session or new_session(
                profile_name=options.profile, region_name=options.region, isolated=options.isolated
            )
            if options.profile and options.profile not in self._session.available_profiles:
                raise botocore.exceptions.ProfileNotFound(profile=options.profile)
            region = options.region or self._session.get_config_variable("region")
            self.region = str(region or DEFAULT_REGION)
        except botocore.exceptions.BotoCoreError as exc:
            raise config_error(exc, options) from exc
        self.partition = partition_of_region(self.region)
        # (service, retries, region) -> (client, the access key id it signs with).
        self._clients: dict[tuple[str, bool, str], tuple[Any, str | None]] = {}
        self._lock = threading.Lock()
        self._retrying: Waiting | None = None  # while botocore waits to send a call again

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
        cls, options: AwsOptions, credentials: Credentials, *, read_only: bool = False
    ) -> Aws:
        """A session using a botocore credentials object, shared as is: a refreshable one (an
        assumed role, SSO) renews itself before it expires, for every session sharing it."""
        session = new_session(credentials, region_name=options.region, isolated=options.isolated)
        return cls(options, read_only=read_only, session=session)

    @classmethod
    def sharing(cls, other: Aws, credentials: Credentials, *, read_only: bool) -> Aws:
        """A session for other credentials (an assumed role) that shares ``other``'s session
        and so must stay in ``other``'s thread: building a botocore session costs ~20 ms of CPU,
        a client a few, and a sweep opens one session per account. Its clients, counts and
        dry-run guard are its own."""
        options = dataclasses.replace(other.options, region=other.region)
        return cls(options, read_only=read_only, session=other._session, credentials=credentials)

    def copy(self, *, read_only: bool) -> Aws:
        """A new session (its own botocore session and clients) with these credentials, for
        another thread: botocore clients are not shared across threads.

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

    def _before_call(self, model: Any, **_: Any) -> None:
        service = model.service_model.endpoint_prefix
        if self.read_only and is_write(model.name):
            raise WriteRefusedError(
                f"dry run: refused the write call {service}:{model.name}",
                tip="this is a bug in remediate; nothing was changed",
                action=f"{service}:{model.name}",
            )
        self.stats.record(service, model.name)
        log.debug("AWS call %s:%s", service, model.name)

    def _after_call(self, http_response: Any = None, **_: Any) -> None:
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
            self._retrying = Waiting()
        self._retrying.show(
            # The attempt first: it is what a narrow terminal keeps of the line.
            f"attempt {attempts + 1} of {limit}: AWS answered {action} with {reason}; trying "
            "again with backoff"
        )

    def _call_done(self, **_: Any) -> None:
        if self._retrying is not None:
            self._retrying.clear()

    # The audit trail, as the playbook's runner and engine use it.

    @property
    def writes(self) -> list[WriteCall]:
        """Every write call this session made, in order, with its outcome."""
        return self.audit.writes

    @property
    def on_write(self) -> Callable[[WriteCall], None] | None:
        """Hears of each write call as it ends (the journal)."""
        return self.audit.on_write

    @on_write.setter
    def on_write(self, hook: Callable[[WriteCall], None] | None) -> None:
        self.audit.on_write = hook

    @property
    def tags_seen(self) -> dict[str, dict[str, str]]:
        """Each user's tags as last read, so a tagging write can say what it changed."""
        return self.audit.tags_seen

    def interrupted_write(self) -> WriteCall | None:
        """The write call Ctrl-C cut short, if one was on its way (see WriteAudit)."""
        return self.audit.interrupted_write()

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
                # botocore's create_client arguments
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
                make_client: Any = self._session.create_client
                try:
                    # Credentials and the endpoint are resolved here: a profile, a region or an
                    # endpoint from the environment or the AWS config fails here, not in a call.
                    client = make_client(service, **kwargs)
                except botocore.exceptions.BotoCoreError as exc:
                    raise config_error(exc, self.options) from exc
                except ValueError as exc:
                    # botocore: "Invalid endpoint: ..." for an endpoint URL that is no URL.
                    raise InputError(
                        f"the {service} endpoint {endpoint_source(self.options)} is not a URL "
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
                # On the client's own events: a shared session serves other accounts too. The
                # dry-run guard first: a refused write never reaches the audit trail.
                events = client.meta.events
                events.register("before-call", self._before_call)
                events.register("after-call", self._after_call)
                events.register("after-call-error", self._call_done)
                self.audit.register(events)
                if retries:
                    # Only where botocore resends: the once-only client never does.
                    events.register("needs-retry", self._needs_retry)
                cached = self._clients[key] = (client, signs_with)
            return cached[0]

    def _check_endpoint(self, service: str, url: str) -> None:
        """--endpoint-url was checked with the other options; this catches an endpoint set by
        AWS_ENDPOINT_URL(_service) or a profile's endpoint_url, before any request is sent."""
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


def sts_credentials(
    fetch: Callable[[], Any], *, method: str, short_lived: bool = False
) -> RefreshableCredentials:
    """Refreshable credentials from an STS answer's ``Credentials``, which ``fetch`` asks for
    again before they expire. ``short_lived`` fits them to a 15-minute session: botocore's
    defaults renew 15 minutes before expiry (advisory) and block 10 minutes before (mandatory),
    which for a 900-second session would mean asking STS again before nearly every call."""

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
