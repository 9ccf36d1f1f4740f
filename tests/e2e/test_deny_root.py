"""End to end: `remediate root-credentials deny-root` against the test server's AWS Organizations
(moto stores service control policies, their types and attachments; it never evaluates them, so
what is proven here is the document and where it is attached, not that AWS denies root with it).

The organization is the sandbox's own (remediate.sandbox.server.seed_organization): the
management account and members "dev", "prod" and "audit"; moto's root starts with no policy type
enabled, as a new organization's does. Every test re-reads the emulator's state instead of
trusting the command's own output, and counts the write calls botocore actually sent.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from remediate.sandbox.server import SANDBOX_ACCOUNT_ID as ACCOUNT_ID
from support.orgs import seed_sandbox_organization
from support.wire import record_requests, writes

if TYPE_CHECKING:
    from conftest import Moto, Result

pytestmark = pytest.mark.e2e

NAME = "RemediateDenyRootUser"
SCP = "SERVICE_CONTROL_POLICY"
# AWS's sample SCP "Prevent root credentials management in member accounts in AWS Organizations"
# (aws-samples/service-control-policy-examples, Privileged-access-controls), as published: every
# action denied to an account's root user unless the request comes from an sts:AssumeRoot
# session (aws:AssumedRoot present).
AWS_SAMPLE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {
                "ArnLike": {"aws:PrincipalArn": ["arn:*:iam::*:root"]},
                "Null": {"aws:AssumedRoot": "true"},
            },
        }
    ],
}
MANAGEMENT_NOTE = f"SCPs do not apply to the management account {ACCOUNT_ID}"


@pytest.fixture
def ids(moto: Moto) -> dict[str, str]:
    return seed_sandbox_organization(moto)


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return record_requests(monkeypatch)


def deny_root(cli: Any, moto: Moto, *args: str, prompter: Any = None) -> Result:
    result: Result = cli(
        "root-credentials",
        "deny-root",
        *args,
        "--endpoint-url",
        moto.endpoint_url,
        prompter=prompter,
    )
    return result


def organizations(moto: Moto) -> Any:
    return moto.client("organizations")


def root_of(moto: Moto) -> dict[str, Any]:
    [root] = organizations(moto).list_roots()["Roots"]
    return dict(root)


def scp_status(moto: Moto) -> str | None:
    types = {t["Type"]: t["Status"] for t in root_of(moto)["PolicyTypes"]}
    return types.get(SCP)


def policy_named(moto: Moto, name: str = NAME) -> dict[str, Any] | None:
    listed = organizations(moto).list_policies(Filter=SCP)["Policies"]
    return next((dict(p) for p in listed if p["Name"] == name), None)


def attached_to(moto: Moto, target: str) -> set[str]:
    found = organizations(moto).list_policies_for_target(TargetId=target, Filter=SCP)
    return {p["Name"] for p in found["Policies"]}


def normal(document: Any) -> Any:
    """A policy document as IAM reads it: one value is a list of one; the Sid names nothing."""
    statements = document["Statement"]
    result = []
    for s in statements if isinstance(statements, list) else [statements]:
        s = {k: v for k, v in s.items() if k != "Sid"}
        s["Action"] = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        s["Resource"] = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        s["Condition"] = {
            op: {k: v if isinstance(v, list) else [v] for k, v in keys.items()}
            for op, keys in s["Condition"].items()
        }
        result.append(s)
    return {"Version": document["Version"], "Statement": result}


def steps(result: Result) -> dict[str, str]:
    return {s["id"]: s["change"] for s in result.json()["remediation"]["steps"]}


# --- the four beats ----------------------------------------------------------------------------


def test_dry_run_apply_and_rerun_on_one_emulator(
    moto: Moto, cli: Any, ids: dict[str, str], wire: list[str]
) -> None:
    root_id = root_of(moto)["Id"]
    wire.clear()

    dry = deny_root(cli, moto, "--dry-run", "-o", "json")
    assert dry.code == 0, dry.err
    assert steps(dry) == {
        "scp-policy-type": "create",
        "deny-root-policy": "create",
        "attach": "create",
    }
    assert writes(wire) == []  # nothing on the wire: not even a refused write
    assert scp_status(moto) is None
    assert policy_named(moto) is None

    r = deny_root(cli, moto, "--yes", "-o", "json")
    assert r.code == 0, r.err
    assert r.json()["remediation"]["changed"] == 3
    assert writes(wire) == [
        "organizations:EnablePolicyType",
        "organizations:CreatePolicy",
        "organizations:AttachPolicy",
    ]
    assert scp_status(moto) == "ENABLED"
    policy = policy_named(moto)
    assert policy is not None
    content = organizations(moto).describe_policy(PolicyId=policy["Id"])["Policy"]["Content"]
    assert normal(json.loads(content)) == normal(AWS_SAMPLE)
    assert NAME in attached_to(moto, root_id)

    wire.clear()
    again_dry = deny_root(cli, moto, "--dry-run", "-o", "json")
    assert set(steps(again_dry).values()) == {"none"}
    again = deny_root(cli, moto, "--yes")
    assert again.code == 0, again.err
    assert "Nothing needs changing" in again.out
    assert writes(wire) == []
    assert [p["Name"] for p in organizations(moto).list_policies(Filter=SCP)["Policies"]].count(
        NAME
    ) == 1


def test_declined_changes_nothing(
    moto: Moto, cli: Any, ids: dict[str, str], wire: list[str]
) -> None:
    from support.prompters import Scripted

    wire.clear()
    prompter = Scripted(["n"])
    r = deny_root(cli, moto, prompter=prompter)
    assert r.code == 2, r.err
    assert len(prompter.asked) == 1
    assert writes(wire) == []
    assert scp_status(moto) is None
    assert policy_named(moto) is None


def test_the_plan_prints_the_document_and_the_management_account_note(
    moto: Moto, cli: Any, ids: dict[str, str]
) -> None:
    r = deny_root(cli, moto, "--dry-run")
    assert r.code == 0, r.err
    assert '"aws:AssumedRoot": "true"' in r.out
    assert '"aws:PrincipalArn": "arn:*:iam::*:root"' in r.out
    assert MANAGEMENT_NOTE in " ".join(r.out.split())
    assert "remediate root-activity watch" in r.out

    doc = deny_root(cli, moto, "--dry-run", "-o", "json").json()
    [attach] = [s for s in doc["remediation"]["steps"] if s["id"] == "attach"]
    assert any(MANAGEMENT_NOTE in w for w in attach["warnings"])


# --- targets -----------------------------------------------------------------------------------


def test_targets_an_ou_and_an_account_instead_of_the_root(
    moto: Moto, cli: Any, ids: dict[str, str], wire: list[str]
) -> None:
    root_id = root_of(moto)["Id"]
    ou = organizations(moto).create_organizational_unit(ParentId=root_id, Name="Workloads")
    ou_id = ou["OrganizationalUnit"]["Id"]

    r = deny_root(cli, moto, "--target", ou_id, "--target", ids["dev"], "--yes", "-o", "json")
    assert r.code == 0, r.err
    assert NAME in attached_to(moto, ou_id)
    assert NAME in attached_to(moto, ids["dev"])
    assert NAME not in attached_to(moto, root_id)
    assert NAME not in attached_to(moto, ids["prod"])

    # One more target later: only that one is attached.
    wire.clear()
    more = deny_root(
        cli, moto, "--target", ou_id, "--target", ids["dev"], "--target", ids["prod"], "--yes"
    )
    assert more.code == 0, more.err
    assert writes(wire) == ["organizations:AttachPolicy"]
    assert NAME in attached_to(moto, ids["prod"])


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("ou-zz", "invalid --target 'ou-zz': expected a root (r-...)"),
        ("12345", "invalid --target '12345'"),
        ("r-", "invalid --target 'r-'"),
        ("arn:aws:organizations::123456789012:root/o-abc/r-abcd", "invalid --target 'arn:"),
    ],
)
def test_a_malformed_target_is_refused_before_any_call(
    moto: Moto, cli: Any, wire: list[str], target: str, message: str
) -> None:
    wire.clear()
    r = deny_root(cli, moto, "--target", target, "--yes")
    assert r.code == 2, r.err
    assert message in r.err
    assert len(r.err.strip().splitlines()) <= 2  # one line, and its tip
    assert wire == []


def test_a_target_given_twice_is_refused(moto: Moto, cli: Any, wire: list[str]) -> None:
    wire.clear()
    r = deny_root(cli, moto, "--target", "111122223333", "--target", "111122223333")
    assert r.code == 2, r.err
    assert "--target 111122223333 is given twice" in r.err
    assert wire == []


def test_a_target_outside_the_organization_is_refused_before_any_write(
    moto: Moto, cli: Any, ids: dict[str, str], wire: list[str]
) -> None:
    wire.clear()
    r = deny_root(cli, moto, "--target", "999999999999", "--yes")
    assert r.code == 2, r.err
    assert "target 999999999999 is not in this organization" in r.err
    assert writes(wire) == []
    assert scp_status(moto) is None


def test_the_management_account_is_no_target(
    moto: Moto, cli: Any, ids: dict[str, str], wire: list[str]
) -> None:
    wire.clear()
    r = deny_root(cli, moto, "--target", ACCOUNT_ID, "--yes")
    assert r.code == 2, r.err
    assert f"target {ACCOUNT_ID} is the organization's management account" in r.err
    assert "remediate root-activity watch" in r.err
    assert writes(wire) == []


# --- a policy of the same name -----------------------------------------------------------------


def test_a_policy_of_that_name_with_another_document_is_refused_not_overwritten(
    moto: Moto, cli: Any, ids: dict[str, str], wire: list[str]
) -> None:
    other = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}],
    }
    created = organizations(moto).create_policy(
        Content=json.dumps(other), Description="", Name=NAME, Type=SCP
    )["Policy"]["PolicySummary"]
    wire.clear()

    r = deny_root(cli, moto, "--yes")
    assert r.code == 2, r.err
    assert f"a service control policy named {NAME} ({created['Id']}) exists with another" in r.err
    assert "refused, not overwritten" in r.err
    assert writes(wire) == []
    kept = organizations(moto).describe_policy(PolicyId=created["Id"])["Policy"]["Content"]
    assert json.loads(kept) == other
    assert scp_status(moto) is None  # the plan refused before the first write


def test_a_policy_of_that_name_saying_the_same_is_reused(
    moto: Moto, cli: Any, ids: dict[str, str], wire: list[str]
) -> None:
    # AWS's sample as published (no Sid, the ARN in a list, other spacing): the same document.
    created = organizations(moto).create_policy(
        Content=json.dumps(AWS_SAMPLE, indent=4), Description="", Name=NAME, Type=SCP
    )["Policy"]["PolicySummary"]
    organizations(moto).enable_policy_type(RootId=root_of(moto)["Id"], PolicyType=SCP)
    wire.clear()

    r = deny_root(cli, moto, "--yes", "-o", "json")
    assert r.code == 0, r.err
    assert steps(r) == {"scp-policy-type": "none", "deny-root-policy": "none", "attach": "create"}
    assert writes(wire) == ["organizations:AttachPolicy"]
    assert NAME in attached_to(moto, root_of(moto)["Id"])
    assert [p["Id"] for p in organizations(moto).list_policies(Filter=SCP)["Policies"]].count(
        created["Id"]
    ) == 1


# --- the sandbox -------------------------------------------------------------------------------


def test_on_the_sandbox_the_policy_is_attached(moto: Moto, cli: Any) -> None:
    # `moto` resets the shared in-process emulator before and after the sandbox uses it: what
    # the sandbox's command left is read back from the same backends.
    r = cli("root-credentials", "deny-root", "--sandbox", "--yes", "-o", "json")
    assert r.code == 0, r.err
    assert "SANDBOX" in r.err
    assert r.json()["remediation"]["changed"] == 3
    assert scp_status(moto) == "ENABLED"
    assert NAME in attached_to(moto, root_of(moto)["Id"])


# --- lost answers ------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["EnablePolicyType", "CreatePolicy", "AttachPolicy"])
def test_a_lost_answer_to_a_write_converges_in_one_run(
    moto: Moto, cli: Any, ids: dict[str, str], operation: str
) -> None:
    """The write reached AWS and its answer was lost (HTTP 500): botocore sends it again, and
    AWS's "already" answer (PolicyTypeAlreadyEnabledException, DuplicatePolicyException) is the
    end state, not an error; one policy, attached once."""
    from support.faultproxy import FaultProxy, Faults, Rule

    rule = Rule(operation, "lose")
    with FaultProxy(moto.endpoint_url, Faults(rules=[rule])) as proxy:
        r = cli("root-credentials", "deny-root", "--yes", "--endpoint-url", proxy.endpoint_url)
    assert rule.hits == 1, "the fault was never injected"
    assert r.code == 0, r.err
    assert proxy.faults.operations.count(operation) <= 2
    assert scp_status(moto) == "ENABLED"
    names = [p["Name"] for p in organizations(moto).list_policies(Filter=SCP)["Policies"]]
    assert names.count(NAME) == 1
    assert NAME in attached_to(moto, root_of(moto)["Id"])
    again = deny_root(cli, moto, "--yes")
    assert "Nothing needs changing" in again.out


# --- the printed policy is enough ------------------------------------------------------------


@pytest.fixture
def org_requests(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Every AWS Organizations request botocore sends: its operation and JSON parameters."""
    from botocore.endpoint import Endpoint

    requests: list[tuple[str, dict[str, Any]]] = []
    make_request = Endpoint.make_request

    def recording(self: Any, operation_model: Any, request_dict: Any) -> Any:
        if operation_model.service_model.endpoint_prefix == "organizations":
            body = request_dict.get("body") or b"{}"
            text = body.decode() if isinstance(body, bytes) else str(body)
            requests.append((operation_model.name, json.loads(text or "{}")))
        return make_request(self, operation_model, request_dict)

    monkeypatch.setattr(Endpoint, "make_request", recording)
    return requests


