"""The deny-root policy's document and its comparison, and the wait for EnablePolicyType (which
AWS completes in the background), with a fake clock: no real sleep."""

from __future__ import annotations

import json
from typing import Any

import pytest

from remediate.core.errors import AwsError
from remediate.org.deny_root import (
    DENY_ROOT_DOCUMENT,
    document_text,
    same_document,
    wait_for_policy_type,
)

# AWS's sample "Prevent root credentials management in member accounts in AWS Organizations"
# (aws-samples/service-control-policy-examples), as published.
AWS_SAMPLE = (
    '{ "Version":"2012-10-17", "Statement":[ { "Effect":"Deny", "Action":"*", "Resource": "*", '
    '"Condition":{ "ArnLike":{ "aws:PrincipalArn":[ "arn:*:iam::*:root" ] }, '
    '"Null":{ "aws:AssumedRoot":"true" } } } ] }'
)


def test_the_document_is_aws_sample() -> None:
    assert same_document(AWS_SAMPLE)
    assert same_document(document_text())
    assert len(document_text()) <= 5120  # an SCP's size limit


@pytest.mark.parametrize(
    "change",
    [
        # No exemption for sts:AssumeRoot: root-credentials delete would be denied.
        lambda s: s["Condition"].pop("Null"),
        # Every principal, not root: the whole organization denied.
        lambda s: s["Condition"].pop("ArnLike"),
        lambda s: s.update(Action="s3:*"),
        lambda s: s.update(Effect="Allow"),
        lambda s: s["Condition"]["ArnLike"].update({"aws:PrincipalArn": "arn:aws:iam::*:role/*"}),
    ],
)
def test_another_document_is_not_the_same(change: Any) -> None:
    doc = json.loads(AWS_SAMPLE)
    change(doc["Statement"][0])
    assert not same_document(json.dumps(doc))


def test_two_statements_are_not_one() -> None:
    doc = json.loads(AWS_SAMPLE)
    doc["Statement"].append({"Effect": "Deny", "Action": "ec2:*", "Resource": "*"})
    assert not same_document(json.dumps(doc))


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"Version": "2008-10-17"}'])
def test_what_is_no_document_is_not_the_same(text: str) -> None:
    assert not same_document(text)


def test_a_single_statement_object_reads_as_a_list_of_one() -> None:
    doc = json.loads(AWS_SAMPLE)
    doc["Statement"] = doc["Statement"][0]
    assert same_document(json.dumps(doc))
    assert DENY_ROOT_DOCUMENT["Statement"][0]["Effect"] == "Deny"


class _Pages:
    def __init__(self, answers: list[str | None]) -> None:
        self.answers = answers
        self.calls = 0

    def paginate(self, **params: Any) -> list[dict[str, Any]]:
        status = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        types = [] if status is None else [{"Type": "SERVICE_CONTROL_POLICY", "Status": status}]
        return [{"Roots": [{"Id": "r-abcd", "PolicyTypes": types}]}]


class _FakeOrganizations:
    def __init__(self, pages: _Pages) -> None:
        self.pages = pages

    def get_paginator(self, name: str) -> _Pages:
        assert name == "list_roots"
        return self.pages


class _FakeAws:
    def __init__(self, answers: list[str | None]) -> None:
        self.pages = _Pages(answers)

    def client(self, service: str) -> _FakeOrganizations:
        assert service == "organizations"
        return _FakeOrganizations(self.pages)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_waits_while_the_type_is_pending() -> None:
    aws = _FakeAws(["PENDING_ENABLE", "PENDING_ENABLE", "ENABLED"])
    clock = _Clock()
    wait_for_policy_type(
        aws,  # type: ignore[arg-type]
        "SERVICE_CONTROL_POLICY",
        sleep=clock.sleep,
        clock=lambda: clock.now,
    )
    assert aws.pages.calls == 3
    assert len(clock.slept) == 2
    assert clock.slept[1] > clock.slept[0]  # backing off


def test_gives_up_after_the_timeout() -> None:
    aws = _FakeAws(["PENDING_ENABLE"])
    clock = _Clock()
    with pytest.raises(AwsError) as caught:
        wait_for_policy_type(
            aws,  # type: ignore[arg-type]
            "SERVICE_CONTROL_POLICY",
            timeout=30,
            sleep=clock.sleep,
            clock=lambda: clock.now,
        )
    assert "still shows SERVICE_CONTROL_POLICY as PENDING_ENABLE after 30 s" in caught.value.message
    assert caught.value.tip is not None
    assert "rerun" in caught.value.tip
    assert clock.now <= 30


def test_enabled_at_once_is_no_wait() -> None:
    aws = _FakeAws(["ENABLED"])
    clock = _Clock()
    wait_for_policy_type(
        aws,  # type: ignore[arg-type]
        "SERVICE_CONTROL_POLICY",
        sleep=clock.sleep,
        clock=lambda: clock.now,
    )
    assert clock.slept == []
