"""A small HTTP proxy on loopback in front of the emulator that makes it behave like real IAM at
its worst: slow, lossy and eventually consistent.

It forwards each request to moto and can, by rule:
- answer ``Throttling`` (HTTP 400) without forwarding, or drop the connection without forwarding
  (``fault_rate``);
- forward the k-th write call and then drop that connection and every later one: the endpoint
  "dies" right after a write reached AWS (``die_after_writes``);
- hold the first write until the test releases it (``hold_first_write``);
- per operation (``rules``): forward it and then lose the answer (HTTP 500, or no answer until
  the client's read timeout has passed), answer a stale ``NoSuchEntity`` without forwarding,
  answer a 409 ``ConcurrentModification`` or ``EntityTemporarilyUnmodifiable`` without
  forwarding, answer ``Throttling`` without forwarding, or forward a List call and answer it
  stale: its newest item left out (``lag``);
- rewrite answers to an operation (``rewrite``), e.g. the caller's ARN in another partition;
- keep every user, group and virtual MFA device invisible for ``invisible_for`` seconds after it
  was created: every later request naming it gets ``NoSuchEntity``, as IAM's eventual
  consistency can answer;
- answer every request to a service (``not_aws``, by the service its signature names) with
  ``200 OK`` and a body that is no AWS answer: a captive portal, another server on the port.
"""

from __future__ import annotations

import http.client
import random
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from remediate.aws.audit import is_write

RuleAction = Literal["lose", "timeout", "stale", "conflict", "unmodifiable", "lag", "throttle"]


def error_body(code: str, message: str, kind: str = "Sender") -> bytes:
    """An IAM error document, as IAM writes it."""
    return (
        '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        f"<Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
    ).encode()


THROTTLING_BODY = error_body("Throttling", "Rate exceeded")


@dataclass
class Rule:
    """Do ``action`` to the next ``times`` requests of ``operation``."""

    operation: str
    action: RuleAction
    times: int = 1
    hits: int = 0


@dataclass
class Faults:
    """What to inject; counters say what happened."""

    die_after_writes: int | None = None  # forward this many writes, then the endpoint is gone
    fault_rate: float = 0.0  # share of requests answered Throttling or dropped
    # Hold the first write (set ``held``) until ``release`` is set, then forward it.
    hold_first_write: bool = False
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    rules: list[Rule] = field(default_factory=list)
    # How long an answer is held for a "timeout" rule: longer than the client's read timeout.
    hold_seconds: float = 2.0
    invisible_for: float = 0.0
    # Per operation: (old, new) byte strings replaced in its answers.
    rewrite: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)
    # Per signing service (``iam``, ``securityhub``...): (body, content type) answered 200 OK.
    not_aws: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    seed: int = 0
    writes: int = 0
    requests: int = 0
    injected: int = 0
    dead: bool = False
    operations: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  # every request's, reads too
    invisible_hits: int = 0
    _created: dict[tuple[str, str], float] = field(default_factory=dict)
    _rng: random.Random = field(default_factory=random.Random)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def rule_for(self, operation: str) -> Rule | None:
        for rule in self.rules:
            if rule.operation == operation and rule.hits < rule.times:
                rule.hits += 1
                return rule
        return None


# What each kind of entity is called in requests that name it, and in IAM's messages.
_CREATES = {
    "CreateUser": ("user", "UserName"),
    "CreateGroup": ("group", "GroupName"),
    "CreateVirtualMFADevice": ("mfa", "VirtualMFADeviceName"),
}
_MESSAGES = {
    "user": "The user with name {} cannot be found.",
    "group": "The group with name {} cannot be found.",
    "mfa": "VirtualMFADevice with serial number {} does not exist.",
}


_CONFLICTS = {
    "conflict": (
        "ConcurrentModification",
        "Cannot perform the operation due to a concurrent modification.",
    ),
    "unmodifiable": (
        "EntityTemporarilyUnmodifiable",
        "The entity cannot be modified at this time. Try again later.",
    ),
}


def _without_newest(payload: bytes) -> bytes:
    """A List answer as a lagging read gives it: the last item (the newest; IAM and moto list
    in creation order) left out."""
    start = payload.rfind(b"<member>")
    if start < 0:
        return payload
    end = payload.index(b"</member>", start) + len(b"</member>")
    return payload[:start] + payload[end:]


def _params(body: bytes) -> dict[str, str]:
    values = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    return {k: v[0] for k, v in values.items()}


def _service(handler: BaseHTTPRequestHandler) -> str:
    """The service a SigV4 request is signed for: ``Credential=KEY/DATE/REGION/SERVICE/...``."""
    found = re.search(
        r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", handler.headers.get("Authorization", "")
    )
    return found.group(1) if found else ""


def _named(params: dict[str, str]) -> list[tuple[str, str]]:
    """The entities a request names (case-folded, as IAM compares names)."""
    named = []
    if "UserName" in params:
        named.append(("user", params["UserName"].casefold()))
    if "GroupName" in params:
        named.append(("group", params["GroupName"].casefold()))
    if "SerialNumber" in params:
        named.append(("mfa", params["SerialNumber"].rsplit("/", 1)[-1].casefold()))
    return named


