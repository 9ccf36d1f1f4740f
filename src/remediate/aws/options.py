"""How to reach AWS (profile, region, endpoint), where each setting came from when it cannot be
used, and the region a run resolves to before any AWS call."""

from __future__ import annotations

import os
from dataclasses import dataclass

from remediate.aws.errors import translate
from remediate.core.errors import AwsError, InputError

# botocore is imported inside the functions: the options are built, and checked, by commands
# that must not pay for botocore before they know they will call AWS.


@dataclass(frozen=True)
class AwsOptions:
    """How to reach AWS: ``None`` everywhere means botocore's standard chain and environment."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    # An http:// endpoint on another machine, however it was set (AWS_ENDPOINT_URL, the config
    # file), is refused unless this is true: secrets would cross the network in clear text.
    allow_insecure_endpoint: bool = False
    # The built-in sandbox: no AWS config file or profile is read (see session.new_session).
    isolated: bool = False


def _source(option: str | None, flag: str, *env: str) -> str:
    """Where a setting came from, for a message: the option, an environment variable, or the
    AWS config."""
    if option:
        return flag
    for name in env:
        if os.environ.get(name):
            return name
    return "the AWS config"


def endpoint_source(options: AwsOptions) -> str:
    """Where the endpoint came from, for a message about it."""
    if options.endpoint_url:
        return f"{options.endpoint_url[:120]!r} (--endpoint-url)"
    return "from AWS_ENDPOINT_URL or the AWS config"


def config_error(exc: Exception, options: AwsOptions) -> InputError | AwsError:
    """One line for a botocore failure to set a session or client up: what the person gave (a
    profile, a region, the config file) is an input error naming where it came from; anything
    else (credentials that cannot be fetched) an AWS error."""
    import botocore.exceptions

    if isinstance(exc, botocore.exceptions.ProfileNotFound):
        name = exc.kwargs.get("profile") or options.profile
        source = _source(options.profile, "--profile", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
        if source == "the AWS config":
            source = "a source_profile in the AWS config"
        return InputError(
            f"AWS profile {str(name)[:80]!r} not found (named by {source})",
            tip=_profiles_tip(),
        )
    if isinstance(exc, botocore.exceptions.InvalidRegionError):
        region = exc.kwargs.get("region_name") or options.region
        source = _source(options.region, "--region", "AWS_REGION", "AWS_DEFAULT_REGION")
        return InputError(
            f"invalid AWS region {str(region)[:80]!r} (from {source})",
            tip="use a region name such as us-east-1",
        )
    if isinstance(
        exc, botocore.exceptions.InvalidConfigError | botocore.exceptions.ConfigParseError
    ):
        return InputError(
            f"the AWS config cannot be used: {' '.join(str(exc).split())[:200]}",
            tip="fix ~/.aws/config (or AWS_CONFIG_FILE)",
        )
    return translate(exc, "the credentials")


def _profiles_tip() -> str:
    import botocore.session

    try:
        names = sorted(botocore.session.Session().available_profiles)
    except Exception:  # a config file that cannot be parsed: the tip is only a tip
        names = []
    if names and len(names) <= 8:
        return f"profiles in the AWS config: {', '.join(names)}"
    return "list profiles with `aws configure list-profiles`"


def configured_region() -> str | None:
    """The region a run without --region would use, read from the configuration alone (no AWS
    call): ``AWS_REGION``, then botocore's chain (``AWS_DEFAULT_REGION``, the region of the
    profile ``AWS_PROFILE`` names, or of the default profile)."""
    import botocore.exceptions
    import botocore.session

    if os.environ.get("AWS_REGION"):
        return os.environ["AWS_REGION"]
    try:
        region = botocore.session.Session().get_config_variable("region")
    except (
        botocore.exceptions.ProfileNotFound,
        botocore.exceptions.InvalidConfigError,
        botocore.exceptions.ConfigParseError,
    ) as exc:
        raise config_error(exc, AwsOptions()) from exc
    return str(region) if region else None
