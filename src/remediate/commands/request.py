"""What every command's request shares: how to reach AWS, the output format, range checks, the
options that name accounts, a remediation's flags as given, and ``--var KEY=VALUE`` options.
Typer-free and AWS-free, so each rule is unit-tested on its own; every violation is an
InputError (exit 2) before anything is changed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from remediate.core import limits, validate
from remediate.core.errors import InputError
from remediate.findings.formats import FINDINGS_FORMATS

# "text", "json", or (root-use) the name of a findings format (remediate.findings.formats): not
# a Literal, so that a format is added by its registration alone.
OutputFormat = str
TEXT = "text"
JSON = "json"


def check_range(option: str, value: float, low: float, high: float | None = None) -> None:
    """``value`` of ``option`` within [low, high] (no upper bound when ``high`` is None)."""
    if value < low or (high is not None and value > high):
        bound = f"{low:g}-{high:g}" if high is not None else f"at least {low:g}"
        raise InputError(f"invalid {option} {value:g}: expected {bound}")


def named_accounts(
    *, all_accounts: bool, accounts: str | None, concurrency: int | None
) -> tuple[str, ...] | None:
    """``--accounts ID,ID,...`` validated (None: not given), ``--all-accounts`` not with it, and
    ``--concurrency`` in range: every command that works across accounts checks these alike."""
    if all_accounts and accounts is not None:
        raise InputError("give --all-accounts or --accounts, not both")
    if concurrency is not None:
        check_range("--concurrency", concurrency, 1, limits.MAX_CONCURRENCY)
    return validate.account_ids(accounts) if accounts is not None else None


def member_role(role_name: str | None, external_id: str | None) -> tuple[str, str | None]:
    """``--role-name`` (the default when not given) and ``--external-id``, validated: the role
    assumed in each member account."""
    role = validate.role_name(role_name or limits.DEFAULT_ROLE_NAME)
    return role, validate.external_id(external_id) if external_id is not None else None


def check_output(output: OutputFormat, *, findings: bool = False) -> OutputFormat:
    """``--output``: text or json, and (``findings``: root-use) a registered findings format."""
    allowed = (TEXT, JSON, *(FINDINGS_FORMATS if findings else ()))
    if output not in allowed:
        raise InputError(f"invalid --output {output[:40]!r}: expected {', '.join(allowed)}")
    return output


@dataclass(frozen=True)
class AwsChoice:
    """How to reach AWS: boto3's chain (``None`` everywhere), or the built-in sandbox."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    sandbox: bool = False
    allow_insecure_endpoint: bool = False

    def __post_init__(self) -> None:
        if self.sandbox and (self.profile or self.endpoint_url):
            raise InputError("--sandbox cannot be combined with --profile or --endpoint-url")
        if self.endpoint_url is not None:
            validate.endpoint_url(self.endpoint_url)
        if self.region is not None:
            validate.region(self.region)
        url = self.endpoint_url
        remote = (
            validate.plain_text_remote(url) if url and not self.allow_insecure_endpoint else None
        )
        if url and remote:
            raise InputError(
                f"--endpoint-url {url[:120]!r} is plain http to {remote}: "
                "passwords and secret keys would cross the network in clear text",
                tip=validate.PLAIN_HTTP_TIP,
            )


@dataclass(frozen=True)
class RemediationFlags:
    """The command-line flags of a remediation run, as given: declared once for root-use and
    playbook run (remediate.cli.groups), which both build this."""

    dry_run: bool = False
    yes: bool = False
    show_secrets: bool = False
    password_prompt: bool = False
    password_stdin: bool = False
    mfa_auto: bool = False
    mfa_codes: tuple[str, str] | None = None
    qr_file: Path | None = None
    show_mfa_secret: bool = False
    allow_plaintext_keyring: bool = False
    # The hand-over: the device for its owner, users remediate did not create, a new password
    # on an existing login profile.
    mfa_handoff: bool = False
    adopt_existing_user: bool = False
    reset_password: bool = False
    lock_timeout: float | None = None

    def any_given(self) -> bool:
        # The keyring opt-in may come from the environment: it asks for no remediation.
        return replace(self, allow_plaintext_keyring=False) != RemediationFlags()

    def any_mfa_option(self) -> bool:
        return bool(
            self.mfa_auto
            or self.mfa_codes
            or self.qr_file
            or self.show_mfa_secret
            or self.mfa_handoff
        )


def playbook_variables(texts: Sequence[str]) -> dict[str, str]:
    """``--var KEY=VALUE`` options, each key once."""
    given: dict[str, str] = {}
    for text in texts:
        key, value = validate.key_value(text, "--var")
        if key in given:
            raise InputError(f"--var {key} given twice")
        given[key] = value
    return given
