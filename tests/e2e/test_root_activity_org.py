"""`root-activity watch` and `status` across an organization's accounts (issue 23): one plan for
every account, one confirmation, each account watched; a rerun writes nothing; status judges a
member account's root by the service control policies above it (the document, not the name),
and never asks it of the management account, where SCPs do not apply."""

from __future__ import annotations

import json
from typing import Any

from support.wire import record_requests, writes

DENY_ROOT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyRootUser",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:*:iam::*:root"}},
        }
    ],
}


def _organization(moto: Any) -> tuple[str, list[str]]:
    org = moto.client("organizations")
    org.create_organization(FeatureSet="ALL")
    members = [
        org.create_account(Email=f"{n}@example.com", AccountName=n)["CreateAccountStatus"][
            "AccountId"
        ]
        for n in ("dev", "prod")
    ]
    return org.list_roots()["Roots"][0]["Id"], members


def _status(cli: Any, moto: Any) -> dict[str, dict[str, str]]:
    r = cli(
        "root-activity",
        "status",
        "--all-accounts",
        "-o",
        "json",
        "--endpoint-url",
        moto.endpoint_url,
    )
    assert r.code == 0, r.err
    return {
        a["account_id"]: {f["id"]: f["status"] for f in a["findings"]}
        for a in json.loads(r.out)["accounts"]
    }


def test_watch_every_account_then_rerun_writes_nothing(
    cli: Any, moto: Any, monkeypatch: Any
) -> None:
    _, members = _organization(moto)
    args = ("root-activity", "watch", "--notify", "sec@example.com", "--all-accounts")
    first = cli(*args, "--yes", "--endpoint-url", moto.endpoint_url)
    assert first.code == 0, first.err
    assert first.out.count("set up") == 3, first.out
    status = _status(cli, moto)
    assert set(status) == {"123456789012", *members}
    for account in status.values():
        assert account["root-activity-not-monitored"] == "PASSED"
        assert account["root-activity-subscription-pending"] == "FAILED"
    requests = record_requests(monkeypatch)
    again = cli(*args, "--yes", "--endpoint-url", moto.endpoint_url)
    assert again.code == 0, again.err
    assert again.out.count("nothing to change") == 3, again.out
    assert writes(requests) == []


def test_scp_denying_root_is_judged_by_its_document(cli: Any, moto: Any) -> None:
    root_id, members = _organization(moto)
    before = _status(cli, moto)
    assert before["123456789012"]["root-not-denied-by-scp"] == "NOT_AVAILABLE"
    for member in members:
        assert before[member]["root-not-denied-by-scp"] == "FAILED"
    org = moto.client("organizations")
    # A policy of the right name but another document does not count.
    decoy = org.create_policy(
        Name="RemediateDenyRootUser",
        Description="allows all",
        Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=decoy, TargetId=root_id)
    assert _status(cli, moto)[members[0]]["root-not-denied-by-scp"] == "FAILED"
    deny = org.create_policy(
        Name="AnyName",
        Description="deny root",
        Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps(DENY_ROOT),
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=deny, TargetId=root_id)
    after = _status(cli, moto)
    for member in members:
        assert after[member]["root-not-denied-by-scp"] == "PASSED"
    assert after["123456789012"]["root-not-denied-by-scp"] == "NOT_AVAILABLE"


def test_a_dry_run_across_accounts_writes_nothing(cli: Any, moto: Any, monkeypatch: Any) -> None:
    _organization(moto)
    requests = record_requests(monkeypatch)
    args = ("root-activity", "watch", "--notify", "sec@example.com", "--all-accounts")
    r = cli(*args, "--dry-run", "--endpoint-url", moto.endpoint_url)
    assert r.code == 0, r.err
    assert r.out.count("changes planned (dry run)") == 3, r.out
    # Assuming the role in each member account is how it reads them; nothing is written.
    assert [w for w in writes(requests) if w != "sts:AssumeRole"] == []
