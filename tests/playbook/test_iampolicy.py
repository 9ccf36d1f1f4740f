"""The policy evaluator (iampolicy.py) against what AWS documents, not against its own output:
each case is an example policy from the IAM User Guide or the Security Hub user guide, with the
outcome the guide gives for it."""

from __future__ import annotations

from typing import Any

import pytest

from support.iampolicy import Request, allows, arn_matches, condition_holds, decide

ACCOUNT = "111122223333"


def allow(statement: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **statement}]}


# --- evaluation logic ("Policy evaluation logic": deny wins, allow needed) ----------------------


def test_an_explicit_deny_overrides_any_allow() -> None:
    documents = [
        allow({"Action": "iam:*", "Resource": "*"}),
        {
            "Version": "2012-10-17",
            "Statement": {"Effect": "Deny", "Action": "iam:DeleteUser", "Resource": "*"},
        },
    ]
    assert decide(documents, Request("iam:DeleteUser", "arn:aws:iam::1:user/a")) == "ExplicitDeny"
    assert decide(documents, Request("iam:GetUser", "arn:aws:iam::1:user/a")) == "Allow"


def test_without_an_allow_the_request_is_implicitly_denied() -> None:
    document = allow({"Action": "s3:GetObject", "Resource": "*"})
    assert decide([document], Request("iam:GetUser", "*")) == "ImplicitDeny"
    assert decide([], Request("iam:GetUser", "*")) == "ImplicitDeny"


# --- Action and NotAction ------------------------------------------------------------------------


def test_actions_are_case_insensitive_and_take_wildcards() -> None:
    # IAM JSON policy elements: Action: "iam:*AccessKey*" covers the access key actions; action
    # names are not case-sensitive ("iam:createuser" is iam:CreateUser).
    document = allow({"Action": "iam:*AccessKey*", "Resource": "*"})
    for action in ("iam:CreateAccessKey", "iam:ListAccessKeys", "IAM:deleteaccesskey"):
        assert allows(document, Request(action)), action
    assert not allows(document, Request("iam:CreateUser"))
    assert allows(allow({"Action": "iam:createuser", "Resource": "*"}), Request("iam:CreateUser"))
    assert allows(allow({"Action": "iam:Get?ser", "Resource": "*"}), Request("iam:GetUser"))


def test_not_action_with_allow_allows_everything_else() -> None:
    # NotAction example: allow everything but IAM.
    document = allow({"NotAction": "iam:*", "Resource": "*"})
    assert allows(document, Request("s3:GetObject"))
    assert not allows(document, Request("iam:CreateUser"))


# --- Resource and NotResource --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "arn", "matches"),
    [
        ("arn:aws:iam::*:user/alice", f"arn:aws:iam::{ACCOUNT}:user/alice", True),
        ("arn:aws:iam::*:user/alice", f"arn:aws:iam::{ACCOUNT}:user/alice-ops", False),
        (
            "arn:aws:iam::*:user/*",
            f"arn:aws:iam::{ACCOUNT}:user/division_abc/subdivision/bob",
            True,
        ),
        # A wildcard stays inside its ARN part: an account "*" is not a service "*".
        ("arn:aws:iam::*:user/*", f"arn:aws:s3:::{ACCOUNT}:user/x", False),
        ("arn:aws:iam::*:mfa/alice", f"arn:aws:iam::{ACCOUNT}:mfa/alice", True),
        ("arn:aws:iam::*:mfa/alice", f"arn:aws:iam::{ACCOUNT}:mfa/Alice", False),
        ("*", "arn:aws:securityhub:us-east-1:1:hub/default", True),
        (
            "arn:aws:securityhub:*:1:hub/default",
            "arn:aws:securityhub:eu-west-1:1:hub/default",
            True,
        ),
        (
            "arn:aws:securityhub:*:1:hub/default",
            "arn:aws:securityhub:eu-west-1:2:hub/default",
            False,
        ),
    ],
)
def test_resource_arns_match_part_by_part(pattern: str, arn: str, matches: bool) -> None:
    assert arn_matches(pattern, arn) is matches


