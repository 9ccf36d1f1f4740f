"""Pure tests of playbook loading, validation, binding and substitution (no AWS, no server)."""

from __future__ import annotations

import inspect
import re
import textwrap
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from remediate.core.errors import EXIT_INPUT, InputError, PlaybookError
from remediate.playbook.binding import _substitute, bind, instantiate
from remediate.playbook.loading import (
    MAX_NESTING,
    MAX_PLAYBOOK_BYTES,
    MAX_VALUES,
    load_playbook,
    load_text,
    shipped_names,
)
from remediate.playbook.model import When
from remediate.steps.kind import registry

FILE = "custom.yaml"

# A small valid playbook; the tests below break one thing at a time.
BASE = """\
name: sample
variables:
  user: {type: string, required: true, format: iam-user-name}
  group: {type: string, default: Staff, format: iam-group-name}
  access: {type: string, default: console, allowed: [console, programmatic, both]}
  tags: {type: tags, default: {}}
  mfa: {type: bool, default: false}
steps:
  - id: group
    kind: iam-group
    with: {group: "${group}"}
  - id: user
    kind: iam-user
    with: {user: "${user}", tags: "${tags}"}
  - id: console
    kind: login-profile
    when: {var: access, in: [console, both]}
    with: {user: "${user}"}
  - id: keys
    kind: access-key
    when: {var: access, in: [programmatic, both]}
    with: {user: "${user}"}
"""


def load(text: str) -> object:
    return load_text(textwrap.dedent(text), FILE)


def load_error(text: str) -> str:
    """The message of the PlaybookError that loading ``text`` raises (always exit 2)."""
    with pytest.raises(PlaybookError) as info:
        load(text)
    assert info.value.exit_code == EXIT_INPUT
    assert info.value.message.startswith(f"{FILE}: "), info.value.message
    return info.value.message


def one_step(step: str, variables: str = "") -> str:
    """A playbook holding one step (YAML text, indented as a list item)."""
    head = "name: one\n"
    if variables:
        head += "variables:\n" + textwrap.indent(textwrap.dedent(variables), "  ")
    return head + "steps:\n" + textwrap.indent(textwrap.dedent(step), "  ")


# --- the shipped playbooks ------------------------------------------------------------------


def test_both_playbooks_ship_and_load() -> None:
    assert {"root-use", "onboard-user"} <= set(shipped_names())
    root = load_playbook("root-use")
    assert root.name == "root-use"
    assert [s.kind for s in root.steps] == [
        # An administrator's (its grants are never the operator's), first: a caller who may not
        # write the self-service MFA policy stops before anything is changed.
        "mfa-self-service-policy",
        "iam-group",
        "group-managed-policy",
        "iam-user",
        "login-profile",
        "access-key",
        "virtual-mfa",
        "mfa-self-service",
        # Privilege last: the membership that grants power once console access and MFA exist.
        "group-membership",
        "root-access-keys-deleted",
    ]
    assert root.steps[-2].params["privileged"] is True
    # Root's own keys go last, and only when asked for (--delete-root-keys).
    assert root.steps[-1].when == When("delete_root_keys", (True,))
    assert root.variables["delete_root_keys"].default is False
    assert root.variables["user"].required
    assert root.variables["group"].default == "Administrators"
    assert root.variables["policy"].default == "AdministratorAccess"
    assert root.steps[0].when == root.steps[-3].when == When("mfa_self_service", (True,))
    onboard = load_playbook("onboard-user")
    assert onboard.name == "onboard-user"
    assert onboard.steps[0].kind == "mfa-self-service-policy"
    assert onboard.steps[1].kind == "iam-group"
    assert onboard.steps[1].params["existing"] is True  # never creates the group
    assert onboard.variables["group"].required
    assert "group-managed-policy" not in {s.kind for s in onboard.steps}
    assert [s.kind for s in onboard.steps][-3:] == [
        "virtual-mfa",
        "mfa-self-service",
        "group-membership",
    ]


def test_the_root_credentials_playbooks_ship_and_load() -> None:
    centralize = load_playbook("root-credentials-centralize")
    assert [s.kind for s in centralize.steps] == [
        "organizations-trusted-access",
        "organizations-root-credentials-management",
        "organizations-root-sessions",
    ]
    assert centralize.steps[0].params == {"service_principal": "iam.amazonaws.com"}
    delete = load_playbook("root-credentials-delete")
    # Keys after certificates: a run signed with root's own key deletes it after all it can do.
    # MFA last, as it guards the password until it is gone.
    assert [s.kind for s in delete.steps] == [
        "root-signing-certificates-deleted",
        "root-access-keys-deleted",
        "root-login-profile-deleted",
        "root-mfa-devices-deactivated",
    ]
    assert not delete.variables


