"""Detection alone (remediate.commands.detection): the command line takes it when no option but
detection's is given, it answers as root-use's whole path does, and it loads none of the
engine, the playbooks, the sweep or Security Hub."""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from remediate.cli.root_use import DETECTION_OPTIONS, beyond_detection, root_use
from remediate.commands.detection import DetectionRequest, detect_root_use, detection_request
from remediate.commands.request import AwsChoice, RemediationFlags
from remediate.commands.root_use import root_use as whole_root_use
from remediate.commands.root_use_request import RootUseRequest
from remediate.core.errors import InputError
from remediate.sandbox.server import RootState
from support.prompters import nobody

# What detection alone must not load (start-up: benchmarks/bench_startup.py).
NOT_LOADED = (
    "remediate.playbook",
    "remediate.steps",
    "remediate.org",
    "remediate.findings.securityhub",
    "remediate.findings.export",
    "remediate.commands.root_use",
    "remediate.commands.remediation",
    "remediate.commands.wiring",
    "remediate.credentials.store",
)


def _options() -> dict[str, object]:
    """root-use's options as its wrapper sees them when none is given."""
    inner = inspect.unwrap(root_use)
    options: dict[str, object] = {
        name: p.default for name, p in inspect.signature(inner).parameters.items()
    }
    options.update(flags=RemediationFlags(), aws=AwsChoice())
    return options


def _given(default: object) -> object:
    return True if default is False else "given"


OTHER_OPTIONS = sorted(set(_options()) - DETECTION_OPTIONS - {"flags"})


def test_no_option_is_detection_alone() -> None:
    assert not beyond_detection(_options())


@pytest.mark.parametrize("name", sorted(DETECTION_OPTIONS - {"aws"}))
def test_detections_own_options_are_detection_alone(name: str) -> None:
    options = _options()
    options[name] = _given(options[name])
    assert not beyond_detection(options)


@pytest.mark.parametrize("name", OTHER_OPTIONS)
def test_any_other_option_is_root_uses_whole_path(name: str) -> None:
    options = _options()
    options[name] = _given(options[name])
    assert beyond_detection(options)


@pytest.mark.parametrize(
    "field", [f.name for f in dataclasses.fields(RemediationFlags) if f.name != "lock_timeout"]
)
def test_a_remediation_flag_is_root_uses_whole_path(field: str) -> None:
    options = _options()
    default = getattr(RemediationFlags(), field)
    options["flags"] = RemediationFlags(**{field: _given(default)})  # type: ignore[arg-type]
    # The keyring's opt-in (it may come from the environment) asks for no remediation.
    assert beyond_detection(options) is (field != "allow_plaintext_keyring")


def test_a_tag_list_left_empty_is_not_given() -> None:
    options = _options()
    options["tag"] = []
    assert not beyond_detection(options)
    options["tag"] = ["Team=a"]
    assert beyond_detection(options)


@pytest.mark.parametrize(
    ("given", "error"),
    [
        ({"days": 0}, "invalid --days 0"),
        ({"report_timeout": 0.5}, "invalid --report-timeout"),
        ({"fail_on": "everything"}, "invalid --fail-on 'everything'"),
        ({"output": "asff"}, "invalid --output 'asff'"),
    ],
)
def test_detection_request_checks_its_options(given: dict[str, Any], error: str) -> None:
    with pytest.raises(InputError, match=error):
        detection_request(aws=AwsChoice(), **given)


def _printed(capsys: pytest.CaptureFixture[str], run: Any) -> tuple[int, str]:
    capsys.readouterr()
    code = run()
    return code, capsys.readouterr().out


@pytest.mark.parametrize("output", ["text", "json"])
@pytest.mark.parametrize(
    "root",
    [
        RootState(password_last_used=datetime.now(UTC) - timedelta(days=2)),
        RootState(password_last_used=datetime.now(UTC) - timedelta(days=30), mfa_active=True),
        RootState(key_1_last_used=datetime.now(UTC) - timedelta(days=400), key_1_active=True),
    ],
    ids=["in-use", "not-in-use", "hygiene"],
)
@pytest.mark.parametrize("fail_on_hygiene", [False, True])
def test_detection_alone_answers_as_root_uses_whole_path(
    moto: Any,
    capsys: pytest.CaptureFixture[str],
    output: str,
    root: RootState,
    fail_on_hygiene: bool,
) -> None:
    moto.set_root(root)
    aws = AwsChoice(endpoint_url=moto.endpoint_url)
    alone = DetectionRequest(aws=aws, output=output, fail_on_hygiene=fail_on_hygiene)
    whole = RootUseRequest(aws=aws, output=output, fail_on_hygiene=fail_on_hygiene)
    code, printed = _printed(capsys, lambda: detect_root_use(alone))
    whole_code, whole_printed = _printed(capsys, lambda: whole_root_use(whole, nobody()))
    assert code == whole_code
    assert "123456789012" in printed
    if output == "json":
        # Each run has the emulator generate its report, and measures its age when it reads it.
        document, whole_document = json.loads(printed), json.loads(whole_printed)
        for key in ("report_generated_at", "report_age_seconds"):
            assert document.pop(key) is not None
            assert whole_document.pop(key) is not None
        assert document == whole_document
    else:
        # The window starts when each run judged, and each had a report generated, to the second.
        assert _seconds_apart(printed) == _seconds_apart(whole_printed)


def _seconds_apart(text: str) -> str:
    text = re.sub(r"\(since [0-9-]+ [0-9:]+ UTC\)", "(since ...)", text)
    return re.sub(r"generated [0-9-]+ [0-9:]+ UTC", "generated ...", text)


def test_detection_alone_loads_no_engine(moto: Any) -> None:
    # In a fresh interpreter: this one has loaded every module long ago.
    code = (
        "import json, sys\n"
        "from remediate.cli import run\n"
        f"code = run(['root-use', '--endpoint-url', {moto.endpoint_url!r}, '-o', 'json'])\n"
        "print(json.dumps([code, sorted(m for m in sys.modules if m.startswith('remediate'))]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    exit_code, modules = json.loads(result.stdout.strip().splitlines()[-1])
    assert exit_code == 1  # root in use: detection ran to its verdict
    assert "remediate.commands.detection" in modules
    assert [m for m in modules if m.startswith(NOT_LOADED)] == []