def test_not_resource_allows_every_other_resource() -> None:
    document = allow(
        {"Action": "iam:GetUser", "NotResource": f"arn:aws:iam::{ACCOUNT}:user/root-like"}
    )
    assert allows(document, Request("iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/alice"))
    assert not allows(document, Request("iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/root-like"))


def test_policy_variables_in_resources() -> None:
    # Policy variables: "arn:aws:iam::*:user/${aws:username}" is the caller's own user; a
    # request without the key matches nothing.
    document = allow(
        {"Action": "iam:ChangePassword", "Resource": "arn:aws:iam::*:user/${aws:username}"}
    )
    mine = Request(
        "iam:ChangePassword", f"arn:aws:iam::{ACCOUNT}:user/alice", {"aws:username": "alice"}
    )
    theirs = Request(
        "iam:ChangePassword", f"arn:aws:iam::{ACCOUNT}:user/bob", {"aws:username": "alice"}
    )
    anonymous = Request("iam:ChangePassword", f"arn:aws:iam::{ACCOUNT}:user/alice")
    assert allows(document, mine)
    assert not allows(document, theirs)
    assert not allows(document, anonymous)


# --- condition operators (IAM JSON policy elements: Condition operators) -----------------------


def test_a_key_the_request_does_not_carry_makes_a_condition_false() -> None:
    # "If the key that you specify in a policy condition is not present in the request context,
    # the values do not match and the condition is false." The guide's example: PrincipalTag.
    document = allow(
        {
            "Action": "iam:*AccessKey*",
            "Resource": "arn:aws:iam::111122223333:user/*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}},
        }
    )
    resource = f"arn:aws:iam::{ACCOUNT}:user/bob"
    tagged = {"aws:PrincipalTag/job-category": "iamuser-admin"}
    assert allows(document, Request("iam:CreateAccessKey", resource, tagged))
    other = {"aws:PrincipalTag/job-category": "dev-ops"}
    assert not allows(document, Request("iam:CreateAccessKey", resource, other))
    assert not allows(document, Request("iam:CreateAccessKey", resource))


def test_a_negated_condition_on_a_missing_key_is_true() -> None:
    # "If the policy condition requires that the key is not matched, such as StringNotLike or
    # ArnNotLike, and the right key is not present, the condition is true."
    assert condition_holds("StringNotLike", {"aws:PrincipalTag/team": "dev*"}, {})
    assert condition_holds("ArnNotLike", {"aws:SourceArn": "arn:aws:s3:::x"}, {})
    assert not condition_holds("StringLike", {"aws:PrincipalTag/team": "dev*"}, {})


def test_string_equals_is_exact_and_string_like_takes_wildcards() -> None:
    context = {"aws:PrincipalTag/team": "Dev-1"}
    assert condition_holds("StringEquals", {"aws:PrincipalTag/team": "Dev-1"}, context)
    assert not condition_holds("StringEquals", {"aws:PrincipalTag/team": "dev-1"}, context)
    assert not condition_holds("StringEquals", {"aws:PrincipalTag/team": "Dev-*"}, context)
    assert condition_holds("StringEqualsIgnoreCase", {"aws:PrincipalTag/team": "dev-1"}, context)
    assert condition_holds("StringLike", {"aws:PrincipalTag/team": "Dev-?"}, context)
    # Condition key names are not case-sensitive; their values are.
    assert condition_holds("StringEquals", {"AWS:principaltag/TEAM": "Dev-1"}, context)


def test_several_keys_and_several_values() -> None:
    # "Conditions with multiple context keys or values": keys of one operator AND, values of one
    # key OR, values of a negated operator NOR.
    context = {"aws:PrincipalTag/team": "a", "aws:PrincipalTag/level": "2"}
    assert condition_holds("StringEquals", {"aws:PrincipalTag/team": ["a", "b"]}, context)
    assert not condition_holds(
        "StringEquals", {"aws:PrincipalTag/team": "a", "aws:PrincipalTag/level": "3"}, context
    )
    assert not condition_holds("StringNotEquals", {"aws:PrincipalTag/team": ["a", "b"]}, context)
    assert condition_holds("StringNotEquals", {"aws:PrincipalTag/team": ["b", "c"]}, context)