def authorized(operation: str, params: dict[str, Any], org: str) -> list[Any]:
    """The requests IAM authorizes for one Organizations call, as the Service Authorization
    Reference gives each action's resource types (AttachPolicy: the policy and the target) and
    the organizations:PolicyType key; ``org`` is ``arn:aws:organizations::MGMT:`` + ``o-ID``."""
    from support.iampolicy import Request

    scp = {"organizations:PolicyType": SCP}

    def target(target_id: str) -> str:
        kind = (
            "root"
            if target_id.startswith("r-")
            else "ou"
            if target_id.startswith("ou-")
            else "account"
        )
        prefix, org_id = org.rsplit(":", 1)
        return f"{prefix}:{kind}/{org_id}/{target_id}"

    prefix, org_id = org.rsplit(":", 1)
    policy = f"{prefix}:policy/{org_id}/service_control_policy/{params.get('PolicyId', 'p-new')}"
    action = f"organizations:{operation}"
    if operation in ("DescribeOrganization", "ListRoots"):
        return [Request(action)]
    if operation == "ListPolicies":
        return [Request(action, "*", {"organizations:PolicyType": params["Filter"]})]
    if operation == "ListPoliciesForTarget":
        context = {"organizations:PolicyType": params["Filter"]}
        return [Request(action, target(params["TargetId"]), context)]
    if operation == "EnablePolicyType":
        context = {"organizations:PolicyType": params["PolicyType"]}
        return [Request(action, target(params["RootId"]), context)]
    if operation in ("CreatePolicy", "DescribePolicy"):
        return [Request(action, policy, scp)]
    if operation == "AttachPolicy":
        return [Request(action, policy, scp), Request(action, target(params["TargetId"]), scp)]
    raise AssertionError(f"no authorization written for {operation}")


