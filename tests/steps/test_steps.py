"""Each step kind alone, through the runner, against moto: the four beats, races, pure helpers.

The four beats (as Ansible tests idempotency): a dry run shows a change and writes nothing;
applying changes; a dry run again shows none; applying again writes nothing.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from rich.console import Console

from remediate.aws.options import AwsOptions
from remediate.aws.session import Aws
from remediate.core.errors import InputError, StepFailedError, WriteRefusedError
from remediate.credentials.store import SecretStore
from remediate.playbook import runner
from remediate.playbook.binding import bind, instantiate
from remediate.playbook.loading import load_text
from remediate.playbook.runner import RunReport
from remediate.steps.base import RunOptions, RunOutcome, StepContext
from remediate.steps.iam import console_sign_in_url, managed_policy_arn, tag_changes
from support.prompters import nobody
from support.runs import run_steps as engine_run
from support.wire import writes

ACCOUNT = "123456789012"
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
CREDENTIALS = {"AccessKeyId": "AKIATESTEXAMPLE00000", "SecretAccessKey": "testing-secret"}


def make_aws(moto: Any, *, read_only: bool = False) -> Aws:
    options = AwsOptions(region="us-east-1", endpoint_url=moto.endpoint_url)
    return Aws.from_credentials(options, CREDENTIALS, read_only=read_only)


@dataclass
class Run:
    report: RunReport
    aws: Aws
    outcome: RunOutcome

    @property
    def changes(self) -> list[str]:
        return [p.change.change for p in self.report.steps]


def run_steps(
    moto: Any,
    keyring: Any,
    text: str,
    values: dict[str, Any] | None = None,
    *,
    dry_run: bool,
    options: RunOptions | None = None,
) -> Run:
    """Load ``text`` as a playbook and run it through the engine (plan, confirm yes, apply)."""
    book = load_text(text, "steps.yaml")
    steps = instantiate(book, bind(book, values or {}))
    aws = make_aws(moto, read_only=dry_run)
    run = engine_run(aws, keyring, steps, playbook=book.name, dry_run=dry_run, options=options)
    assert run.report is not None
    return Run(run.report, aws, run.outcome)


def one_step(kind: str, params: str) -> str:
    return f"name: one\nsteps:\n  - id: it\n    kind: {kind}\n    with: {params}\n"


# --- what each kind needs first, and how to see that it is done -------------------------------


def seed_user(iam: Any) -> None:
    iam.create_user(UserName="alice")


def seed_group(iam: Any) -> None:
    iam.create_group(GroupName="Admins")


def seed_both(iam: Any) -> None:
    seed_user(iam)
    seed_group(iam)


def group_exists(iam: Any) -> bool:
    return any(g["GroupName"] == "Admins" for g in iam.list_groups()["Groups"])


def policy_attached(iam: Any) -> bool:
    policies = iam.list_attached_group_policies(GroupName="Admins")["AttachedPolicies"]
    return [p["PolicyArn"] for p in policies] == [ADMIN_ARN]


MANAGED = {"Key": "remediate:managed-by", "Value": "remediate"}


def user_tagged(iam: Any) -> bool:
    users = [u["UserName"] for u in iam.list_users()["Users"]]
    if users != ["alice"]:
        return False
    tags = sorted(iam.list_user_tags(UserName="alice")["Tags"], key=lambda t: t["Key"])
    # Its own tags, and the tag that says remediate created it.
    return tags == [{"Key": "Team", "Value": "sec"}, MANAGED]


def member(iam: Any) -> bool:
    groups = iam.list_groups_for_user(UserName="alice")["Groups"]
    return [g["GroupName"] for g in groups] == ["Admins"]


def has_login_profile(iam: Any) -> bool:
    try:
        iam.get_login_profile(UserName="alice")
    except iam.exceptions.NoSuchEntityException:
        return False
    return True


CHANGE_PASSWORD_ARN = "arn:aws:iam::aws:policy/IAMUserChangePassword"


def change_password_attached(iam: Any) -> bool:
    attached = iam.list_attached_user_policies(UserName="alice")["AttachedPolicies"]
    return [p["PolicyArn"] for p in attached] == [CHANGE_PASSWORD_ARN]


def console_access(iam: Any) -> bool:
    # No account password policy: users may not change their own password, so the step gives
    # alice IAMUserChangePassword for the reset it requires.
    return has_login_profile(iam) and change_password_attached(iam)


def one_access_key(iam: Any) -> bool:
    return len(iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]) == 1


def mfa_enabled(iam: Any) -> bool:
    return len(iam.list_mfa_devices(UserName="alice")["MFADevices"]) == 1


@dataclass(frozen=True)
class Case:
    kind: str
    params: str
    seed: Callable[[Any], None] | None
    done: Callable[[Any], bool]
    writes: int  # write calls the apply makes
    secrets: tuple[str, ...] = ()


CASES = [
    Case("iam-group", "{group: Admins}", None, group_exists, 1),
    Case(
        "group-managed-policy",
        "{group: Admins, policy: AdministratorAccess}",
        seed_group,
        policy_attached,
        1,
    ),
    Case("iam-user", "{user: alice, tags: {Team: sec}}", None, user_tagged, 1),
    Case("group-membership", "{user: alice, group: Admins}", seed_both, member, 1),
    # IAMUserChangePassword attached, then the login profile created: two calls.
    Case("login-profile", "{user: alice}", seed_user, console_access, 2, ("password",)),
    Case("access-key", "{user: alice}", seed_user, one_access_key, 1, ("access-key",)),
    # Creating a virtual MFA device and enabling it are two calls.
    Case("virtual-mfa", "{user: alice}", seed_user, mfa_enabled, 2, ("mfa-seed",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_four_beats_per_step(moto: Any, test_keyring: Any, case: Case, sent: list[str]) -> None:
    iam = moto.client("iam")
    if case.seed:
        case.seed(iam)
    text = one_step(case.kind, case.params)

    # 1. A dry run shows the change and writes nothing (the session refuses writes anyway).
    sent.clear()
    first = run_steps(moto, test_keyring, text, dry_run=True)
    assert first.changes == ["create"]
    assert first.report.changed == 0
    assert writes(sent) == []
    assert not case.done(iam)

    # 2. Apply: one step applied, with exactly the writes it needs.
    applied = run_steps(moto, test_keyring, text, dry_run=False)
    assert applied.changes == ["create"]
    assert applied.report.changed == 1
    assert applied.report.steps[0].applied is True
    assert applied.aws.stats.writes == case.writes
    assert case.done(iam)
    assert [s.kind for s in applied.outcome.secrets] == list(case.secrets)
    store = SecretStore(test_keyring)
    for kind in case.secrets:
        assert store.get(ACCOUNT, "alice", kind)

    # 3. A dry run again shows nothing to change.
    sent.clear()
    again = run_steps(moto, test_keyring, text, dry_run=True)
    assert again.changes == ["none"]
    assert writes(sent) == []

    # 4. Apply again: no write at all, nothing applied, no new secret.
    rerun = run_steps(moto, test_keyring, text, dry_run=False)
    assert rerun.changes == ["none"]
    assert rerun.report.changed == 0
    assert rerun.report.pending == []
    assert rerun.aws.stats.writes == 0
    assert rerun.outcome.secrets == []
    assert case.done(iam)


def test_steps_read_at_most_once_per_resource(moto: Any, test_keyring: Any) -> None:
    seed_both(moto.client("iam"))
    text = one_step("group-membership", "{user: alice, group: Admins}")
    run = run_steps(moto, test_keyring, text, dry_run=True)
    assert dict(run.aws.stats.operations) == {"iam:ListGroupsForUser": 1}


# --- states a step must respect ---------------------------------------------------------------


def test_existing_group_is_required_when_asked(moto: Any, test_keyring: Any) -> None:
    text = one_step("iam-group", "{group: Admins, existing: true}")
    with pytest.raises(InputError, match=r"IAM group 'Admins' does not exist in account") as info:
        run_steps(moto, test_keyring, text, dry_run=False)
    assert info.value.tip
    assert not group_exists(moto.client("iam"))
    seed_group(moto.client("iam"))
    assert run_steps(moto, test_keyring, text, dry_run=False).changes == ["none"]


def test_user_tags_are_added_and_updated_never_removed(moto: Any, test_keyring: Any) -> None:
    iam = moto.client("iam")
    iam.create_user(
        UserName="alice",
        Tags=[{"Key": "Keep", "Value": "1"}, {"Key": "Team", "Value": "a"}, MANAGED],
    )
    text = one_step("iam-user", "{user: alice, tags: {Team: b, New: x}}")
    dry = run_steps(moto, test_keyring, text, dry_run=True)
    assert dry.changes == ["update"]
    assert dry.report.steps[0].change.details == ["tag New=x", "tag Team=b (was a)"]
    assert dry.report.steps[0].change.resource == f"arn:aws:iam::{ACCOUNT}:user/alice"
    run = run_steps(moto, test_keyring, text, dry_run=False)
    assert dict(run.aws.stats.operations) == {"iam:GetUser": 1, "iam:TagUser": 1}
    tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName="alice")["Tags"]}
    assert tags == {"Keep": "1", "Team": "b", "New": "x", "remediate:managed-by": "remediate"}
    assert run_steps(moto, test_keyring, text, dry_run=False).changes == ["none"]


def test_user_without_tags_wanted_is_left_alone(moto: Any, test_keyring: Any) -> None:
    iam = moto.client("iam")
    iam.create_user(UserName="alice", Tags=[{"Key": "Keep", "Value": "1"}, MANAGED])
    run = run_steps(moto, test_keyring, one_step("iam-user", "{user: alice}"), dry_run=False)
    assert run.changes == ["none"]
    assert run.aws.stats.writes == 0


def test_policy_attachment_uses_the_given_arn(moto: Any, test_keyring: Any) -> None:
    seed_group(moto.client("iam"))
    arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    run = run_steps(
        moto,
        test_keyring,
        one_step("group-managed-policy", f"{{group: Admins, policy: {arn}}}"),
        dry_run=False,
    )
    assert run.report.steps[0].change.resource == arn
    attached = moto.client("iam").list_attached_group_policies(GroupName="Admins")
    assert [p["PolicyArn"] for p in attached["AttachedPolicies"]] == [arn]


def test_another_attached_policy_does_not_count(moto: Any, test_keyring: Any) -> None:
    iam = moto.client("iam")
    seed_group(iam)
    iam.attach_group_policy(GroupName="Admins", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    text = one_step("group-managed-policy", "{group: Admins, policy: AdministratorAccess}")
    assert run_steps(moto, test_keyring, text, dry_run=True).changes == ["create"]


@pytest.mark.parametrize("keys", [1, 2])
def test_a_user_with_access_keys_gets_no_new_one(moto: Any, test_keyring: Any, keys: int) -> None:
    iam = moto.client("iam")
    seed_user(iam)
    ids = [iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"] for _ in range(keys)]
    run = run_steps(moto, test_keyring, one_step("access-key", "{user: alice}"), dry_run=False)
    assert run.changes == ["none"]
    assert run.aws.stats.writes == 0
    assert set(run.report.steps[0].change.resource.split(", ")) == set(ids)
    assert len(iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]) == keys
    assert SecretStore(test_keyring).get(ACCOUNT, "alice", "access-key") is None


def test_an_inactive_access_key_still_counts(moto: Any, test_keyring: Any) -> None:
    iam = moto.client("iam")
    seed_user(iam)
    key = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName="alice", AccessKeyId=key, Status="Inactive")
    run = run_steps(moto, test_keyring, one_step("access-key", "{user: alice}"), dry_run=False)
    assert run.changes == ["none"]


def test_an_existing_login_profile_is_never_reset(moto: Any, test_keyring: Any) -> None:
    from moto.iam.models import iam_backends

    iam = moto.client("iam")
    seed_user(iam)
    iam.create_login_profile(UserName="alice", Password="Before-1234!", PasswordResetRequired=False)
    options = RunOptions(password="Another-Pass-5678!")
    run = run_steps(
        moto,
        test_keyring,
        one_step("login-profile", "{user: alice}"),
        dry_run=False,
        options=options,
    )
    assert run.changes == ["none"]
    assert run.report.steps[0].change.details == ["existing login profile left alone"]
    assert run.aws.stats.writes == 0
    assert "iam:GetAccountPasswordPolicy" not in run.aws.stats.operations
    assert iam_backends[ACCOUNT]["global"].users["alice"].password == "Before-1234!"


def test_login_profile_password_meets_a_strict_account_policy(moto: Any, test_keyring: Any) -> None:
    iam = moto.client("iam")
    seed_user(iam)
    iam.update_account_password_policy(
        MinimumPasswordLength=40,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
    )
    run = run_steps(moto, test_keyring, one_step("login-profile", "{user: alice}"), dry_run=False)
    assert "generated to the account password policy" in run.report.steps[0].change.details[-1]
    password = SecretStore(test_keyring).get(ACCOUNT, "alice", "password")
    assert password is not None
    assert len(password) >= 40
    assert any(c.isupper() for c in password)
    assert any(c.islower() for c in password)
    assert any(c.isdigit() for c in password)
    assert any(not c.isalnum() for c in password)


def test_a_given_password_is_checked_in_the_plan(moto: Any, test_keyring: Any) -> None:
    seed_user(moto.client("iam"))
    options = RunOptions(password="short")
    with pytest.raises(InputError, match="Password rejected") as info:
        run_steps(
            moto,
            test_keyring,
            one_step("login-profile", "{user: alice}"),
            dry_run=False,
            options=options,
        )
    assert "short" not in info.value.message
    assert not has_login_profile(moto.client("iam"))


def test_password_reset_is_required_at_first_sign_in(moto: Any, test_keyring: Any) -> None:
    # moto ignores PasswordResetRequired (see EMULATOR.md): check the request itself.
    seed_user(moto.client("iam"))
    book = load_text(one_step("login-profile", "{user: alice}"), "steps.yaml")
    steps = instantiate(book, bind(book, {}))
    aws = make_aws(moto)
    sent: list[dict[str, Any]] = []
    aws._session.register(
        "before-parameter-build.iam.CreateLoginProfile",
        lambda params, **_: sent.append(dict(params)),
    )
    ctx = StepContext(
        aws,
        ACCOUNT,
        aws.partition,
        SecretStore(test_keyring),
        RunOptions(),
        Console(file=io.StringIO()),
        nobody(),
    )
    runner.apply(runner.plan(steps, ctx, "one", dry_run=False), ctx)
    assert len(sent) == 1
    assert sent[0]["PasswordResetRequired"] is True
    assert sent[0]["UserName"] == "alice"
    assert sent[0]["Password"] == SecretStore(test_keyring).get(ACCOUNT, "alice", "password")
    assert ctx.outcome.console_sign_in_url == f"https://{ACCOUNT}.signin.aws.amazon.com/console"


# --- plans made for steps earlier in the same run --------------------------------------------


def test_later_steps_skip_reads_of_resources_planned_for_creation(
    moto: Any, test_keyring: Any
) -> None:
    text = """\
