"""Loading a playbook: a shipped one by name, or a file within a size limit; its YAML read
without aliases, deep nesting or too many values (remediate.playbook.model validates the rest)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from remediate.core.errors import PlaybookError
from remediate.core.files import read_limited
from remediate.playbook.model import Playbook, check_playbook

MAX_PLAYBOOK_BYTES = 256 * 1024
# A playbook is five levels deep (playbook, steps, step, with, tags); far deeper is an attack on
# the loader, whose composer recurses once per level.
MAX_NESTING = 32
# The shipped root-use playbook holds about 220 values (keys, scalars, lists, mappings); 40,000
# cost the loader and the checks a second or more, for nothing a playbook needs.
MAX_VALUES = 10_000


def shipped_dir() -> Traversable:
    """The shipped playbooks (installed with the package as ``remediate.playbooks``)."""
    return resources.files("remediate.playbooks")


def shipped_names() -> list[str]:
    return sorted(p.name[:-5] for p in shipped_dir().iterdir() if p.name.endswith(".yaml"))


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
    """The playbook ``text`` holds (read from ``path``), validated completely."""
    import yaml

    try:
        doc = _parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise PlaybookError(f"{path}: not valid YAML{line}: {problem}") from exc
    except ValueError as exc:
        # A scalar YAML resolves but Python cannot build: a 5,000-digit integer, 2024-13-45.
        raise PlaybookError(
            f"{path}: not valid YAML: a value cannot be read ({type(exc).__name__})"
        ) from exc
    return check_playbook(doc, path, text)


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