def test_arn_equals_and_arn_like_compare_each_part_with_wildcards() -> None:
    # ArnEquals and ArnLike: "each of the six colon-delimited components of the ARN is checked
    # separately and each can include multi-character match wildcards (*) or single-character
    # match wildcards (?)".
    context = {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}
    assert condition_holds(
        "ArnEquals", {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}, context
    )
    assert condition_holds("ArnLike", {"iam:PolicyARN": "arn:aws:iam::*:policy/*"}, context)
    assert not condition_holds(
        "ArnEquals", {"iam:PolicyARN": "arn:aws:iam::aws:policy/IAMUserChangePassword"}, context
    )
    assert condition_holds(
        "ArnNotEquals", {"iam:PolicyARN": "arn:aws:iam::aws:policy/IAMUserChangePassword"}, context
    )


def test_if_exists_is_true_without_the_key() -> None:
    # ...IfExists: "If the key is not present, evaluate the condition element as true."
    assert condition_holds("StringLikeIfExists", {"ec2:InstanceType": ["t1.*", "t2.*"]}, {})
    assert condition_holds(
        "StringLikeIfExists",
        {"ec2:InstanceType": ["t1.*", "t2.*"]},
        {"ec2:InstanceType": "t2.micro"},
    )
    assert not condition_holds(
        "StringLikeIfExists",
        {"ec2:InstanceType": ["t1.*", "t2.*"]},
        {"ec2:InstanceType": "m5.large"},
    )


def test_null_checks_presence_only() -> None:
    # Null: "true" when the key is absent, "false" when it is present (the value is not compared).
    assert condition_holds("Null", {"aws:TokenIssueTime": "true"}, {})
    assert not condition_holds("Null", {"aws:TokenIssueTime": "true"}, {"aws:TokenIssueTime": "x"})
    assert condition_holds("Null", {"aws:TokenIssueTime": "false"}, {"aws:TokenIssueTime": "x"})
    assert not condition_holds("Null", {"aws:TokenIssueTime": "false"}, {})


def test_bool() -> None:
    assert condition_holds("Bool", {"aws:SecureTransport": "true"}, {"aws:SecureTransport": True})
    assert not condition_holds(
        "Bool", {"aws:SecureTransport": "true"}, {"aws:SecureTransport": "false"}
    )
    assert not condition_holds("Bool", {"aws:SecureTransport": "true"}, {})


@pytest.mark.parametrize(
    ("tag_keys", "denied"),
    [
        (["key1:legal"], False),
        (["key1:hr", "key1:personnel"], False),
        (["key2:audit"], True),
        (None, True),
    ],
)
def test_for_all_values_as_the_guide_tabulates_it(tag_keys: list[str] | None, denied: bool) -> None:
    # "Multivalued context key examples", "Deny policy with condition set operator ForAllValues":
    # the guide's table of request contexts and outcomes for this statement.
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iam:Tag*", "Resource": "*"},
            {
                "Sid": "DenyRestrictedTags",
                "Effect": "Deny",
                "Action": ["iam:Tag*", "iam:UnTag*"],
                "Resource": ["*"],
                "Condition": {"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}},
            },
        ],
    }
    context = {} if tag_keys is None else {"aws:TagKeys": tag_keys}
    decision = decide([document], Request("iam:TagUser", "arn:aws:iam::1:user/a", context))
    assert (decision == "ExplicitDeny") is denied


def test_for_any_value_needs_one_matching_value_and_the_key() -> None:
    expected = {"aws:TagKeys": ["environment", "cost-center"]}
    assert condition_holds(
        "ForAnyValue:StringEquals", expected, {"aws:TagKeys": ["x", "environment"]}
    )
    assert not condition_holds("ForAnyValue:StringEquals", expected, {"aws:TagKeys": ["x"]})
    assert not condition_holds("ForAnyValue:StringEquals", expected, {})


# --- AWS's own example policies ------------------------------------------------------------------

