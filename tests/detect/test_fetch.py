"""Fetching the credential report against moto's server: generate, poll with backoff, time out.

moto's report is ready at once; real IAM takes seconds. The ``iam_script`` fixture makes the
server (which runs in this process) answer as real IAM does while a report is being generated,
and a fake clock records the waits, so nothing here really sleeps.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto.core.exceptions import AccessDeniedError
from moto.iam.exceptions import IAMException
from moto.iam.responses import IamResponse

from remediate.aws.identity import caller_identity
from remediate.aws.options import AwsOptions
from remediate.aws.session import Aws
from remediate.core.errors import EXIT_AWS, AwsError
from remediate.detect.fetch import MAX_DELAY, fetch_credential_report
from remediate.detect.service import detect
from remediate.sandbox.server import SANDBOX_CREDENTIALS, RootState

pytestmark = pytest.mark.e2e

GENERATE = "iam:GenerateCredentialReport"
GET = "iam:GetCredentialReport"
NEVER_READY = "ReportInProgress*"


class ScriptedIamError(IAMException):
    """An IAM error with the code (and so the HTTP status) real IAM uses, e.g. ReportInProgress.

    Defined outside moto's packages, so moto looks the code up in the IAM service model.
    """


@dataclass
class IamScript:
    """Errors the server raises, in order, before answering GenerateCredentialReport and
    GetCredentialReport normally. ``NEVER_READY`` as the last Get answer repeats forever."""

    generate: deque[str] = field(default_factory=deque)
    get: deque[str] = field(default_factory=deque)

    def next_error(self, queue: deque[str]) -> Exception | None:
        if not queue:
            return None
        code = queue[0] if queue[0] == NEVER_READY else queue.popleft()
        if code == "AccessDenied":
            return AccessDeniedError("arn:aws:iam::123456789012:user/auditor", GET)
        return ScriptedIamError(code.rstrip("*"), f"scripted {code.rstrip('*')}")


@pytest.fixture
def iam_script(moto: Any, monkeypatch: pytest.MonkeyPatch) -> IamScript:
    script = IamScript()
    original_generate = IamResponse.generate_credential_report
    original_get = IamResponse.get_credential_report

    def generate(self: Any) -> Any:
        error = script.next_error(script.generate)
        if error is not None:
            raise error
        return original_generate(self)

    def get(self: Any) -> Any:
        error = script.next_error(script.get)
        if error is not None:
            raise error
        return original_get(self)

    monkeypatch.setattr(IamResponse, "generate_credential_report", generate)
    monkeypatch.setattr(IamResponse, "get_credential_report", get)
    return script


@dataclass
class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps."""

    now: float = 1000.0
    delays: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.delays.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> FakeClock:
    return FakeClock()


@pytest.fixture
def aws(moto: Any) -> Aws:
    return Aws.from_credentials(
        AwsOptions(None, "us-east-1", moto.endpoint_url), SANDBOX_CREDENTIALS
    )


Fetch = Callable[..., Any]


@pytest.fixture
def fetch(aws: Aws, fake: FakeClock) -> Fetch:
    def run(timeout: float = 60.0) -> Any:
        return fetch_credential_report(aws.iam, timeout=timeout, sleep=fake.sleep, clock=fake.clock)

    return run


def iam_calls(aws: Aws) -> dict[str, int]:
    return {op: n for op, n in aws.stats.operations.items() if op.startswith("iam:")}


def test_a_ready_report_takes_exactly_two_calls_and_no_wait(aws, fake, fetch):
    fetched = fetch()
    assert b"<root_account>" in fetched.content
    assert iam_calls(aws) == {GENERATE: 1, GET: 1}
    assert aws.stats.reads == 2
    assert aws.stats.writes == 0
    assert fake.delays == []
    assert fetched.generated_at is not None
    assert fetched.generated_at.tzinfo is not None


def test_a_started_report_is_waited_for_before_the_first_get(moto, aws, fake, fetch):
    moto.reset(report_ready=False)  # no report yet: GenerateCredentialReport answers STARTED
    fetched = fetch()
    assert fetched.content.startswith(b"user,arn,")
    assert iam_calls(aws) == {GENERATE: 1, GET: 1}
    assert fake.delays == [1.0]


