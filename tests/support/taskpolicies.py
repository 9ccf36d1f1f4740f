"""The AWS task policies of sts:AssumeRoot, as the IAM user guide prints them: the actions each
allows (every other action is denied). Written from the guide, not from the product, so tests
can hold the product's and the sandbox's copies against it."""

from __future__ import annotations

AUDIT_POLICY_ACTIONS = frozenset(
    {
        "iam:ListAccessKeys",
        "iam:ListSigningCertificates",
        "iam:GetLoginProfile",
        "iam:ListMFADevices",
        "iam:GetAccountSummary",
        "iam:GetUser",
        "iam:GetAccessKeyLastUsed",
    }
)
DELETE_POLICY_ACTIONS = frozenset(
    {
        "iam:DeleteAccessKey",
        "iam:DeleteSigningCertificate",
        "iam:DeleteLoginProfile",
        "iam:DeactivateMFADevice",
        "iam:ListAccessKeys",
        "iam:ListSigningCertificates",
        "iam:GetLoginProfile",
        "iam:ListMFADevices",
        "iam:GetUser",
        "iam:GetAccessKeyLastUsed",
    }
)