def test_shipped_playbook_instantiates_per_access_choice() -> None:
    root = load_playbook("root-use")
    ids = {
        access: [s.id for s in instantiate(root, bind(root, {"user": "alice", "access": access}))]
        for access in ("console", "programmatic", "both")
    }
    assert "console-access" in ids["console"]
    assert "programmatic-access" not in ids["console"]
    assert "console-access" not in ids["programmatic"]
    assert {"console-access", "programmatic-access", "mfa"} <= set(ids["both"])
    steps = instantiate(root, bind(root, {"user": "alice", "mfa": False}))
    assert "mfa" not in [s.id for s in steps]
    assert all(getattr(s.args, "user", "alice") == "alice" for s in steps)


def test_unknown_shipped_name_lists_the_shipped_ones() -> None:
    with pytest.raises(PlaybookError, match=r"no shipped playbook named 'nope'.*root-use"):
        load_playbook("nope")


# --- validation: every message names the file, the step and the field ------------------------


def test_the_base_playbook_is_valid() -> None:
    book = load(BASE)
    assert [s.id for s in book.steps] == ["group", "user", "console", "keys"]


def test_unknown_step_kind_lists_the_valid_kinds() -> None:
    message = load_error(BASE.replace("kind: iam-group", "kind: iam-grup"))
    assert "step 'group'" in message
    assert "field 'kind'" in message
    assert "'iam-grup'" in message
    for kind in registry():
        assert kind in message


@pytest.mark.parametrize("kind", ["[iam-group]", "{a: 1}", "null", "3"])
def test_a_kind_that_is_not_a_name_is_a_playbook_error(kind: str) -> None:
    message = load_error(BASE.replace("kind: iam-group", f"kind: {kind}"))
    assert "step 'group'" in message
    assert "field 'kind'" in message


def test_unknown_variable_reference() -> None:
    message = load_error(BASE.replace('group: "${group}"', 'group: "${nope}"'))
    assert "step 'group' (iam-group)" in message
    assert "field 'with.group'" in message
    assert "unknown variable ${nope}" in message


def test_unknown_variable_embedded_in_text() -> None:
    message = load_error(BASE.replace('user: "${user}", tags', 'user: "adm-${who}", tags'))
    assert "step 'user' (iam-user): field 'with.user': unknown variable ${who}" in message


def test_missing_required_with_field() -> None:
    message = load_error(BASE.replace('with: {group: "${group}"}', "with: {}"))
    assert "step 'group' (iam-group): field 'with.group' is required" in message


def test_tags_given_as_a_list() -> None:
    message = load_error(
        BASE.replace('tags: "${tags}"', "tags: [Team=a]"),
    )
    assert "step 'user' (iam-user): field 'with.tags'" in message
    assert "expected a mapping of tag keys to string values, got list" in message


def test_bool_field_given_a_string() -> None:
    message = load_error(
        BASE.replace('with: {group: "${group}"}', 'with: {group: g, existing: "no"}')
    )
    assert "step 'group' (iam-group): field 'with.existing'" in message
    assert "expected true or false, got str" in message


def test_variable_of_the_wrong_type_for_the_field() -> None:
    message = load_error(BASE.replace('with: {group: "${group}"}', 'with: {group: "${mfa}"}'))
    assert "field 'with.group'" in message
    assert "variable ${mfa} is bool" in message


def test_only_string_variables_embed_in_text() -> None:
    message = load_error(BASE.replace('with: {group: "${group}"}', 'with: {group: "g-${mfa}"}'))
    assert "field 'with.group'" in message
    assert "only string variables can be embedded" in message


