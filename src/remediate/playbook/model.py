"""A playbook's schema and its validation: the document (name, variables, steps) checked
completely before any AWS call, every message naming the file, the step and the field."""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard, cast

from remediate.core import validate
from remediate.core.errors import InputError, PlaybookError
from remediate.steps.kind import registry
from remediate.steps.params import FieldSpec, FieldType

_SHOWN_CHARS = 60
# Unknown keys named in one message: a file may hold tens of thousands.
_SHOWN_KEYS = 10
VAR_TYPES: tuple[FieldType, ...] = typing.get_args(FieldType)
REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
WHOLE_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}\Z")
_ID = re.compile(r"[a-z][a-z0-9-]{0,62}\Z")
_TOP_KEYS = {"name", "description", "variables", "steps"}
_VAR_KEYS = {"type", "required", "default", "allowed", "format", "description"}
_STEP_KEYS = {"id", "kind", "with", "when", "description"}
_WHEN_KEYS = {"var", "in", "is"}

# A variable's value: text, true or false, an integer, or tags (keys to text).
VarValue = str | bool | int | Mapping[str, str]


@dataclass(frozen=True)
class Variable:
    name: str
    type: FieldType
    required: bool = False
    default: VarValue | None = None
    allowed: tuple[VarValue, ...] = ()
    format: str | None = None
    description: str = ""


@dataclass(frozen=True)
class When:
    """A step's condition: it runs when the variable ``var`` has one of ``values``."""

    var: str
    values: tuple[VarValue, ...]


@dataclass(frozen=True)
class StepSpec:
    """A step as the playbook writes it: its ``with:`` block before variables are substituted."""

    id: str
    kind: str
    params: Mapping[str, object]
    when: When | None = None
    description: str = ""


@dataclass(frozen=True)
class Playbook:
    name: str
    path: str
    description: str
    variables: Mapping[str, Variable]
    steps: tuple[StepSpec, ...] = field(default_factory=tuple)
    text: str = ""


def type_ok(kind: FieldType, value: object) -> TypeGuard[VarValue]:
    if kind == "string":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


TYPE_WORDS: dict[FieldType, str] = {
    "string": "a string",
    "bool": "true or false",
    "int": "an integer",
    "tags": "a mapping of tag keys to string values",
}


def shown(value: object) -> str:
    """A YAML value for an error message: a scalar quoted (cut short), anything else by its type.
    Never the repr() of a structure, which can be as large as the file."""
    if isinstance(value, str):
        return repr(value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "...")
    if value is None or isinstance(value, bool | int | float):
        text = repr(value)
        return text if len(text) <= _SHOWN_CHARS else f"a {len(text)}-digit number"
    return f"a {type(value).__name__}"


def check_value(
    where: str, kind: FieldType, value: object, fmt: str | None, allowed: tuple[VarValue, ...]
) -> VarValue:
    """``value`` when it has the type ``kind``, is one of ``allowed`` (if any) and has the
    format ``fmt``; a PlaybookError naming ``where`` otherwise."""
    if not type_ok(kind, value):
        raise PlaybookError(f"{where}: expected {TYPE_WORDS[kind]}, got {type(value).__name__}")
    checked = cast(VarValue, value)  # what type_ok found it is
    if allowed and checked not in allowed:
        raise PlaybookError(
            f"{where}: {shown(checked)} is not one of {', '.join(map(str, allowed))}"
        )
    try:
        if fmt is not None:
            # The formats are formats of text (names): a variable of another type has none.
            validate.FORMATS[fmt](cast(str, checked))
        if kind == "tags":
            validate.tags(cast(Mapping[str, str], checked))
    except InputError as exc:
        raise PlaybookError(f"{where}: {exc.message}") from exc
    return checked


def check_playbook(doc: object, path: str, text: str) -> Playbook:
    """The playbook a YAML document (already read) says, validated completely."""
    return _Validator(path).playbook(doc, text)