class FaultProxy:
    """Use as a context manager; ``endpoint_url`` is where the client should send requests."""

    def __init__(self, upstream: str, faults: Faults) -> None:
        self.upstream = urllib.parse.urlsplit(upstream)
        self.faults = faults
        faults._rng.seed(faults.seed)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                proxy.handle(self)

            def do_GET(self) -> None:
                proxy.handle(self)

            def do_PATCH(self) -> None:  # Security Hub's BatchUpdateFindings
                proxy.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _drop(self, handler: BaseHTTPRequestHandler) -> None:
        handler.close_connection = True
        handler.connection.close()

    def _invisible(self, params: dict[str, str]) -> tuple[str, str] | None:
        """The entity this request names that was created less than ``invisible_for`` ago."""
        f = self.faults
        now = time.monotonic()
        for entity in _named(params):
            created = f._created.get(entity)
            if created is not None and now - created < f.invisible_for:
                return entity
        return None

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        params = _params(body)
        # The query protocol (IAM, STS) names the operation in the body; the JSON protocol
        # (Organizations) in the target header: "AWSOrganizationsV20161128.EnablePolicyType".
        target = handler.headers.get("X-Amz-Target") or ""
        op = params.get("Action", "") or target.rpartition(".")[2]
        f = self.faults
        if _service(handler) in f.not_aws:
            with f._lock:
                f.requests += 1
                f.injected += 1
            self._reply(handler, 200, *f.not_aws[_service(handler)])
            return
        with f._lock:
            f.requests += 1
            f.actions.append(op)
            if f.dead:
                f.injected += 1
                self._drop(handler)
                return
            roll = f._rng.random()
            inject = f.fault_rate and roll < f.fault_rate
            write = bool(op) and is_write(op)
            rule = None if inject else f.rule_for(op)
            hidden = self._invisible(params) if f.invisible_for and not inject else None
            if write and not inject and (rule is None or rule.action in ("lose", "timeout")):
                f.writes += 1
                f.operations.append(op)
            last_write = (
                write
                and not inject
                and f.die_after_writes is not None
                and f.writes >= f.die_after_writes
            )
        if write and not inject and f.hold_first_write and not f.held.is_set():
            f.held.set()
            if not f.release.wait(timeout=60):
                raise AssertionError("the held write was never released")
        if inject:
            with f._lock:
                f.injected += 1
            if roll < f.fault_rate / 2:
                self._reply(handler, 400, THROTTLING_BODY, "text/xml")
            else:
                self._drop(handler)
            return
        if hidden is not None:
            kind, name = hidden
            with f._lock:
                f.invisible_hits += 1
            message = _MESSAGES[kind].format(params.get("SerialNumber", name))
            self._reply(handler, 404, error_body("NoSuchEntity", message), "text/xml")
            return
        if rule is not None and rule.action == "stale":
            named = _named(params)
            kind, name = named[0] if named else ("user", "?")
            message = _MESSAGES[kind].format(params.get("SerialNumber", name))
            self._reply(handler, 404, error_body("NoSuchEntity", message), "text/xml")
            return
        if rule is not None and rule.action == "throttle":
            self._reply(handler, 400, THROTTLING_BODY, "text/xml")
            return
        if rule is not None and rule.action in ("conflict", "unmodifiable"):
            code, message = _CONFLICTS[rule.action]
            self._reply(handler, 409, error_body(code, message), "text/xml")
            return
        status, headers, payload = self._forward(handler, body)
        if status < 300 and op in _CREATES:
            kind, key = _CREATES[op]
            with f._lock:
                f._created[(kind, params.get(key, "").casefold())] = time.monotonic()
        if last_write:
            # The write reached AWS; the caller never hears back, and nothing after it gets through.
            with f._lock:
                f.dead = True
            self._drop(handler)
            return
        if rule is not None and rule.action == "lose":
            # Applied, and then a server error: the caller cannot know it was applied.
            body500 = error_body("ServiceFailure", "Internal failure.", kind="Receiver")
            self._reply(handler, 500, body500, "text/xml")
            return
        if rule is not None and rule.action == "timeout":
            # Applied, and the answer held past the client's read timeout.
            time.sleep(f.hold_seconds)
            self._drop(handler)
            return
        if rule is not None and rule.action == "lag":
            payload = _without_newest(payload)
        if op in f.rewrite:
            payload = payload.replace(*f.rewrite[op])
        self._reply(handler, status, payload, headers.get("Content-Type", "text/xml"), headers)

    def _forward(
        self, handler: BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() != "connection"}
            conn.request(handler.command, handler.path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def _reply(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        payload: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        try:
            handler.send_response(status)
            for k, v in (headers or {}).items():
                # send_response already wrote this proxy's own Date header.
                if k.lower() in ("x-amzn-requestid", "x-amz-request-id"):
                    handler.send_header(k, v)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its read timeout): nothing to answer to
