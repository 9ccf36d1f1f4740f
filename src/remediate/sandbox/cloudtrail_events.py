"""CloudTrail records as the CloudTrail user guide documents them, and what the sandbox's root
users did: the events :mod:`remediate.sandbox.cloudtrail` answers LookupEvents from.

A record's ``userIdentity`` is of type ``Root``, ``IAMUser`` or ``AssumedRole``; a console
sign-in (event type ``AwsConsoleSignIn``) carries ``additionalEventData.MFAUsed``; an API call
(``AwsApiCall``) its ``readOnly``, and an ``errorCode`` when it was refused. Each is kept in the
order CloudTrail writes its fields: the record is what ``CloudTrailEvent`` holds, as JSON.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import NotRequired, TypedDict

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
AWS_CLI = (
    "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.9"
)
CONSOLE = "AWS Internal"


class SessionIssuer(TypedDict):
    type: str
    principalId: str
    arn: str
    accountId: str
    userName: str


class SessionContext(TypedDict):
    sessionIssuer: SessionIssuer
    attributes: dict[str, str]


class UserIdentity(TypedDict):
    """``userIdentity``: who made the request."""

    type: str
    principalId: str
    arn: str
    accountId: str
    accessKeyId: str
    userName: NotRequired[str]
    sessionContext: NotRequired[SessionContext]


class CloudTrailRecord(TypedDict):
    """One management event, as CloudTrail records it (the fields the sandbox writes)."""

    eventVersion: str
    userIdentity: UserIdentity
    eventTime: str
    eventSource: str
    eventName: str
    awsRegion: str
    sourceIPAddress: str
    userAgent: str
    requestParameters: None
    responseElements: dict[str, str] | None
    additionalEventData: NotRequired[dict[str, str]]
    requestID: NotRequired[str]
    eventID: str
    readOnly: bool
    eventType: str
    managementEvent: bool
    recipientAccountId: str
    eventCategory: str
    errorCode: NotRequired[str]
    errorMessage: NotRequired[str]


def root_identity(
    account_id: str, *, access_key_id: str = "", partition: str = "aws"
) -> UserIdentity:
    """``userIdentity`` of a request made with the root user's credentials."""
    return {
        "type": "Root",
        "principalId": account_id,
        "arn": f"arn:{partition}:iam::{account_id}:root",
        "accountId": account_id,
        "accessKeyId": access_key_id,
    }


def iam_user_identity(account_id: str, name: str, *, partition: str = "aws") -> UserIdentity:
    return {
        "type": "IAMUser",
        "principalId": "AIDA" + hashlib.sha256(name.encode()).hexdigest()[:17].upper(),
        "arn": f"arn:{partition}:iam::{account_id}:user/{name}",
        "accountId": account_id,
        "accessKeyId": "AKIA" + hashlib.sha256(name.encode()).hexdigest()[:16].upper(),
        "userName": name,
    }


def assumed_role_identity(
    account_id: str, role: str, session: str, *, partition: str = "aws"
) -> UserIdentity:
    role_id = "AROA" + hashlib.sha256(role.encode()).hexdigest()[:17].upper()
    return {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:{partition}:sts::{account_id}:assumed-role/{role}/{session}",
        "accountId": account_id,
        "accessKeyId": "ASIA" + hashlib.sha256(session.encode()).hexdigest()[:16].upper(),
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": f"arn:{partition}:iam::{account_id}:role/{role}",
                "accountId": account_id,
                "userName": role,
            },
            "attributes": {"mfaAuthenticated": "false", "creationDate": "2019-05-14T08:30:00Z"},
        },
    }


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event_id(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(str(p) for p in parts)))


def console_sign_in(
    account_id: str,
    when: datetime,
    *,
    source_ip: str,
    user_agent: str = FIREFOX,
    mfa_used: bool,
    success: bool = True,
    identity: UserIdentity | None = None,
    region: str = "us-east-1",
) -> CloudTrailRecord:
    """A ``ConsoleLogin`` record (event type AwsConsoleSignIn), by root unless ``identity``."""
    identity = identity or root_identity(account_id)
    extra: dict[str, str] = {
        "LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
        "MobileVersion": "No",
        "MFAUsed": "Yes" if mfa_used else "No",
    }
    if mfa_used:
        extra["MFAIdentifier"] = f"arn:aws:iam::{account_id}:mfa/root-account-mfa-device"
    record: CloudTrailRecord = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": _stamp(when),
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
        "requestParameters": None,
        "responseElements": {"ConsoleLogin": "Success" if success else "Failure"},
        "additionalEventData": extra,
        "eventID": _event_id(account_id, "ConsoleLogin", _stamp(when), source_ip),
        "readOnly": False,
        "eventType": "AwsConsoleSignIn",
        "managementEvent": True,
        "recipientAccountId": account_id,
        "eventCategory": "Management",
    }
    if not success:
        record["errorMessage"] = "Failed authentication"
    return record


