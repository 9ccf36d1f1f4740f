"""Running steps the way the commands do: through the engine, in one account, with a test
keyring, no terminal unless a prompter is given, and no journal or lock."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from typing import Any

from rich.console import Console

from remediate.aws.identity import Identity
from remediate.aws.session import Aws
from remediate.credentials.store import SecretStore
from remediate.org.accounts import OwnAccount, Target
from remediate.playbook import engine
from remediate.playbook.engine import AccountRun, Remediation, Services
from remediate.sandbox.server import SANDBOX_ACCOUNT_ID
from remediate.steps.base import MfaOptions, RunOptions
from remediate.steps.kind import AnyStep
from support.prompters import nobody

TESTER = Identity(SANDBOX_ACCOUNT_ID, f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:user/tester")


class Silent:
    """An engine view that shows nothing."""

    def planned(self, run: AccountRun) -> None:
        pass

    def applied(self, run: AccountRun) -> None:
        pass


def services(
    aws: Aws,
    keyring: Any,
    *,
    prompter: Any = None,
    ui: Console | None = None,
    identity: Identity = TESTER,
) -> Services:
    return Services(
        open_account=OwnAccount(aws, identity),
        secrets=SecretStore(keyring),
        prompter=prompter or nobody(),
        view=Silent(),
        ui=ui or Console(file=io.StringIO()),
        journal=lambda session, playbook: None,
        lock=lambda account_id: contextlib.nullcontext(),
    )


def run_steps(
    aws: Aws,
    keyring: Any,
    steps: Sequence[AnyStep],
    *,
    playbook: str = "test",
    dry_run: bool = False,
    options: RunOptions | None = None,
    prompter: Any = None,
    ui: Console | None = None,
) -> AccountRun:
    """Plan and (unless ``dry_run``) apply ``steps`` in the sandbox account; a failure is
    raised, as the single-account command does."""
    remediation = Remediation(
        playbook=playbook,
        steps=tuple(steps),
        options=options or RunOptions(mfa=MfaOptions(mode="auto")),
        dry_run=dry_run,
        yes=True,
    )
    [run] = engine.run(
        remediation,
        [Target(SANDBOX_ACCOUNT_ID)],
        services(aws, keyring, prompter=prompter, ui=ui),
    )
    if run.failure is not None:
        raise run.failure
    return run
