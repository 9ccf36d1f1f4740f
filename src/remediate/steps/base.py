"""What every step works with: the run's options, the context of one account's run (its AWS
session, keyring and terminal), the change a plan finds, and the outcome a run leaves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from remediate.aws.calls import call, call_once, consistent, paginate
from remediate.steps.enrollment import NO_TERMINAL, Enrollment

if TYPE_CHECKING:
    from rich.console import Console

    from remediate.aws.calls import Fresh
    from remediate.aws.session import Aws
    from remediate.core.prompt import Prompter
    from remediate.credentials.store import SecretStore

ChangeKind = Literal["create", "update", "delete", "none"]
SecretKind = Literal["password", "access-key", "mfa-seed", "pending-password"]
EntityKind = Literal["user", "group", "mfa", "trusted-access", "policy"]
# handoff: create the device, write its QR code for its owner, and end the run with it pending.
MfaMode = Literal["interactive", "codes", "auto", "handoff"]

S = TypeVar("S")


@dataclass
class Change(Generic[S]):
    """What a step would do: the resource it manages, ``create``/``update``/``delete``/``none``,
    and why.

    ``state`` is what the plan learned that apply needs, typed by each step kind (never shown).
    """

    resource: str
    change: ChangeKind
    details: list[str] = field(default_factory=list)
    # Whether applying it generates a secret that must be kept (password, secret key, MFA seed).
    makes_secret: bool = False
    state: S | None = None
    # What the person must know before applying it (shown prominently in the plan and summary).
    warnings: list[str] = field(default_factory=list)
    # Why the run ends with this step (an MFA hand-off waits for its owner's codes): the steps
    # after it are held back for a later run.
    ends_run: str | None = None

    @property
    def planned(self) -> S:
        """The plan's state; only changes that apply anything carry one."""
        if self.state is None:
            raise AssertionError(f"no planned state for {self.resource}")
        return self.state


# In --qr-file, replaced by the account id: across accounts, each gets a file of its own.
QR_FILE_ACCOUNT = "{account}"


@dataclass(frozen=True)
class MfaOptions:
    """How the virtual-mfa step gets its two codes and where it shows the QR code."""

    mode: MfaMode = "interactive"
    codes: tuple[str, str] | None = None
    # A path, where ``{account}`` stands for the account id (one file per account).
    qr_file: str | None = None
    show_secret: bool = False

    def qr_path(self, account_id: str) -> str | None:
        """Where this account's QR code goes (``None``: nowhere but a terminal)."""
        if self.qr_file is None:
            return None
        return self.qr_file.replace(QR_FILE_ACCOUNT, account_id)


@dataclass(frozen=True)
class RunOptions:
    """Choices from the command line that steps need (never part of a playbook)."""

    password: str | None = None  # given by --password-stdin, or typed (--password-prompt)
    # --password-prompt: the engine asks for the password once the plan is confirmed.
    password_prompt: bool = False
    show_secrets: bool = False
    mfa: MfaOptions = field(default_factory=MfaOptions)
    # --adopt-existing-user: an IAM user remediate did not create may be changed.
    adopt_existing_user: bool = False
    # --reset-password: an existing login profile gets a new generated password.
    reset_password: bool = False


@dataclass(frozen=True)
class Secret:
    """A secret a run produced, and where it went (its value leaves only with --show-secrets)."""

    user: str
    kind: SecretKind
    value: str
    stored_in: str | None


@dataclass
class MfaDevice:
    """The user's MFA device as the run left it."""

    serial_number: str
    enabled: bool
    user: str | None = None
    # Waiting for its owner's two codes (--mfa-handoff), its QR code written here.
    handoff: bool = False
    qr_file: str | None = None
    # The keyring holds its seed (kept by this run or an earlier one): to forget once handed over.
    seed_kept: bool = False
    # Its QR code was shown on this terminal, to a person who scanned it there (in person).
    scanned_here: bool = False
    # Enabled with codes from an app that scanned it: the run forgot its seed then, so that the
    # keyring holds no second factor beside the password.
    seed_forgotten: bool = False


@dataclass
class RunOutcome:
    """What the steps of one account's run produced, for the summary and the JSON document."""

    secrets: list[Secret] = field(default_factory=list)
    mfa: MfaDevice | None = None
    console_sign_in_url: str | None = None
    # The user the run hands over (the one its steps give credentials or MFA to).
    user: str | None = None
    # The self-service MFA policy attached to the user: they enroll their own device.
    self_service_policy: str | None = None
    # Self-service MFA: the device IAM shows enabled for the user, found by this run (the policy
    # is then detached); None while the run waits for the user to enable one.
    self_service_device: str | None = None
    # The group the run adds the user to, last: the one that grants power.
    group: str | None = None
    # The user's secrets that earlier runs kept and the keyring still holds (where a step looked:
    # a finishing run that forgot the seed), still to be forgotten once handed over.
    kept_before: tuple[SecretKind, ...] = ()


