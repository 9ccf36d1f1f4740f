"""An endpoint that answers 200 OK with something that is not an AWS API response (a captive
portal, a proxy's page, another service on the port) is one error line naming the action, a tip,
and exit 3: for every body botocore might choke on or read as empty, and every AWS service the
product calls."""

from __future__ import annotations

import re
from typing import Any

import pytest

from support.faultproxy import FaultProxy, Faults

BODIES = {
    "xml-of-another-shape": (b'<?xml version="1.0"?><html>hello</html>', "text/xml"),
    "xhtml": (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
        b"<head><title>Sign in to the network</title></head><body><p>Accept</p></body></html>",
        "application/xhtml+xml",
    ),
    "html": (b"<!DOCTYPE html><html><head><title>Hi</title></head><body>Hi</html>", "text/html"),
    "json-object": (b'{"status": "ok", "message": "hello"}', "application/json"),
    "json-array": (b"[1, 2, 3]", "application/json"),
    "empty": (b"", "text/plain"),
    "truncated-xml": (
        b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        b"<GetCallerIdentityResult><Arn>arn:aws:iam::1234",
        "text/xml",
    ),
    "truncated-json": (b'{"Accounts": [{"Id": "1234', "application/x-amz-json-1.1"),
}

# Per service the product calls, a command that reaches it with nothing but that service's
# answers replaced.
COMMANDS = {
    "sts": ("root-use",),
    "iam": ("root-use",),
    "organizations": ("root-use", "--all-accounts"),
    "cloudtrail": ("root-use", "--cloudtrail"),
    "securityhub": ("root-use", "--security-hub"),
}


@pytest.mark.parametrize("service", COMMANDS)
@pytest.mark.parametrize("body", BODIES)
def test_an_answer_that_is_not_aws(moto: Any, cli: Any, service: str, body: str) -> None:
    faults = Faults(not_aws={service: BODIES[body]})
    with FaultProxy(moto.endpoint_url, faults) as proxy:
        r = cli(*COMMANDS[service], "--endpoint-url", proxy.endpoint_url)
    assert faults.injected >= 1, "the command never reached the service"
    assert r.code == 3, r.err
    assert "Traceback" not in r.err
    assert "internal error" not in r.err
    errors = [line for line in r.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, r.err
    # The action named, after what the run was doing ("CloudTrail event history in us-east-1: ").
    action = rf"{service}:[A-Z]\w+"
    expected = rf"error: (\S[^:]*: )?the endpoint's answer to {action} is not an AWS API response"
    assert re.fullmatch(expected, errors[0]), r.err
    assert "Tip: check --endpoint-url" in r.err
