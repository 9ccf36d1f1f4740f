"""Property-based tests, each with an oracle written from AWS's documentation (or the shipped
playbook), independently of the product's own helpers: the validators accept exactly what IAM
accepts; the report parser reads a root row's values as IAM means them and rejects the rest; the
variable binder and the playbook loader accept what they should and keep what they accept. The
strategies generate valid and invalid input alike, so both directions of each oracle are used."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from remediate.core import validate
from remediate.core.errors import InputError, PlaybookError, ReportFormatError
from remediate.detect.report import AccessKeyUse, CredentialRow, parse_credential_report
from remediate.playbook.binding import bind
from remediate.playbook.loading import load_playbook, load_text
from support.reportformat import DOCUMENTED_HEADER

# derandomize: the same examples on every run, so a failure is reproducible and the suite is
# deterministic.
FAST = settings(max_examples=200, deadline=None, derandomize=True)


def _accepts(check: Callable[..., Any], *args: str) -> bool:
    """Whether a validator accepts its input; what it accepts, it returns unchanged."""
    try:
        result = check(*args)
    except InputError:
        return False
    assert result == (args[0] if len(args) == 1 else args)
    return True


# --- IAM names -------------------------------------------------------------------------------
# IAM's documented pattern for user, group and policy names is [\w+=,.@-]+ where \w means the
# ASCII letters, digits and underscore; user names are 1-64 characters, group and policy names
# 1-128 (IAM API Reference: CreateUser, CreateGroup, CreatePolicy).
NAME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+=,.@-"
IAM_USER_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{1,64}")
IAM_GROUP_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{1,128}")
IAM_POLICY_NAME = IAM_GROUP_NAME


def near_misses(
    good: st.SearchStrategy[str], bad: st.SearchStrategy[str], limits: tuple[int, ...]
) -> st.SearchStrategy[str]:
    """Text of good characters with one bad character put in, and good text of every length
    around the limits: what a validator that is almost right gets wrong."""
    return st.one_of(
        st.tuples(st.text(good, max_size=12), bad, st.text(good, max_size=12)).map("".join),
        st.tuples(
            st.sampled_from(sorted({n + d for n in limits for d in (-1, 0, 1) if n + d >= 0})),
            good,
        ).map(lambda nc: nc[1] * nc[0]),
    )


# Characters a lenient pattern lets through: \w and \d outside ASCII, '/', space, controls.
NOT_NAME_CHARS = st.one_of(
    st.sampled_from([*" /:*#!\t\n\x00", *"\u00e4\u00df\u0660\uff41\u00b2\u212a"]),
    st.characters(),
)


def names(valid: re.Pattern[str], limit: int) -> st.SearchStrategy[str]:
    """Valid names, near misses and any text."""
    return st.one_of(
        st.from_regex(valid, fullmatch=True),
        near_misses(st.sampled_from(NAME_CHARS), NOT_NAME_CHARS, (0, limit)),
        st.text(max_size=200),
    )


@FAST
@given(names(IAM_USER_NAME, 64))
def test_user_name_validator_matches_iam(text: str) -> None:
    expected = bool(IAM_USER_NAME.fullmatch(text))
    event(f"valid: {expected}")
    assert _accepts(validate.user_name, text) == expected


@FAST
@given(names(IAM_GROUP_NAME, 128))
def test_group_name_validator_matches_iam(text: str) -> None:
    expected = bool(IAM_GROUP_NAME.fullmatch(text))
    event(f"valid: {expected}")
    assert _accepts(validate.group_name, text) == expected


@FAST
@given(names(IAM_POLICY_NAME, 128).filter(lambda text: not text.startswith("arn:")))
def test_policy_name_validator_matches_iam(text: str) -> None:
    expected = bool(IAM_POLICY_NAME.fullmatch(text))
    event(f"valid: {expected}")
    assert _accepts(validate.policy_name, text) == expected


# A managed policy ARN: arn:<partition>:iam::<12 ASCII digits, or 'aws' for AWS managed
# policies>:policy/<path><name>, the path "/" (written as nothing) or /segments/ of ASCII.
@FAST
@given(
    st.sampled_from(["aws", "aws-cn", "aws-us-gov"]),
    st.one_of(st.just("aws"), st.from_regex(r"[0-9]{12}", fullmatch=True)),
    st.lists(st.from_regex(r"[A-Za-z0-9_+=,.@-]{1,10}", fullmatch=True), max_size=3),
    st.from_regex(r"[A-Za-z0-9_+=,.@-]{1,60}", fullmatch=True),
)
def test_policy_arn_validator_accepts_documented_arns(
    partition: str, account: str, path: list[str], name: str
) -> None:
    arn = f"arn:{partition}:iam::{account}:policy/{''.join(p + '/' for p in path)}{name}"
    assert _accepts(validate.policy_name, arn)


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::aws:policy",
        "arn:aws:iam::aws:policy/",
        "arn:aws:iam::12345:policy/x",
        "arn:aws:iam::aws:role/x",
        "arn:aws:sts::aws:policy/x",
        "arn:aws:iam::aws:policy/a b",
        # Non-ASCII letters in the name, Arabic-Indic digits in the account, no name at all.
        "arn:aws:iam::aws:policy/\u00c4dmin",
        "arn:aws:iam::\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662"
        ":policy/x",
        "arn:aws:iam::aws:policy/team/",
    ],
)
def test_policy_arn_validator_rejects_what_iam_rejects(arn: str) -> None:
    assert not _accepts(validate.policy_name, arn)


# --- IAM tags --------------------------------------------------------------------------------
# IAM's documented tag rules (TagUser, Tag data type): key 1-128 and value 0-256 characters of
# the pattern ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$; the aws: prefix is reserved, in any letter case.
TAG_CATEGORIES = {"Lu", "Ll", "Lt", "Lm", "Lo", "Zs", "Zl", "Zp", "Nd", "Nl", "No"}
TAG_SYMBOLS = "_.:/=+-@"
AWS_PREFIX = re.compile(r"[aA][wW][sS]:")


def _iam_tag_text(text: str) -> bool:
    return all(unicodedata.category(ch) in TAG_CATEGORIES or ch in TAG_SYMBOLS for ch in text)


def iam_accepts_tag(key: str, value: str) -> bool:
    return (
        1 <= len(key) <= 128
        and len(value) <= 256
        and _iam_tag_text(key)
        and _iam_tag_text(value)
        and not AWS_PREFIX.match(key)
    )


# Letters, numbers and separators of several scripts and the allowed symbols; characters IAM
# rejects (other symbols and punctuation, control and format characters); any character at all.
TAG_CHARS = st.sampled_from(
    [*"aAwWsSkK09 _.:/=+-@", *"\u00e4\u00a0\u2028\u2029\u0660\u00b2\u2167\u4e2d\U0001d538"]
)
NOT_TAG_CHARS = st.one_of(
    # Whitespace to Python (str.isspace, \s) but not a separator (\p{Z}) to IAM.
    st.sampled_from([*"\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85"]),
    st.sampled_from([*"<>!?,;*#$%&'()[]{}|~^`\"\\\x00", *"\u200b\u00ad\u2013\u00a7"]),
    st.characters(blacklist_categories=("L", "N", "Z", "Cs")).filter(
        lambda c: c not in TAG_SYMBOLS
    ),
)
ANY_TAG_TEXT = st.one_of(st.text(TAG_CHARS, max_size=20), st.text(max_size=20))
TAG_KEYS = st.one_of(
    ANY_TAG_TEXT,
    near_misses(TAG_CHARS, NOT_TAG_CHARS, (0, 128)),
    st.tuples(
        st.sampled_from(["aws:", "AWS:", "aWs:", "AwS:", "aws", "aws-", "xaws:", " aws:"]),
        st.text(TAG_CHARS, max_size=8),
    ).map("".join),
)
TAG_VALUES = st.one_of(
    ANY_TAG_TEXT,
    near_misses(TAG_CHARS, NOT_TAG_CHARS, (0, 256)),
)


@FAST
@given(TAG_KEYS, TAG_VALUES)
@example("Team\tA", "web")
@example("Team", "a\nb")
@example("Team", "\x85")
@example("AwS:team", "web")
@example("k" * 128, "v" * 256)
def test_tag_validator_matches_iam(key: str, value: str) -> None:
    expected = iam_accepts_tag(key, value)
    event(f"valid: {expected}")
    assert _accepts(validate.tag, key, value) == expected


def expected_tag_options(texts: list[str]) -> dict[str, str] | None:
    """Repeated ``--tag KEY=VALUE``: split at the first '=', a later key wins, at most 50 tags
    (IAM's limit per user), each valid; None where the options must be rejected."""
    tags: dict[str, str] = {}
    for text in texts:
        if "=" not in text or text.startswith("="):
            return None
        key, value = text.split("=", 1)
        tags[key] = value
    if len(tags) > 50 or not all(iam_accepts_tag(k, v) for k, v in tags.items()):
        return None
    return tags


@FAST
@given(
    st.one_of(
        st.lists(
            st.one_of(
                st.tuples(TAG_KEYS, TAG_VALUES).map("=".join),
                st.sampled_from(["Team=web", "Team=ops", "Env=prod", "Team", "=x", "a=b=c"]),
            ),
            max_size=6,
        ),
        # Around IAM's 50-tag limit, with or without repeated keys.
        st.tuples(st.integers(45, 56), st.booleans()).map(
            lambda nr: [f"k{i % 40 if nr[1] else i}=v{i}" for i in range(nr[0])]
        ),
    )
)
def test_tag_options_match_iam(texts: list[str]) -> None:
    expected = expected_tag_options(texts)
    event(f"valid: {expected is not None}")
    try:
        result = validate.tag_options(texts)
    except InputError:
        assert expected is None, texts
    else:
        assert result == expected


# --- The credential report's root row --------------------------------------------------------
# The columns as the IAM User Guide documents them ("Credential report format"), typed out.
HEADER = DOCUMENTED_HEADER
ROOT = ("<root_account>", "arn:aws:iam::123456789012:root")
# What each column holds, per the documentation: a true/false flag, an ISO 8601 timestamp, or a
# region or service name. IAM writes N/A, no_information or not_supported where there is nothing.
FLAGS = (
    "password_enabled",
    "mfa_active",
    "access_key_1_active",
    "access_key_2_active",
    "cert_1_active",
    "cert_2_active",
)
USED = ("password_last_used", "access_key_1_last_used_date", "access_key_2_last_used_date")
WHERE = (
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
)
# Timestamps detection does not need: any documented value there must not matter.
OTHER_TIMES = (
    "user_creation_time",
    "password_last_changed",
    "password_next_rotation",
    "access_key_1_last_rotated",
    "access_key_2_last_rotated",
    "cert_1_last_rotated",
    "cert_2_last_rotated",
)
assert len(HEADER.split(",")) == 2 + len(FLAGS + USED + WHERE + OTHER_TIMES)
NOTHING = st.sampled_from(["N/A", "no_information", "not_supported"])


def _mixed_case(word: str, upper: list[bool]) -> str:
    return "".join(c.upper() if u else c for c, u in zip(word, upper, strict=False))


FLAG_VALUES: st.SearchStrategy[tuple[str, bool | None]] = st.one_of(
    st.tuples(st.sampled_from(["true", "false"]), st.lists(st.booleans(), min_size=5, max_size=5))
    .map(lambda wu: _mixed_case(*wu))
    .map(lambda raw: (raw, raw.lower() == "true")),
    NOTHING.map(lambda raw: (raw, None)),
)
TIMES = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from(
        [
            UTC,
            timezone(timedelta(hours=2)),
            timezone(timedelta(hours=-5)),
            timezone(timedelta(hours=5, minutes=30)),
        ]
    ),
).map(lambda when: when.replace(microsecond=0))


