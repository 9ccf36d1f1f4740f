"""Property-based: no input makes the report parser, the input validators or the playbook loader
crash with anything but the project's own input errors."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from remediate import validate
from remediate.detect.report import COLUMNS, parse_credential_report
from remediate.errors import InputError, PlaybookError
from remediate.playbook.model import bind, load_playbook, load_text

FAST = settings(max_examples=200, deadline=None)

HEADER = ",".join(COLUMNS)
VALUES = st.sampled_from(
    ["N/A", "no_information", "not_supported", "true", "FALSE", "2026-11-27T09:12:44+00:00", ""]
) | st.text(max_size=30)


@FAST
@given(st.binary(max_size=2000))
def test_report_parser_on_any_bytes(data: bytes) -> None:
    with contextlib.suppress(InputError):
        parse_credential_report(data)


@FAST
@given(st.lists(VALUES, min_size=0, max_size=26))
def test_report_parser_on_root_rows(values: list[str]) -> None:
    row = ",".join(["<root_account>", "arn:aws:iam::123456789012:root", *values])
    try:
        report = parse_credential_report(f"{HEADER}\n{row}\n")
    except InputError:
        return
    assert report.root() is not None


@FAST
@given(st.text(max_size=200))
def test_name_validators(text: str) -> None:
    for check in (validate.user_name, validate.group_name, validate.policy_name):
        with contextlib.suppress(InputError):
            assert check(text) == text


@FAST
@given(st.text(max_size=300), st.text(max_size=300))
def test_tag_validator(key: str, value: str) -> None:
    with contextlib.suppress(InputError):
        assert validate.tag(key, value) == (key, value)
    with contextlib.suppress(InputError):
        validate.tag_options([f"{key}={value}", key])


@FAST
@given(st.dictionaries(st.text(max_size=20), st.text(max_size=40), max_size=8))
def test_bind_variables(given_vars: dict[str, str]) -> None:
    book = load_playbook("root-use")
    try:
        values = bind(book, given_vars)
    except InputError:
        return
    assert set(values) == set(book.variables)


@FAST
@given(st.text(max_size=600))
def test_playbook_loader_on_any_text(text: str) -> None:
    with contextlib.suppress(PlaybookError):
        load_text(text, "fuzz.yaml")


@FAST
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_playbook_loader_on_any_structure(doc: object) -> None:
    import yaml

    with contextlib.suppress(PlaybookError):
        load_text(yaml.safe_dump(doc), "fuzz.yaml")
