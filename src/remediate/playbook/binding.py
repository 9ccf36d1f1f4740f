"""Binding a playbook to a run: its variables' values (``--var`` text converted, defaults, all
checked), substituted into each step's ``with:`` block as plain text, ``when`` applied, and the
steps built with their typed parameters; and the steps a least-privilege policy counts."""

from __future__ import annotations

from collections.abc import Mapping

from remediate.core import validate
from remediate.core.errors import InputError, PlaybookError
from remediate.playbook.model import (
    REF,
    WHOLE_REF,
    Playbook,
    StepSpec,
    Variable,
    VarValue,
    check_value,
)
from remediate.steps.kind import AnyStep, registry
from remediate.steps.params import FieldType

# Given for a required text variable, stands for any name (`remediate permissions` only).
WILDCARD = "*"


def _convert(var: Variable, text: str) -> VarValue:
    """A ``--var`` value (always text on the command line) in the variable's type."""
    if var.type == "bool":
        low = text.lower()
        if low in ("true", "yes", "1", "on"):
            return True
        if low in ("false", "no", "0", "off"):
            return False
        raise InputError(f"invalid --var {var.name}={text[:40]!r}: expected true or false")
    if var.type == "int":
        try:
            return int(text)
        except ValueError:
            raise InputError(
                f"invalid --var {var.name}={text[:40]!r}: expected an integer"
            ) from None
    if var.type == "tags":
        pairs = [validate.key_value(p, f"--var {var.name}") for p in text.split(",") if p]
        return dict(pairs)
    return text


def _bind_given(playbook: Playbook, given: Mapping[str, object]) -> dict[str, VarValue]:
    """The given variable values (text from --var, or typed), converted and validated."""
    unknown = sorted(set(given) - set(playbook.variables))
    if unknown:
        raise InputError(
            f"{playbook.path}: unknown variable{'s' * (len(unknown) != 1)} "
            f"{', '.join(unknown)} "
            f"(valid: {', '.join(sorted(playbook.variables)) or 'none'})"
        )
    values: dict[str, VarValue] = {}
    for name, var in playbook.variables.items():
        if name not in given:
            continue
        value = given[name]
        if isinstance(value, str) and var.type != "string":
            value = _convert(var, value)
        try:
            values[name] = check_value(
                f"variable {name!r}", var.type, value, var.format, var.allowed
            )
        except PlaybookError as exc:
            raise InputError(f"{playbook.path}: {exc.message}") from exc
    return values


def bind(playbook: Playbook, given: Mapping[str, object]) -> dict[str, VarValue]:
    """Variable values: the given ones (text from --var, or typed), defaults, all validated."""
    values = _bind_given(playbook, given)
    for name, var in playbook.variables.items():
        if name in values:
            continue
        if var.required:
            raise InputError(
                f"{playbook.path}: variable {name!r} is required",
                tip=f"pass --var {name}=VALUE",
            )
        values[name] = var.default if var.default is not None else _empty(var.type)
    return values


def _empty(kind: FieldType) -> VarValue:
    empty: dict[FieldType, VarValue] = {"string": "", "bool": False, "int": 0, "tags": {}}
    return empty[kind]


def _substitute(value: object, values: Mapping[str, VarValue]) -> object:
    # Plain text replacement only: nothing in a playbook is ever evaluated as code.
    if isinstance(value, str):
        whole = WHOLE_REF.match(value)
        if whole:
            return values[whole.group(1)]
        return REF.sub(lambda m: str(values[m.group(1)]), value)
    if isinstance(value, dict):
        return {k: _substitute(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, values) for v in value]
    return value


def instantiate(playbook: Playbook, values: Mapping[str, VarValue]) -> list[AnyStep]:
    """The steps to run, in order, with variables substituted and ``when`` conditions applied."""
    return [
        _build(playbook, spec, values)
        for spec in playbook.steps
        if spec.when is None or values[spec.when.var] in spec.when.values
    ]