class _Validator:
    """Validates one playbook document; every message names the file, the step and the field."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, message: str) -> PlaybookError:
        return PlaybookError(f"{self.path}: {message}")

    def mapping(self, value: object, where: str) -> dict[str, Any]:
        """A YAML mapping, as read (its keys need not be text: unknown() names them)."""
        if not isinstance(value, dict):
            raise self.fail(f"{where}: expected a mapping, got {type(value).__name__}")
        return value

    def text(self, raw: Mapping[str, object], where: str, key: str = "description") -> str:
        # Never str() a YAML value: a tree of aliases renders in exponential time and memory.
        value = raw.get(key, "")
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(f"{where}: field {key!r}: expected text, got {type(value).__name__}")
        return value

    def unknown(self, given: Mapping[str, object], known: set[str], where: str) -> None:
        extra = [k for k in given if k not in known]
        if extra:
            names = sorted(k if isinstance(k, str) else shown(k) for k in extra[:_SHOWN_KEYS])
            more = f" and {len(extra) - _SHOWN_KEYS} more" if len(extra) > _SHOWN_KEYS else ""
            raise self.fail(
                f"{where}: unknown key{'s' * (len(extra) != 1)} {', '.join(names)}{more} "
                f"(valid: {', '.join(sorted(known))})"
            )

    def variable(self, name: object, raw: object) -> Variable:
        where = f"variable {shown(name)}"
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise self.fail(f"{where}: a variable name is letters, digits and _")
        spec = self.mapping(raw, where)
        self.unknown(spec, _VAR_KEYS, where)
        kind = spec.get("type", "string")
        if kind not in VAR_TYPES:
            raise self.fail(
                f"{where}: field 'type': {shown(kind)} is not one of {', '.join(VAR_TYPES)}"
            )
        fmt = spec.get("format")
        if fmt is not None and (not isinstance(fmt, str) or fmt not in validate.FORMATS):
            raise self.fail(
                f"{where}: field 'format': {shown(fmt)} is not one of {', '.join(validate.FORMATS)}"
            )
        allowed = spec.get("allowed", [])
        if not isinstance(allowed, list) or not all(type_ok(kind, a) for a in allowed):
            raise self.fail(f"{where}: field 'allowed': expected a list of {TYPE_WORDS[kind]}")
        required = spec.get("required", False)
        if not isinstance(required, bool):
            raise self.fail(f"{where}: field 'required': expected true or false")
        default = spec.get("default")
        if default is not None:
            try:
                default = check_value(f"{where}: field 'default'", kind, default, fmt, (*allowed,))
            except PlaybookError as exc:
                raise self.fail(exc.message) from exc
        if required and default is not None:
            raise self.fail(f"{where}: a required variable takes no default")
        return Variable(name, kind, required, default, (*allowed,), fmt, self.text(spec, where))

    def step(
        self, index: int, raw: object, variables: Mapping[str, Variable], seen: set[str]
    ) -> StepSpec:
        kinds = registry()
        spec = self.mapping(raw, f"step {index + 1}")
        step_id = spec.get("id")
        if not isinstance(step_id, str) or not _ID.match(step_id):
            raise self.fail(
                f"step {index + 1}: field 'id': expected a lower-case id like 'admin-group'"
            )
        where = f"step {step_id!r}"
        if step_id in seen:
            raise self.fail(f"{where}: field 'id': the id is used twice")
        seen.add(step_id)
        self.unknown(spec, _STEP_KEYS, where)
        kind = spec.get("kind")
        if not isinstance(kind, str) or kind not in kinds:
            raise self.fail(
                f"{where}: field 'kind': unknown step kind {shown(kind)} "
                f"(valid: {', '.join(sorted(kinds))})"
            )
        cls = kinds[kind]
        params = self.mapping(spec.get("with", {}), f"{where}: field 'with'")
        self.unknown(params, set(cls.fields), f"{where} ({kind}): field 'with'")
        for name, fs in cls.fields.items():
            if name not in params:
                if fs.required:
                    raise self.fail(f"{where} ({kind}): field 'with.{name}' is required")
                continue
            self.field(f"{where} ({kind}): field 'with.{name}'", fs, params[name], variables)
        when = spec.get("when")
        condition = (
            None if when is None else self.condition(f"{where}: field 'when'", when, variables)
        )
        return StepSpec(step_id, kind, params, condition, self.text(spec, where))

    def field(
        self, where: str, spec: FieldSpec, value: object, variables: Mapping[str, Variable]
    ) -> None:
        if isinstance(value, str):
            whole = WHOLE_REF.match(value)
            refs = REF.findall(value)
            for ref in refs:
                if ref not in variables:
                    raise self.fail(f"{where}: unknown variable ${{{ref}}}")
            if whole:
                var = variables[whole.group(1)]
                if var.type != spec.type:
                    raise self.fail(
                        f"{where}: variable ${{{var.name}}} is {var.type}, the field takes "
                        f"{TYPE_WORDS[spec.type]}"
                    )
                return
            if refs:
                if spec.type != "string":
                    raise self.fail(f"{where}: expected {TYPE_WORDS[spec.type]}")
                bad = [r for r in refs if variables[r].type != "string"]
                if bad:
                    raise self.fail(f"{where}: only string variables can be embedded in text")
                return
        try:
            check_value(where, spec.type, value, spec.format, ())
        except PlaybookError as exc:
            raise self.fail(exc.message) from exc

    def condition(self, where: str, raw: object, variables: Mapping[str, Variable]) -> When:
        spec = self.mapping(raw, where)
        self.unknown(spec, _WHEN_KEYS, where)
        name = spec.get("var")
        if not isinstance(name, str) or name not in variables:
            raise self.fail(f"{where}: field 'var': unknown variable {shown(name)}")
        if ("in" in spec) == ("is" in spec):
            raise self.fail(f"{where}: give exactly one of 'in' (a list) or 'is' (a value)")
        values = spec["in"] if "in" in spec else [spec["is"]]
        kind = variables[name].type
        if not isinstance(values, list) or not all(type_ok(kind, v) for v in values):
            raise self.fail(f"{where}: values must be {TYPE_WORDS[kind]}")
        return When(name, tuple(values))

    def playbook(self, doc: object, text: str) -> Playbook:
        if doc is None:
            raise self.fail("the playbook is empty")
        top = self.mapping(doc, "the playbook")
        self.unknown(top, _TOP_KEYS, "the playbook")
        name = top.get("name")
        if not isinstance(name, str) or not _ID.match(name):
            raise self.fail("field 'name': expected a lower-case name like 'root-use'")
        raw_vars = self.mapping(top.get("variables", {}) or {}, "field 'variables'")
        variables = {str(k): self.variable(k, v) for k, v in raw_vars.items()}
        raw_steps = top.get("steps")
        if not isinstance(raw_steps, list) or not raw_steps:
            raise self.fail("field 'steps': expected a non-empty list of steps")
        seen: set[str] = set()
        steps = tuple(self.step(i, s, variables, seen) for i, s in enumerate(raw_steps))
        description = self.text(top, "the playbook")
        return Playbook(name, self.path, description, variables, steps, text)