name: chain
steps:
  - {id: g, kind: iam-group, with: {group: Admins}}
  - {id: p, kind: group-managed-policy, with: {group: Admins, policy: AdministratorAccess}}
  - {id: u, kind: iam-user, with: {user: alice}}
  - {id: m, kind: group-membership, with: {user: alice, group: Admins}}
  - {id: l, kind: login-profile, with: {user: alice}}
  - {id: k, kind: access-key, with: {user: alice}}
"""
    dry = run_steps(moto, test_keyring, text, dry_run=True)
    assert dry.changes == ["create"] * 6
    # One read per resource that may exist; nothing is read about what this run will create.
    assert dict(dry.aws.stats.operations) == {
        "iam:GetGroup": 1,
        "iam:GetUser": 1,
        "iam:GetAccountPasswordPolicy": 1,
    }


# --- races: something created between plan and apply -----------------------------------------


def plan_only(moto: Any, keyring: Any, text: str) -> tuple[RunReport, StepContext]:
    book = load_text(text, "steps.yaml")
    aws = make_aws(moto)
    ctx = StepContext(
        aws,
        ACCOUNT,
        aws.partition,
        SecretStore(keyring),
        RunOptions(),
        Console(file=io.StringIO()),
        nobody(),
    )
    return runner.plan(instantiate(book, bind(book, {})), ctx, "one", dry_run=False), ctx


def test_a_group_created_concurrently_is_not_an_error(moto: Any, test_keyring: Any) -> None:
    report, ctx = plan_only(moto, test_keyring, one_step("iam-group", "{group: Admins}"))
    seed_group(moto.client("iam"))
    runner.apply(report, ctx)
    # Nothing was changed by this run after all: reported as such, and not journaled.
    assert report.changed == 0
    assert report.steps[0].change.change == "none"
    assert "existed already" in report.steps[0].change.details[-1]
    assert group_exists(moto.client("iam"))


def test_a_user_created_concurrently_still_gets_its_tags(moto: Any, test_keyring: Any) -> None:
    # By a concurrent remediate run (or this run's own request, resent after a lost answer):
    # the user carries remediate's tag.
    report, ctx = plan_only(
        moto, test_keyring, one_step("iam-user", "{user: alice, tags: {Team: sec}}")
    )
    moto.client("iam").create_user(UserName="alice", Tags=[MANAGED])
    runner.apply(report, ctx)
    assert user_tagged(moto.client("iam"))


def test_a_user_someone_else_created_concurrently_is_not_adopted(
    moto: Any, test_keyring: Any
) -> None:
    text = one_step("iam-user", "{user: alice, tags: {Team: sec}}")
    report, ctx = plan_only(moto, test_keyring, text)
    seed_user(moto.client("iam"))  # no tag: not remediate's
    with pytest.raises(StepFailedError, match="created by someone else after the plan"):
        runner.apply(report, ctx)
    assert moto.client("iam").list_user_tags(UserName="alice")["Tags"] == []
    # Told to adopt it, the run tags it.
    moto.client("iam").delete_user(UserName="alice")
    report, ctx = plan_only(moto, test_keyring, text)
    seed_user(moto.client("iam"))
    ctx.options = RunOptions(adopt_existing_user=True)
    runner.apply(report, ctx)
    assert user_tagged(moto.client("iam"))


def test_a_login_profile_created_concurrently_is_never_overwritten(
    moto: Any, test_keyring: Any
) -> None:
    from moto.iam.models import iam_backends

    iam = moto.client("iam")
    seed_user(iam)
    # Users may change their own password: no IAMUserChangePassword to attach first, so the
    # step's only write is the create that finds someone else's login profile.
    iam.update_account_password_policy(AllowUsersToChangePassword=True)
    report, ctx = plan_only(moto, test_keyring, one_step("login-profile", "{user: alice}"))
    SecretStore(test_keyring).put(ACCOUNT, "alice", "password", "Theirs-1234!")
    iam.create_login_profile(UserName="alice", Password="Theirs-1234!")
    runner.apply(report, ctx)
    assert iam_backends[ACCOUNT]["global"].users["alice"].password == "Theirs-1234!"
    warning = ctx.ui.file.getvalue()
    assert "already has a login profile that this run did not create" in warning
    assert "Theirs-1234!" not in warning
    # Reported as no change, and the keyring keeps the password in effect (no pending one).
    assert report.changed == 0
    assert report.steps[0].change.change == "none"
    store = SecretStore(test_keyring)
    assert store.get(ACCOUNT, "alice", "password") == "Theirs-1234!"
    assert store.get(ACCOUNT, "alice", "pending-password") is None


# --- the dry-run guard in the session ----------------------------------------------------------


def test_a_read_only_session_refuses_writes_before_sending(moto: Any) -> None:
    from remediate.aws.calls import call

    aws = make_aws(moto, read_only=True)
    with pytest.raises(WriteRefusedError, match="dry run: refused the write call iam:CreateUser"):
        call(aws.iam, "CreateUser", UserName="x")
    assert aws.stats.writes == 0
    assert aws.stats.operations == {}
    assert moto.client("iam").list_users()["Users"] == []
    # Reads still go through.
    assert call(aws.iam, "ListUsers")["Users"] == []
    assert dict(aws.stats.operations) == {"iam:ListUsers": 1}


# --- pure helpers ------------------------------------------------------------------------------


def test_tag_changes_adds_and_updates_only() -> None:
    assert tag_changes({}, {}) == {}
    assert tag_changes({"a": "1"}, {}) == {}
    assert tag_changes({"a": "1"}, {"a": "1"}) == {}
    assert tag_changes({"a": "1", "b": "2"}, {"a": "9", "c": "3"}) == {"a": "9", "c": "3"}
    assert tag_changes({"a": ""}, {"a": ""}) == {}
    assert tag_changes({}, {"a": ""}) == {"a": ""}


@pytest.mark.parametrize(
    ("partition", "arn"),
    [
        ("aws", "arn:aws:iam::aws:policy/AdministratorAccess"),
        ("aws-us-gov", "arn:aws-us-gov:iam::aws:policy/AdministratorAccess"),
        ("aws-cn", "arn:aws-cn:iam::aws:policy/AdministratorAccess"),
    ],
)
def test_managed_policy_arn_uses_the_partition(partition: str, arn: str) -> None:
    assert managed_policy_arn("AdministratorAccess", partition) == arn
    custom = f"arn:{partition}:iam::{ACCOUNT}:policy/Mine"
    assert managed_policy_arn(custom, "aws") == custom


@pytest.mark.parametrize(
    ("partition", "url"),
    [
        ("aws", f"https://{ACCOUNT}.signin.aws.amazon.com/console"),
        ("aws-us-gov", f"https://{ACCOUNT}.signin.amazonaws-us-gov.com/console"),
        ("aws-cn", f"https://{ACCOUNT}.signin.amazonaws.cn/console"),
    ],
)
def test_console_sign_in_url(partition: str, url: str) -> None:
    assert console_sign_in_url(ACCOUNT, partition) == url


def test_policy_step_resource_follows_the_session_partition(moto: Any) -> None:
    from remediate.steps.group import GroupPolicyArgs, GroupPolicyStep

    aws = Aws.from_credentials(
        AwsOptions(region="us-gov-west-1", endpoint_url=moto.endpoint_url), CREDENTIALS
    )
    ctx = StepContext(
        aws,
        ACCOUNT,
        aws.partition,
        SecretStore(),
        RunOptions(),
        Console(file=io.StringIO()),
        nobody(),
    )
    step = GroupPolicyStep("p", GroupPolicyArgs(group="Admins", policy="AdministratorAccess"))
    assert step.resource(ctx) == "arn:aws-us-gov:iam::aws:policy/AdministratorAccess"
