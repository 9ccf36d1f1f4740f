"""Shared fixtures: a moto server on a free loopback port, fake credentials, a test keyring."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from remediate.cli import run
from remediate.sandbox.server import (
    SANDBOX_ACCOUNT_ID,
    RootState,
    Sandbox,
    clear_root_states,
    generate_credential_report,
    set_root_state,
)
from support.orgs import Org, faithful_moto, seed_organization
from support.prompters import nobody
from support.wire import record_requests

ACCOUNT_ID = SANDBOX_ACCOUNT_ID


@pytest.fixture(scope="session", autouse=True)
def _no_real_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fake keys, no profile, no shared config: no test can reach a real AWS account."""
    home = tmp_path_factory.mktemp("home")
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("AWS_"):
            del os.environ[name]
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "AKIATESTEXAMPLE00000",
            "AWS_SECRET_ACCESS_KEY": "testing-secret",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_MAX_ATTEMPTS": "2",
            "XDG_STATE_HOME": str(home / "state"),
            "XDG_DATA_HOME": str(home / "data"),
        }
    )
    yield
    os.environ.clear()
    os.environ.update(saved)


@dataclass
class Moto:
    """The running emulator: its endpoint, and helpers to seed and reset it."""

    endpoint_url: str

    def reset(self, *, report_ready: bool = True) -> None:
        """Wipe all state; with ``report_ready``, the account then has a recent credential report
        (GenerateCredentialReport answers COMPLETE, as in an account that ran it lately)."""
        url = f"{self.endpoint_url}/moto-api/reset"
        req = urllib.request.Request(url, method="POST")  # noqa: S310 (loopback only)
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
            resp.read()
        clear_root_states()
        if report_ready:
            generate_credential_report(ACCOUNT_ID)

    def set_root(self, state: RootState | None, account_id: str = ACCOUNT_ID) -> None:
        set_root_state(account_id, state)

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, region_name="us-east-1", endpoint_url=self.endpoint_url)


def _speed_up_moto_resets(mp: pytest.MonkeyPatch) -> None:
    """Make a reset, with the IAM backend built after it, cost ~0.1 s instead of ~1 s; the state
    after it is the same.

    moto's reset rebuilds every IAM backend, each loading ~1,300 AWS managed policies, and then
    drops the rebuilt ones from its registry: skip that rebuild, which nothing uses. And parse
    moto's managed-policy JSON once, not once per backend built after each reset.
    """
    import moto.iam.models as iam_models
    from moto.settings import load_iam_aws_managed_policies

    managed_policies: dict[str, Any] = json.loads(iam_models.aws_managed_policies_data)

    def init_aws_policies(self: Any) -> list[Any]:
        if not load_iam_aws_managed_policies():
            return []
        return [
            iam_models.AWSManagedPolicy.from_data(name, self.account_id, self.region_name, data)
            for name, data in managed_policies.items()
        ]

    mp.setattr(iam_models.IAMBackend, "reset", lambda self: None)
    mp.setattr(iam_models.IAMBackend, "_init_aws_policies", init_aws_policies)


@pytest.fixture(scope="session")
def moto_server(_no_real_aws: None) -> Iterator[Moto]:
    mp = pytest.MonkeyPatch()
    _speed_up_moto_resets(mp)
    try:
        with Sandbox() as sb:
            yield Moto(sb.endpoint_url)
    finally:
        mp.undo()


@pytest.fixture
def moto(moto_server: Moto) -> Iterator[Moto]:
    """A reset emulator whose root password was last used 2 days ago (as in the sandbox)."""
    moto_server.reset()
    moto_server.set_root(RootState(password_last_used=datetime.now(UTC) - timedelta(days=2)))
    yield moto_server
    moto_server.reset(report_ready=False)


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every AWS request botocore sends during the test, as ``service:Operation``."""
    return record_requests(monkeypatch)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """Run the CLI in-process: ``cli("root-use", "--days", "3")`` -> Result. There is no
    terminal unless a test passes ``prompter=`` (see prompters.py)."""

    def invoke(*args: str, prompter: Any = None) -> Result:
        capsys.readouterr()
        code = run(list(args), prompter=prompter or nobody())
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


@pytest.fixture(autouse=True)
def test_keyring(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """An in-memory keyring for in-process runs; never the developer's real keyring.

    Subprocesses get keyrings.alt's plaintext file backend in a temporary folder instead, which
    remediate uses only when told it may (REMEDIATE_ALLOW_PLAINTEXT_KEYRING): its refusal is
    tested on its own (test_secrets.py, test_secrets_cli.py).
    """
    import keyring

    from remediate.credentials.backends import memory_keyring

    backend = memory_keyring()
    keyring.set_keyring(backend)
    data = tmp_path_factory.mktemp("keyring-data")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.setenv("REMEDIATE_ALLOW_PLAINTEXT_KEYRING", "1")
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    return backend


@pytest.fixture
def org(moto: Moto) -> Iterator[Org]:
    """The seeded organization on a faithful moto (see orgs.faithful_moto), detection only: no
    AWS managed policies in member accounts."""
    seeded = seed_organization(moto)
    with faithful_moto(seeded.assume_role_calls):
        yield seeded


@pytest.fixture
def admin_org(moto: Moto) -> Iterator[Org]:
    """The seeded organization with AdministratorAccess in every account, for remediation."""
    # IAMUserChangePassword: the login-profile step attaches it where users may not change their
    # own password (no account password policy says they may).
    seeded = seed_organization(moto, aws_policies=["AdministratorAccess", "IAMUserChangePassword"])
    with faithful_moto(seeded.assume_role_calls):
        yield seeded