def _iso(when: datetime, zulu: bool) -> str:
    text = when.isoformat()
    return text.replace("+00:00", "Z") if zulu else text


TIME_VALUES: st.SearchStrategy[tuple[str, datetime | None]] = st.one_of(
    st.tuples(TIMES, st.booleans()).map(lambda wz: (_iso(*wz), wz[0].astimezone(UTC))),
    NOTHING.map(lambda raw: (raw, None)),
)
WHERE_VALUES: st.SearchStrategy[tuple[str, str | None]] = st.one_of(
    st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-2", "s3", "iam", "sts"]).map(
        lambda raw: (raw, raw)
    ),
    NOTHING.map(lambda raw: (raw, None)),
)
_MEANINGFUL = {"true", "false", "n/a", "no_information", "not_supported", ""}
# Never a flag or a timestamp: no digits at all, and not a word IAM uses.
JUNK = st.text(
    st.characters(blacklist_categories=("Nd", "Cs", "Cc")), min_size=1, max_size=12
).filter(lambda text: text.strip().lower() not in _MEANINGFUL)
BAD_FLAGS = st.one_of(st.sampled_from(["yes", "no", "1", "0", "t", "enabled"]), JUNK)
BAD_TIMES = st.one_of(
    st.sampled_from(["yesterday", "2026-13-01T00:00:00+00:00", "2026-02-30T00:00:00Z"]), JUNK
)