# IAM User Guide, "AWS: Allows MFA-authenticated IAM users to manage their own MFA device on the
# Security credentials page" (the documented outcome: without MFA, only the listed actions).
MANAGE_OWN_MFA = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowManageOwnVirtualMFADevice",
            "Effect": "Allow",
            "Action": ["iam:CreateVirtualMFADevice"],
            "Resource": "arn:aws:iam::*:mfa/*",
        },
        {
            "Sid": "AllowManageOwnUserMFA",
            "Effect": "Allow",
            "Action": ["iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices"],
            "Resource": "arn:aws:iam::*:user/${aws:username}",
        },
        {
            "Sid": "DenyAllExceptListedIfNoMFA",
            "Effect": "Deny",
            "NotAction": [
                "iam:CreateVirtualMFADevice",
                "iam:EnableMFADevice",
                "iam:GetUser",
                "iam:ListMFADevices",
                "sts:GetSessionToken",
            ],
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        },
    ],
}
ADMIN = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


@pytest.mark.parametrize(
    ("mfa", "action", "allowed"),
    [
        (None, "iam:EnableMFADevice", True),
        (None, "s3:ListAllMyBuckets", False),
        (False, "s3:ListAllMyBuckets", False),
        (True, "s3:ListAllMyBuckets", True),
        (None, "iam:CreateAccessKey", False),
    ],
)
def test_the_manage_own_mfa_example(mfa: bool | None, action: str, allowed: bool) -> None:
    # Held with an administrator policy: without MFA (the key absent, as for access keys, or
    # false), everything but the listed actions is denied; with MFA, the other policy applies.
    context: dict[str, Any] = {"aws:username": "alice"}
    if mfa is not None:
        context["aws:MultiFactorAuthPresent"] = mfa
    resource = f"arn:aws:iam::{ACCOUNT}:user/alice" if action.startswith("iam:") else "*"
    assert allows([MANAGE_OWN_MFA, ADMIN], Request(action, resource, context)) is allowed


# Security Hub user guide, "Configuring access to BatchUpdateFindings".
HUB = f"arn:aws:securityhub:us-east-1:{ACCOUNT}:hub/default"
PATH = "securityhub:ASFFSyntaxPath/"


def _update(**fields: str) -> Request:
    return Request(
        "securityhub:BatchUpdateFindings",
        HUB,
        {PATH + k.replace("_", "."): v for k, v in fields.items()},
    )


def test_the_security_hub_example_that_blocks_a_field() -> None:
    # "the following statement indicates that BatchUpdateFindings cannot be used to update the
    # workflow status."
    documents = [
        allow({"Action": "securityhub:BatchUpdateFindings", "Resource": "*"}),
        {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Deny",
                "Action": "securityhub:BatchUpdateFindings",
                "Resource": "*",
                "Condition": {"Null": {PATH + "Workflow.Status": "false"}},
            },
        },
    ]
    assert not allows(documents, _update(Workflow_Status="RESOLVED"))
    assert allows(
        documents, _update(Note_Text="Known issue that is not a risk.", Note_UpdatedBy="u")
    )


def test_the_security_hub_examples_that_block_values() -> None:
    # "cannot be used to set Workflow.Status to SUPPRESSED"; and, with a list, to RESOLVED or
    # NOTIFIED.
    one = [
        allow({"Action": "securityhub:BatchUpdateFindings", "Resource": "*"}),
        {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Deny",
                "Action": "securityhub:BatchUpdateFindings",
                "Resource": "*",
                "Condition": {"StringEquals": {PATH + "Workflow.Status": "SUPPRESSED"}},
            },
        },
    ]
    assert not allows(one, _update(Workflow_Status="SUPPRESSED"))
    assert allows(one, _update(Workflow_Status="RESOLVED"))
    several = [
        one[0],
        {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Deny",
                "Action": "securityhub:BatchUpdateFindings",
                "Resource": "*",
                "Condition": {
                    "ForAnyValue:StringEquals": {PATH + "Workflow.Status": ["RESOLVED", "NOTIFIED"]}
                },
            },
        },
    ]
    assert not allows(several, _update(Workflow_Status="RESOLVED"))
    assert not allows(several, _update(Workflow_Status="NOTIFIED"))
    assert allows(several, _update(Workflow_Status="NEW"))