def test_literal_value_is_checked_against_the_field_format() -> None:
    message = load_error(BASE.replace('with: {group: "${group}"}', 'with: {group: "a b"}'))
    assert "step 'group' (iam-group): field 'with.group'" in message
    assert "invalid IAM group name 'a b'" in message


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("name: sample\n", "name: sample\nauthor: me\n", "the playbook: unknown key author"),
        ("    kind: iam-user\n", "    kind: iam-user\n    wiht: {}\n", "step 'user': unknown key"),
        (
            "  mfa: {type: bool, default: false}",
            "  mfa: {type: bool, defualt: false}",
            "variable 'mfa': unknown key defualt",
        ),
        (
            'with: {user: "${user}", tags',
            'with: {usr: "${user}", user: "${user}", tags',
            "step 'user' (iam-user): field 'with': unknown key usr",
        ),
    ],
    ids=["top-level", "step", "variable", "with"],
)
def test_unknown_keys(old: str, new: str, where: str) -> None:
    assert old in BASE
    message = load_error(BASE.replace(old, new))
    assert where in message
    assert "valid:" in message


def test_malformed_yaml_names_the_line() -> None:
    message = load_error("name: x\nsteps: [\n  - id: a\n")
    assert "not valid YAML at line" in message


@pytest.mark.parametrize("text", ["", "\n# only a comment\n"])
def test_empty(text: str) -> None:
    assert "the playbook is empty" in load_error(text)


@pytest.mark.parametrize("text", ["- a list\n", "just text\n"])
def test_not_a_mapping(text: str) -> None:
    assert "the playbook: expected a mapping" in load_error(text)


@pytest.mark.parametrize(
    "text",
    ["name: x\n", "name: x\nsteps: []\n", "name: x\nsteps: {a: 1}\n"],
    ids=["missing", "empty", "mapping"],
)
def test_steps_must_be_a_non_empty_list(text: str) -> None:
    assert "field 'steps': expected a non-empty list" in load_error(text)


@pytest.mark.parametrize("name", ["Root Use", "", "null", "[a]"])
def test_playbook_name_must_be_an_id(name: str) -> None:
    assert "field 'name'" in load_error(BASE.replace("name: sample", f"name: {name}"))


def test_duplicate_step_id() -> None:
    message = load_error(BASE.replace("- id: keys", "- id: user"))
    assert "step 'user': field 'id': the id is used twice" in message


@pytest.mark.parametrize("step_id", ["Group", "1st", "a b", "null", "[a]"])
def test_bad_step_id_names_the_step_by_position(step_id: str) -> None:
    message = load_error(BASE.replace("- id: group", f"- id: {step_id}"))
    assert "step 1: field 'id'" in message


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("{var: nope, is: true}", "field 'var': unknown variable 'nope'"),
        ("{var: [access], is: x}", "field 'var': unknown variable"),
        ("{var: access, in: [console], is: console}", "give exactly one of 'in'"),
        ("{var: access}", "give exactly one of 'in'"),
        ("{var: mfa, is: yes-please}", "values must be true or false"),
        ("{var: access, in: console}", "values must be a string"),
        ("{var: access, is: console, else: x}", "unknown key else"),
        ("[access]", "expected a mapping, got list"),
    ],
)
def test_bad_when(when: str, expected: str) -> None:
    text = BASE.replace("when: {var: access, in: [console, both]}", f"when: {when}")
    message = load_error(text)
    assert "step 'console': field 'when'" in message
    assert expected in message


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("{type: bool, default: 'yes'}", "field 'default': expected true or false, got str"),
        ("{type: int, default: three}", "field 'default': expected an integer, got str"),
        ("{type: tags, default: [a]}", "field 'default': expected a mapping"),
        ("{type: string, default: 3}", "field 'default': expected a string, got int"),
        ("{type: string, allowed: [a, b], default: c}", "'c' is not one of a, b"),
        ("{format: iam-user-name, default: 'a b'}", "invalid IAM user name 'a b'"),
        ("{type: tags, default: {'aws:x': '1'}}", "the aws: prefix is reserved"),
        ("{type: float}", "field 'type': 'float' is not one of"),
        ("{format: email}", "field 'format': 'email' is not one of"),
        ("{format: [iam-user-name]}", "field 'format'"),
        ("{required: 'yes'}", "field 'required': expected true or false"),
        ("{allowed: a}", "field 'allowed': expected a list"),
        ("{type: int, allowed: [a]}", "field 'allowed': expected a list of an integer"),
        ("{required: true, default: x}", "a required variable takes no default"),
        ("[string]", "expected a mapping"),
    ],
)
def test_bad_variable_declarations(spec: str, expected: str) -> None:
    text = BASE.replace("variables:\n", f"variables:\n  extra: {spec}\n")
    message = load_error(text)
    assert "variable 'extra'" in message
    assert expected in message


