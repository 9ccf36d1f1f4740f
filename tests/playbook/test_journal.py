"""The audit trail: one JSON line per write call, with its outcome, mode 0600, never a secret;
read back with unreadable lines skipped and counted, and filtered."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remediate.credentials.store import SecretStore
from remediate.playbook.journal import change_of, resource_of
from support.prompters import Scripted

ACCOUNT = "123456789012"
ADMIN = ("root-use", "--create-admin", "alice")

# What the root-use playbook's writes are, as the IAM API reference names them, in order.
FIRST_RUN = [
    ("admin-group", "iam:CreateGroup", "group Administrators"),
    (
        "admin-policy",
        "iam:AttachGroupPolicy",
        "policy arn:aws:iam::aws:policy/AdministratorAccess on group Administrators",
    ),
    ("admin-user", "iam:CreateUser", "user alice"),
    # Without an account password policy users may not change their own: the right to is given
    # before the login profile that requires it.
    (
        "console-access",
        "iam:AttachUserPolicy",
        "policy arn:aws:iam::aws:policy/IAMUserChangePassword on user alice",
    ),
    ("console-access", "iam:CreateLoginProfile", "login profile of user alice"),
    ("programmatic-access", "iam:CreateAccessKey", "access key {key} of user alice"),
    ("mfa", "iam:CreateVirtualMFADevice", f"MFA device arn:aws:iam::{ACCOUNT}:mfa/alice"),
    ("mfa", "iam:EnableMFADevice", f"MFA device arn:aws:iam::{ACCOUNT}:mfa/alice of user alice"),
    # Privilege last: membership of the administrators group once MFA is enabled.
    ("membership", "iam:AddUserToGroup", "user alice in group Administrators"),
]


# The actions whose parameters name a user (IAM API reference): their entries say which.
NAMING_A_USER = {
    "iam:CreateUser",
    "iam:AttachUserPolicy",
    "iam:AddUserToGroup",
    "iam:CreateLoginProfile",
    "iam:CreateAccessKey",
    "iam:EnableMFADevice",
}


@pytest.fixture
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    return tmp_path / "remediate" / "journal.jsonl"


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _run(cli: Any, moto: Any, *extra: str, prompter: Any = None) -> Any:
    return cli(*ADMIN, "--endpoint-url", moto.endpoint_url, *extra, prompter=prompter)


def test_every_write_call_is_journaled_once(
    moto: Any, cli: Any, state_home: Path, test_keyring: Any
) -> None:
    dry = _run(cli, moto, "--access", "both", "--mfa-auto", "--dry-run")
    assert dry.code == 0
    assert not state_home.exists(), "a dry run wrote to the journal"

    first = _run(cli, moto, "--access", "both", "--mfa-auto", "--yes")
    assert first.code == 0, first.err
    entries = _lines(state_home)
    store = SecretStore(test_keyring)
    key_id = json.loads(store.get(ACCOUNT, "alice", "access-key") or "{}")["AccessKeyId"]
    assert [(e["step"], e["action"], e["resource"]) for e in entries] == [
        (step, action, resource.format(key=key_id)) for step, action, resource in FIRST_RUN
    ]
    for e in entries:
        assert e["account"] == ACCOUNT
        assert e["caller"].startswith("arn:aws:")
        assert e["playbook"] == "root-use"
        assert e["change"] == "create"
        assert e["outcome"] == "applied"
        assert set(e) == {
            "time",
            "account",
            "caller",
            "playbook",
            "step",
            "kind",
            "action",
            "resource",
            "change",
            "outcome",
        } | ({"user"} if e["action"] in NAMING_A_USER else set()) | (
            # A new user, and a new MFA device, carry remediate's own tags: the entry says which
            # tags it was made with.
            {"details"}
            if e["action"] in ("iam:CreateUser", "iam:CreateVirtualMFADevice")
            else set()
        )
    assert stat.S_IMODE(state_home.stat().st_mode) == 0o600

    text = state_home.read_text()
    for kind in ("password", "access-key", "mfa-seed"):
        value = store.get(ACCOUNT, "alice", kind)
        assert value
        secret = json.loads(value)["SecretAccessKey"] if kind == "access-key" else value
        assert secret not in text

    again = _run(cli, moto, "--access", "both", "--mfa-auto", "--yes")
    assert again.code == 0
    assert len(_lines(state_home)) == len(entries), "a rerun journaled a change it did not make"

    shown = cli("journal", "--output", "json")
    assert shown.code == 0
    assert shown.json()["entries"] == entries
    assert shown.json()["unreadable_lines"] == []
    text_view = cli("journal", "--limit", "2")
    assert text_view.out.count("root-use/") == 2
    assert "iam:EnableMFADevice: applied; by arn:aws:" in text_view.out


def test_a_tag_update_says_what_changed(moto: Any, cli: Any, state_home: Path) -> None:
    assert _run(cli, moto, "--no-mfa", "--yes", "--tag", "Team=sec", "--tag", "Env=dev").code == 0
    [created] = [e for e in _lines(state_home) if e["action"] == "iam:CreateUser"]
    assert created["details"] == [
        "tag `Env` = `dev`",
        "tag `Team` = `sec`",
        "tag `remediate:managed-by` = `remediate`",
    ]

    r = _run(cli, moto, "--no-mfa", "--yes", "--tag", "Team=ops", "--tag", "Cost=42")
    assert r.code == 0, r.err
    [update] = [e for e in _lines(state_home) if e["action"] == "iam:TagUser"]
    assert update["change"] == "update"
    assert update["resource"] == "user alice"
    assert update["details"] == ["tag `Cost`: added `42`", "tag `Team`: `sec` -> `ops`"]
    shown = cli("journal")
    assert "    tag `Team`: `sec` -> `ops`" in shown.out


def test_deleting_a_device_nobody_can_enroll_is_journaled(
    moto: Any, cli: Any, state_home: Path
) -> None:
    # A pending device named like the user, remediate's (its tag says so), whose seed is not in
    # the keyring: deleted, then made afresh. The deletion is a write like any other.
    moto.client("iam").create_virtual_mfa_device(
        VirtualMFADeviceName="alice",
        Tags=[{"Key": "remediate:managed-by", "Value": "remediate"}],
    )
    r = _run(cli, moto, "--mfa-auto", "--yes")
    assert r.code == 0, r.err
    mfa = [(e["action"], e["change"]) for e in _lines(state_home) if e["step"] == "mfa"]
    assert mfa == [
        ("iam:DeleteVirtualMFADevice", "delete"),
        ("iam:CreateVirtualMFADevice", "create"),
        ("iam:EnableMFADevice", "create"),
    ]


class CtrlC(Scripted):
    """A person who presses Ctrl-C at the first MFA code prompt."""

    def line(self, prompt: str) -> str | None:
        if prompt.startswith("MFA code"):
            raise KeyboardInterrupt
        return super().line(prompt)


def test_writes_of_an_interrupted_run_are_journaled(
    moto: Any, cli: Any, state_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from remediate.render import enrollment

    monkeypatch.setattr(enrollment, "on_terminal", lambda ctx: True)
    r = _run(cli, moto, "--yes", prompter=CtrlC())
    assert r.code == 130, r.err
    [line] = [line for line in r.err.splitlines() if line.startswith("interrupted")]
    assert line == (
        "interrupted during step 'mfa' (virtual-mfa); applied: admin-group, admin-policy, "
        "admin-user, console-access; in step 'mfa': iam:CreateVirtualMFADevice "
        "applied; not applied: mfa, membership; rerun to continue from there; kept in the "
        "sandbox's in-memory keyring: alice's password, alice's mfa-seed"
    )
    entries = _lines(state_home)
    assert entries[-1]["action"] == "iam:CreateVirtualMFADevice"
    assert entries[-1]["outcome"] == "applied"
    assert len(entries) == 6


def test_a_write_cut_short_is_journaled_as_unknown(
    moto: Any, cli: Any, state_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import botocore.endpoint

    send = botocore.endpoint.Endpoint.make_request

    def make_request(self: Any, operation_model: Any, request_dict: Any) -> Any:
        if operation_model.name == "AddUserToGroup":
            raise KeyboardInterrupt  # Ctrl-C while the request is on its way
        return send(self, operation_model, request_dict)

    monkeypatch.setattr(botocore.endpoint.Endpoint, "make_request", make_request)
    r = _run(cli, moto, "--no-mfa", "--yes", "--output", "json")
    assert r.code == 130, r.err
    assert "iam:AddUserToGroup unknown (interrupted: it may have been applied)" in r.err
    assert "applied: admin-group, admin-policy, admin-user, console-access" in r.err
    assert "not applied: membership;" in r.err
    last = _lines(state_home)[-1]
    assert (last["action"], last["outcome"]) == (
        "iam:AddUserToGroup",
        "unknown (interrupted: it may have been applied)",
    )
    # The JSON document still says where the run stopped.
    doc = r.json()
    assert [s["applied"] for s in doc["remediation"]["steps"]] == [True] * 4 + [False]
    assert doc["remediation"]["error"] == "step 'membership' (group-membership) interrupted"


def _entry(**fields: Any) -> str:
    base = {
        "time": "2026-11-01T10:00:00+00:00",
        "account": ACCOUNT,
        "caller": "arn:aws:iam::123456789012:user/op",
        "playbook": "root-use",
        "step": "admin-user",
        "action": "iam:CreateUser",
        "resource": "user alice",
        "user": "alice",
        "change": "create",
        "outcome": "applied",
    }
    return json.dumps({**base, **fields}) + "\n"


def test_unreadable_lines_are_skipped_and_counted(cli: Any, state_home: Path) -> None:
    r = cli("journal")
    assert r.code == 0
    assert "No changes recorded" in r.out
    state_home.parent.mkdir(parents=True)
    state_home.write_text(_entry() + "not json\n" + "[1, 2]\n" + _entry(user="bob") + '{"trunc')
    r = cli("journal")
    assert r.code == 0, r.err
    assert r.out.count("root-use/admin-user") == 2
    assert "Skipped 3 unreadable lines of" in r.err
    assert "(lines 2, 3, 5)" in r.err
    j = cli("journal", "--output", "json")
    assert j.code == 0
    assert j.json()["unreadable_lines"] == [2, 3, 5]
    assert len(j.json()["entries"]) == 2


@pytest.mark.parametrize(
    "line",
    [
        '{"ts": 5}',
        "[]",
        '"x"',
        "{}",
        '{"time": 5, "account": "1", "action": "a", "outcome": "applied"}',
        json.dumps({**json.loads(_entry()), "account": None}),
    ],
)
def test_json_that_is_not_an_entry_is_skipped_and_counted(
    cli: Any, state_home: Path, line: str
) -> None:
    state_home.parent.mkdir(parents=True)
    state_home.write_text(_entry() + line + "\n")
    r = cli("journal")
    assert r.code == 0, r.err
    assert "None" not in r.out
    assert "Skipped 1 unreadable line of" in r.err
    j = cli("journal", "--output", "json")
    assert j.json()["unreadable_lines"] == [2]
    assert len(j.json()["entries"]) == 1


# Lines that parse as entries (time, account, resource) but hold a field the renderer uses in a
# shape the journal never writes: details that is not a list of text, outcome, user or action
# that is not text; and JSON that Python's parser raises on other than with JSONDecodeError.
@pytest.mark.parametrize(
    "line",
    [
        '{"time":"t","account":"1","resource":"r","details":5}',
        '{"time":"t","account":"1","resource":"r","details":"abc"}',
        '{"time":"t","account":"1","resource":"r","details":[1, "x"]}',
        '{"time":"t","account":"1","resource":"r","details":{"a": "b"}}',
        '{"time":"t","account":"1","resource":"r","details":null}',
        '{"time":"t","account":"1","resource":"r","outcome":["applied"]}',
        '{"time":"t","account":"1","resource":"r","user":7}',
        '{"time":"t","account":"1","resource":"r","action":{"a": 1}}',
        '{"time":"t","account":"1","action":"iam:CreateUser","resource":null}',
        '{"time":"t","account":"1","resource":"r","caller":false}',
        '{"time":"t","account":"1","resource":"r","step":1,"playbook":"p"}',
        "1" * 5000,  # more digits than Python converts: ValueError
        "[" * 100_000 + "]" * 100_000,  # nested past the parser's recursion limit
    ],
    ids=[
        "details-number",
        "details-text",
        "details-not-all-text",
        "details-object",
        "details-null",
        "outcome-list",
        "user-number",
        "action-object",
        "resource-null",
        "caller-false",
        "step-number",
        "long-number",
        "deep-nesting",
    ],
)
def test_an_entry_with_a_field_of_the_wrong_shape_is_skipped_and_counted(
    cli: Any, state_home: Path, line: str
) -> None:
    state_home.parent.mkdir(parents=True)
    state_home.write_text(_entry() + line + "\n" + _entry(user="bob"))
    r = cli("journal")
    assert r.code == 0, r.err
    assert r.out.count("root-use/admin-user") == 2
    assert "Skipped 1 unreadable line of" in r.err
    assert "(line 2)" in r.err
    j = cli("journal", "--output", "json")
    assert j.code == 0, j.err
    assert j.json()["unreadable_lines"] == [2]
    assert [e["user"] for e in j.json()["entries"]] == ["alice", "bob"]


# Any JSON value; and entries with one field replaced by any JSON value, which come near.
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
FIELDS = ["time", "account", "caller", "playbook", "step", "kind", "action", "resource"]
FIELDS += ["change", "user", "outcome", "acting_as", "details"]
NEAR_ENTRIES = st.builds(
    lambda key, value: {**json.loads(_entry(details=["tag `Team`: `a` -> `b`"])), key: value},
    st.sampled_from(FIELDS),
    JSON,
)


def _documented_entry(value: object) -> bool:
    """The oracle, from the README's **Audit trail**: an object with ``time`` and ``account``
    as text, ``resource`` or ``action`` as text; each other field it shows text when there, and
    ``details`` a list of text."""
    if not isinstance(value, dict):
        return False
    text = ("time", "account", "caller", "playbook", "step", "kind", "change", "user")
    text += ("outcome", "acting_as", "action", "resource")
    if any(k in value and not isinstance(value[k], str) for k in text):
        return False
    details = value.get("details", [])
    return (
        all(isinstance(value.get(k), str) for k in ("time", "account"))
        and ("resource" in value or "action" in value)
        and isinstance(details, list)
        and all(isinstance(d, str) for d in details)
    )


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(JSON | NEAR_ENTRIES)
def test_the_reader_never_fails_on_a_json_line(cli: Any, state_home: Path, value: object) -> None:
    state_home.parent.mkdir(parents=True, exist_ok=True)
    state_home.write_text(_entry() + json.dumps(value) + "\n")
    shown = cli("journal")
    assert shown.code == 0, shown.err
    j = cli("journal", "--output", "json")
    assert j.code == 0, j.err
    entry = _documented_entry(value)
    assert j.json()["unreadable_lines"] == ([] if entry else [2])
    assert len(j.json()["entries"]) == (2 if entry else 1)
    assert shown.out.count("\n    ") >= (4 if entry else 2)  # each entry's own lines


def test_filters(cli: Any, state_home: Path) -> None:
    now = datetime.now(UTC)
    state_home.parent.mkdir(parents=True)
    state_home.write_text(
        _entry(time=(now - timedelta(days=10)).isoformat())
        + _entry(account="111122223333", time=(now - timedelta(hours=2)).isoformat())
        + _entry(user="Bob", resource="user Bob", time=(now - timedelta(minutes=5)).isoformat())
        # An entry of an earlier version: no "user", the user is in the resource.
        + json.dumps({"time": now.isoformat(), "account": ACCOUNT, "resource": "bob in Admins"})
        + "\n"
    )

    def accounts(*args: str) -> list[str]:
        r = cli("journal", "--output", "json", *args)
        assert r.code == 0, r.err
        return [e.get("user", e["resource"]) for e in r.json()["entries"]]

    assert accounts("--account", ACCOUNT) == ["alice", "Bob", "bob in Admins"]
    assert accounts("--account", "111122223333") == ["alice"]
    assert accounts("--user", "bob") == ["Bob", "bob in Admins"]
    assert accounts("--since", "1d") == ["alice", "Bob", "bob in Admins"]
    assert accounts("--since", "30m") == ["Bob", "bob in Admins"]
    assert accounts("--since", (now - timedelta(days=11)).date().isoformat()) == [
        "alice",
        "alice",
        "Bob",
        "bob in Admins",
    ]
    assert accounts("--since", "1h", "--user", "alice") == []
    none = cli("journal", "--user", "carol")
    assert "No matching changes recorded" in none.out


@pytest.mark.parametrize(
    ("action", "change"),
    [
        ("iam:CreateUser", "create"),
        ("iam:AttachGroupPolicy", "create"),
        ("iam:EnableMFADevice", "create"),
        ("iam:TagUser", "update"),
        ("iam:DeleteVirtualMFADevice", "delete"),
        ("iam:DeactivateMFADevice", "delete"),
        ("organizations:EnableAWSServiceAccess", "create"),
    ],
)
def test_change_of_an_action(action: str, change: str) -> None:
    assert change_of(action) == change


def test_resource_of_a_root_call_names_the_root_user() -> None:
    assert resource_of({}) == "the root user"
    assert resource_of({"AccessKeyId": "AKIA1"}) == "access key AKIA1"
    assert resource_of({"ServicePrincipal": "iam.amazonaws.com"}) == "service iam.amazonaws.com"
    assert resource_of({}, "iam:DeleteLoginProfile") == "login profile of the root user"
