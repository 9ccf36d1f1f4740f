"""The environment of a process that talks to the sandbox as a client would: the sandbox's fake
keys and region, no AWS configuration file, no instance metadata, nothing of the caller's AWS
settings. Shared by the benchmarks that run remediate against a sandbox."""

from __future__ import annotations

import os
from collections.abc import Mapping

from remediate.sandbox.server import SANDBOX_CREDENTIALS, SANDBOX_REGION

SANDBOX_CLIENT = {
    "AWS_ACCESS_KEY_ID": SANDBOX_CREDENTIALS["AccessKeyId"],
    "AWS_SECRET_ACCESS_KEY": SANDBOX_CREDENTIALS["SecretAccessKey"],
    "AWS_DEFAULT_REGION": SANDBOX_REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def sandbox_client_environment(base: Mapping[str, str]) -> dict[str, str]:
    """``base`` without its AWS settings, with the sandbox client's."""
    env = {name: value for name, value in base.items() if not name.startswith("AWS_")}
    env.update(SANDBOX_CLIENT)
    return env
