"""A step kind: the interface each kind implements (typed parameters, declared access, plan,
apply, and the capabilities the command line wires up), and the registry playbooks name kinds
from. Adding a kind is one module: a class decorated with :func:`register`, listed in BUILT_IN.
"""

from __future__ import annotations

import importlib
import typing
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from remediate.steps.access import Access, Arns, Grant
from remediate.steps.params import FieldSpec, schema

if TYPE_CHECKING:
    from remediate.credentials.passwords import PasswordPolicy
    from remediate.steps.base import Change, StepContext, Unchanged

S = TypeVar("S")


class Step(Generic[S]):
    """A playbook step kind. A subclass sets ``kind``, declares ``args`` as the frozen dataclass
    of its ``with:`` block, its ``access`` table, and a docstring with a YAML example.

    ``fields`` (the schema the playbook loader checks) and ``permissions`` (every action in
    ``access``) are derived from those when the kind is registered."""

    kind: ClassVar[str]
    # The step's parameters: each kind narrows this to its own frozen ``with:`` dataclass.
    args: Any
    # Derived when registered: the dataclass ``args`` are, and the schema the loader checks.
    parameters: ClassVar[type[Any]]
    fields: ClassVar[Mapping[str, FieldSpec]]
    # What the step may do in IAM: `remediate permissions` and ``permissions`` come from it.
    access: ClassVar[tuple[Access, ...]]
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
    # The step needs its ``user`` (the administrator taking over from root) to have an MFA
    # device whose seed remediate does not keep (deleting root's access keys): --mfa-auto, which
    # keeps it, cannot be its second factor.
    needs_unheld_mfa: ClassVar[bool] = False
    # The step leaves the root user without access keys: a finished run closes that finding.
    removes_root_access_keys: ClassVar[bool] = False
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

    def __init__(self, step_id: str, args: Any) -> None:
        self.id = step_id
        self.args = args

    @property
    def user(self) -> str | None:
        """The IAM user the step is for: whom it gives credentials, MFA or a group, or (deleting
        root's access keys) who takes over from root; ``None`` for a step about no one user."""
        return None

    def resource(self, ctx: StepContext) -> str:
        raise NotImplementedError

    def grants(self, arns: Arns) -> list[Grant]:
        """The ``access`` this step's parameters need, on the resources it touches, as the IAM
        service authorization reference gives each action's resource types: `remediate
        permissions` scopes its policy with these. A step that acts as the root user needs
        nothing of the operator's policy."""
        if self.acts_as_root:
            return []
        return [a.grant(self.args, arns) for a in self.access if a.needed(self.args)]

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
    "remediate.steps.group",
    "remediate.steps.user",
    "remediate.steps.login_profile",
    "remediate.steps.access_key",
    "remediate.steps.virtual_mfa",
    "remediate.steps.self_service",
    "remediate.steps.self_service_policy",
    "remediate.steps.organization",
    "remediate.steps.root",
    "remediate.steps.scp",
    "remediate.steps.sns_topic",
    "remediate.steps.sns_subscriptions",
    "remediate.steps.forwarding_role",
    "remediate.steps.event_rules",
    "remediate.steps.cis_alarm",
)


def register(cls: type[Step[S]]) -> type[Step[S]]:
    """Class decorator: make a step kind available to playbooks by its ``kind`` name, its
    ``fields`` read from its ``args`` dataclass and its ``permissions`` from its ``access``."""
    if cls.kind in REGISTRY:
        raise ValueError(f"step kind {cls.kind!r} registered twice")
    cls.parameters = _parameters(cls)
    cls.fields = schema(cls.parameters)
    cls.permissions = tuple(dict.fromkeys(a for entry in cls.access for a in entry.actions))
    REGISTRY[cls.kind] = cls
    return cls


def _parameters(cls: type[AnyStep]) -> type[Any]:
    """The frozen dataclass a kind's ``args`` are (its ``with:`` block)."""
    hint = typing.get_type_hints(cls).get("args")
    if not isinstance(hint, type) or hint is object:
        raise TypeError(f"step kind {cls.kind!r} declares no `args: <dataclass>`")
    return hint


def registry() -> dict[str, type[AnyStep]]:
    """All step kinds, with the built-in ones loaded."""
    for module in BUILT_IN:
        importlib.import_module(module)  # importing a module registers its kinds
    return REGISTRY
