"""What the commands are wired to: the keyring, and the engine's services (journal and lock for a
real account, neither for the sandbox). The one place where Services are built; the AWS session
is remediate.commands.session's."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from remediate.core import limits
from remediate.core.terminal import stderr_console
from remediate.credentials.backends import (
    ALLOW_PLAINTEXT_ENV,
    ENCRYPTED_CHOICES,
    KeyringUnavailableError,
    memory_keyring,
)
from remediate.credentials.store import HANDOVER, SecretStore
from remediate.playbook.engine import Services, View
from remediate.playbook.journal import Journal
from remediate.playbook.lock import account_lock
from remediate.render.enrollment import TerminalEnrollment
from remediate.sandbox.keyring_file import sandbox_keyring_from_environment

if TYPE_CHECKING:
    from remediate.core.prompt import Prompter
    from remediate.findings.securityhub import Record
    from remediate.org.accounts import AccountSession

# The journal's ``playbook`` for Security Hub's write calls: the command's, with or without one.
HUB_JOURNAL = "root-use"


def secret_store(sandbox: bool, *, allow_plaintext: bool) -> SecretStore:
    """The keyring a run keeps its secrets in: the sandbox's lives in memory, with the command."""
    # The sandbox's keyring is said once, with the secrets it holds (remediate.render.outcome).
    return SecretStore(
        memory_keyring() if sandbox else sandbox_keyring_from_environment(),
        allow_plaintext=allow_plaintext,
        ends_with_the_command=sandbox,
    )


def never_shown(store: SecretStore) -> Callable[[str, str], tuple[str, ...]]:
    """(account id, user) -> the kinds of the user's secrets ``store`` holds that remediate never
    showed anybody: what a run's hand-over names, whichever run kept them."""

    def kinds(account_id: str, user: str) -> tuple[str, ...]:
        if not store.usable():
            return ()
        shown = store.shown(account_id, user)
        return tuple(
            kind
            for a, u, kind in store.entries()
            if a == account_id and u == user and kind != HANDOVER and kind not in shown
        )

    return kinds


def usable_store(*, allow_plaintext: bool) -> SecretStore:
    """The system keyring, refused (exit 2) when it cannot keep secrets."""
    store = SecretStore(sandbox_keyring_from_environment(), allow_plaintext=allow_plaintext)
    try:
        store.require_usable()
    except KeyringUnavailableError as exc:
        # The store's tip is a run's (--show-secrets prints them instead): the secrets commands
        # read what runs kept, in this keyring.
        if "--allow-plaintext-keyring" in (exc.tip or ""):  # a working backend, not encrypting
            tip = (
                f"Use an encrypted backend ({ENCRYPTED_CHOICES}), or accept this one with "
                f"--allow-plaintext-keyring ({ALLOW_PLAINTEXT_ENV}=1)"
            )
        else:
            tip = (
                f"Install or unlock an encrypted keyring backend ({ENCRYPTED_CHOICES}): the "
                "secrets commands read the keyring the runs kept their secrets in"
            )
        raise KeyringUnavailableError(exc.message, tip=tip) from None
    return store


def hub_journal(sandbox: bool, account_id: str, caller_arn: str) -> Record | None:
    """Where a run's Security Hub write calls are journaled (remediate.findings.securityhub):
    the run's journal, as for the playbook's writes; none on the sandbox, whose emulator ends
    with it."""
    if sandbox:
        return None
    return Journal(account_id=account_id, caller_arn=caller_arn, playbook=HUB_JOURNAL).record


def caller(session: AccountSession) -> str:
    """Who makes an account's calls: the operator, else the session's own identity."""
    return str(session.operator or session.identity.arn)


def services(
    open_account: Callable[[str], AccountSession],
    prompter: Prompter,
    view: View,
    *,
    sandbox: bool,
    allow_plaintext_keyring: bool,
    concurrency: int = 1,
    lock_timeout: float = limits.DEFAULT_LOCK_TIMEOUT,
) -> Services:
    """The engine's services: the sandbox has no journal and no lock (its emulator lives only as
    long as the command), a real account has both."""

    def journal(session: AccountSession, playbook: str) -> Journal | None:
        if sandbox:
            return None
        return Journal(
            account_id=session.identity.account_id,
            caller_arn=session.operator or session.identity.arn,
            playbook=playbook,
            acting_as=session.identity.arn if session.operator else None,
        )

    def lock(account_id: str) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext() if sandbox else account_lock(account_id, wait=lock_timeout)

    ui = stderr_console()
    return Services(
        open_account=open_account,
        secrets=secret_store(sandbox, allow_plaintext=allow_plaintext_keyring),
        prompter=prompter,
        view=view,
        ui=ui,
        journal=journal,
        lock=lock,
        concurrency=concurrency,
        enrollment=TerminalEnrollment(ui, prompter),
    )