@st.composite
def root_rows(draw: st.DrawFn) -> tuple[str, CredentialRow, str | None]:
    """A report with one root row, the row the parser must return, and the one bad column (or
    None). Every other value is one IAM documents."""
    bad = draw(st.one_of(st.none(), st.sampled_from(FLAGS + USED)))
    raw: dict[str, str] = dict(zip(("user", "arn"), ROOT, strict=True))
    want: dict[str, Any] = {}
    for name in FLAGS:
        raw[name], want[name] = draw(FLAG_VALUES)
    for name in USED:
        raw[name], want[name] = draw(TIME_VALUES)
    for name in WHERE:
        raw[name], want[name] = draw(WHERE_VALUES)
    for name in OTHER_TIMES:
        raw[name] = draw(TIME_VALUES)[0]
    if bad is not None:
        raw[bad] = draw(BAD_FLAGS if bad in FLAGS else BAD_TIMES)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER.split(","))
    writer.writerow([raw[name] for name in HEADER.split(",")])
    keys = tuple(
        AccessKeyUse(
            want[f"access_key_{n}_active"],
            want[f"access_key_{n}_last_used_date"],
            want[f"access_key_{n}_last_used_region"],
            want[f"access_key_{n}_last_used_service"],
        )
        for n in (1, 2)
    )
    row = CredentialRow(
        user=ROOT[0],
        arn=ROOT[1],
        password_enabled=want["password_enabled"],
        password_last_used=want["password_last_used"],
        mfa_active=want["mfa_active"],
        access_keys=(keys[0], keys[1]),
        certs_active=(want["cert_1_active"], want["cert_2_active"]),
    )
    return out.getvalue(), row, bad


