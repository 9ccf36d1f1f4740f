"""Session factory: one boto3 session per account, adaptive retries, call counts, dry-run guard."""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config

from remediate import __version__
from remediate.errors import InputError, WriteRefusedError

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
    import botocore.regions
    import botocore.session

    resolver = botocore.regions.EndpointResolver(
        botocore.session.get_session().get_data("endpoints")
    )
    try:
        return str(resolver.get_partition_for_region(region))
    except botocore.exceptions.UnknownRegionError:
        return "aws"


# Parsed botocore data (service models, endpoints), shared by every session's loader.
_LOADER_CACHE: dict[Any, Any] = {}


def new_session(credentials: Any = None, **kwargs: Any) -> boto3.Session:
    """A boto3 session whose loader shares parsed service models with every other session.

    Each session would otherwise parse them again (~0.1 s of CPU each), and an organization
    sweep makes one session per account. Each session keeps its own loader (boto3 adds a search
    path to it per session), sharing only the cache of files it has read. ``credentials`` is a
    botocore credentials object to use as is (it may renew itself).
    """
    import botocore.loaders
    import botocore.session

    core = botocore.session.get_session()
    loader = botocore.loaders.create_loader(core.get_config_variable("data_path"))
    # botocore's per-loader cache of parsed files, which it only reads after filling.
    loader._cache = _LOADER_CACHE  # type: ignore[attr-defined]
    core.register_component("data_loader", loader)
    if credentials is not None:
        # botocore has no public setter; boto3.Session(aws_access_key_id=...) would freeze them.
        core._credentials = credentials  # type: ignore[attr-defined]
    # sts:AssumeRoot refuses STS's global endpoint. Regional is botocore's default, but a config
    # file or AWS_STS_REGIONAL_ENDPOINTS=legacy would send us-east-1 calls to the global one.
    core.set_config_variable("sts_regional_endpoints", "regional")
    return boto3.Session(botocore_session=core, **kwargs)


@dataclass(frozen=True)
class AwsOptions:
    """How to reach AWS: ``None`` everywhere means boto3's standard chain and environment."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    # An http:// endpoint on another machine, however it was set (AWS_ENDPOINT_URL, the config
    # file), is refused unless this is true: secrets would cross the network in clear text.
    allow_insecure_endpoint: bool = False


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
        try:
            self._session = session or new_session(
                profile_name=options.profile, region_name=options.region
            )
            if options.profile and options.profile not in self._session.available_profiles:
                raise botocore.exceptions.ProfileNotFound(profile=options.profile)
            self.region = options.region or self._session.region_name or DEFAULT_REGION
        except botocore.exceptions.ProfileNotFound as exc:
            raise InputError(
                f"AWS profile {options.profile!r} not found",
                tip="list profiles with `aws configure list-profiles`",
            ) from exc
        self.partition = partition_of_region(self.region)
        # (service, retries, region) -> (client, the access key id it signs with).
        self._clients: dict[tuple[str, bool, str], tuple[Any, str | None]] = {}
        self._lock = threading.Lock()

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
        )
        return cls(options, read_only=read_only, session=session)

    @classmethod
    def from_credentials_object(
        cls, options: AwsOptions, credentials: Any, *, read_only: bool = False
    ) -> Aws:
        """A session using a botocore credentials object, shared as is: a refreshable one (an
        assumed role, SSO) renews itself before it expires, for every session sharing it."""
        session = new_session(credentials, region_name=options.region)
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
        date = getattr(http_response, "headers", {}).get("Date") if http_response else None
        if date:
            try:
                server = parsedate_to_datetime(date)
                # "-0000" (and a missing zone) parse to a naive datetime: HTTP dates are UTC.
                self.stats.server_date = server if server.tzinfo else server.replace(tzinfo=UTC)
                self.stats.local_date = datetime.now(UTC)
            except (TypeError, ValueError):
                pass

    def _config(self, *, retries: bool) -> Config:
        # total_max_attempts counts the first attempt (max_attempts would count retries only),
        # as AWS_MAX_ATTEMPTS does.
        if retries:
            attempts = int(os.environ.get("AWS_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS)
            policy = {"mode": "adaptive", "total_max_attempts": attempts}
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
                client = make_client(service, **kwargs)
                self._check_endpoint(service, str(client.meta.endpoint_url))
                # On the client's own events: a shared boto3 session serves other accounts too.
                client.meta.events.register("before-call", self._before_call)
                client.meta.events.register("after-call", self._after_call)
                cached = self._clients[key] = (client, signs_with)
            return cached[0]

    def _check_endpoint(self, service: str, url: str) -> None:
        """--endpoint-url was checked with the other options; this catches an endpoint set by
        AWS_ENDPOINT_URL(_service) or a profile's endpoint_url, before any request is sent."""
        from remediate.validate import is_plain_text_remote

        if not self.options.allow_insecure_endpoint and is_plain_text_remote(url):
            raise InputError(
                f"the {service} endpoint {url[:120]} (from the environment or the AWS config) is "
                "plain http to another machine: passwords and secret keys would cross the "
                "network in clear text",
                tip="use https://, or pass --allow-insecure-endpoint if that network is trusted",
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
