"""The step interface: a registry of kinds, each with a field schema, permissions, plan, apply."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

if TYPE_CHECKING:
    from rich.console import Console

    from remediate.aws.calls import Fresh
    from remediate.aws.session import Aws
    from remediate.core.prompt import Prompter
    from remediate.credentials.passwords import PasswordPolicy
    from remediate.credentials.store import SecretStore

ChangeKind = Literal["create", "update", "delete", "none"]
FieldType = Literal["string", "bool", "tags", "int"]
SecretKind = Literal["password", "access-key", "mfa-seed", "pending-password"]
EntityKind = Literal["user", "group", "mfa", "trusted-access", "policy"]
# handoff: create the device, write its QR code for its owner, and end the run with it pending.
MfaMode = Literal["interactive", "codes", "auto", "handoff"]

S = TypeVar("S")


@dataclass(frozen=True)
class FieldSpec:
    """One field of a step's ``with`` block."""

    type: FieldType
    required: bool = True
    default: Any = None
    format: str | None = None  # a name in remediate.core.validate.FORMATS
    allowed: tuple[str, ...] = ()
    description: str = ""


# The Resource of an action IAM cannot scope to a resource (the credential report, the account's
# password policy, listing virtual MFA devices): the only value IAM accepts for it.
ANY_RESOURCE = "*"


@dataclass(frozen=True)
class Arns:
    """The ARNs of one account's IAM resources, as a policy names them. ``account`` is ``*``
    when the policy is for any account; a name may be ``*`` too (a playbook variable not given),
    so a wildcard only ever stands inside its resource type (``user/*``, never ``*``)."""

    partition: str
    account: str = "*"

    def _arn(self, resource_type: str, name: str) -> str:
        return f"arn:{self.partition}:iam::{self.account}:{resource_type}/{name}"

    def user(self, name: str) -> str:
        return self._arn("user", name)

    def group(self, name: str) -> str:
        return self._arn("group", name)

    def mfa(self, name: str) -> str:
        """A virtual MFA device by its name (the serial number of a virtual device is its ARN)."""
        return self._arn("mfa", name)


@dataclass(frozen=True)
class Grant:
    """IAM actions a step needs, on the resources they touch (``(ANY_RESOURCE,)`` for actions
    IAM does not scope), under an optional policy condition."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: Mapping[str, Mapping[str, str]] | None = None


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
        from remediate.aws.calls import call, call_once, consistent

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
        from remediate.aws.calls import consistent, paginate

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


class Step(Generic[S]):
    """A playbook step kind: subclasses set kind, fields, permissions and a docstring example."""

    kind: ClassVar[str]
    fields: ClassVar[Mapping[str, FieldSpec]]
    # IAM actions the step needs to plan and apply; `remediate permissions` is built from these.
    permissions: ClassVar[tuple[str, ...]]
    # Capabilities the command line wires up: a password it may be given, codes it asks for.
    takes_password: ClassVar[bool] = False
    asks_for_codes: ClassVar[bool] = False
    # --adopt-existing-user: the step may take over an IAM user that remediate did not create.
    adopts_users: ClassVar[bool] = False
    # --reset-password: the step may set a new password on an existing login profile.
    resets_password: ClassVar[bool] = False
    # The step gives the user an access key: whoever holds it is the user, without a password.
    gives_access_key: ClassVar[bool] = False
    # The step lets the user enroll their own MFA device (the self-service MFA policy): a second
    # factor only while nobody else can act as the user first.
    self_service_mfa: ClassVar[bool] = False
    # The step needs its ``administrator`` to have an MFA device whose seed remediate does not
    # keep (deleting root's access keys): --mfa-auto, which keeps it, cannot be its second factor.
    needs_unheld_mfa: ClassVar[bool] = False
    # Write calls applying one change makes (the call budget in benchmarks/bench_remediate.py).
    writes_per_change: ClassVar[int] = 1
    # Resources planning the step reads, one read each (the same budget).
    reads_per_plan: ClassVar[int] = 1
    # The step acts on the root user with root's own credentials (its access keys, or an
    # sts:AssumeRoot task session): no IAM policy of the operator applies, so the operator's
    # least-privilege policy leaves its actions out.
    acts_as_root: ClassVar[bool] = False
    # The step writes what only an administrator may (a customer-managed policy's document): a
    # principal that may both write a policy and attach it can grant itself anything, so the
    # operator's policy never holds these grants; `remediate permissions --administrative`
    # prints them on their own.
    administrative: ClassVar[bool] = False

    def __init__(self, step_id: str, params: Mapping[str, Any]) -> None:
        self.id = step_id
        self.params = dict(params)

    def resource(self, ctx: StepContext) -> str:
        raise NotImplementedError

    def grants(self, arns: Arns) -> list[Grant]:
        """Each of ``permissions`` with the resources it touches for this step's parameters, as
        the IAM service authorization reference gives each action's resource types: `remediate
        permissions` scopes its policy with these."""
        raise NotImplementedError

    def ensures(self) -> frozenset[tuple[str, str]]:
        """What holds once this step has run, whether or not it had anything to change: a
        later step's preflight may require it (e.g. ``("mfa", "alice")``)."""
        return frozenset()

    def plan(self, ctx: StepContext) -> Change[S]:
        """Read the current state and say what would change. Never writes."""
        raise NotImplementedError

    def preflight(self, ctx: StepContext, change: Change[S]) -> None:
        """Checks that must pass before any step is applied (exit 2 on failure)."""

    def password_policy(self, change: Change[S]) -> PasswordPolicy | None:
        """For a step that takes a password (``takes_password``): the policy a password typed
        for this change must meet, or ``None`` when applying it sets no password."""
        return None

    def apply(self, ctx: StepContext, change: Change[S]) -> Unchanged | None:
        """Make the change. Called only when ``change.change`` is not ``none``; returns
        Unchanged when the change turned out to be in place already."""
        raise NotImplementedError


AnyStep = Step[Any]

REGISTRY: dict[str, type[AnyStep]] = {}
BUILT_IN = (
    "remediate.steps.iam",
    "remediate.steps.virtual_mfa",
    "remediate.steps.self_service",
    "remediate.steps.self_service_policy",
    "remediate.steps.root",
)


def register(cls: type[Step[S]]) -> type[Step[S]]:
    """Class decorator: make a step kind available to playbooks by its ``kind`` name."""
    if cls.kind in REGISTRY:
        raise ValueError(f"step kind {cls.kind!r} registered twice")
    REGISTRY[cls.kind] = cls
    return cls


def registry() -> dict[str, type[AnyStep]]:
    """All step kinds, with the built-in ones loaded."""
    import importlib

    for module in BUILT_IN:
        importlib.import_module(module)  # importing a module registers its kinds

    return REGISTRY