@FAST
@given(root_rows())
def test_report_parser_on_root_rows(case: tuple[str, CredentialRow, str | None]) -> None:
    content, expected, bad = case
    event(f"valid: {bad is None}")
    if bad is None:
        report = parse_credential_report(content)
        assert report.rows == (expected,)
        assert report.root() == expected
    else:
        with pytest.raises(ReportFormatError) as caught:
            parse_credential_report(content)
        assert "line 2" in caught.value.message
        assert bad in caught.value.message


@FAST
@given(st.lists(st.sampled_from(["N/A", "no_information", "not_supported"]), max_size=26))
def test_report_parser_rejects_a_row_of_another_width(values: list[str]) -> None:
    row = ",".join([*ROOT, *values])
    width = 2 + len(values)
    if width == len(HEADER.split(",")):
        assert parse_credential_report(f"{HEADER}\n{row}\n").root() is not None
    else:
        with pytest.raises(ReportFormatError, match=f"line 2 has {width} field"):
            parse_credential_report(f"{HEADER}\n{row}\n")


AWS_REPORT = (Path(__file__).parent / "fixtures" / "credential-report.csv").read_bytes()


@FAST
@given(
    st.one_of(
        st.binary(max_size=2000),
        # The hand-written report with a few bytes put in somewhere.
        st.tuples(st.integers(0, len(AWS_REPORT)), st.binary(min_size=1, max_size=4)).map(
            lambda at: AWS_REPORT[: at[0]] + at[1] + AWS_REPORT[at[0] :]
        ),
    )
)
def test_report_parser_on_any_bytes(data: bytes) -> None:
    """A report is UTF-8 text without NUL with something in it: anything else is rejected."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    must_fail = text is None or "\x00" in text or not text.removeprefix("\ufeff").strip()
    error: str | None = None
    try:
        parse_credential_report(data)
    except ReportFormatError as exc:
        error = exc.message
    event("rejected" if error is not None else "parsed")
    if must_fail:
        assert error is not None, data
    assert error is None or "\n" not in error


# --- Playbook variables ----------------------------------------------------------------------
# The shipped root-use playbook's variables (playbooks/root-use.yaml): user is a required IAM
# user name; group an IAM group name (default Administrators); policy a managed policy name or
# ARN (default AdministratorAccess); access one of console, programmatic, both (default
# console); tags KEY=VALUE pairs separated by commas (default none); mfa true or false (default
# true); delete_root_keys true or false (default false). Each strategy gives (text, the value it
# binds to, or None when it must be rejected).
ROOT_USE_DEFAULTS: dict[str, Any] = {
    "group": "Administrators",
    "policy": "AdministratorAccess",
    "access": "console",
    "tags": {},
    "mfa": True,
    "mfa_self_service": False,
    "self_service_policy": "RemediateSelfServiceMFA",
    "delete_root_keys": False,
}
VAR_VALUES: dict[str, st.SearchStrategy[tuple[str, Any]]] = {
    "user": names(IAM_USER_NAME, 64).map(
        lambda text: (text, text if IAM_USER_NAME.fullmatch(text) else None)
    ),
    "group": names(IAM_GROUP_NAME, 128).map(
        lambda text: (text, text if IAM_GROUP_NAME.fullmatch(text) else None)
    ),
    "policy": st.sampled_from(
        [
            ("AdministratorAccess", "AdministratorAccess"),
            ("ReadOnlyAccess", "ReadOnlyAccess"),
            ("arn:aws:iam::aws:policy/job-function/Billing",) * 2,
            ("arn:aws:iam::123456789012:policy/Admins",) * 2,
            ("Admin Access", None),
            ("", None),
        ]
    ),
    "access": st.sampled_from(
        [
            ("console", "console"),
            ("programmatic", "programmatic"),
            ("both", "both"),
            ("root", None),
            ("Console", None),
            ("", None),
        ]
    ),
    "tags": st.sampled_from(
        [
            ("", {}),
            ("Team=web", {"Team": "web"}),
            ("Team=web,Env=prod", {"Team": "web", "Env": "prod"}),
            ("Team=web,Team=ops", {"Team": "ops"}),
            ("aws:owner=x", None),
            ("Team", None),
            ("Team=<b>", None),
        ]
    ),
    "mfa": st.sampled_from([("true", True), ("false", False), ("maybe", None), ("", None)]),
    "delete_root_keys": st.sampled_from(
        [("true", True), ("false", False), ("yes", True), ("sometimes", None)]
    ),
}


@st.composite
def given_variables(draw: st.DrawFn) -> tuple[dict[str, str], dict[str, Any] | None]:
    """``--var`` values for root-use, and the values they must bind to (None: rejected)."""
    given: dict[str, str] = {}
    expected: dict[str, Any] | None = dict(ROOT_USE_DEFAULTS)
    chosen = draw(st.sets(st.sampled_from(sorted(VAR_VALUES))))
    if draw(st.integers(0, 4)):  # mostly with the required user, to reach valid sets
        chosen.add("user")
    for name in sorted(chosen):
        given[name], value = draw(VAR_VALUES[name])
        if value is None:
            expected = None
        elif expected is not None:
            expected[name] = value
    unknown = draw(
        st.one_of(
            st.just([]),
            st.lists(st.text(max_size=10).filter(lambda n: n not in VAR_VALUES), max_size=2),
        )
    )
    for name in unknown:
        given[name] = "x"
    if "user" not in given or not set(given) <= set(VAR_VALUES):
        expected = None
    return given, expected


ROOT_USE = load_playbook("root-use")


@FAST
@given(given_variables())
def test_bind_root_use_variables(case: tuple[dict[str, str], dict[str, Any] | None]) -> None:
    given_vars, expected = case
    event(f"valid: {expected is not None}")
    try:
        values = bind(ROOT_USE, given_vars)
    except InputError:
        assert expected is None, given_vars
    else:
        assert values == expected


# --- Playbook loading ------------------------------------------------------------------------
ROOT_USE_DOC: dict[str, Any] = yaml.safe_load(ROOT_USE.text)
TOP_KEYS = {"name", "description", "variables", "steps"}


def _check_loaded(doc: Any, text: str) -> bool:
    """Load ``text`` (the YAML of ``doc``): what is not a mapping of the playbook keys is
    rejected; what loads keeps the document's name, variables and steps. Whether it loaded."""
    error: str | None = None
    try:
        book = load_text(text, "fuzz.yaml")
    except PlaybookError as exc:
        error = exc.message
    if error is not None:
        assert error.startswith("fuzz.yaml: ")
        return False
    assert isinstance(doc, dict), doc
    assert set(doc) <= TOP_KEYS
    assert book.name == doc["name"]
    assert set(book.variables) == set(doc.get("variables") or {})
    assert [(s.id, s.kind) for s in book.steps] == [(s["id"], s["kind"]) for s in doc["steps"]]
    return True