@dataclass(frozen=True)
class Unchanged:
    """What ``apply`` returns when it found the change already made (by a concurrent run, or
    hidden from the plan by a stale read): the step is reported ``none`` and not journaled."""

    reason: str


def _entity(kind: EntityKind, name: str) -> tuple[str, str]:
    # IAM names are unique without regard to case: "Alice" and "alice" are one user.
    return kind, name.casefold()


@dataclass
class StepContext:
    """Everything a step may use: the account's AWS session, the keyring, the run's options, the
    person at the terminal (if any), and what earlier steps planned and produced."""

    aws: Aws
    account_id: str
    partition: str
    secrets: SecretStore
    options: RunOptions
    ui: Console
    prompter: Prompter
    # Entities earlier steps will create in this run: their state is known empty.
    planned: set[tuple[str, str]] = field(default_factory=set)
    # Entities the plan found: a later "no such entity" about them is IAM lagging, not an answer.
    seen: set[tuple[str, str]] = field(default_factory=set)
    # Entities a create found already there (a stale read hid them from the plan).
    existed: set[tuple[str, str]] = field(default_factory=set)
    outcome: RunOutcome = field(default_factory=RunOutcome)
    # Who the session's calls come from (an ARN): the root user, an IAM user, an assumed role.
    caller_arn: str | None = None
    # What will hold once the earlier steps of this run have applied (Step.ensures): a later
    # step may require it before it changes anything.
    ensured: set[tuple[str, str]] = field(default_factory=set)
    # Whoever enrolls a virtual MFA device in person: the terminal, when the command has one.
    enrollment: Enrollment = NO_TERMINAL

    @property
    def iam(self) -> Any:
        return self.aws.iam

    def will_create(self, kind: EntityKind, name: str) -> bool:
        """Whether this run creates the entity (and it did not turn out to exist already)."""
        entity = _entity(kind, name)
        return entity in self.planned and entity not in self.existed

    def plan_create(self, kind: EntityKind, name: str) -> None:
        self.planned.add(_entity(kind, name))

    def saw(self, kind: EntityKind, name: str) -> None:
        self.seen.add(_entity(kind, name))

    def found_existing(self, kind: EntityKind, name: str) -> None:
        self.existed.add(_entity(kind, name))

    def turned_out_to_exist(self, kind: EntityKind, name: str) -> bool:
        return _entity(kind, name) in self.existed

    def _fresh(self, about: tuple[tuple[EntityKind, str], ...]) -> tuple[str, ...]:
        """The names in ``about`` that this run created or saw: IAM may lag behind for them."""
        return tuple(
            n for k, n in about if _entity(k, n) in self.planned or _entity(k, n) in self.seen
        )

    def call(
        self,
        operation: str,
        /,
        *,
        about: tuple[tuple[EntityKind, str], ...] = (),
        once: bool = False,
        fresh: Fresh | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """An IAM call that waits out IAM's eventual consistency: a 409 conflict always, and "no
        such entity" about an entity in ``about`` that this run created or saw. ``once`` sends
        it through the client that never resends, for creates that must happen once.
        ``fresh()`` gives parameters computed anew for every send (TOTP codes expire)."""

        def send() -> dict[str, Any]:
            if once:
                return call_once(self.aws.iam_once, operation, fresh=fresh, **params)
            return call(self.aws.iam, operation, **params, **(fresh() if fresh else {}))

        what = " and ".join(f"{k} {n}" for k, n in about) or operation
        return consistent(what, send, names=self._fresh(about))

    def list(
        self,
        operation: str,
        key: str,
        /,
        *,
        about: tuple[tuple[EntityKind, str], ...],
        **params: Any,
    ) -> list[Any]:
        """Every item of a paginated IAM read, waiting out IAM's lag like :meth:`call`."""
        what = " and ".join(f"{k} {n}" for k, n in about)
        return consistent(
            what,
            lambda: paginate(self.aws.iam, operation, key, **params),
            names=self._fresh(about),
        )

    def keep_secret(self, user: str, kind: SecretKind, value: str) -> Secret:
        """Store a generated secret in the keyring (if usable) and remember it for the report."""
        stored_in = None
        if self.secrets.usable():
            self.secrets.put(self.account_id, user, kind, value)
            self.secrets.note_new(self.account_id, user, kind)
            stored_in = self.secrets.description()
        secret = Secret(user, kind, value, stored_in)
        self.outcome.secrets.append(secret)
        self.outcome.user = user
        if stored_in is not None and self.options.show_secrets:
            # --show-secrets prints it: handed over, as far as remediate can know.
            self.secrets.mark_shown(self.account_id, user, kind)
        return secret