def api_call(
    account_id: str,
    when: datetime,
    *,
    region: str,
    source: str,
    name: str,
    read_only: bool,
    source_ip: str,
    user_agent: str = AWS_CLI,
    identity: UserIdentity | None = None,
    error_code: str | None = None,
    n: int = 0,
) -> CloudTrailRecord:
    """An ``AwsApiCall`` record, by root unless ``identity``. ``n`` tells apart calls that are
    otherwise the same."""
    identity = identity or root_identity(account_id)
    record: CloudTrailRecord = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": _stamp(when),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
        "requestParameters": None,
        "responseElements": None,
        "requestID": _event_id("request", account_id, name, _stamp(when), n),
        "eventID": _event_id(account_id, source, name, region, _stamp(when), n),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account_id,
        "eventCategory": "Management",
    }
    if error_code is not None:
        record["errorCode"] = error_code
        record["errorMessage"] = f"{error_code} (emulated)"
    return record


def sandbox_activity(account_id: str, now: datetime) -> list[CloudTrailRecord]:
    """What the sandbox account's root did this week, and around it what must be ignored.

    Root signed in to the console with MFA six days ago and deactivated its MFA device; two days
    ago it signed in again from another address, without MFA, and from CloudShell described EC2
    instances in eu-west-1 (more events than fit one page), opened a security group to the world
    and launched an instance. An IAM user named ``root`` (found by the ``Username`` lookup, but
    not the root user) and other identities were busy too; a sign-in 40 days ago is outside a
    7-day window.
    """
    day = timedelta(days=1)
    away = "198.51.100.7"
    here = "203.0.113.10"
    events = [
        console_sign_in(
            account_id, now - 6 * day, source_ip=away, user_agent=CHROME, mfa_used=True
        ),
        api_call(
            account_id,
            now - 6 * day + timedelta(minutes=4),
            region="us-east-1",
            source="iam.amazonaws.com",
            name="DeactivateMFADevice",
            read_only=False,
            source_ip=away,
            user_agent=CONSOLE,
        ),
        console_sign_in(account_id, now - 2 * day, source_ip=here, mfa_used=False),
        console_sign_in(
            account_id,
            now - 2 * day - timedelta(minutes=3),
            source_ip=here,
            mfa_used=False,
            success=False,
        ),
        api_call(
            account_id,
            now - 2 * day + timedelta(minutes=30),
            region="eu-west-1",
            source="ec2.amazonaws.com",
            name="AuthorizeSecurityGroupIngress",
            read_only=False,
            source_ip=here,
        ),
        api_call(
            account_id,
            now - 2 * day + timedelta(minutes=31),
            region="eu-west-1",
            source="ec2.amazonaws.com",
            name="RunInstances",
            read_only=False,
            source_ip=here,
        ),
        console_sign_in(
            account_id, now - 40 * day, source_ip=away, user_agent=CHROME, mfa_used=True
        ),
    ]
    events += [
        api_call(
            account_id,
            now - 2 * day + timedelta(minutes=5, seconds=20 * i),
            region="eu-west-1",
            source="ec2.amazonaws.com",
            name="DescribeInstances",
            read_only=True,
            source_ip=here,
            n=i,
        )
        for i in range(52)
    ]
    return events + _others(account_id, now)


def _others(account_id: str, now: datetime) -> list[CloudTrailRecord]:
    """Around root's week: an IAM user's sign-in, an IAM user named ``root`` listing buckets,
    and an assumed role terminating an instance."""
    day = timedelta(days=1)
    alice = iam_user_identity(account_id, "alice")
    impostor = iam_user_identity(account_id, "root")
    role = assumed_role_identity(account_id, "OrganizationAccountAccessRole", "remediate-alice")
    return [
        console_sign_in(
            account_id, now - day, source_ip="192.0.2.20", mfa_used=True, identity=alice
        ),
        api_call(
            account_id,
            now - day,
            region="us-east-1",
            source="s3.amazonaws.com",
            name="ListBuckets",
            read_only=True,
            source_ip="192.0.2.66",
            identity=impostor,
        ),
        api_call(
            account_id,
            now - 3 * day,
            region="eu-west-1",
            source="ec2.amazonaws.com",
            name="TerminateInstances",
            read_only=False,
            source_ip="192.0.2.21",
            identity=role,
        ),
    ]


def member_activity(account_id: str, name: str, now: datetime) -> list[CloudTrailRecord]:
    """The sandbox organization's member accounts: ``dev``'s root access key used yesterday from
    a script; ``prod``'s root signed in with MFA 40 days ago; ``audit``'s root did nothing."""
    day = timedelta(days=1)
    if name == "dev":
        key = f"AKIA{account_id}ROT1"
        identity = root_identity(account_id, access_key_id=key)
        calls = [
            ("sts.amazonaws.com", "GetCallerIdentity", True),
            ("s3.amazonaws.com", "ListBuckets", True),
            ("s3.amazonaws.com", "PutBucketPolicy", False),
        ]
        return [
            api_call(
                account_id,
                now - day + timedelta(minutes=i),
                region="us-east-1",
                source=source,
                name=op,
                read_only=read_only,
                source_ip="192.0.2.44",
                identity=identity,
            )
            for i, (source, op, read_only) in enumerate(calls)
        ]
    if name == "prod":
        return [
            console_sign_in(account_id, now - 40 * day, source_ip="198.51.100.9", mfa_used=True)
        ]
    return []
