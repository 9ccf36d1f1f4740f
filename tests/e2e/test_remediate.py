"""End to end: `root-use --create-admin` and `playbook run` against moto's server over HTTP.

Each test starts from an empty account (the ``moto`` fixture resets it) and checks moto's state
with boto3 as well as the command's output: an exit code alone proves nothing about AWS.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from remediate.aws.identity import caller_identity
from remediate.aws.options import AwsOptions
from remediate.aws.session import Aws
from remediate.core.errors import StepFailedError
from remediate.credentials.store import SecretStore
from remediate.detect.service import detect
from remediate.playbook.binding import bind, instantiate
from remediate.playbook.loading import load_playbook
from remediate.playbook.runner import RunReport
from remediate.sandbox.server import RootState
from support.iamstate import snapshot as iam_snapshot
from support.prompters import Scripted, nobody
from support.runs import run_steps
from support.wire import writes as written

ACCOUNT = "123456789012"
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
CREDENTIALS = {"AccessKeyId": "AKIATESTEXAMPLE00000", "SecretAccessKey": "testing-secret"}
# Membership of the administrators group last: it grants power (privilege last).
STEP_IDS = ["admin-group", "admin-policy", "admin-user", "console-access", "membership"]
# The tag on every user remediate creates.
TAG = {"remediate:managed-by": "remediate"}
MANAGED = {"Key": "remediate:managed-by", "Value": "remediate"}


# --- helpers ---------------------------------------------------------------------------------


def root_use(cli: Any, moto: Any, *args: str, prompter: Any = None) -> Any:
    return cli("root-use", "--endpoint-url", moto.endpoint_url, *args, prompter=prompter)


def admin(cli: Any, moto: Any, *args: str, prompter: Any = None) -> Any:
    """`root-use --create-admin alice --no-mfa ARGS`"""
    return root_use(cli, moto, "--create-admin", "alice", "--no-mfa", *args, prompter=prompter)


def pb_run(cli: Any, moto: Any, name: str, *args: str, prompter: Any = None) -> Any:
    return cli(
        "playbook", "run", name, "--endpoint-url", moto.endpoint_url, *args, prompter=prompter
    )


def snapshot(moto: Any) -> dict[str, Any]:
    """Everything the playbooks could change in the account, read with boto3."""
    return iam_snapshot(moto.client("iam"))


EMPTY = {"groups": {}, "users": {}}


def moto_password(user: str) -> str | None:
    """The console password moto holds for ``user`` (its server runs in this process)."""
    from moto.iam.models import iam_backends

    password: str | None = iam_backends[ACCOUNT]["global"].users[user].password
    return password


def changes(doc: dict[str, Any]) -> dict[str, str]:
    return {s["id"]: s["change"] for s in doc["remediation"]["steps"]}


def error_line(err: str) -> str:
    """The one `error:` line of a failed command (a `Tip:` line may follow it)."""
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    assert err.splitlines()[-1].startswith(("error:", "Tip:")), err
    return lines[0]


def make_aws(moto: Any, *, read_only: bool = False) -> Aws:
    options = AwsOptions(region="us-east-1", endpoint_url=moto.endpoint_url)
    return Aws.from_credentials(options, CREDENTIALS, read_only=read_only)


def core_run(
    moto: Any,
    keyring: Any,
    variables: dict[str, Any],
    *,
    dry_run: bool = False,
    aws: Aws | None = None,
) -> tuple[RunReport, Aws, dict[str, int]]:
    """Detection and the root-use playbook through the core API, as the CLI wires them.

    Returns the report, the session (whose stats count every call) and the detection's calls.
    """
    aws = aws or make_aws(moto, read_only=dry_run)
    detect(aws, caller_identity(aws), days=7, report_timeout=10)
    detection = dict(aws.stats.operations)
    book = load_playbook("root-use")
    steps = instantiate(book, bind(book, {"user": "alice", **variables}))
    run = run_steps(aws, keyring, steps, playbook=book.name, dry_run=dry_run)
    assert run.report is not None
    return run.report, aws, detection


@pytest.fixture
def no_aws_session(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fail loudly if the command builds an AWS session at all (input rules come first)."""
    import remediate.aws.session

    made: list[str] = []

    class Refused:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            made.append("Aws")
            raise AssertionError("an AWS session was built before the input was checked")

        @classmethod
        def from_credentials(cls, *args: Any, **kwargs: Any) -> Any:
            return cls()

    monkeypatch.setattr(remediate.aws.session, "Aws", Refused)
    return made


# --- the four beats for the whole playbook ----------------------------------------------------