def test_bad_variable_name() -> None:
    text = BASE.replace("variables:\n", "variables:\n  bad-name: {type: string}\n")
    assert "variable 'bad-name': a variable name is letters, digits and _" in load_error(text)


@pytest.mark.parametrize(
    "where",
    [
        "name: sample\ndescription: {a: 1}\n",
        "  - id: group\n    description: [a]\n",
        "variables:\n  extra: {type: string, description: {a: 1}}\n",
    ],
    ids=["playbook", "step", "variable"],
)
def test_descriptions_are_text(where: str) -> None:
    first = where.split("\n", 1)[0] + "\n"
    message = load_error(BASE.replace(first, where, 1))
    assert "field 'description': expected text" in message


def test_alias_bomb_in_a_description_is_refused() -> None:
    # Ten-fold aliases nine levels deep: str() of it would build a string of 10**9 "x"s.
    levels = ["a0: &a0 [" + ", ".join(["x"] * 10) + "]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    text = "name: bomb\ndescription: {" + ", ".join(levels) + "}\n" + BASE.split("\n", 1)[1]
    assert "line 2: aliases (*name) are not allowed in a playbook" in load_error(text)


def test_any_alias_is_refused_even_a_harmless_one() -> None:
    text = BASE.replace("  tags: {type: tags, default: {}}", "  tags: &t {type: tags}\n  t2: *t")
    assert "aliases (*name) are not allowed" in load_error(text)
    merged = BASE.replace("  mfa: {type: bool, default: false}", "  mfa: {<<: *t}")
    assert "not valid YAML" in load_error(merged)


# What these malformed playbooks cost (CPU time, under a second each) is measured by
# benchmarks/bench_playbook_load.py, which loads the same shapes: a test asserts no time.


def alias_bomb() -> bytes:
    """A 590-byte playbook whose description is nine levels of nine-fold aliases: 9**9 (387
    million) "lol"s once expanded."""
    levels = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    levels += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    text = "name: bomb\n" + "\n".join(levels) + "\ndescription: *a8\nsteps:\n"
    text += "  - {id: g, kind: iam-group, with: {group: g}}\n"
    return (text + "#" * (589 - len(text)) + "\n").encode()


@pytest.mark.parametrize(
    "command",
    [
        ("playbook", "show"),
        ("permissions",),
        ("playbook", "run", "--endpoint-url", "http://127.0.0.1:9", "--yes", "--playbook-file"),
    ],
    ids=["show", "permissions", "run"],
)
def test_alias_bomb_file_exits_2(cli: Any, tmp_path: Path, command: tuple[str, ...]) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_bytes(alias_bomb())
    assert path.stat().st_size == 590
    args = [a if a != "--playbook-file" else str(path) for a in command]
    if "--playbook-file" not in command:
        args.append(str(path))
    r = cli(*args)
    assert r.code == EXIT_INPUT, r.err
    assert "aliases (*name) are not allowed in a playbook" in r.err


def test_deeply_nested_file_exits_2(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("name: deep\nsteps: " + "[" * 20_000 + "]" * 20_000 + "\n")
    r = cli("playbook", "show", str(path))
    assert r.code == EXIT_INPUT, r.err
    assert "internal error" not in r.err
    assert f"nested more than {MAX_NESTING} levels deep" in r.err


# Big playbooks just under the size cap, each costing PyYAML's pure-Python loader 3 to 9 s (the
# same shapes are in benchmarks/bench_playbook_load.py).
BIG_PLAYBOOKS = {
    "unclosed list of 80,000 items": "name: x\nbad: [" + " 1," * 80_000 + "\n",
    "40,000 unknown keys under vars": "name: x\nvars: {"
    + ",".join(f"{i:x}" for i in range(40_000))
    + "}\nsteps: [{id: a, kind: iam-group, with: {group: g}}]\n",
    "40,000 unknown keys in a step's with": "name: x\nsteps: [{id: a, kind: iam-group, with: {"
    + ",".join(f"{i:x}" for i in range(40_000))
    + "}}]\n",
    "5,000 steps whose when is a string": "name: x\nsteps:\n"
    + "".join(f"- {{id: s{i:x}, kind: iam-user, when: x}}\n" for i in range(5_000)),
}


@pytest.mark.parametrize("text", BIG_PLAYBOOKS.values(), ids=BIG_PLAYBOOKS.keys())
def test_big_malformed_file_exits_2(cli: Any, tmp_path: Path, text: str) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(text)
    assert 190_000 < path.stat().st_size <= MAX_PLAYBOOK_BYTES
    r = cli("playbook", "show", str(path))
    assert r.code == EXIT_INPUT, r.err
    assert re.search(rf"{re.escape(str(path))}: not valid YAML at line \d+: more than", r.err)


def many_steps(count: int) -> str:
    """A valid playbook of ``count`` steps: 9 values each, 5 around them."""
    steps = "".join(
        f"- {{id: s{i}, kind: iam-group, with: {{group: g{i}}}}}\n" for i in range(count)
    )
    return "name: x\nsteps:\n" + steps


def test_values_are_limited_and_the_limit_leaves_room() -> None:
    # Just under the limit it loads (bench_playbook_load.py measures what that costs).
    steps = (MAX_VALUES - 5) // 9
    assert len(load(many_steps(steps)).steps) == steps  # type: ignore[attr-defined]
    message = load_error(many_steps(steps + 1))
    assert re.search(rf"line {steps + 3}: more than {MAX_VALUES} values", message), message


def test_unknown_keys_named_are_capped() -> None:
    keys = ",".join(f"k{i:03}" for i in range(500))
    message = load_error(f"name: x\nsteps: [{{id: a, kind: iam-group, with: {{{keys}}}}}]\n")
    assert (
        "unknown keys k000, k001, k002, k003, k004, k005, k006, k007, k008, k009 and 490 "
        in message
    )
    assert "k010" not in message


def test_without_libyaml_the_same_limits_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    monkeypatch.delattr(yaml, "CSafeLoader")
    assert "aliases (*name) are not allowed" in load_error("name: x\na: &a [1]\nb: *a\n")
    deep = "name: deep\nsteps: " + "[" * 20_000 + "]" * 20_000 + "\n"
    assert f"nested more than {MAX_NESTING} levels deep" in load_error(deep)
    # No time asserted: the pure-Python scanner takes about 0.6 s here, too close to call.
    message = load_error(BIG_PLAYBOOKS["unclosed list of 80,000 items"])
    assert f"line 2: more than {MAX_VALUES} values" in message


@pytest.mark.parametrize("opening", ["[", "{a: "])
def test_nesting_is_limited(opening: str) -> None:
    closing = "]" if opening == "[" else "}"
    deep = "name: deep\nsteps: " + opening * 20_000 + closing * 20_000 + "\n"
    assert f"nested more than {MAX_NESTING} levels deep" in load_error(deep)
    # Up to the limit is still YAML: the playbook's own rules judge it.
    shallow = "name: deep\nsteps: " + "[" * (MAX_NESTING - 1) + "]" * (MAX_NESTING - 1) + "\n"
    assert "nested" not in load_error(shallow)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A structure where a name belongs: shown by its type, not by its repr().
        (
            BASE.replace("variables:\n", "variables:\n  " + "x-" * 500 + ": {}\n"),
            "variable 'x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-...': "
            "a variable name is letters, digits and _",
        ),
        (
            BASE.replace("kind: iam-group", "kind: {" + "k: v, " * 5 + "}"),
            "unknown step kind a dict",
        ),
        (
            BASE.replace("type: bool", "type: [" + "x, " * 5_000 + "x]"),
            "'type': a list is not one",
        ),
        (
            BASE.replace("{type: bool,", "{type: bool, 12: 1, 2.5: 1, null: 1, q: 1,"),
            "unknown keys 12, 2.5, None, q (valid:",
        ),
        (BASE.replace("name: sample", "name: " + "9" * 5000), "a value cannot be read"),
        (BASE.replace("default: false", "default: 2024-13-45"), "a value cannot be read"),
    ],
    ids=["long-name", "dict-kind", "list-type", "odd-keys", "huge-int", "bad-date"],
)
def test_errors_show_a_values_type_not_the_value(text: str, expected: str) -> None:
    message = load_error(text)
    assert expected in message
    # Short but for the list of valid step kinds that an unknown kind's message names.
    assert len(message) < 100 + len(", ".join(KINDS))


