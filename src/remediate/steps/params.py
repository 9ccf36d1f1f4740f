"""Typed step parameters: each step kind's ``with:`` block is a frozen dataclass, and its fields
(their types, defaults and formats) are the one schema a playbook is checked against."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

FieldType = Literal["string", "bool", "tags", "int"]

# What a field's type says in a playbook: the schema's type for each Python type a field may have.
_FIELD_TYPES: dict[object, FieldType] = {
    str: "string",
    bool: "bool",
    int: "int",
    Mapping[str, str]: "tags",
}


@dataclass(frozen=True)
class FieldSpec:
    """One field of a step's ``with`` block, as the playbook loader checks it."""

    type: FieldType
    required: bool = True
    default: object = None
    format: str | None = None  # a name in remediate.core.validate.FORMATS


def param(*, format: str | None = None, default: Any = dataclasses.MISSING) -> Any:
    """A field of a ``with:`` dataclass: its value must have ``format`` (a name in
    remediate.core.validate.FORMATS); without ``default`` the playbook must give it."""
    metadata = {"format": format}
    if isinstance(default, dict):  # tags: a fresh mapping for every step
        return dataclasses.field(default_factory=lambda: dict(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class NoParams:
    """The ``with:`` block of a step kind that takes no parameters (left out, or ``{}``)."""


def schema(parameters: type[Any]) -> dict[str, FieldSpec]:
    """The fields of a ``with:`` dataclass as the playbook loader checks them: a field with a
    default is optional (``str | None = None``: one that may be left out)."""
    if not dataclasses.is_dataclass(parameters):
        raise TypeError(f"{parameters!r} is not a dataclass of step parameters")
    hints = typing.get_type_hints(parameters)
    specs = {}
    for f in dataclasses.fields(parameters):
        kind = _field_type(hints[f.name])
        if kind is None:
            raise TypeError(f"{parameters.__name__}.{f.name}: no playbook type for {hints[f.name]}")
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else None
        if f.default is not dataclasses.MISSING:
            default = f.default
        specs[f.name] = FieldSpec(kind, required, default, f.metadata.get("format"))
    return specs


def _field_type(hint: object) -> FieldType | None:
    """``str`` and ``str | None`` are text; ``Mapping[str, str]`` is tags."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        given = [a for a in typing.get_args(hint) if a is not type(None)]
        return _FIELD_TYPES.get(given[0]) if len(given) == 1 else None
    return _FIELD_TYPES.get(hint)
