"""``remediate sandbox serve``: the built-in AWS emulator in the foreground until Ctrl-C, and
the shell lines that point other commands (and the AWS CLI) at it."""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from remediate.commands.request import check_range
from remediate.commands.session import SANDBOX_ENDPOINT_FILE, SANDBOX_KEYRING_FILE
from remediate.core.errors import EXIT_OK, InputError
from remediate.core.terminal import note
from remediate.sandbox.keyring_file import SANDBOX_KEYRING_ENV
from remediate.sandbox.server import (
    SANDBOX_ACCOUNT_ID,
    SANDBOX_CREDENTIALS,
    SANDBOX_REGION,
    Sandbox,
)


@dataclass(frozen=True)
class SandboxServeRequest:
    """``remediate sandbox serve``: the port to listen on (0: a free one), and the sandbox's own
    directory (None: a new one)."""

    port: int = 0
    directory: Path | None = None


def sandbox_serve_request(
    *, port: int | None = None, directory: Path | None = None
) -> SandboxServeRequest:
    """A port of 1-65535 (none given: a free one); a directory that does not exist yet or is
    empty: the sandbox's keyring and state go there and nothing of an earlier sandbox may mix
    in."""
    if port is not None:
        check_range("--port", port, 1, 65535)
    if directory is not None and directory.exists():
        if not directory.is_dir():
            raise InputError(f"--dir {directory}: not a directory")
        if any(directory.iterdir()):
            raise InputError(
                f"--dir {directory} is not empty: the sandbox keeps its keyring and state there "
                "and starts with none",
                tip="give a new or empty directory, or leave --dir out for a new temporary one",
            )
    return SandboxServeRequest(port=port or 0, directory=directory)


def sandbox_environment(endpoint_url: str, directory: Path) -> list[str]:
    """The shell lines that point remediate (and the AWS CLI) at a serving sandbox: its
    endpoint and fake keys, no profile, its own keyring file and its own state directory."""
    values = {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": SANDBOX_CREDENTIALS["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": SANDBOX_CREDENTIALS["SecretAccessKey"],
        "AWS_REGION": SANDBOX_REGION,
        "AWS_DEFAULT_REGION": SANDBOX_REGION,
        # Sandbox only: a plain file of its fake secrets, in the sandbox's own directory.
        SANDBOX_KEYRING_ENV: str(directory / SANDBOX_KEYRING_FILE),
        # The journal and the locks of runs against the sandbox stay with it.
        "XDG_STATE_HOME": str(directory / "state"),
    }
    lines = ["unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN"]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in values.items()]
    return lines


def _serve(sb: Sandbox, directory: Path) -> None:
    """Seed the Developers group, say where the sandbox is, and wait for Ctrl-C."""
    # The group the README's onboard-user example adds people to.
    sb.client("iam").create_group(GroupName="Developers")
    (directory / SANDBOX_ENDPOINT_FILE).write_text(sb.endpoint_url + "\n")
    note(
        f"SANDBOX: a local AWS emulator at {sb.endpoint_url}: account {SANDBOX_ACCOUNT_ID} "
        "(its root password used 2 days ago; an IAM group Developers), the management "
        "account of an organization with three member accounts. Nothing here touches a real "
        "AWS account."
    )
    note(
        "Paste these lines into another shell to point remediate and the AWS CLI at it; its "
        f"keyring and journal stay in {directory}:"
    )
    for line in sandbox_environment(sb.endpoint_url, directory):
        sys.stdout.write(line + "\n")
    sys.stdout.flush()
    note("Serving until Ctrl-C; everything in the emulator ends then.")
    while True:
        time.sleep(3600)


def sandbox_serve(request: SandboxServeRequest) -> int:
    """Run the sandbox in the foreground until Ctrl-C: its accounts, organization and a
    Developers group, and the lines that point other commands at it."""
    if request.directory is None:
        directory = Path(tempfile.mkdtemp(prefix="remediate-sandbox-"))  # 0700
    else:
        directory = request.directory
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Ctrl-C is how a server in the foreground is stopped, once it runs: not an interruption of
    # a change, and exit 0.
    with (
        Sandbox(organization=True, port=request.port) as sb,
        contextlib.suppress(KeyboardInterrupt),
    ):
        _serve(sb, directory)
    with contextlib.suppress(OSError):
        os.remove(directory / SANDBOX_ENDPOINT_FILE)
    note(f"\nSANDBOX: stopped. Its keyring and journal are in {directory} (delete it when done).")
    return EXIT_OK