# --- files ------------------------------------------------------------------------------------


def test_a_file_is_loaded_by_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(BASE, encoding="utf-8")
    book = load_playbook(str(path))
    assert book.name == "sample"
    assert book.path == str(path)
    assert book.text == BASE


def test_a_bad_file_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(BASE.replace("kind: iam-user", "kind: user"), encoding="utf-8")
    with pytest.raises(PlaybookError, match=rf"^{re.escape(str(path))}: step 'user'"):
        load_playbook(str(path))


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(BASE.replace("Staff", "Stäff").encode("latin-1"))
    with pytest.raises(PlaybookError, match="not UTF-8 text"):
        load_playbook(str(path))


def test_larger_than_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(BASE + "#" * (MAX_PLAYBOOK_BYTES - len(BASE)) + "\n", encoding="utf-8")
    with pytest.raises(PlaybookError, match="larger than 256 KiB"):
        load_playbook(str(path))
    path.write_text(BASE + "#" * (MAX_PLAYBOOK_BYTES - len(BASE) - 2) + "\n", encoding="utf-8")
    assert load_playbook(str(path)).name == "sample"  # exactly at the limit is fine


def test_an_endless_device_is_not_read_to_the_end() -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    with pytest.raises(PlaybookError, match="larger than"):
        load_playbook("/dev/zero")


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_unreadable_path(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "missing.yaml" if kind == "missing" else tmp_path
    with pytest.raises(PlaybookError, match="cannot read playbook"):
        load_playbook(str(path) + ("/" if kind == "directory" else ""))


# --- bind: --var values ---------------------------------------------------------------------


def bound(**given: object) -> dict[str, object]:
    return bind(load(BASE), given)  # type: ignore[arg-type]


def test_bind_fills_defaults() -> None:
    assert bound(user="alice") == {
        "user": "alice",
        "group": "Staff",
        "access": "console",
        "tags": {},
        "mfa": False,
    }


def test_bind_missing_required_variable() -> None:
    with pytest.raises(InputError, match=r"custom.yaml: variable 'user' is required") as info:
        bound()
    assert info.value.tip == "pass --var user=VALUE"
    assert info.value.exit_code == EXIT_INPUT


def test_bind_unknown_variable_lists_the_valid_ones() -> None:
    with pytest.raises(InputError, match=r"unknown variable colour \(valid: access, group"):
        bound(user="alice", colour="red")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        *[("true", True), ("YES", True), ("1", True), ("on", True)],
        *[("false", False), ("No", False), ("0", False), ("off", False)],
    ],
)
def test_bind_converts_bools(text: str, value: bool) -> None:
    assert bound(user="alice", mfa=text)["mfa"] is value