@pytest.mark.parametrize(
    ("options", "step_ids"),
    [
        ((), STEP_IDS),
        (("--access", "both"), [*STEP_IDS, "programmatic-access"]),
    ],
    ids=["console", "both"],
)
def test_four_beats(moto: Any, cli: Any, options: tuple[str, ...], step_ids: list[str]) -> None:
    # 1. A dry run shows every step as a change and writes nothing.
    r = admin(cli, moto, *options, "--dry-run", "-o", "json")
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["remediation"]["dry_run"] is True
    assert doc["remediation"]["changed"] == 0
    assert changes(doc) == dict.fromkeys(step_ids, "create")
    assert not any(s["applied"] for s in doc["remediation"]["steps"])
    assert snapshot(moto) == EMPTY

    # 2. Apply: every step applied.
    r = admin(cli, moto, *options, "--yes", "-o", "json")
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["remediation"]["dry_run"] is False
    assert doc["remediation"]["changed"] == len(step_ids)
    assert all(s["applied"] is True for s in doc["remediation"]["steps"])
    state = snapshot(moto)
    assert state["groups"] == {"Administrators": {"policies": [ADMIN_ARN], "members": ["alice"]}}
    alice = state["users"]["alice"]
    assert alice["login_profile"] is ("console-access" in step_ids)
    assert len(alice["access_keys"]) == ("programmatic-access" in step_ids)
    assert alice["mfa"] == 0

    # 3. A dry run again: nothing to change.
    r = admin(cli, moto, *options, "--dry-run", "-o", "json")
    assert r.code == 0, r.err
    assert changes(r.json()) == dict.fromkeys(step_ids, "none")

    # 4. Apply again: says so (the plan goes to stderr in JSON mode), changes nothing.
    r = admin(cli, moto, *options, "--yes", "-o", "json")
    assert r.code == 0, r.err
    assert "Nothing needs changing" in r.err
    assert "Applied" not in r.err
    assert r.json()["remediation"]["changed"] == 0
    assert not any(s["applied"] for s in r.json()["remediation"]["steps"])
    assert snapshot(moto) == state


def test_four_beats_with_mfa(moto: Any, cli: Any) -> None:
    base = ("--create-admin", "alice", "--access", "both", "--mfa-auto")
    r = root_use(cli, moto, *base, "--dry-run", "-o", "json")
    assert r.code == 0, r.err
    assert changes(r.json())["mfa"] == "create"
    assert snapshot(moto) == EMPTY
    r = root_use(cli, moto, *base, "--yes", "-o", "json")
    assert r.code == 0, r.err
    assert r.json()["remediation"]["changed"] == 7
    assert r.json()["mfa"]["enabled"] is True
    state = snapshot(moto)
    assert state["users"]["alice"]["mfa"] == 1
    r = root_use(cli, moto, *base, "--dry-run", "-o", "json")
    assert set(changes(r.json()).values()) == {"none"}
    r = root_use(cli, moto, *base, "--yes")
    assert r.code == 0, r.err
    assert "Nothing needs changing" in r.out
    assert snapshot(moto) == state


def test_root_not_in_use_still_remediates(moto: Any, cli: Any) -> None:
    moto.set_root(RootState())  # the root password was never used
    r = admin(cli, moto, "--yes", "-o", "json")
    assert r.code == 0, r.err
    assert r.json()["root_in_use"] is False
    assert r.json()["remediation"]["changed"] == 5


# --- AWS calls counted through the core API ---------------------------------------------------


def test_calls_first_run_rerun_and_dry_run(moto: Any, test_keyring: Any, sent: list[str]) -> None:
    variables = {"access": "both", "mfa": False}

    dry, dry_aws, _ = core_run(moto, test_keyring, variables, dry_run=True)
    assert dry_aws.read_only
    assert written(sent) == []
    assert len(dry.pending) == 6

    report, aws, detection = core_run(moto, test_keyring, variables)
    assert report.changed == 6
    planning = {op: n for op, n in aws.stats.operations.items() if op not in detection}
    writes = {op: n for op, n in planning.items() if not op.startswith(("iam:Get", "iam:List"))}
    reads = {op: n for op, n in planning.items() if op not in writes}
    assert writes == {
        "iam:CreateGroup": 1,
        "iam:AttachGroupPolicy": 1,
        "iam:CreateUser": 1,
        # No account password policy lets users change their own: IAMUserChangePassword first.
        "iam:AttachUserPolicy": 1,
        "iam:CreateLoginProfile": 1,
        "iam:CreateAccessKey": 1,
        "iam:AddUserToGroup": 1,
    }
    # One write per change, but the login profile's two (the policy, then the profile).
    assert aws.stats.writes == sum(p.step.writes_per_change for p in report.pending)
    assert aws.stats.writes == len(report.pending) + 1
    assert sum(reads.values()) <= len(report.steps)  # at most one read per resource
    assert aws.stats.reads + aws.stats.writes <= (
        sum(detection.values()) + len(report.steps) + len(report.pending)
    )

    rerun, rerun_aws, _ = core_run(moto, test_keyring, variables)
    assert rerun.pending == []
    assert rerun_aws.stats.writes == 0
    sent.clear()
    again, _, _ = core_run(moto, test_keyring, variables, dry_run=True)
    assert again.pending == []
    assert written(sent) == []


def test_password_reset_required_is_sent(moto: Any, test_keyring: Any) -> None:
    # moto ignores PasswordResetRequired (EMULATOR.md): check the request parameter itself.
    aws = make_aws(moto)
    sent: list[dict[str, Any]] = []
    aws._session.register(
        "before-parameter-build.iam.CreateLoginProfile",
        lambda params, **_: sent.append(dict(params)),
    )
    report, _, _ = core_run(moto, test_keyring, {"mfa": False}, aws=aws)
    assert report.changed == 5
    assert len(sent) == 1
    assert sent[0]["PasswordResetRequired"] is True
    assert sent[0]["Password"] == moto_password("alice")


def test_dry_run_session_refuses_any_write(moto: Any, sent: list[str]) -> None:
    from remediate.aws.calls import call
    from remediate.core.errors import WriteRefusedError

    aws = make_aws(moto, read_only=True)
    with pytest.raises(WriteRefusedError):
        call(aws.iam, "CreateUser", UserName="x")
    assert sent == []  # refused before it was sent
    assert snapshot(moto) == EMPTY


