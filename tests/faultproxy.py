"""A small HTTP proxy on loopback in front of the emulator that injects faults.

It forwards each request to moto and can, by rule: answer ``Throttling`` (HTTP 400) without
forwarding, drop the connection without forwarding, forward the k-th write call and then drop
that connection and every later one (the endpoint "dies" right after a write reached AWS), or
hold the first write until the test releases it.
"""

from __future__ import annotations

import http.client
import random
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from remediate.aws.session import is_write

THROTTLING_BODY = (
    b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
    b"<Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
    b"<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
)


@dataclass
class Faults:
    """What to inject; counters say what happened."""

    die_after_writes: int | None = None  # forward this many writes, then the endpoint is gone
    fault_rate: float = 0.0  # share of requests answered Throttling or dropped
    # Hold the first write (set ``held``) until ``release`` is set, then forward it.
    hold_first_write: bool = False
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    seed: int = 0
    writes: int = 0
    requests: int = 0
    injected: int = 0
    dead: bool = False
    operations: list[str] = field(default_factory=list)
    _rng: random.Random = field(default_factory=random.Random)
    _lock: threading.Lock = field(default_factory=threading.Lock)


def _operation(body: bytes) -> str:
    values = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    return values.get("Action", [""])[0]


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

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        op = _operation(body)
        f = self.faults
        with f._lock:
            f.requests += 1
            if f.dead:
                f.injected += 1
                self._drop(handler)
                return
            roll = f._rng.random()
            inject = f.fault_rate and roll < f.fault_rate
            write = bool(op) and is_write(op)
            if write and not inject:
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
        status, headers, payload = self._forward(handler, body)
        if last_write:
            # The write reached AWS; the caller never hears back, and nothing after it gets through.
            with f._lock:
                f.dead = True
            self._drop(handler)
            return
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
        handler.send_response(status)
        for k, v in (headers or {}).items():
            # send_response already wrote this proxy's own Date header.
            if k.lower() in ("x-amzn-requestid", "x-amz-request-id"):
                handler.send_header(k, v)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)
