"""The command's AWS session: boto3's credential chain (botocore's, without boto3), or the
built-in sandbox's; and the guard that keeps a `sandbox serve` keyring away from real accounts.
Light to import: detection loads this, not the engine's wiring (remediate.commands.wiring)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from remediate.commands.request import AwsChoice
from remediate.core.errors import InputError
from remediate.core.terminal import note
from remediate.sandbox.keyring_file import SANDBOX_KEYRING_ENV

if TYPE_CHECKING:
    from remediate.aws.session import Aws

# In a serving sandbox's directory (remediate.commands.sandbox): where it listens, its keyring.
SANDBOX_ENDPOINT_FILE = "endpoint"
SANDBOX_KEYRING_FILE = "sandbox-keyring.json"


@contextlib.contextmanager
def open_aws(choice: AwsChoice, *, read_only: bool, organization: bool = False) -> Iterator[Aws]:
    """The command's AWS session; with ``sandbox``, one pointed at a fresh local emulator (seeded
    with an organization when the command works across accounts)."""
    # boto3 (and moto for the sandbox): imported by the commands that talk to AWS only.
    from remediate.aws.options import AwsOptions
    from remediate.aws.session import Aws

    if not choice.sandbox:
        options = AwsOptions(
            choice.profile, choice.region, choice.endpoint_url, choice.allow_insecure_endpoint
        )
        aws = Aws(options, read_only=read_only)
        check_sandbox_keyring(aws)
        yield aws
        return
    # The emulator (2,000 lines over moto's models): loaded only for --sandbox.
    from remediate.sandbox.server import SANDBOX_CREDENTIALS, SANDBOX_REGION, Sandbox

    with Sandbox(organization=organization) as sb:
        members = " in an organization with three member accounts" if organization else ""
        note(
            f"SANDBOX: a local AWS emulator at {sb.endpoint_url}: an account whose root "
            f"password was used 2 days ago{members}. Nothing here touches a real AWS account, "
            "and it all ends with this command."
        )
        options = AwsOptions(None, choice.region or SANDBOX_REGION, sb.endpoint_url, isolated=True)
        yield Aws.from_credentials(options, SANDBOX_CREDENTIALS, read_only=read_only)


def check_sandbox_keyring(aws: Aws) -> None:
    """With the sandbox's keyring in the environment, refuse to talk to anything but that
    sandbox: secrets of a real account must never land in its plain file."""
    keyring_file = os.environ.get(SANDBOX_KEYRING_ENV)
    if not keyring_file:
        return
    try:
        served = (Path(keyring_file).parent / SANDBOX_ENDPOINT_FILE).read_text().strip()
    except OSError:
        served = None
    target = str(aws.iam.meta.endpoint_url)
    if served is None:
        # `sandbox serve` removes its endpoint file when it stops.
        raise InputError(
            f"{SANDBOX_KEYRING_ENV} is set (the keyring of `remediate sandbox serve`), and that "
            f"sandbox has stopped ({Path(keyring_file).parent} names no endpoint)",
            tip="the sandbox stopped; a restart picks a new port: paste its lines again (or, "
            f"for a real account, unset {SANDBOX_KEYRING_ENV} and the sandbox's other lines: "
            "a new shell)",
        )
    if target.rstrip("/") != served.rstrip("/"):
        raise InputError(
            f"{SANDBOX_KEYRING_ENV} is set (the keyring of `remediate sandbox serve`), but this "
            f"command talks to {target}, not to that sandbox ({served})",
            tip=f"unset {SANDBOX_KEYRING_ENV} and the sandbox's other lines (a new shell) before "
            "working on a real account",
        )