@pytest.mark.parametrize("polls", [1, 3, 6])
def test_report_in_progress_is_polled_with_growing_delays(iam_script, aws, fake, fetch, polls):
    iam_script.get.extend(["ReportInProgress"] * polls)
    fetched = fetch()
    assert b"<root_account>" in fetched.content
    assert iam_calls(aws) == {GENERATE: 1, GET: polls + 1}
    assert len(fake.delays) == polls
    assert fake.delays[0] == 1.0
    assert all(a <= b for a, b in zip(fake.delays, fake.delays[1:], strict=False))
    assert all(a < b for a, b in zip(fake.delays, fake.delays[1:], strict=False) if b < MAX_DELAY)
    assert max(fake.delays) <= MAX_DELAY


@pytest.mark.parametrize("timeout", [1.0, 10.0, 30.0, 60.0])
def test_a_report_never_ready_times_out_within_the_timeout(iam_script, aws, fake, fetch, timeout):
    iam_script.get.append(NEVER_READY)
    with pytest.raises(AwsError) as caught:
        fetch(timeout=timeout)
    error = caught.value
    assert error.exit_code == EXIT_AWS
    assert error.code == "Timeout"
    assert f"within {timeout:g} s" in error.message
    assert error.tip is not None
    assert "--report-timeout" in error.tip
    assert sum(fake.delays) <= timeout
    # The whole timeout is used: the last poll happens at the deadline, not a delay early.
    assert sum(fake.delays) == pytest.approx(timeout)
    assert iam_calls(aws) == {GENERATE: 1, GET: len(fake.delays) + 1}


@pytest.mark.parametrize("code", ["ReportNotPresent", "ReportExpired"])
def test_a_missing_or_expired_report_is_generated_again(iam_script, aws, fake, fetch, code):
    iam_script.get.append(code)
    fetched = fetch()
    assert b"<root_account>" in fetched.content
    assert iam_calls(aws) == {GENERATE: 2, GET: 2}
    assert len(fake.delays) == 1


def test_limit_exceeded_on_generate_waits_and_generates_again(iam_script, aws, fake, fetch):
    iam_script.generate.extend(["LimitExceeded", "LimitExceeded"])
    fetched = fetch()
    assert b"<root_account>" in fetched.content
    assert iam_calls(aws) == {GENERATE: 3, GET: 1}
    assert fake.delays == [1.0, 2.0]


def test_a_final_error_is_raised_at_once(iam_script, aws, fake, fetch):
    iam_script.get.append("AccessDenied")
    with pytest.raises(AwsError) as caught:
        fetch()
    assert caught.value.code == "AccessDenied"
    assert caught.value.action == GET
    assert GET in caught.value.message
    assert fake.delays == []
    assert iam_calls(aws) == {GENERATE: 1, GET: 1}


def test_detect_makes_three_calls_and_judges_after_the_report_arrives(moto, aws):
    # Root with MFA: nothing else to ask.
    moto.set_root(RootState(password_last_used=datetime.now(UTC), mfa_active=True))
    verdict = detect(aws, caller_identity(aws), days=7, report_timeout=5)
    assert verdict.root_in_use is True
    assert dict(aws.stats.operations) == {"sts:GetCallerIdentity": 1, GENERATE: 1, GET: 1}
    assert aws.stats.writes == 0
    # Judged at the time the report arrived, a report generated during the run is not "in
    # the future": no clock-skew note.
    assert verdict.report_age_seconds is not None
    assert verdict.report_age_seconds >= 0
    assert not any("clock skew" in note for note in verdict.notes)


def test_detect_asks_the_account_summary_only_when_root_mfa_is_not_active(aws):
    # The test account's root: a password used lately, no MFA. Does it still have a password?
    verdict = detect(aws, caller_identity(aws), days=7, report_timeout=5)
    assert dict(aws.stats.operations) == {
        "sts:GetCallerIdentity": 1,
        GENERATE: 1,
        GET: 1,
        "iam:GetAccountSummary": 1,
    }
    assert aws.stats.writes == 0
    assert verdict.root_password_present is True
    assert [f.id for f in verdict.findings] == ["root-mfa-not-active"]


def test_detect_with_a_read_only_session_sends_no_write(moto, sent):
    aws = Aws.from_credentials(
        AwsOptions(None, "us-east-1", moto.endpoint_url), SANDBOX_CREDENTIALS, read_only=True
    )
    now = datetime.now(UTC) + timedelta(seconds=5)
    verdict = detect(aws, caller_identity(aws), days=7, report_timeout=5, now=now)
    assert verdict.root_in_use is True
    assert sent == [
        "sts:GetCallerIdentity",
        "iam:GenerateCredentialReport",
        "iam:GetCredentialReport",
        "iam:GetAccountSummary",  # a read: root MFA is not active here
    ]