@pytest.mark.parametrize("text", ["maybe", "", "2", "tru"])
def test_bind_rejects_bad_bools(text: str) -> None:
    with pytest.raises(InputError, match=r"invalid --var mfa=.*expected true or false"):
        bound(user="alice", mfa=text)


def test_bind_converts_ints() -> None:
    book = load(BASE.replace("variables:\n", "variables:\n  count: {type: int, default: 1}\n"))
    assert bind(book, {"user": "a", "count": "42"})["count"] == 42
    assert bind(book, {"user": "a"})["count"] == 1
    with pytest.raises(InputError, match="invalid --var count='many': expected an integer"):
        bind(book, {"user": "a", "count": "many"})


def test_bind_converts_tags() -> None:
    assert bound(user="alice", tags="Team=sec,Owner=me")["tags"] == {"Team": "sec", "Owner": "me"}
    assert bound(user="alice", tags="")["tags"] == {}
    assert bound(user="alice", tags={"Team": "x"})["tags"] == {"Team": "x"}  # already typed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Team", "expected KEY=VALUE"),
        ("aws:x=1", "the aws: prefix is reserved"),
        ("a<b=1", "invalid tag key"),
        ("a=b\tc", "invalid value for tag 'a'"),
        ("a\u2028=1", None),  # a line separator is in IAM's \\p{Z}
    ],
)
def test_bind_rejects_bad_tags(text: str, expected: str | None) -> None:
    if expected is None:
        assert bound(user="alice", tags=text)["tags"]
        return
    with pytest.raises(InputError, match=expected):
        bound(user="alice", tags=text)


def test_bind_allowed_values() -> None:
    assert bound(user="alice", access="both")["access"] == "both"
    with pytest.raises(InputError, match="'admin' is not one of console, programmatic, both"):
        bound(user="alice", access="admin")


def test_bind_checks_the_format() -> None:
    with pytest.raises(InputError, match=r"variable 'user'.*invalid IAM user name 'a/b'"):
        bound(user="a/b")


def test_bind_rejects_a_typed_value_of_the_wrong_type() -> None:
    with pytest.raises(InputError, match="variable 'mfa': expected true or false"):
        bound(user="alice", mfa=["yes"])


