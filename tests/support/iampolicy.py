"""An IAM identity-policy evaluator for tests, written from the IAM User Guide ("Policy evaluation
logic", "IAM JSON policy elements": Action, NotAction, Resource, NotResource, Condition, condition
operators, "Conditions with multiple context keys or values", policy variables), not from the
product's code.

What it decides: one request (an action, the resource ARN it is authorized on, the request
context's keys) against identity-based policies of one account:

- an explicit ``Deny`` in any statement that applies wins; else an ``Allow`` that applies allows;
  else the request is implicitly denied;
- ``Action``/``NotAction``: case-insensitive, with ``*`` and ``?``; ``Resource``/``NotResource``:
  ARNs compared segment by segment (the six colon-separated parts), each with ``*`` and ``?``,
  case-sensitive; a lone ``*`` matches every resource;
- ``Condition``: every operator AND, every key of an operator AND, the values of a key OR (NOR for
  a negated operator); a key the request does not carry makes an operator false, a negated one
  true, ``...IfExists`` true; ``Null`` tests presence only; ``ForAnyValue:`` needs one request
  value to match (false without the key), ``ForAllValues:`` every one (true without the key);
- policy variables ``${aws:username}`` and the like in ``Resource`` and condition values, from
  the request context (``${*}``, ``${?}``, ``${$}`` are the literal characters).

What it does not model (a test that needs it fails loudly rather than getting a guess): resource
policies, permissions boundaries, SCPs, session policies, ``Principal``, and condition operators
outside String*, Arn*, Bool and Null.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Decision = Literal["Allow", "ExplicitDeny", "ImplicitDeny"]
ContextValue = str | bool | Sequence[str]

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_LITERALS = {"*": "*", "?": "?", "$": "$"}
_OPERATORS = {
    # name: (family, negated)
    "StringEquals": ("string", False),
    "StringNotEquals": ("string", True),
    "StringEqualsIgnoreCase": ("string-ci", False),
    "StringNotEqualsIgnoreCase": ("string-ci", True),
    "StringLike": ("like", False),
    "StringNotLike": ("like", True),
    "ArnEquals": ("arn", False),
    "ArnLike": ("arn", False),
    "ArnNotEquals": ("arn", True),
    "ArnNotLike": ("arn", True),
    "Bool": ("bool", False),
}


@dataclass(frozen=True)
class Request:
    """What IAM authorizes: ``action`` (``iam:CreateUser``), the ``resource`` ARN it acts on
    (``*`` for actions without a resource type), and the request context's keys."""

    action: str
    resource: str = "*"
    context: Mapping[str, ContextValue] = field(default_factory=dict)


def _as_list(value: Any) -> list[Any]:
    return [value] if isinstance(value, str | bool) else list(value)