@pytest.mark.parametrize("with_targets", [False, True])
def test_the_printed_policy_allows_every_call_a_run_makes(
    moto: Moto,
    cli: Any,
    ids: dict[str, str],
    org_requests: list[tuple[str, dict[str, Any]]],
    with_targets: bool,
) -> None:
    from support.iampolicy import allows

    organization = organizations(moto).describe_organization()["Organization"]
    org = f"arn:aws:organizations::{ACCOUNT_ID}:{organization['Id']}"
    root_id = root_of(moto)["Id"]
    ou_id = organizations(moto).create_organizational_unit(ParentId=root_id, Name="Workloads")[
        "OrganizationalUnit"
    ]["Id"]
    targets = [ou_id, ids["dev"]] if with_targets else []
    given = [a for t in targets for a in ("--target", t)]
    printed = cli(
        "permissions",
        "--deny-root",
        "--account",
        ACCOUNT_ID,
        *(["--var", f"targets={','.join(targets)}"] if targets else []),
    )
    assert printed.code == 0, printed.err
    document = json.loads(printed.out)
    org_requests.clear()

    r = deny_root(cli, moto, *given, "--yes")
    assert r.code == 0, r.err
    assert {op for op, _ in org_requests} >= {"EnablePolicyType", "CreatePolicy", "AttachPolicy"}
    for operation, params in org_requests:
        for request in authorized(operation, params, org):
            assert allows(document, request), (operation, request)
    # And nowhere else: the root is no target of a run that names its targets.
    other = authorized("AttachPolicy", {"PolicyId": "p-x", "TargetId": ids["prod"]}, org)
    assert not allows(document, other[1])


