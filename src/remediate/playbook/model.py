"""Load and validate a playbook completely before any AWS call; substitute variables safely."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from remediate.core.errors import InputError, PlaybookError
from remediate.core.files import read_limited
from remediate.steps.base import AnyStep, FieldSpec, registry

MAX_PLAYBOOK_BYTES = 256 * 1024
# A playbook is five levels deep (playbook, steps, step, with, tags); far deeper is an attack on
# the loader, whose composer recurses once per level.
MAX_NESTING = 32
# The shipped root-use playbook holds about 220 values (keys, scalars, lists, mappings); 40,000
# cost the loader and the checks a second or more, for nothing a playbook needs.
MAX_VALUES = 10_000
_SHOWN_CHARS = 60
# Unknown keys named in one message: a file may hold tens of thousands.
_SHOWN_KEYS = 10
VAR_TYPES = ("string", "bool", "int", "tags")
_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_WHOLE_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}\Z")
_ID = re.compile(r"[a-z][a-z0-9-]{0,62}\Z")
_TOP_KEYS = {"name", "description", "variables", "steps"}
_VAR_KEYS = {"type", "required", "default", "allowed", "format", "description"}
_STEP_KEYS = {"id", "kind", "with", "when", "description"}
_WHEN_KEYS = {"var", "in", "is"}


@dataclass(frozen=True)
class Variable:
    name: str
    type: str
    required: bool = False
    default: Any = None
    allowed: tuple[Any, ...] = ()
    format: str | None = None
    description: str = ""


@dataclass(frozen=True)
class StepSpec:
    id: str
    kind: str
    params: Mapping[str, Any]
    when: Mapping[str, Any] | None = None
    description: str = ""


@dataclass(frozen=True)
class Playbook:
    name: str
    path: str
    description: str
    variables: Mapping[str, Variable]
    steps: tuple[StepSpec, ...] = field(default_factory=tuple)
    text: str = ""


def shipped_dir() -> Any:
    """The shipped playbooks (installed with the package as ``remediate.playbooks``)."""
    return resources.files("remediate.playbooks")


def shipped_names() -> list[str]:
    return sorted(p.name[:-5] for p in shipped_dir().iterdir() if p.name.endswith(".yaml"))


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "tags":
        return isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        )
    return False


_TYPE_WORDS = {
    "string": "a string",
    "bool": "true or false",
    "int": "an integer",
    "tags": "a mapping of tag keys to string values",
}


def _shown(value: Any) -> str:
    """A YAML value for an error message: a scalar quoted (cut short), anything else by its type.
    Never the repr() of a structure, which can be as large as the file."""
    if isinstance(value, str):
        return repr(value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "...")
    if value is None or isinstance(value, bool | int | float):
        text = repr(value)
        return text if len(text) <= _SHOWN_CHARS else f"a {len(text)}-digit number"
    return f"a {type(value).__name__}"


def _check_value(
    where: str, kind: str, value: Any, fmt: str | None, allowed: tuple[Any, ...]
) -> Any:
    from remediate.core import validate

    if not _type_ok(kind, value):
        raise PlaybookError(f"{where}: expected {_TYPE_WORDS[kind]}, got {type(value).__name__}")
    if allowed and value not in allowed:
        raise PlaybookError(
            f"{where}: {_shown(value)} is not one of {', '.join(map(str, allowed))}"
        )
    try:
        if fmt is not None:
            validate.FORMATS[fmt](value)
        if kind == "tags":
            validate.tags(value)
    except InputError as exc:
        raise PlaybookError(f"{where}: {exc.message}") from exc
    return value


class _Loader:
    """Validates one playbook document; every message names the file, the step and the field."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, message: str) -> PlaybookError:
        return PlaybookError(f"{self.path}: {message}")

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(f"{where}: expected a mapping, got {type(value).__name__}")
        return value

    def text(self, raw: Mapping[str, Any], where: str, key: str = "description") -> str:
        # Never str() a YAML value: a tree of aliases renders in exponential time and memory.
        value = raw.get(key, "")
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(f"{where}: field {key!r}: expected text, got {type(value).__name__}")
        return value

    def unknown(self, given: Mapping[str, Any], known: set[str], where: str) -> None:
        extra = [k for k in given if k not in known]
        if extra:
            shown = sorted(k if isinstance(k, str) else _shown(k) for k in extra[:_SHOWN_KEYS])
            more = f" and {len(extra) - _SHOWN_KEYS} more" if len(extra) > _SHOWN_KEYS else ""
            raise self.fail(
                f"{where}: unknown key{'s' * (len(extra) != 1)} {', '.join(shown)}{more} "
                f"(valid: {', '.join(sorted(known))})"
            )

    def variable(self, name: Any, spec: Any) -> Variable:
        from remediate.core import validate

        where = f"variable {_shown(name)}"
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise self.fail(f"{where}: a variable name is letters, digits and _")
        spec = self.mapping(spec, where)
        self.unknown(spec, _VAR_KEYS, where)
        kind = spec.get("type", "string")
        if kind not in VAR_TYPES:
            raise self.fail(
                f"{where}: field 'type': {_shown(kind)} is not one of {', '.join(VAR_TYPES)}"
            )
        fmt = spec.get("format")
        if fmt is not None and (not isinstance(fmt, str) or fmt not in validate.FORMATS):
            raise self.fail(
                f"{where}: field 'format': {_shown(fmt)} is not one of "
                f"{', '.join(validate.FORMATS)}"
            )
        allowed = spec.get("allowed", [])
        if not isinstance(allowed, list) or not all(_type_ok(kind, a) for a in allowed):
            raise self.fail(f"{where}: field 'allowed': expected a list of {_TYPE_WORDS[kind]}")
        required = spec.get("required", False)
        if not isinstance(required, bool):
            raise self.fail(f"{where}: field 'required': expected true or false")
        default = spec.get("default")
        if default is not None:
            try:
                _check_value(f"{where}: field 'default'", kind, default, fmt, tuple(allowed))
            except PlaybookError as exc:
                raise self.fail(exc.message) from exc
        if required and default is not None:
            raise self.fail(f"{where}: a required variable takes no default")
        return Variable(name, kind, required, default, tuple(allowed), fmt, self.text(spec, where))

    def step(
        self, index: int, raw: Any, variables: Mapping[str, Variable], seen: set[str]
    ) -> StepSpec:
        kinds = registry()
        raw = self.mapping(raw, f"step {index + 1}")
        step_id = raw.get("id")
        if not isinstance(step_id, str) or not _ID.match(step_id):
            raise self.fail(
                f"step {index + 1}: field 'id': expected a lower-case id like 'admin-group'"
            )
        where = f"step {step_id!r}"
        if step_id in seen:
            raise self.fail(f"{where}: field 'id': the id is used twice")
        seen.add(step_id)
        self.unknown(raw, _STEP_KEYS, where)
        kind = raw.get("kind")
        if not isinstance(kind, str) or kind not in kinds:
            raise self.fail(
                f"{where}: field 'kind': unknown step kind {_shown(kind)} "
                f"(valid: {', '.join(sorted(kinds))})"
            )
        cls = kinds[kind]
        params = self.mapping(raw.get("with", {}), f"{where}: field 'with'")
        self.unknown(params, set(cls.fields), f"{where} ({kind}): field 'with'")
        for name, spec in cls.fields.items():
            if name not in params:
                if spec.required:
                    raise self.fail(f"{where} ({kind}): field 'with.{name}' is required")
                continue
            self.field(f"{where} ({kind}): field 'with.{name}'", spec, params[name], variables)
        when = raw.get("when")
        if when is not None:
            when = self.condition(f"{where}: field 'when'", when, variables)
        return StepSpec(step_id, kind, params, when, self.text(raw, where))

    def field(
        self, where: str, spec: FieldSpec, value: Any, variables: Mapping[str, Variable]
    ) -> None:
        if isinstance(value, str):
            whole = _WHOLE_REF.match(value)
            refs = _REF.findall(value)
            for ref in refs:
                if ref not in variables:
                    raise self.fail(f"{where}: unknown variable ${{{ref}}}")
            if whole:
                var = variables[whole.group(1)]
                if var.type != spec.type:
                    raise self.fail(
                        f"{where}: variable ${{{var.name}}} is {var.type}, the field takes "
                        f"{_TYPE_WORDS[spec.type]}"
                    )
                return
            if refs:
                if spec.type != "string":
                    raise self.fail(f"{where}: expected {_TYPE_WORDS[spec.type]}")
                bad = [r for r in refs if variables[r].type != "string"]
                if bad:
                    raise self.fail(f"{where}: only string variables can be embedded in text")
                return
        try:
            _check_value(where, spec.type, value, spec.format, spec.allowed)
        except PlaybookError as exc:
            raise self.fail(exc.message) from exc

    def condition(self, where: str, raw: Any, variables: Mapping[str, Variable]) -> dict[str, Any]:
        raw = self.mapping(raw, where)
        self.unknown(raw, _WHEN_KEYS, where)
        name = raw.get("var")
        if not isinstance(name, str) or name not in variables:
            raise self.fail(f"{where}: field 'var': unknown variable {_shown(name)}")
        if ("in" in raw) == ("is" in raw):
            raise self.fail(f"{where}: give exactly one of 'in' (a list) or 'is' (a value)")
        values = raw["in"] if "in" in raw else [raw["is"]]
        if not isinstance(values, list) or not all(
            _type_ok(variables[name].type, v) for v in values
        ):
            raise self.fail(f"{where}: values must be {_TYPE_WORDS[variables[name].type]}")
        return {"var": name, "in": values}

    def load(self, text: str) -> Playbook:
        import yaml

        try:
            doc = _parse_yaml(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" at line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or "malformed YAML"
            raise self.fail(f"not valid YAML{line}: {problem}") from exc
        except ValueError as exc:
            # A scalar YAML resolves but Python cannot build: a 5,000-digit integer, 2024-13-45.
            raise self.fail(
                f"not valid YAML: a value cannot be read ({type(exc).__name__})"
            ) from exc
        if doc is None:
            raise self.fail("the playbook is empty")
        doc = self.mapping(doc, "the playbook")
        self.unknown(doc, _TOP_KEYS, "the playbook")
        name = doc.get("name")
        if not isinstance(name, str) or not _ID.match(name):
            raise self.fail("field 'name': expected a lower-case name like 'root-use'")
        raw_vars = self.mapping(doc.get("variables", {}) or {}, "field 'variables'")
        variables = {str(k): self.variable(k, v) for k, v in raw_vars.items()}
        raw_steps = doc.get("steps")
        if not isinstance(raw_steps, list) or not raw_steps:
            raise self.fail("field 'steps': expected a non-empty list of steps")
        seen: set[str] = set()
        steps = tuple(self.step(i, s, variables, seen) for i, s in enumerate(raw_steps))
        description = self.text(doc, "the playbook")
        return Playbook(name, self.path, description, variables, steps, text)


def _parse_yaml(text: str) -> Any:
    """The YAML document, read by libyaml when it is there: PyYAML's pure-Python reader takes
    seconds for a 256 KiB file, and every malformed playbook must end within a second.

    A first pass over libyaml's event stream refuses aliases and deep nesting before anything is
    built (see _yaml_loader for why); only then does libyaml compose the document.
    """
    import yaml

    c_loader = getattr(yaml, "CSafeLoader", None)
    if c_loader is None:
        return yaml.load(text, Loader=_yaml_loader())  # noqa: S506 (a SafeLoader, stricter)
    try:
        _check_events(yaml.parse(text, Loader=c_loader))
    except yaml.MarkedYAMLError as exc:
        # libyaml's own nesting limit (1,000) may strike first: its scanner reads ahead.
        if "nesting depth" in str(exc.problem):
            raise yaml.composer.ComposerError(None, None, _TOO_DEEP, exc.problem_mark) from exc
        raise
    return yaml.load(text, Loader=c_loader)  # noqa: S506 (CSafeLoader, the C SafeLoader)


def _check_events(events: Iterable[Any]) -> None:
    import yaml

    depth = values = 0
    for event in events:
        if isinstance(event, yaml.AliasEvent):
            raise _refused(_ALIASES, event)
        if isinstance(event, yaml.NodeEvent):
            values += 1
            if values > MAX_VALUES:
                raise _refused(_TOO_MANY, event)
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                raise _refused(_TOO_DEEP, event)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


_ALIASES = "aliases (*name) are not allowed in a playbook"
_TOO_DEEP = f"nested more than {MAX_NESTING} levels deep"
_TOO_MANY = f"more than {MAX_VALUES} values (keys, items and scalars)"


def _refused(problem: str, event: Any) -> Exception:
    from yaml.composer import ComposerError

    return ComposerError(None, None, problem, event.start_mark)


@functools.cache
def _yaml_loader() -> type[Any]:
    """PyYAML's pure-Python SafeLoader (when libyaml is absent), refusing aliases and deep nesting.

    An alias repeats a node anywhere: 590 bytes of nested aliases expand to billions of nodes
    (a "billion laughs"), and no playbook needs one. Each level of nesting is a recursive call
    in the composer: 20,000 levels exhaust Python's stack.
    """
    import yaml

    class PlaybookLoader(yaml.SafeLoader):
        depth = values = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                raise _refused(_ALIASES, self.peek_event())  # type: ignore[no-untyped-call]
            self.values += 1
            if self.values > MAX_VALUES:
                raise _refused(_TOO_MANY, self.peek_event())  # type: ignore[no-untyped-call]
            if self.depth >= MAX_NESTING:
                raise _refused(_TOO_DEEP, self.peek_event())  # type: ignore[no-untyped-call]
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return PlaybookLoader


def load_text(text: str, path: str) -> Playbook:
    return _Loader(path).load(text)


def load_playbook(ref: str) -> Playbook:
    """A playbook by shipped NAME (``root-use``) or by PATH to a YAML file."""
    if "/" not in ref and not ref.endswith((".yaml", ".yml")):
        candidate = shipped_dir() / f"{ref}.yaml"
        if not candidate.is_file():
            raise PlaybookError(
                f"no shipped playbook named {ref!r} (shipped: {', '.join(shipped_names())})",
                tip="give a path to a YAML file to run your own playbook",
            )
        return load_text(candidate.read_text(encoding="utf-8"), f"playbooks/{ref}.yaml")
    content = read_limited(ref, MAX_PLAYBOOK_BYTES, what="playbook", error=PlaybookError)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PlaybookError(f"{ref}: not UTF-8 text") from exc
    return load_text(text, ref)


def _convert(var: Variable, text: str) -> Any:
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
        from remediate.core import validate

        pairs = [validate.key_value(p, f"--var {var.name}") for p in text.split(",") if p]
        return dict(pairs)
    return text


def _bind_given(playbook: Playbook, given: Mapping[str, Any]) -> dict[str, Any]:
    """The given variable values (text from --var, or typed), converted and validated."""
    unknown = sorted(set(given) - set(playbook.variables))
    if unknown:
        raise InputError(
            f"{playbook.path}: unknown variable{'s' * (len(unknown) != 1)} "
            f"{', '.join(unknown)} "
            f"(valid: {', '.join(sorted(playbook.variables)) or 'none'})"
        )
    values: dict[str, Any] = {}
    for name, var in playbook.variables.items():
        if name not in given:
            continue
        value = given[name]
        if isinstance(value, str) and var.type != "string":
            value = _convert(var, value)
        try:
            values[name] = _check_value(
                f"variable {name!r}", var.type, value, var.format, var.allowed
            )
        except PlaybookError as exc:
            raise InputError(f"{playbook.path}: {exc.message}") from exc
    return values


def bind(playbook: Playbook, given: Mapping[str, Any]) -> dict[str, Any]:
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
        else:
            values[name] = var.default if var.default is not None else _empty(var.type)
    return values


def _empty(kind: str) -> Any:
    return {"string": "", "bool": False, "int": 0, "tags": {}}[kind]


def _substitute(value: Any, values: Mapping[str, Any]) -> Any:
    # Plain text replacement only: nothing in a playbook is ever evaluated as code.
    if isinstance(value, str):
        whole = _WHOLE_REF.match(value)
        if whole:
            return values[whole.group(1)]
        return _REF.sub(lambda m: str(values[m.group(1)]), value)
    if isinstance(value, dict):
        return {k: _substitute(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, values) for v in value]
    return value


def instantiate(playbook: Playbook, values: Mapping[str, Any]) -> list[AnyStep]:
    """The steps to run, in order, with variables substituted and ``when`` conditions applied."""
    return [
        _build(playbook, spec, values)
        for spec in playbook.steps
        if spec.when is None or values[spec.when["var"]] in spec.when["in"]
    ]


def _build(
    playbook: Playbook, spec: StepSpec, values: Mapping[str, Any], *, wildcards: bool = False
) -> AnyStep:
    """One step with variables substituted, each field checked (with ``wildcards``, a text
    holding ``*`` stands for any name and skips the name rules)."""
    cls = registry()[spec.kind]
    params = {
        name: _substitute(spec.params[name], values) if name in spec.params else fs.default
        for name, fs in cls.fields.items()
    }
    for name, fs in cls.fields.items():
        where = f"{playbook.path}: step {spec.id!r} ({spec.kind}): field 'with.{name}'"
        value = params[name]
        if value is None and not fs.required:
            continue
        if wildcards and isinstance(value, str) and WILDCARD in value:
            continue
        try:
            _check_value(where, fs.type, value, fs.format, fs.allowed)
        except PlaybookError as exc:
            raise InputError(exc.message) from exc
    return cls(spec.id, params)


WILDCARD = "*"


def policy_steps(
    playbook: Playbook, given: Mapping[str, Any], *, administrative: bool = False
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
    spec: StepSpec, values: Mapping[str, Any], given: Mapping[str, Any], *, administrative: bool
) -> bool:
    """Whether a run with ``values`` takes the step (see policy_steps)."""
    if spec.when is None:
        return True
    name = spec.when["var"]
    if name not in values or (administrative and name not in given):
        return True
    return bool(values[name] in spec.when["in"])


def _uses(spec: StepSpec) -> set[str]:
    """The variables a step's fields and ``when`` refer to."""

    def refs(value: Any) -> set[str]:
        if isinstance(value, str):
            return set(_REF.findall(value))
        if isinstance(value, dict):
            return {r for v in value.values() for r in refs(v)}
        if isinstance(value, list):
            return {r for v in value for r in refs(v)}
        return set()

    used = refs(dict(spec.params))
    if spec.when is not None:
        used.add(spec.when["var"])
    return used