@FAST
@given(st.text(max_size=600))
def test_playbook_loader_on_any_text(text: str) -> None:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        event("not YAML")
        with pytest.raises(PlaybookError, match="not valid YAML"):
            load_text(text, "fuzz.yaml")
        return
    event(f"loaded: {_check_loaded(doc, text)}")


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
    event(f"loaded: {_check_loaded(doc, yaml.safe_dump(doc))}")


def _changed(change: str) -> dict[str, Any]:
    """The shipped root-use document with one change."""
    doc: dict[str, Any] = yaml.safe_load(ROOT_USE.text)
    step = doc["steps"][1]
    what, _, key = change.partition(" ")
    if what == "drop":
        del doc[key]
    elif what == "drop-step-field":
        del step[key]
    elif change == "add foo":
        doc["foo"] = 1
    elif change == "repeat a step id":
        step["id"] = doc["steps"][0]["id"]
    elif change == "unknown step kind":
        step["kind"] = "iam-role"
    elif change == "no steps":
        doc["steps"] = []
    else:
        assert change == "unknown variable in a step"
        step["with"]["group"] = "${nope}"
    return doc


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("drop description", None),
        ("drop name", "field 'name'"),
        ("drop variables", "unknown variable"),
        ("drop steps", "field 'steps'"),
        ("add foo", "unknown key foo"),
        ("drop-step-field id", "field 'id'"),
        ("drop-step-field kind", "field 'kind'"),
        ("drop-step-field with", "is required"),
        ("repeat a step id", "used twice"),
        ("unknown step kind", "unknown step kind 'iam-role'"),
        ("no steps", "field 'steps'"),
        ("unknown variable in a step", "unknown variable ${nope}"),
    ],
)
def test_playbook_loader_on_a_changed_playbook(change: str, expected: str | None) -> None:
    """One change to a valid playbook: it still loads as itself, or fails for that reason."""
    doc = _changed(change)
    text = yaml.safe_dump(doc)
    if expected is None:
        assert _check_loaded(doc, text)
    else:
        with pytest.raises(PlaybookError) as caught:
            load_text(text, "fuzz.yaml")
        assert expected in caught.value.message


def test_the_shipped_playbook_document_loads_as_itself() -> None:
    assert ROOT_USE_DOC["name"] == "root-use"
    assert _check_loaded(ROOT_USE_DOC, yaml.safe_dump(ROOT_USE_DOC))
