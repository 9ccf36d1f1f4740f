"""An answer that is not an AWS API response becomes botocore's ``ResponseParserError``, whatever
its body: ``aws.errors.translate`` then names the action ("not an AWS API response", exit 3).

botocore alone lets some through: well-formed XML of another shape raises ``KeyError`` from its
query parser, a JSON array ``AttributeError``, and its JSON parsers read an HTML page, an empty
body or any JSON object as an answer with nothing in it. A captive portal, a proxy's page or
another service on the port would then be read as "no accounts", "no events" or a bug of ours.
"""

from __future__ import annotations

import json
import re
from typing import Any

from botocore.parsers import ResponseParserError, ResponseParserFactory

_JSON_PROTOCOLS = frozenset({"json", "rest-json"})
# Query and EC2 answers are one XML element named after the operation: <GetUserResponse ...>.
_XML_ROOTED_PROTOCOLS = frozenset({"query", "ec2"})
_XML_ROOT = re.compile(rb"\s*(?:<\?xml[^>]*\?>\s*)?<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")


def not_aws(what: str) -> ResponseParserError:
    return ResponseParserError(f"not an AWS API response: {what}")


def check_answer(operation_model: Any = None, response_dict: Any = None, **_: Any) -> None:
    """botocore's ``before-parse`` event: refuse a successful answer that cannot be the
    operation's. Error answers (HTTP 300 and up) are left to botocore, which names them."""
    if operation_model is None or not isinstance(response_dict, dict):
        return
    if int(response_dict.get("status_code") or 0) >= 300 or operation_model.has_streaming_output:
        return
    body = response_dict.get("body") or b""
    if isinstance(body, str):
        body = body.encode()
    protocol = operation_model.service_model.resolved_protocol
    if protocol in _JSON_PROTOCOLS:
        _check_json(body, operation_model.output_shape)
    elif protocol in _XML_ROOTED_PROTOCOLS:
        root = _XML_ROOT.match(body[:512])
        expected = f"{operation_model.name}Response"
        if root is None or root.group(1).decode() != expected:
            raise not_aws(f"expected an XML <{expected}> element")


def _check_json(body: bytes, shape: Any) -> None:
    members = _body_members(shape)
    if not body.strip():
        if members:
            raise not_aws("an empty body where a JSON object was due")
        return
    try:
        document = json.loads(body)
    except ValueError:  # UnicodeDecodeError is a ValueError too
        raise not_aws("the body is not JSON") from None
    if not isinstance(document, dict):
        raise not_aws("the body is not a JSON object")
    # AWS may add members the installed model does not know, but an answer with members and
    # none the model knows is something else's.
    if document and members and not members & document.keys():
        raise not_aws("no member of the operation's answer in the JSON object")


def _body_members(shape: Any) -> frozenset[str]:
    """The names the operation's answer carries in its JSON body (not in headers or the status
    line); empty when the body is a payload member or there is no output."""
    if shape is None or shape.serialization.get("payload"):
        return frozenset()
    return frozenset(
        member.serialization.get("name", name)
        for name, member in shape.members.items()
        if member.serialization.get("location") is None
    )


class _CheckedParser:
    """botocore's parser for a protocol, whose every failure is a ``ResponseParserError``."""

    def __init__(self, parser: Any) -> None:
        self._parser = parser

    def parse(self, response: Any, shape: Any) -> Any:
        try:
            return self._parser.parse(response, shape)
        except ResponseParserError:
            raise
        except Exception as exc:
            # KeyError, AttributeError, TypeError...: a body of a shape botocore did not expect.
            raise not_aws(f"{type(exc).__name__} while parsing the body") from exc

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)


class CheckedParserFactory(ResponseParserFactory):
    """botocore's parser factory (a session's ``response_parser_factory`` component), giving
    parsers that fail only with ``ResponseParserError``."""

    def create_parser(self, protocol_name: str) -> Any:
        return _CheckedParser(super().create_parser(protocol_name))
