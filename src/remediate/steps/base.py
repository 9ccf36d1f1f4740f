"""The step interface: a registry of kinds, each with a field schema, permissions, plan, apply."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from rich.console import Console

    from remediate.aws.session import Aws
    from remediate.secrets import SecretStore

ChangeKind = Literal["create", "update", "none"]
FieldType = Literal["string", "bool", "tags", "int"]


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
class Change:
    """What a step would do: the resource it manages, ``create``/``update``/``none``, and why."""

    resource: str
    change: ChangeKind
    details: list[str] = field(default_factory=list)
    # Whether applying it generates a secret that must be kept (password, secret key, MFA seed).
    makes_secret: bool = False
    # Facts the plan learned that apply needs (kept out of output).
    state: dict[str, Any] = field(default_factory=dict)


@dataclass
class MfaOptions:
    """How the virtual-mfa step gets its two codes and where it shows the QR code."""

    mode: Literal["interactive", "codes", "auto"] = "interactive"
    codes: tuple[str, str] | None = None
    qr_file: str | None = None
    show_secret: bool = False


@dataclass
class RunOptions:
    """Choices from the command line that steps need (never part of a playbook)."""

    password: str | None = None  # given by --password-prompt / --password-stdin
    show_secrets: bool = False
    mfa: MfaOptions = field(default_factory=MfaOptions)
    interactive: bool = False  # a person is at a terminal


@dataclass
class Secret:
    """A secret a run produced, and where it went (its value leaves only with --show-secrets)."""

    user: str
    kind: str
    value: str
    stored_in: str | None


@dataclass
class StepContext:
    """Everything a step may use: the account's AWS session, the keyring, the run's options."""

    aws: Aws
    account_id: str
    partition: str
    secrets: SecretStore
    options: RunOptions
    ui: Console
    # (kind, name) of resources earlier steps will create in this run: their state is known empty.
    planned: set[tuple[str, str]] = field(default_factory=set)
    produced: list[Secret] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def iam(self) -> Any:
        return self.aws.iam

    def will_create(self, kind: str, name: str) -> bool:
        return (kind, name) in self.planned


class Step:
    """A playbook step kind: subclasses set kind, fields, permissions and a docstring example."""

    kind: ClassVar[str]
    fields: ClassVar[Mapping[str, FieldSpec]]
    # IAM actions the step needs to plan and apply; `remediate permissions` is built from these.
    permissions: ClassVar[tuple[str, ...]]

    def __init__(self, step_id: str, params: Mapping[str, Any]) -> None:
        self.id = step_id
        self.params = dict(params)

    def resource(self, ctx: StepContext) -> str:
        raise NotImplementedError

    def plan(self, ctx: StepContext) -> Change:
        """Read the current state and say what would change. Never writes."""
        raise NotImplementedError

    def preflight(self, ctx: StepContext, change: Change) -> None:
        """Checks that must pass before any step is applied (exit 2 on failure)."""

    def apply(self, ctx: StepContext, change: Change) -> None:
        """Make the change. Called only when ``change.change`` is not ``none``."""
        raise NotImplementedError


REGISTRY: dict[str, type[Step]] = {}
BUILT_IN = ("remediate.steps.iam", "remediate.steps.virtual_mfa")


def register(cls: type[Step]) -> type[Step]:
    """Class decorator: make a step kind available to playbooks by its ``kind`` name."""
    if cls.kind in REGISTRY:
        raise ValueError(f"step kind {cls.kind!r} registered twice")
    REGISTRY[cls.kind] = cls
    return cls


def registry() -> dict[str, type[Step]]:
    """All step kinds, with the built-in ones loaded."""
    import importlib

    for module in BUILT_IN:
        importlib.import_module(module)  # importing a module registers its kinds

    return REGISTRY


StepFactory = Callable[[str, Mapping[str, Any]], Step]
