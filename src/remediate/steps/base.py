"""The step interface: a registry of kinds, each with a field schema, permissions, plan, apply."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

if TYPE_CHECKING:
    from rich.console import Console

    from remediate.aws.session import Aws
    from remediate.prompt import Prompter
    from remediate.secrets import SecretStore

ChangeKind = Literal["create", "update", "delete", "none"]
FieldType = Literal["string", "bool", "tags", "int"]
SecretKind = Literal["password", "access-key", "mfa-seed"]
MfaMode = Literal["interactive", "codes", "auto"]

S = TypeVar("S")


@dataclass(frozen=True)
class FieldSpec:
    """One field of a step's ``with`` block."""

    type: FieldType
    required: bool = True
    default: Any = None
    format: str | None = None  # a name in remediate.validate.FORMATS
    allowed: tuple[str, ...] = ()
    description: str = ""


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

    @property
    def planned(self) -> S:
        """The plan's state; only changes that apply anything carry one."""
        if self.state is None:
            raise AssertionError(f"no planned state for {self.resource}")
        return self.state


@dataclass(frozen=True)
class MfaOptions:
    """How the virtual-mfa step gets its two codes and where it shows the QR code."""

    mode: MfaMode = "interactive"
    codes: tuple[str, str] | None = None
    qr_file: str | None = None
    show_secret: bool = False


@dataclass(frozen=True)
class RunOptions:
    """Choices from the command line that steps need (never part of a playbook)."""

    password: str | None = None  # given by --password-prompt / --password-stdin
    show_secrets: bool = False
    mfa: MfaOptions = field(default_factory=MfaOptions)


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


@dataclass
class RunOutcome:
    """What the steps of one account's run produced, for the summary and the JSON document."""

    secrets: list[Secret] = field(default_factory=list)
    mfa: MfaDevice | None = None
    console_sign_in_url: str | None = None


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
    # (kind, name) of resources earlier steps will create in this run: their state is known empty.
    planned: set[tuple[str, str]] = field(default_factory=set)
    outcome: RunOutcome = field(default_factory=RunOutcome)
    # Who the session's calls come from (an ARN): the root user, an IAM user, an assumed role.
    caller_arn: str | None = None
    # What will hold once the earlier steps of this run have applied (Step.ensures): a later
    # step may require it before it changes anything.
    ensured: set[tuple[str, str]] = field(default_factory=set)

    @property
    def iam(self) -> Any:
        return self.aws.iam

    def will_create(self, kind: str, name: str) -> bool:
        return (kind, name) in self.planned

    def keep_secret(self, user: str, kind: SecretKind, value: str) -> Secret:
        """Store a generated secret in the keyring (if usable) and remember it for the report."""
        stored_in = None
        if self.secrets.usable():
            self.secrets.put(self.account_id, user, kind, value)
            stored_in = self.secrets.description()
        secret = Secret(user, kind, value, stored_in)
        self.outcome.secrets.append(secret)
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
    # Write calls applying one change makes (the call budget in benchmarks/bench_remediate.py).
    writes_per_change: ClassVar[int] = 1
    # The step acts on the root user with root's own credentials (its access keys, or an
    # sts:AssumeRoot task session): no IAM policy of the operator applies, so the operator's
    # least-privilege policy leaves its actions out.
    acts_as_root: ClassVar[bool] = False

    def __init__(self, step_id: str, params: Mapping[str, Any]) -> None:
        self.id = step_id
        self.params = dict(params)

    def resource(self, ctx: StepContext) -> str:
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

    def apply(self, ctx: StepContext, change: Change[S]) -> None:
        """Make the change. Called only when ``change.change`` is not ``none``."""
        raise NotImplementedError


AnyStep = Step[Any]

REGISTRY: dict[str, type[AnyStep]] = {}
BUILT_IN = ("remediate.steps.iam", "remediate.steps.virtual_mfa", "remediate.steps.root")


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