def glob(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    """IAM's wildcards: ``*`` any run of characters (none included), ``?`` exactly one."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = re.DOTALL | (0 if case_sensitive else re.IGNORECASE)
    return re.fullmatch(regex, value, flags) is not None


def arn_matches(pattern: str, arn: str) -> bool:
    """``pattern`` matches ``arn`` part by part: ``arn:partition:service:region:account:resource``
    (the resource part may hold colons of its own). A lone ``*`` matches any ARN."""
    if pattern == "*":
        return True
    want, have = pattern.split(":", 5), arn.split(":", 5)
    if len(want) != 6 or len(have) != 6:
        return False
    return all(glob(w, h) for w, h in zip(want, have, strict=True))


def _substitute(text: str, context: Mapping[str, ContextValue]) -> str | None:
    """``text`` with its policy variables replaced; ``None`` when one names a key the request
    does not carry (IAM then treats the element as not matching)."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1)
        if name in _LITERALS:
            return _LITERALS[name]
        found = _lookup(context, name)
        if found is None or not isinstance(found, str):
            missing = True
            return ""
        return found

    result = _VARIABLE.sub(value, text)
    return None if missing else result


def _lookup(context: Mapping[str, ContextValue], key: str) -> ContextValue | None:
    # Condition key names are not case-sensitive.
    for name, found in context.items():
        if name.lower() == key.lower():
            return found
    return None


def _action_matches(patterns: Any, action: str) -> bool:
    return any(glob(p, action, case_sensitive=False) for p in _as_list(patterns))


def _resource_matches(patterns: Any, resource: str, context: Mapping[str, ContextValue]) -> bool:
    for pattern in _as_list(patterns):
        expanded = _substitute(pattern, context)
        if expanded is not None and arn_matches(expanded, resource):
            return True
    return False


def _single(family: str, want: str, have: str) -> bool:
    if family == "string":
        return want == have
    if family == "string-ci":
        return want.lower() == have.lower()
    if family == "like":
        return glob(want, have)
    if family == "arn":
        return arn_matches(want, have)
    if family == "bool":
        return want.lower() == have.lower()
    raise AssertionError(family)


def _text(value: ContextValue) -> list[str]:
    if isinstance(value, bool):
        return ["true" if value else "false"]
    return [str(v) for v in _as_list(value)]


def condition_holds(
    operator: str, expected: Mapping[str, Any], context: Mapping[str, ContextValue]
) -> bool:
    """One operator of a Condition block: every key AND, each key's values OR (NOR negated)."""
    qualifier, _, name = operator.rpartition(":")
    if qualifier not in ("", "ForAnyValue", "ForAllValues"):
        raise AssertionError(f"unknown set operator {qualifier!r} in {operator}")
    if_exists = name.endswith("IfExists")
    base = name.removesuffix("IfExists")
    for key, wanted in expected.items():
        have = _lookup(context, key)
        if base == "Null":
            present = have is not None and _text(have) != []
            if any(str(w).lower() == "true" for w in _as_list(wanted)) == present:
                return False
            continue
        if base not in _OPERATORS:
            raise AssertionError(f"condition operator {operator} is not evaluated here")
        family, negated = _OPERATORS[base]
        values = [v for w in _as_list(wanted) if (v := _substitute(str(w), context)) is not None]
        if have is None or (qualifier and _text(have) == []):
            if if_exists:
                continue
            if qualifier == "ForAllValues":
                continue  # true when the request carries no value at all
            if qualifier == "ForAnyValue":
                return False
            if negated:
                continue
            return False
        items = _text(have)

        def matches(item: str, family: str = family, values: list[str] = values) -> bool:
            return any(_single(family, v, item) for v in values)

        if qualifier == "ForAnyValue":
            hit = any(matches(i) for i in items)
            holds = any(not matches(i) for i in items) if negated else hit
        elif qualifier == "ForAllValues":
            holds = all((not matches(i)) if negated else matches(i) for i in items)
        else:
            if len(items) != 1:
                raise AssertionError(f"{key} carries several values: use ForAnyValue/ForAllValues")
            holds = not matches(items[0]) if negated else matches(items[0])
        if not holds:
            return False
    return True


def statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    for unsupported in ("Principal", "NotPrincipal"):
        assert unsupported not in statement, f"{unsupported}: not an identity policy"
    if ("Action" in statement) == ("NotAction" in statement):
        raise AssertionError(f"exactly one of Action and NotAction: {statement}")
    if ("Resource" in statement) == ("NotResource" in statement):
        raise AssertionError(f"exactly one of Resource and NotResource: {statement}")
    if "Action" in statement:
        if not _action_matches(statement["Action"], request.action):
            return False
    elif _action_matches(statement["NotAction"], request.action):
        return False
    if "Resource" in statement:
        if not _resource_matches(statement["Resource"], request.resource, request.context):
            return False
    elif _resource_matches(statement["NotResource"], request.resource, request.context):
        return False
    return all(
        condition_holds(operator, expected, request.context)
        for operator, expected in statement.get("Condition", {}).items()
    )


def statements_of(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = document["Statement"]
    return [found] if isinstance(found, Mapping) else list(found)


def decide(documents: Sequence[Mapping[str, Any]], request: Request) -> Decision:
    """IAM's decision for ``request`` under these identity policies (one account)."""
    allowed = False
    for document in documents:
        for statement in statements_of(document):
            effect = statement["Effect"]
            assert effect in ("Allow", "Deny"), effect
            if statement_applies(statement, request):
                if effect == "Deny":
                    return "ExplicitDeny"
                allowed = True
    return "Allow" if allowed else "ImplicitDeny"


def allows(documents: Sequence[Mapping[str, Any]] | Mapping[str, Any], request: Request) -> bool:
    """Whether the policies allow ``request`` (one document or several)."""
    docs = [documents] if isinstance(documents, Mapping) else list(documents)
    return decide(docs, request) == "Allow"