def _build(
    playbook: Playbook, spec: StepSpec, values: Mapping[str, VarValue], *, wildcards: bool = False
) -> AnyStep:
    """One step with variables substituted, each field checked (with ``wildcards``, a text
    holding ``*`` stands for any name and skips the name rules), and its parameters typed."""
    cls = registry()[spec.kind]
    given = {name: _substitute(value, values) for name, value in spec.params.items()}
    for name, fs in cls.fields.items():
        where = f"{playbook.path}: step {spec.id!r} ({spec.kind}): field 'with.{name}'"
        value = given.get(name, fs.default)
        if value is None and not fs.required:
            continue
        if wildcards and isinstance(value, str) and WILDCARD in value:
            continue
        try:
            check_value(where, fs.type, value, fs.format, ())
        except PlaybookError as exc:
            raise InputError(exc.message) from exc
    return cls(spec.id, cls.parameters(**given))


def policy_steps(
    playbook: Playbook, given: Mapping[str, object], *, administrative: bool = False
) -> list[AnyStep]:
    """The steps whose grants make ``playbook``'s least-privilege policy for a run with the
    variables ``given`` (``--var``): the operator's, or with ``administrative`` the
    administrator's (Step.administrative). Steps that act as the root user are never in it.

    A step counts when its ``when`` holds for the given values and the playbook's defaults, as
    the run decides: the policy grants what that run does, not what some other run might. For
    the administrative policy, written once for whatever runs follow, a ``when`` on a variable
    not given counts the step in.

    A required variable a counted step uses must be given (exit 2): the policy is scoped to the
    users and groups the run names. ``*`` given for a required text variable stands for any name,
    and only then; the caller says what that allows.
    """
    wild = {
        name
        for name, value in given.items()
        if value == WILDCARD
        and name in playbook.variables
        and playbook.variables[name].required
        and playbook.variables[name].type == "string"
    }
    values = _bind_given(playbook, {k: v for k, v in given.items() if k not in wild})
    values.update(dict.fromkeys(wild, WILDCARD))
    for name, var in playbook.variables.items():
        if name not in values and not var.required:
            values[name] = var.default if var.default is not None else _empty(var.type)
    kinds = registry()
    specs = [
        spec
        for spec in playbook.steps
        if kinds[spec.kind].administrative == administrative
        and not kinds[spec.kind].acts_as_root
        and _counted(spec, values, given, administrative=administrative)
    ]
    missing = sorted(
        name
        for name, var in playbook.variables.items()
        if var.required and name not in values and any(name in _uses(spec) for spec in specs)
    )
    if missing:
        what = ", ".join(repr(name) for name in missing)
        raise InputError(
            f"{playbook.path}: variable{'s' * (len(missing) != 1)} {what} "
            f"{'is' if len(missing) == 1 else 'are'} required: the policy is scoped to the "
            "IAM names a run uses",
            tip=" ".join(f"--var {name}=NAME" for name in missing)
            + f" (--var {missing[0]}='*' for any name, which grants it on every one)",
        )
    return [_build(playbook, spec, values, wildcards=True) for spec in specs]


def _counted(
    spec: StepSpec,
    values: Mapping[str, VarValue],
    given: Mapping[str, object],
    *,
    administrative: bool,
) -> bool:
    """Whether a run with ``values`` takes the step (see policy_steps)."""
    if spec.when is None:
        return True
    name = spec.when.var
    if name not in values or (administrative and name not in given):
        return True
    return values[name] in spec.when.values


def _uses(spec: StepSpec) -> set[str]:
    """The variables a step's fields and ``when`` refer to."""

    def refs(value: object) -> set[str]:
        if isinstance(value, str):
            return set(REF.findall(value))
        if isinstance(value, dict):
            return {r for v in value.values() for r in refs(v)}
        if isinstance(value, list):
            return {r for v in value for r in refs(v)}
        return set()

    used = refs(dict(spec.params))
    if spec.when is not None:
        used.add(spec.when.var)
    return used
