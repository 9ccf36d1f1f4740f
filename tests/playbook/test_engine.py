"""The remediation engine across accounts, against moto's server: where sessions are opened and
used, the order locks are taken in, one confirmation, and failures that stay with their account.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from rich.console import Console

from remediate.aws.identity import caller_identity
from remediate.aws.options import AwsOptions
from remediate.aws.session import Aws
from remediate.core.errors import InputError, Interrupted
from remediate.credentials.store import SecretStore
from remediate.org.accounts import AccountSession, MemberAccounts, Target
from remediate.playbook import engine
from remediate.playbook.binding import bind, instantiate
from remediate.playbook.engine import Remediation, Services
from remediate.playbook.loading import load_playbook
from remediate.sandbox.server import SANDBOX_ACCOUNT_ID as ACCOUNT_ID
from remediate.steps.base import MfaOptions, RunOptions
from support.orgs import ROLE, Org
from support.prompters import Scripted, nobody
from support.runs import Silent


class Opener(MemberAccounts):
    """MemberAccounts that records, for every session, the thread that opened it and the threads
    that made calls through it."""

    def __init__(self, base: Aws, *, read_only: bool = False) -> None:
        super().__init__(
            base, caller_identity(base), role_name=ROLE, external_id=None, read_only=read_only
        )
        self.opened: list[tuple[str, int]] = []
        self.misuse: list[str] = []

    def __call__(self, account_id: str) -> AccountSession:
        session = super().__call__(account_id)
        opener = threading.get_ident()
        self.opened.append((account_id, opener))

        def check(model: Any, **_: Any) -> None:
            if threading.get_ident() != opener:
                self.misuse.append(f"{account_id}:{model.name}")

        session.aws._session.register("before-call", check)
        return session


def remediation(*, dry_run: bool = False, yes: bool = True) -> Remediation:
    book = load_playbook("root-use")
    steps = instantiate(book, bind(book, {"user": "alice", "mfa": False}))
    options = RunOptions(mfa=MfaOptions(mode="auto"))
    return Remediation(book.name, tuple(steps), options, dry_run=dry_run, yes=yes)


def services(
    opener: Opener, keyring: Any, *, prompter: Any = None, locks: list[str] | None = None
) -> Services:
    @contextlib.contextmanager
    def lock(account_id: str) -> Iterator[None]:
        if locks is not None:
            locks.append(account_id)
        yield

    return Services(
        open_account=opener,
        secrets=SecretStore(keyring),
        prompter=prompter or nobody(),
        view=Silent(),
        ui=Console(file=io.StringIO()),
        journal=lambda session, playbook: None,
        lock=lock,
        concurrency=4,
    )


@pytest.fixture
def base(admin_org: Org, moto: Any) -> Aws:
    return Aws(AwsOptions(None, "us-east-1", moto.endpoint_url))


def targets(org: Org, *names: str) -> list[Target]:
    return [Target(org.id(n), n) for n in names]


def test_sessions_are_used_only_in_the_thread_that_opened_them(
    admin_org: Org, base: Aws, test_keyring: Any
) -> None:
    opener = Opener(base)
    chosen = targets(admin_org, "password", "key", "quiet")

    runs = engine.run(remediation(), chosen, services(opener, test_keyring))

    assert [r.failure for r in runs] == [None, None, None]
    assert all(r.report is not None and r.report.changed == 5 for r in runs)
    assert opener.misuse == []
    # Planned in worker threads, applied in this one with a session of its own.
    main = threading.get_ident()
    for t in chosen:
        threads = [thread for account, thread in opener.opened if account == t.account_id]
        assert len(threads) == 2
        assert threads[-1] == main


def test_locks_are_taken_in_account_order_before_planning(
    admin_org: Org, base: Aws, test_keyring: Any
) -> None:
    events: list[str] = []
    opener = Opener(base)
    chosen = targets(admin_org, "quiet", "password", "key")

    def open_to_plan(account_id: str) -> AccountSession:
        events.append(f"plan {account_id}")
        return opener(account_id)

    chosen_services = services(opener, test_keyring, locks=events)
    chosen_services = dataclasses.replace(chosen_services, open_account=open_to_plan)
    engine.run(remediation(dry_run=True), chosen, chosen_services)

    ids = sorted(t.account_id for t in chosen)
    # Every lock before any plan: a plan made unlocked may be stale by the time it is applied.
    assert events[:3] == ids
    assert sorted(events[3:]) == [f"plan {i}" for i in ids]


def test_one_question_for_every_account(admin_org: Org, base: Aws, test_keyring: Any) -> None:
    person = Scripted(["n"])
    chosen = targets(admin_org, "password", "key")
    opener = Opener(base)

    with pytest.raises(InputError, match="not confirmed: nothing was changed"):
        engine.run(remediation(yes=False), chosen, services(opener, test_keyring, prompter=person))

    ids = ", ".join(t.account_id for t in chosen)
    assert person.asked == [f"Apply 10 changes in 2 accounts ({ids})?"]
    iam_users = [call_users(opener, t.account_id) for t in chosen]
    assert iam_users == [[], []]


def call_users(opener: Opener, account_id: str) -> list[str]:
    session = opener(account_id)
    return [u["UserName"] for u in session.aws.iam.list_users()["Users"]]


def test_an_account_that_cannot_be_entered_keeps_its_failure(
    admin_org: Org, base: Aws, test_keyring: Any
) -> None:
    opener = Opener(base)
    chosen = targets(admin_org, "locked", "key")

    locked, key = engine.run(remediation(), chosen, services(opener, test_keyring))

    assert locked.report is None
    assert locked.failure is not None
    assert "cannot assume" in locked.failure.message
    assert key.failure is None
    assert key.report is not None
    assert key.report.changed == 5


def test_own_account_with_members(admin_org: Org, base: Aws, test_keyring: Any) -> None:
    opener = Opener(base)
    runs = engine.run(
        remediation(),
        [Target(ACCOUNT_ID), *targets(admin_org, "key")],
        services(opener, test_keyring),
    )
    assert [r.report.changed for r in runs if r.report] == [5, 5]
    assert opener.misuse == []


def test_ctrl_c_in_one_account_stops_the_run_and_says_where(
    admin_org: Org, base: Aws, test_keyring: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import botocore.endpoint

    send = botocore.endpoint.Endpoint.make_request
    groups: list[str] = []

    def make_request(self: Any, operation_model: Any, request_dict: Any) -> Any:
        if operation_model.name == "CreateGroup":
            groups.append("CreateGroup")
            if len(groups) == 2:
                raise KeyboardInterrupt  # in the second account, at its first write
        return send(self, operation_model, request_dict)

    monkeypatch.setattr(botocore.endpoint.Endpoint, "make_request", make_request)
    chosen = targets(admin_org, "password", "key", "quiet")
    first, second, third = engine.run(remediation(), chosen, services(Opener(base), test_keyring))

    assert first.failure is None
    assert first.report is not None
    assert first.report.changed == 5
    assert isinstance(second.failure, Interrupted)
    assert second.report is not None
    assert second.report.changed == 0
    assert isinstance(third.failure, Interrupted)
    assert third.failure.message == f"not started: interrupted before account {third.account_id}"
    assert third.report is not None
    assert third.report.changed == 0  # planned, never applied
    stopped = engine.interrupted([first, second, third])
    assert stopped is not None
    assert stopped.exit_code == 130
    assert stopped.message.startswith(
        f"interrupted in account {second.account_id} during step 'admin-group' (iam-group); in "
        "step 'admin-group': iam:CreateGroup unknown (interrupted: it may have been applied); "
        "not applied: admin-group, admin-policy, admin-user, console-access, membership; rerun "
        "to continue from there; "
    )
    assert f"accounts changed before it: {first.account_id}" in stopped.message
    assert stopped.message.endswith(f"accounts not started: {third.account_id}")
    assert engine.interrupted([first]) is None