def test_the_journal_names_what_each_write_acted_on(
    moto: Moto, cli: Any, ids: dict[str, str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    r = deny_root(cli, moto, "--yes")
    assert r.code == 0, r.err
    root_id = root_of(moto)["Id"]
    policy = policy_named(moto)
    assert policy is not None
    lines = (tmp_path / "state" / "remediate" / "journal.jsonl").read_text().splitlines()
    entries = [(e["action"], e["resource"], e["outcome"]) for e in map(json.loads, lines)]
    assert entries == [
        (
            "organizations:EnablePolicyType",
            f"policy type {SCP} in root {root_id}",
            "applied",
        ),
        ("organizations:CreatePolicy", f"policy {NAME}", "applied"),
        ("organizations:AttachPolicy", f"policy {policy['Id']} on {root_id}", "applied"),
    ]
    assert "aws:AssumedRoot" not in "".join(lines)  # names, never the document


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--root-credentials",), "--deny-root prints the policy for"),
        (("onboard-user",), "--deny-root prints the policy for"),
        (("--var", "user=alice"), "--deny-root takes one --var: targets="),
        (("--var", "targets=ou-zz"), "invalid --target 'ou-zz'"),
        (("--var", "targets=111122223333,111122223333"), "a target is given twice"),
    ],
)
def test_permissions_deny_root_refuses_what_it_does_not_take(
    cli: Any, args: tuple[str, ...], message: str
) -> None:
    r = cli("permissions", "--deny-root", *args)
    assert r.code == 2, r.err
    assert message in r.err
    assert r.out == ""