def test_a_step_writing_in_a_dry_run_is_stopped_by_the_session(
    moto: Any, test_keyring: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A buggy plan() that writes: the read-only session refuses, so the dry run changes nothing.
    from remediate.aws.calls import call
    from remediate.core.errors import WriteRefusedError
    from remediate.steps.group import GroupStep

    original = GroupStep.plan

    def writing_plan(self: Any, ctx: Any) -> Any:
        call(ctx.iam, "CreateGroup", GroupName="Sneaky")
        return original(self, ctx)

    monkeypatch.setattr(GroupStep, "plan", writing_plan)
    with pytest.raises(WriteRefusedError):
        core_run(moto, test_keyring, {"mfa": False}, dry_run=True)
    assert snapshot(moto) == EMPTY


# --- partial starting states ------------------------------------------------------------------


def test_group_without_the_policy(moto: Any, cli: Any) -> None:
    moto.client("iam").create_group(GroupName="Administrators")
    r = admin(cli, moto, "--yes", "-o", "json")
    assert r.code == 0, r.err
    assert changes(r.json()) == {
        "admin-group": "none",
        "admin-policy": "create",
        "admin-user": "create",
        "membership": "create",
        "console-access": "create",
    }
    assert r.json()["remediation"]["changed"] == 4
    assert snapshot(moto)["groups"]["Administrators"]["policies"] == [ADMIN_ARN]


def test_group_with_the_policy_and_the_user_in_it(moto: Any, cli: Any) -> None:
    iam = moto.client("iam")
    iam.create_group(GroupName="Ops")
    iam.attach_group_policy(GroupName="Ops", PolicyArn=ADMIN_ARN)
    iam.create_user(UserName="alice", Tags=[MANAGED])
    iam.add_user_to_group(GroupName="Ops", UserName="alice")
    r = admin(cli, moto, "--group", "Ops", "--yes", "-o", "json")
    assert r.code == 0, r.err
    assert changes(r.json()) == {
        "admin-group": "none",
        "admin-policy": "none",
        "admin-user": "none",
        "console-access": "create",
        "membership": "none",
    }
    assert snapshot(moto)["groups"] == {"Ops": {"policies": [ADMIN_ARN], "members": ["alice"]}}


def test_user_with_other_tags(moto: Any, cli: Any) -> None:
    iam = moto.client("iam")
    iam.create_user(UserName="alice", Tags=[{"Key": "CostCenter", "Value": "42"}, MANAGED])
    r = admin(cli, moto, "--tag", "Team=a", "--yes", "-o", "json")
    assert r.code == 0, r.err
    assert changes(r.json())["admin-user"] == "update"
    assert snapshot(moto)["users"]["alice"]["tags"] == {"CostCenter": "42", "Team": "a", **TAG}

    r = admin(cli, moto, "--tag", "Team=b", "--dry-run")
    assert r.code == 0, r.err
    assert "tag Team=b (was a)" in r.out
    r = admin(cli, moto, "--tag", "Team=b", "--yes", "-o", "json")
    assert r.code == 0, r.err
    assert changes(r.json()) == {
        "admin-group": "none",
        "admin-policy": "none",
        "admin-user": "update",
        "console-access": "none",
        "membership": "none",
    }
    assert snapshot(moto)["users"]["alice"]["tags"] == {"CostCenter": "42", "Team": "b", **TAG}
    # Without --tag nothing is removed.
    r = admin(cli, moto, "--yes")
    assert "Nothing needs changing" in r.out
    assert snapshot(moto)["users"]["alice"]["tags"] == {"CostCenter": "42", "Team": "b", **TAG}


def test_new_user_gets_its_tags_at_creation(moto: Any, cli: Any) -> None:
    r = admin(cli, moto, "--tag", "Team=sec", "--tag", "Owner=me@example.com", "--yes")
    assert r.code == 0, r.err
    assert snapshot(moto)["users"]["alice"]["tags"] == {
        "Team": "sec",
        "Owner": "me@example.com",
        **TAG,
    }


def test_user_with_a_login_profile_is_left_alone(moto: Any, cli: Any, test_keyring: Any) -> None:
    iam = moto.client("iam")
    iam.create_user(UserName="alice", Tags=[MANAGED])
    iam.create_login_profile(UserName="alice", Password="Seeded-Pass-123!")
    r = admin(cli, moto, "--yes", "-o", "json")
    assert r.code == 0, r.err
    assert changes(r.json())["console-access"] == "none"
    assert moto_password("alice") == "Seeded-Pass-123!"
    assert SecretStore(test_keyring).get(ACCOUNT, "alice", "password") is None
    assert r.json()["secrets"] == []


@pytest.mark.parametrize("keys", [1, 2])
def test_user_with_access_keys_gets_no_new_one(moto: Any, cli: Any, keys: int) -> None:
    iam = moto.client("iam")
    iam.create_user(UserName="alice", Tags=[MANAGED])
    for _ in range(keys):
        iam.create_access_key(UserName="alice")
    before = snapshot(moto)["users"]["alice"]["access_keys"]
    r = admin(cli, moto, "--access", "programmatic", "--yes", "-o", "json")
    assert r.code == 0, r.err
    steps = {s["id"]: s for s in r.json()["remediation"]["steps"]}
    assert steps["programmatic-access"]["change"] == "none"
    assert sorted(steps["programmatic-access"]["resource"].split(", ")) == before
    assert snapshot(moto)["users"]["alice"]["access_keys"] == before


def test_user_already_in_the_group(moto: Any, cli: Any) -> None:
    iam = moto.client("iam")
    iam.create_group(GroupName="Administrators")
    iam.create_user(UserName="alice", Tags=[MANAGED])
    iam.add_user_to_group(GroupName="Administrators", UserName="alice")
    r = admin(cli, moto, "--yes", "-o", "json")
    assert r.code == 0, r.err
    assert changes(r.json())["membership"] == "none"
    assert snapshot(moto)["groups"]["Administrators"]["members"] == ["alice"]


# --- the onboard-user playbook and the playbook commands --------------------------------------


def test_onboard_user_needs_an_existing_group(moto: Any, cli: Any) -> None:
    r = pb_run(cli, moto, "onboard-user", "--var", "user=bob", "--var", "group=devs", "--yes")
    assert r.code == 2
    assert "'devs' does not exist" in error_line(r.err)
    assert snapshot(moto) == EMPTY


def test_onboard_user_into_an_existing_group(moto: Any, cli: Any, test_keyring: Any) -> None:
    moto.client("iam").create_group(GroupName="devs")
    args = ("--var", "user=bob", "--var", "group=devs", "--tag", "Team=dev", "--yes")
    r = pb_run(cli, moto, "onboard-user", *args, "-o", "json")
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["account_id"] == ACCOUNT
    assert doc["remediation"]["playbook"] == "onboard-user"
    assert changes(doc) == {
        "group-exists": "none",
        "user": "create",
        "console-access": "create",
        "membership": "create",
    }
    state = snapshot(moto)
    assert state["groups"] == {"devs": {"policies": [], "members": ["bob"]}}
    assert state["users"]["bob"]["tags"] == {"Team": "dev", **TAG}
    assert state["users"]["bob"]["login_profile"] is True
    assert SecretStore(test_keyring).get(ACCOUNT, "bob", "password")
    r = pb_run(cli, moto, "onboard-user", *args)
    assert r.code == 0, r.err
    assert "Nothing needs changing" in r.out
    assert snapshot(moto) == state


def test_onboard_user_with_both_access_kinds(moto: Any, cli: Any) -> None:
    moto.client("iam").create_group(GroupName="devs")
    vars_ = ("--var", "user=bob", "--var", "group=devs", "--var", "access=both", "--yes")
    r = pb_run(cli, moto, "onboard-user", *vars_)
    assert r.code == 0, r.err
    bob = snapshot(moto)["users"]["bob"]
    assert bob["login_profile"] is True
    assert len(bob["access_keys"]) == 1


def test_playbook_list(cli: Any) -> None:
    r = cli("playbook", "list")
    assert r.code == 0, r.err
    names = [line.split(":", 1)[0] for line in r.out.splitlines()]
    assert "root-use" in names
    assert "onboard-user" in names
    r = cli("playbook", "list", "-o", "json")
    assert {"root-use", "onboard-user"} <= {p["name"] for p in r.json()["playbooks"]}
    assert all(p["description"] for p in r.json()["playbooks"])


def test_playbook_show(cli: Any) -> None:
    r = cli("playbook", "show", "root-use")
    assert r.code == 0, r.err
    shipped = Path(__file__).resolve().parents[2] / "playbooks" / "root-use.yaml"
    assert r.out == shipped.read_text(encoding="utf-8")
    r = cli("playbook", "show", "nope")
    assert r.code == 2
    assert "no shipped playbook named 'nope'" in error_line(r.err)


CUSTOM = """\
name: custom
description: a group and a user in it
variables:
  user: {type: string, required: true, format: iam-user-name}
steps:
  - id: group
    kind: iam-group
    with: {group: Custom}
  - id: user
    kind: iam-user
    with: {user: "${user}", tags: {Made: by-custom}}
  - id: member
    kind: group-membership
    with: {user: "${user}", group: Custom}
"""


def test_run_a_playbook_file(
    moto: Any, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "custom.yaml").write_text(CUSTOM, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    r = cli("playbook", "show", "./custom.yaml")
    assert r.out == CUSTOM
    r = pb_run(cli, moto, "./custom.yaml", "--var", "user=carol", "--yes", "-o", "json")
    assert r.code == 0, r.err
    assert r.json()["remediation"]["playbook"] == "custom"
    assert r.json()["remediation"]["changed"] == 3
    assert snapshot(moto) == {
        "groups": {"Custom": {"policies": [], "members": ["carol"]}},
        "users": {
            "carol": {
                "tags": {"Made": "by-custom", **TAG},
                "login_profile": False,
                "access_keys": [],
                "mfa": 0,
            }
        },
    }
    r = pb_run(cli, moto, "custom.yaml", "--var", "user=carol", "--yes")
    assert "Nothing needs changing" in r.out


def test_an_invalid_playbook_file_is_refused_before_aws(
    cli: Any, tmp_path: Path, no_aws_session: list[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(CUSTOM.replace("kind: iam-user", "kind: iam-usr"), encoding="utf-8")
    r = cli("playbook", "run", str(path), "--var", "user=carol", "--yes")
    assert r.code == 2
    line = error_line(r.err)
    assert str(path) in line
    assert "step 'user'" in line
    assert "field 'kind'" in line
    assert "iam-user" in line  # the valid kinds are listed
    assert no_aws_session == []


# --- confirmation -----------------------------------------------------------------------------


def test_no_terminal_and_no_yes_changes_nothing(moto: Any, cli: Any) -> None:
    r = admin(cli, moto)
    assert r.code == 2
    assert "--yes was not given: nothing was changed" in error_line(r.err)
    assert "Tip:" in r.err
    assert snapshot(moto) == EMPTY
    assert "5 changes to apply" in r.out  # the plan was shown first


def test_nothing_to_change_needs_no_confirmation(moto: Any, cli: Any) -> None:
    assert admin(cli, moto, "--yes").code == 0
    before = snapshot(moto)
    r = admin(cli, moto)  # no --yes, no terminal: fine, there is nothing to confirm
    assert r.code == 0, r.err
    assert "Nothing needs changing" in r.out
    assert "Applied" not in r.out
    assert snapshot(moto) == before


def test_playbook_run_without_yes_changes_nothing(moto: Any, cli: Any) -> None:
    moto.client("iam").create_group(GroupName="devs")
    r = pb_run(cli, moto, "onboard-user", "--var", "user=bob", "--var", "group=devs")
    assert r.code == 2
    assert r.err.startswith(
        "error: no terminal to confirm on, and --yes was not given: nothing was changed\n"
    )
    assert snapshot(moto)["users"] == {}


# --- input rules: exit 2, one line, no AWS call ----------------------------------------------


def tags(n: int) -> list[str]:
    return [arg for i in range(n) for arg in ("--tag", f"k{i}=v")]


ROOT_USE_RULES = {
    "empty-user": (["--create-admin", ""], "invalid IAM user name ''"),
    "long-user": (["--create-admin", "a" * 65], "invalid IAM user name 'aaaa"),
    "space-user": (["--create-admin", "a b"], "invalid IAM user name 'a b'"),
    "slash-user": (["--create-admin", "a/b"], "invalid IAM user name 'a/b'"),
    "unicode-user": (["--create-admin", "ä"], "invalid IAM user name 'ä'"),
    "long-group": (["--create-admin", "alice", "--group", "g" * 129], "invalid IAM group name"),
    "bad-group": (["--create-admin", "alice", "--group", "adm!ns"], "'adm!ns'"),
    "slash-group": (["--create-admin", "alice", "--group", "a/b"], "'a/b'"),
    "tag-no-equals": (["--create-admin", "alice", "--tag", "noequals"], "'noequals'"),
    "tag-empty-key": (["--create-admin", "alice", "--tag", "=v"], "the key before '=' is empty"),
    "tag-aws": (["--create-admin", "alice", "--tag", "aws:x=1"], "aws: prefix is reserved"),
    "tag-AWS": (["--create-admin", "alice", "--tag", "AWS:x=1"], "aws: prefix is reserved"),
    "tag-long-key": (["--create-admin", "alice", "--tag", "k" * 129 + "=v"], "invalid tag key"),
    "tag-long-value": (
        ["--create-admin", "alice", "--tag", "k=" + "v" * 257],
        "invalid value for tag 'k'",
    ),
    "tag-51": (["--create-admin", "alice", *tags(51)], "too many tags: 51"),
    "tag-lt-key": (["--create-admin", "alice", "--tag", "a<b=1"], "invalid tag key 'a<b'"),
    "tag-lt-value": (["--create-admin", "alice", "--tag", "k=<v>"], "invalid value for tag"),
    # Whitespace to Python, but not in IAM's tag pattern (letters, numbers, separators).
    "tag-tab-value": (["--create-admin", "alice", "--tag", "k=a\tb"], "invalid value for tag"),
    "tag-newline-key": (["--create-admin", "alice", "--tag", "a\nb=1"], "invalid tag key"),
    "no-create-admin-tag": (["--tag", "Team=a"], "remediation options need --create-admin"),
    "no-create-admin-dry": (["--dry-run"], "remediation options need --create-admin"),
    "no-create-admin-yes": (["--yes"], "remediation options need --create-admin"),
    "no-create-admin-stdin": (["--password-stdin"], "remediation options need --create-admin"),
    "bad-access": (["--create-admin", "alice", "--access", "root"], "'root'"),
}


@pytest.mark.parametrize(
    ("args", "expected"), list(ROOT_USE_RULES.values()), ids=list(ROOT_USE_RULES)
)
def test_root_use_input_rules(
    cli: Any, no_aws_session: list[str], args: list[str], expected: str
) -> None:
    r = cli("root-use", "--endpoint-url", "http://127.0.0.1:9", "--yes", *args)
    assert r.code == 2, r.err
    assert expected in error_line(r.err)
    assert r.out == ""
    assert no_aws_session == []


@pytest.mark.parametrize(
    "args",
    [["--show-secrets"], ["--no-mfa"], ["--access", "both"], ["--group", "Ops"]],
    ids=["show-secrets", "no-mfa", "access", "group"],
)
def test_other_remediation_options_need_create_admin(
    cli: Any, no_aws_session: list[str], args: list[str]
) -> None:
    r = cli("root-use", "--endpoint-url", "http://127.0.0.1:9", *args)
    assert r.code == 2, r.err
    assert "need --create-admin" in error_line(r.err)


def test_the_limits_themselves_are_accepted(moto: Any, cli: Any) -> None:
    user = "u" * 64
    group = "g" * 128
    r = root_use(
        cli,
        moto,
        "--create-admin",
        user,
        "--group",
        group,
        "--no-mfa",
        "--tag",
        "k" * 128 + "=" + "v" * 256,
        # 49 tags: IAM allows 50 on a user, and remediate adds its own.
        *tags(47),
        "--tag",
        "Name=a b_c.d:e/f=g+h-i@j ü\u00a0²",
        "--dry-run",
    )
    assert r.code == 0, r.err
    r = root_use(cli, moto, "--create-admin", "a+b=c,d.e@f_g-h", "--no-mfa", "--yes")
    assert r.code == 0, r.err
    assert "a+b=c,d.e@f_g-h" in snapshot(moto)["users"]


PLAYBOOK_RULES = {
    "var-no-equals": (
        ["onboard-user", "--var", "user"],
        "invalid --var 'user': expected KEY=VALUE",
    ),
    "var-unknown": (
        ["onboard-user", "--var", "user=bob", "--var", "group=g", "--var", "colour=red"],
        "unknown variable colour",
    ),
    "var-twice": (["onboard-user", "--var", "user=a", "--var", "user=b"], "given twice"),
    "var-missing": (["onboard-user", "--var", "user=bob"], "variable 'group' is required"),
    "var-bad-user": (["onboard-user", "--var", "user=a b", "--var", "group=g"], "'a b'"),
    "var-bad-access": (
        ["onboard-user", "--var", "user=bob", "--var", "group=g", "--var", "access=all"],
        "'all' is not one of console, programmatic, both",
    ),
    "var-bad-bool": (
        ["onboard-user", "--var", "user=bob", "--var", "group=g", "--var", "mfa=maybe"],
        "expected true or false",
    ),
    "tag-and-var": (
        [
            "onboard-user",
            "--var",
            "user=b",
            "--var",
            "group=g",
            "--var",
            "tags=a=1",
            "--tag",
            "b=2",
        ],
        "not both",
    ),
    "bad-tag": (
        ["onboard-user", "--var", "user=b", "--var", "group=g", "--tag", "aws:a=1"],
        "aws:",
    ),
    "missing-file": (["./no-such.yaml"], "cannot read playbook ./no-such.yaml"),
    "directory": (["/"], "cannot read playbook /"),
    "unknown-name": (["no-such-book"], "no shipped playbook named 'no-such-book'"),
}


@pytest.mark.parametrize(
    ("args", "expected"), list(PLAYBOOK_RULES.values()), ids=list(PLAYBOOK_RULES)
)
def test_playbook_input_rules(
    cli: Any, no_aws_session: list[str], args: list[str], expected: str
) -> None:
    r = cli("playbook", "run", *args, "--yes", "--endpoint-url", "http://127.0.0.1:9")
    assert r.code == 2, r.err
    assert expected in error_line(r.err)
    assert no_aws_session == []


PASSWORD_RULES = {
    "prompt-and-stdin": (
        ["--password-prompt", "--password-stdin"],
        "give only one of --password-prompt and --password-stdin",
    ),
    "programmatic-stdin": (
        ["--access", "programmatic", "--password-stdin"],
        "a password option needs console access",
    ),
    "short": (["--password-stdin"], "Password rejected by the AWS default password policy"),
    "prompt-no-terminal": (["--password-prompt"], "--password-prompt needs a terminal"),
}


@pytest.mark.parametrize(
    ("args", "expected"), list(PASSWORD_RULES.values()), ids=list(PASSWORD_RULES)
)
def test_password_rules_change_nothing(
    moto: Any, cli: Any, monkeypatch: pytest.MonkeyPatch, args: list[str], expected: str
) -> None:
    r = admin(cli, moto, "--yes", *args, prompter=nobody("short\n"))
    assert r.code == 2, r.err
    assert expected in error_line(r.err)
    assert "short" not in r.out + r.err.replace("--password-stdin", "")
    assert snapshot(moto) == EMPTY


def test_password_checked_against_the_account_policy(
    moto: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto.client("iam").update_account_password_policy(
        MinimumPasswordLength=20, RequireSymbols=True, RequireNumbers=True
    )
    password = "Abcdefgh1!xy"  # fine for AWS's default policy, too short for this one
    r = admin(cli, moto, "--yes", "--password-stdin", prompter=nobody(password + "\n"))
    assert r.code == 2, r.err
    line = error_line(r.err)
    assert "the account password policy: at least 20 characters (has 12)" in line
    assert password not in r.out + r.err
    assert snapshot(moto) == EMPTY


def test_password_stdin_on_a_terminal_is_refused(moto: Any, cli: Any) -> None:
    # A person at the terminal would type the password with echo on: --password-prompt is for that.
    at_terminal = Scripted(stdin="Given-Passw0rd!xyz\n", stdin_is_terminal=True)
    r = admin(cli, moto, "--yes", "--password-stdin", prompter=at_terminal)
    assert r.code == 2, r.err
    assert "standard input is a terminal" in error_line(r.err)
    assert "--password-prompt" in r.err
    assert at_terminal.asked == []
    assert snapshot(moto) == EMPTY


def test_terminal_prompter_tells_a_terminal_from_a_pipe(tmp_path: Path) -> None:
    import os

    from remediate.core.prompt import TerminalPrompter

    master, slave = os.openpty()
    with open(slave, encoding="utf-8") as terminal, open(tmp_path / "in", "w+") as piped:
        assert TerminalPrompter(stdin=terminal).stdin_is_terminal
        assert not TerminalPrompter(stdin=piped).stdin_is_terminal
    os.close(master)


def test_empty_password_stdin(moto: Any, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    r = admin(cli, moto, "--yes", "--password-stdin", prompter=nobody(""))
    assert r.code == 2
    assert "standard input held no password" in error_line(r.err)
    assert snapshot(moto) == EMPTY


# --- passwords and secrets --------------------------------------------------------------------


def test_password_stdin_sets_that_password(
    moto: Any, cli: Any, monkeypatch: pytest.MonkeyPatch, test_keyring: Any
) -> None:
    password = "Given-Passw0rd!xyz"
    r = admin(
        cli, moto, "--yes", "--password-stdin", "-o", "json", prompter=nobody(password + "\r\n")
    )
    assert r.code == 0, r.err
    assert moto_password("alice") == password
    assert password not in r.out
    assert password not in r.err
    # A password the user chose is theirs: it is not kept in the keyring.
    assert SecretStore(test_keyring).get(ACCOUNT, "alice", "password") is None
    assert r.json()["secrets"] == []
    assert r.json()["console_sign_in_url"] == f"https://{ACCOUNT}.signin.aws.amazon.com/console"


def generated(keyring: Any) -> tuple[str, str, str]:
    """The generated password, access key id and secret access key, from the keyring."""
    store = SecretStore(keyring)
    password = store.get(ACCOUNT, "alice", "password")
    raw = store.get(ACCOUNT, "alice", "access-key")
    assert password is not None
    assert raw is not None
    key = json.loads(raw)
    assert set(key) == {"AccessKeyId", "SecretAccessKey"}
    return password, key["AccessKeyId"], key["SecretAccessKey"]


@pytest.mark.parametrize("output", ["text", "json"])
def test_secrets_go_to_the_keyring_only(
    moto: Any, cli: Any, test_keyring: Any, output: str
) -> None:
    r = admin(cli, moto, "--access", "both", "--yes", "-o", output)
    assert r.code == 0, r.err
    password, key_id, secret = generated(test_keyring)
    assert moto_password("alice") == password
    assert snapshot(moto)["users"]["alice"]["access_keys"] == [key_id]
    for value in (password, secret):
        assert value not in r.out
        assert value not in r.err
    assert "stored in" in (r.out if output == "text" else r.err)
    assert "remediate secrets show" in (r.out if output == "text" else r.err)
    entries = SecretStore(test_keyring).entries()
    # The secrets, and remediate's notes on them (no secret: the sign-in URL, what was shown).
    assert entries == [
        (ACCOUNT, "alice", "access-key"),
        (ACCOUNT, "alice", "handover"),
        (ACCOUNT, "alice", "password"),
    ]
    assert SecretStore(test_keyring).shown(ACCOUNT, "alice") == set()


def test_show_secrets_prints_each_once(moto: Any, cli: Any, test_keyring: Any) -> None:
    r = admin(cli, moto, "--access", "both", "--yes", "--show-secrets")
    assert r.code == 0, r.err
    password, _, secret = generated(test_keyring)
    assert (r.out + r.err).count(password) == 1
    assert (r.out + r.err).count(secret) == 1
    # A rerun shows nothing: the secrets are not read back out of the keyring.
    r = admin(cli, moto, "--access", "both", "--yes", "--show-secrets")
    assert password not in r.out + r.err
    assert secret not in r.out + r.err


def test_show_secrets_in_json(moto: Any, cli: Any, test_keyring: Any) -> None:
    r = admin(cli, moto, "--access", "both", "--yes", "--show-secrets", "-o", "json")
    assert r.code == 0, r.err
    password, key_id, secret = generated(test_keyring)
    values = {s["kind"]: s["value"] for s in r.json()["secrets"]}
    assert values["password"] == password
    # An access key is an object in JSON, never a JSON string inside it.
    assert values["access-key"] == {"AccessKeyId": key_id, "SecretAccessKey": secret}
    assert r.out.count(password) == 1
    assert r.out.count(secret) == 1


def test_no_keyring_stops_before_any_change(moto: Any, cli: Any) -> None:
    import keyring
    import keyring.backends.fail

    keyring.set_keyring(keyring.backends.fail.Keyring())
    r = admin(cli, moto, "--access", "both", "--yes")
    assert r.code == 2
    assert "Cannot store secrets" in error_line(r.err)
    assert "Tip:" in r.err
    assert "--show-secrets" in r.err
    assert snapshot(moto) == EMPTY


def test_no_keyring_with_show_secrets_proceeds(moto: Any, cli: Any) -> None:
    import keyring
    import keyring.backends.fail

    keyring.set_keyring(keyring.backends.fail.Keyring())
    r = admin(cli, moto, "--yes", "--show-secrets", "-o", "json")
    assert r.code == 0, r.err
    secrets = r.json()["secrets"]
    assert [(s["kind"], s["stored_in"]) for s in secrets] == [("password", None)]
    assert secrets[0]["value"] == moto_password("alice")


def test_no_keyring_is_fine_when_no_secret_is_made(
    moto: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring
    import keyring.backends.fail

    keyring.set_keyring(keyring.backends.fail.Keyring())
    r = admin(cli, moto, "--yes", "--password-stdin", prompter=nobody("Given-Passw0rd!xyz\n"))
    assert r.code == 0, r.err


def test_show_secrets_in_json_prints_each_once_overall(
    moto: Any, cli: Any, test_keyring: Any
) -> None:
    r = admin(cli, moto, "--yes", "--show-secrets", "-o", "json")
    assert r.code == 0, r.err
    password = SecretStore(test_keyring).get(ACCOUNT, "alice", "password")
    assert password
    assert (r.out + r.err).count(password) == 1


# --- the JSON document -----------------------------------------------------------------------


def test_json_shape(moto: Any, cli: Any, test_keyring: Any) -> None:
    r = admin(cli, moto, "--access", "both", "--yes", "-o", "json")
    assert r.code == 0, r.err
    doc = r.json()
    for key in ("account_id", "root_in_use", "evidence", "window_days", "sandbox"):
        assert key in doc
    assert doc["account_id"] == ACCOUNT
    assert doc["root_in_use"] is True
    remediation = doc["remediation"]
    assert set(remediation) >= {"playbook", "dry_run", "changed", "steps"}
    assert remediation["playbook"] == "root-use"
    assert remediation["changed"] == 6
    for step in remediation["steps"]:
        assert set(step) >= {"id", "kind", "resource", "change", "applied"}
        assert step["change"] in ("create", "update", "none")
        assert isinstance(step["applied"], bool)
        assert isinstance(step["resource"], str)
        assert step["resource"]
    by_id = {s["id"]: s for s in remediation["steps"]}
    assert by_id["admin-group"]["resource"] == "Administrators"
    assert by_id["admin-policy"]["resource"] == ADMIN_ARN
    assert by_id["admin-user"]["kind"] == "iam-user"
    key_id = snapshot(moto)["users"]["alice"]["access_keys"][0]
    assert by_id["programmatic-access"]["resource"] == key_id
    keyring = SecretStore(test_keyring).description()
    assert doc["secrets"] == [
        {"user": "alice", "kind": "password", "stored_in": keyring},
        {"user": "alice", "kind": "access-key", "stored_in": keyring},
    ]
    assert doc["console_sign_in_url"] == f"https://{ACCOUNT}.signin.aws.amazon.com/console"
    assert "error" not in remediation


# --- a failing step ---------------------------------------------------------------------------


def test_a_failing_step_names_itself_and_a_rerun_continues(moto: Any, cli: Any) -> None:
    missing = "arn:aws:iam::aws:policy/DoesNotExist"
    base = ("--var", "user=alice", "--var", "mfa=false", "--yes")
    r = pb_run(cli, moto, "root-use", *base, "--var", f"policy={missing}", "-o", "json")
    assert r.code == 3
    line = error_line(r.err)
    assert "step 'admin-policy' (group-managed-policy) failed" in line
    assert "NoSuchEntity" in line
    assert "already applied: admin-group" in line
    assert "rerun" in r.err
    doc = r.json()
    assert doc["remediation"]["changed"] == 1
    assert [s["applied"] for s in doc["remediation"]["steps"]] == [True] + [False] * 4
    assert "admin-policy" in doc["remediation"]["error"]
    assert snapshot(moto) == {
        "groups": {"Administrators": {"policies": [], "members": []}},
        "users": {},
    }

    r = pb_run(cli, moto, "root-use", *base, "-o", "json")
    assert r.code == 0, r.err
    assert changes(r.json()) == {"admin-group": "none"} | dict.fromkeys(STEP_IDS[1:], "create")
    assert snapshot(moto)["groups"] == {
        "Administrators": {"policies": [ADMIN_ARN], "members": ["alice"]}
    }
    assert list(snapshot(moto)["users"]) == ["alice"]


def test_a_failure_in_text_mode_reports_what_was_applied(moto: Any, cli: Any) -> None:
    missing = "arn:aws:iam::aws:policy/DoesNotExist"
    r = pb_run(
        cli,
        moto,
        "root-use",
        "--var",
        "user=alice",
        "--var",
        "mfa=false",
        "--var",
        f"policy={missing}",
        "--yes",
    )
    assert r.code == 3
    assert "Applied 1 of 5 changes." in r.out


def test_step_failed_error_carries_the_report(moto: Any, test_keyring: Any) -> None:
    with pytest.raises(StepFailedError) as info:
        core_run(
            moto, test_keyring, {"mfa": False, "policy": "arn:aws:iam::aws:policy/DoesNotExist"}
        )
    report = info.value.report
    assert isinstance(report, RunReport)
    assert [p.applied for p in report.steps] == [True, False, False, False, False]
    assert info.value.exit_code == 3


# --- sandbox ----------------------------------------------------------------------------------


def test_sandbox_end_to_end(moto: Any, cli: Any) -> None:
    # The sandbox's emulator shares moto's in-process state with the test server; the moto
    # fixture wipes it afterwards.
    r = cli("root-use", "--sandbox", "--create-admin", "alice", "--yes", "--no-mfa")
    assert r.code == 0, r.err
    assert "SANDBOX" in r.err
    assert "ROOT IN USE" in r.out
    assert "Applied 5 of 5 changes." in r.out
    assert "alice's password: stored in the sandbox's in-memory keyring as password" in r.out
    # That the keyring ends with the command is said once (issue 13), after the secrets.
    assert (r.out + r.err).count("ends with this command") == 2  # the emulator, the keyring
    assert "The sandbox's keyring ends with this command: --show-secrets prints them." in r.out
    # --create-admin is the next step, taken: not suggested.
    assert "Next step" not in r.out


def test_sandbox_refuses_an_endpoint(cli: Any) -> None:
    r = cli("root-use", "--sandbox", "--endpoint-url", "http://x", "--create-admin", "a", "--yes")
    assert r.code == 2
    assert "--sandbox cannot be combined" in error_line(r.err)