# --- substitution is text, never code ----------------------------------------------------------


def test_substitution_is_plain_text() -> None:
    values = {"user": "__import__('os')", "b": "x", "a": "${b}"}
    assert _substitute("${user}", values) == "__import__('os')"
    assert _substitute("pre-${user}-post", values) == "pre-__import__('os')-post"
    assert _substitute("{{7*7}}", values) == "{{7*7}}"
    assert _substitute("{{7*7}}-${b}", values) == "{{7*7}}-x"
    assert _substitute("$b and ${ b } and $${b}", values) == "$b and ${ b } and $x"
    # A value is never substituted again: no second round, no recursion.
    assert _substitute("${a}", values) == "${b}"
    assert _substitute({"k": ["${b}", 3]}, values) == {"k": ["x", 3]}


def test_substituted_code_stays_text_and_fails_the_name_rules() -> None:
    book = load(BASE.replace("format: iam-user-name", "format: null"))
    values = bind(book, {"user": "__import__('os').system('true')"})
    with pytest.raises(InputError) as info:
        instantiate(book, values)
    message = info.value.message
    assert "step 'user' (iam-user): field 'with.user'" in message
    assert "__import__('os').system('true')" in message


def test_template_syntax_stays_literal() -> None:
    book = load(BASE.replace("format: iam-user-name", "format: null"))
    with pytest.raises(InputError, match=re.escape("'{{7*7}}'")):
        instantiate(book, bind(book, {"user": "{{7*7}}"}))


def test_instantiate_substitutes_typed_values() -> None:
    book = load(BASE)
    steps = instantiate(book, bind(book, {"user": "bob", "tags": "Team=x", "access": "both"}))
    by_id = {s.id: s for s in steps}
    assert list(by_id) == ["group", "user", "console", "keys"]
    assert asdict(by_id["group"].args) == {"group": "Staff", "existing": False}
    assert asdict(by_id["user"].args) == {"user": "bob", "tags": {"Team": "x"}}


# --- the step registry: permissions and docstring examples ------------------------------------


KINDS = sorted(registry())


def test_the_built_in_kinds_are_registered() -> None:
    assert set(KINDS) >= {
        "iam-group",
        "group-managed-policy",
        "iam-user",
        "group-membership",
        "login-profile",
        "access-key",
        "virtual-mfa",
    }


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_declares_permissions(kind: str) -> None:
    permissions = registry()[kind].permissions
    assert isinstance(permissions, tuple)
    assert permissions
    for action in permissions:
        # IAM, for centralized root access Organizations, and for watching root EventBridge,
        # SNS, CloudTrail, EC2 (regions), CloudWatch Logs and CloudWatch: never a wildcard.
        services = "iam|organizations|events|sns|cloudtrail|ec2|logs|cloudwatch"
        assert re.fullmatch(rf"({services}):[A-Z][A-Za-z]+", action), action


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_a_docstring_example_that_loads(kind: str) -> None:
    cls = registry()[kind]
    doc = inspect.getdoc(cls) or ""
    found = re.search(r"```yaml\n(.*?)```", doc, re.DOTALL)
    assert found, f"{kind}: no ```yaml example in the docstring"
    example = textwrap.dedent(found.group(1))
    book = load_text("name: example\nsteps:\n" + textwrap.indent(example, "  "), f"{kind}.yaml")
    assert len(book.steps) == 1
    assert book.steps[0].kind == kind
    steps = instantiate(book, bind(book, {}))
    assert [type(s) for s in steps] == [cls]


@pytest.mark.parametrize("kind", KINDS)
def test_every_required_field_is_enforced(kind: str) -> None:
    cls = registry()[kind]
    required = [name for name, spec in cls.fields.items() if spec.required]
    if not required:
        # Nothing to leave out: the step loads with an empty `with`.
        assert load_text(one_step(f"- id: s\n  kind: {kind}\n  with: {{}}\n"), "x.yaml").steps
        return
    # Each required field left out, the others given a valid value: that one field is named.
    valid = {"user": "alice", "group": "Admins", "policy": "AdministratorAccess"}
    for missing in required:
        given = ", ".join(f"{n}: {valid[n]}" for n in required if n != missing)
        step = f"- id: s\n  kind: {kind}\n  with: {{{given}}}\n"
        message = load_error(one_step(step))
        assert f"field 'with.{missing}' is required" in message
