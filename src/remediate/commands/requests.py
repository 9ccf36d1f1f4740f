"""What the user asked for: command-line values turned into frozen requests, with every rule
that relates one option to another. No typer and no AWS here, so each rule is unit-tested on
its own; every violation is an InputError (exit 2) before anything is changed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from remediate.core import limits, validate
from remediate.core.clock import utc
from remediate.core.errors import InputError
from remediate.steps.base import QR_FILE_ACCOUNT

if TYPE_CHECKING:
    from remediate.steps.base import MfaMode
    from remediate.steps.kind import AnyStep

OutputFormat = Literal["text", "json", "asff", "ocsf"]
# The formats that print findings (root-use only): a JSON list of ASFF or OCSF documents.
FINDINGS_FORMATS = ("asff", "ocsf")


class PasswordSource(Enum):
    """Where the console password comes from."""

    GENERATED = "generated"
    PROMPT = "--password-prompt"
    STDIN = "--password-stdin"


SWEEP_OPTIONS = "--all, --role-name, --external-id and --concurrency"
FAIL_ON = ("hygiene",)
ROOT_CREDENTIALS_DELETE_TIP = (
    "in an AWS Organization, `remediate root-credentials delete --accounts ID` from the "
    "management account deletes member accounts' root credentials"
)


def check_range(option: str, value: float, low: float, high: float | None = None) -> None:
    """``value`` of ``option`` within [low, high] (no upper bound when ``high`` is None)."""
    if value < low or (high is not None and value > high):
        bound = f"{low:g}-{high:g}" if high is not None else f"at least {low:g}"
        raise InputError(f"invalid {option} {value:g}: expected {bound}")


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
    """The command-line flags of a remediation run, as given (root-use and playbook run)."""

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


@dataclass(frozen=True)
class MfaChoice:
    """Where the two MFA codes come from, and how the QR code and seed are shown."""

    mode: MfaMode = "interactive"
    codes: tuple[str, str] | None = None
    qr_file: Path | None = None
    show_secret: bool = False


@dataclass(frozen=True)
class RemediationRequest:
    """A playbook to run with these variables, and how."""

    playbook: str
    variables: Mapping[str, Any]
    dry_run: bool = False
    yes: bool = False
    show_secrets: bool = False
    password_source: PasswordSource = PasswordSource.GENERATED
    mfa: MfaChoice = field(default_factory=MfaChoice)
    allow_plaintext_keyring: bool = False
    adopt_existing_user: bool = False
    reset_password: bool = False
    # How long to wait for another run's lock on an account.
    lock_timeout: float = limits.DEFAULT_LOCK_TIMEOUT


@dataclass(frozen=True)
class AccountsRequest:
    """Several accounts: named ones, or (``account_ids`` None) every active account of the
    organization; ``every_account`` remediates all of them, not only those where root is used."""

    account_ids: tuple[str, ...] | None = None
    role_name: str = limits.DEFAULT_ROLE_NAME
    external_id: str | None = None
    concurrency: int = limits.DEFAULT_CONCURRENCY
    every_account: bool = False


@dataclass(frozen=True)
class CloudTrailRequest:
    """--cloudtrail: look root's events up in every enabled region (``regions`` None, the
    default), or in these regions besides the partition's global-events region (always)."""

    regions: tuple[str, ...] | None = None


@dataclass(frozen=True)
class RootUseRequest:
    """``remediate root-use``: detect, in one account or many, and maybe remediate."""

    aws: AwsChoice = field(default_factory=AwsChoice)
    days: int = limits.DEFAULT_DAYS
    report_timeout: float = limits.DEFAULT_REPORT_TIMEOUT
    credential_report: Path | None = None
    output: OutputFormat = "text"
    accounts: AccountsRequest | None = None
    remediation: RemediationRequest | None = None
    # --fail-on hygiene: a root hygiene finding also makes detection exit 1.
    fail_on_hygiene: bool = False
    cloudtrail: CloudTrailRequest | None = None
    # --security-hub: import the findings with securityhub:BatchImportFindings.
    security_hub: bool = False


@dataclass(frozen=True)
class PlaybookRunRequest:
    """``remediate playbook run``: one playbook in the caller's account."""

    remediation: RemediationRequest
    aws: AwsChoice = field(default_factory=AwsChoice)
    output: OutputFormat = "text"


def remediation_request(
    playbook: str, variables: Mapping[str, Any], flags: RemediationFlags
) -> RemediationRequest:
    """The flags checked against each other."""
    if flags.password_prompt and flags.password_stdin:
        raise InputError("give only one of --password-prompt and --password-stdin")
    if flags.mfa_auto and flags.mfa_codes:
        raise InputError("give only one of --mfa-auto and --mfa-codes")
    if flags.mfa_handoff:
        if flags.mfa_auto or flags.mfa_codes:
            raise InputError(
                "--mfa-handoff leaves the codes to the device's owner: it takes no --mfa-auto "
                "or --mfa-codes",
                tip="hand off first; --mfa-codes CODE1 CODE2 then finishes with their codes",
            )
        if flags.qr_file is None:
            raise InputError(
                "--mfa-handoff needs --qr-file PATH: the QR code to send to the device's owner",
                tip=f"across accounts, put {QR_FILE_ACCOUNT} in the path (one file per account): "
                f"--qr-file 'qr/{QR_FILE_ACCOUNT}-alice.png'",
            )
    if flags.reset_password and (flags.password_prompt or flags.password_stdin):
        raise InputError(
            "--reset-password sets a new generated password: it takes no --password-prompt or "
            "--password-stdin"
        )
    if flags.mfa_codes:
        from remediate.credentials.totp import CODE_FORMAT_HELP, code_is_well_formed

        for n, code in enumerate(flags.mfa_codes, 1):
            if re.fullmatch(r"--?[A-Za-z][\w-]*", code.strip()):
                # `--mfa-codes 123456 --yes`: click took the next option for the second code.
                raise InputError(
                    f"--mfa-codes takes two codes, and code {n} is {code.strip()[:40]!r}, an "
                    "option",
                    tip="give both codes right after it: --mfa-codes CODE1 CODE2",
                )
            if not code_is_well_formed(code):
                raise InputError(f"invalid --mfa-codes: code {n} {CODE_FORMAT_HELP}")
    if flags.lock_timeout is not None:
        check_range("--lock-timeout", flags.lock_timeout, 0, limits.MAX_LOCK_TIMEOUT)
    mode: MfaMode = (
        "auto"
        if flags.mfa_auto
        else "codes"
        if flags.mfa_codes
        else "handoff"
        if flags.mfa_handoff
        else "interactive"
    )
    source = (
        PasswordSource.PROMPT
        if flags.password_prompt
        else PasswordSource.STDIN
        if flags.password_stdin
        else PasswordSource.GENERATED
    )
    return RemediationRequest(
        playbook=playbook,
        variables=dict(variables),
        dry_run=flags.dry_run,
        yes=flags.yes,
        show_secrets=flags.show_secrets,
        password_source=source,
        mfa=MfaChoice(
            mode=mode,
            codes=flags.mfa_codes,
            qr_file=flags.qr_file,
            show_secret=flags.show_mfa_secret,
        ),
        allow_plaintext_keyring=flags.allow_plaintext_keyring,
        adopt_existing_user=flags.adopt_existing_user,
        reset_password=flags.reset_password,
        lock_timeout=(
            flags.lock_timeout if flags.lock_timeout is not None else limits.DEFAULT_LOCK_TIMEOUT
        ),
    )


def root_use_request(
    *,
    aws: AwsChoice,
    days: int = limits.DEFAULT_DAYS,
    report_timeout: float | None = None,
    credential_report: Path | None = None,
    output: OutputFormat = "text",
    create_admin: str | None = None,
    group: str | None = None,
    access: str | None = None,
    tags: Sequence[str] = (),
    no_mfa: bool = False,
    flags: RemediationFlags | None = None,
    all_accounts: bool = False,
    accounts: str | None = None,
    role_name: str | None = None,
    external_id: str | None = None,
    concurrency: int | None = None,
    every_account: bool = False,
    fail_on: str | None = None,
    delete_root_keys: bool = False,
    cloudtrail: bool = False,
    cloudtrail_regions: str | None = None,
    security_hub: bool = False,
    mfa_self_service: bool = False,
) -> RootUseRequest:
    """``root-use``'s options checked against each other. Options left out of the playbook's
    variables take the playbook's own defaults."""
    flags = flags or RemediationFlags()
    check_range("--days", days, 1, limits.MAX_DAYS)
    if report_timeout is not None:
        check_range("--report-timeout", report_timeout, 1, limits.MAX_REPORT_TIMEOUT)
    if no_mfa and flags.any_mfa_option():
        raise InputError("--no-mfa skips MFA enrollment: it takes no other MFA option")
    if mfa_self_service and (no_mfa or flags.any_mfa_option()):
        raise InputError(
            "--mfa-self-service creates no device (the user assigns their own): it takes no "
            "other MFA option"
        )
    if fail_on is not None:
        if fail_on not in FAIL_ON:
            raise InputError(f"invalid --fail-on {fail_on[:40]!r}: expected {', '.join(FAIL_ON)}")
        if create_admin is not None:
            raise InputError(
                "--fail-on sets detection's exit code; a remediation exits 0 when it completes",
                tip="run detection with --fail-on hygiene on its own",
            )
    if delete_root_keys:
        if create_admin is None:
            raise InputError(
                "--delete-root-keys needs --create-admin NAME: root's access keys are deleted "
                "only after an administrator exists to use instead"
            )
        if all_accounts or accounts is not None:
            raise InputError(
                "--delete-root-keys deletes the keys of the root user you are signed in as, "
                "in one account",
                tip=ROOT_CREDENTIALS_DELETE_TIP,
            )
    remediation = None
    if create_admin is not None:
        _second_factor_options(create_admin, access, mfa_self_service, delete_root_keys, flags)
        variables: dict[str, Any] = {"user": validate.user_name(create_admin)}
        if group is not None:
            variables["group"] = validate.group_name(group)
        if access is not None:
            variables["access"] = access
        if tags:
            variables["tags"] = validate.tag_options(tags)
        if no_mfa:
            variables["mfa"] = False
        if delete_root_keys:
            variables["delete_root_keys"] = True
        if mfa_self_service:
            variables["mfa"] = False
            variables["mfa_self_service"] = True
        remediation = remediation_request("root-use", variables, flags)
    elif (
        flags.any_given()
        or tags
        or no_mfa
        or mfa_self_service
        or group is not None
        or access is not None
    ):
        raise InputError("remediation options need --create-admin NAME")
    sweep = None
    if all_accounts or accounts is not None:
        if all_accounts and accounts is not None:
            raise InputError("give --all-accounts or --accounts, not both")
        if credential_report is not None:
            raise InputError("--credential-report judges one file: it takes no account option")
        if concurrency is not None:
            check_range("--concurrency", concurrency, 1, limits.MAX_CONCURRENCY)
        if every_account and remediation is None:
            raise InputError("--all needs --create-admin NAME")
        account_ids = validate.account_ids(accounts) if accounts is not None else None
        if remediation is not None:
            _one_account_options(flags, account_ids)
        sweep = AccountsRequest(
            account_ids=account_ids,
            role_name=validate.role_name(role_name or limits.DEFAULT_ROLE_NAME),
            external_id=validate.external_id(external_id) if external_id is not None else None,
            concurrency=concurrency or limits.DEFAULT_CONCURRENCY,
            every_account=every_account,
        )
    elif every_account or any(v is not None for v in (role_name, external_id, concurrency)):
        raise InputError(f"{SWEEP_OPTIONS} need --all-accounts or --accounts")
    if credential_report is not None and (
        aws != AwsChoice() or create_admin or report_timeout is not None
    ):
        raise InputError("--credential-report reads a file: it takes no AWS option")
    trail = _cloudtrail_request(cloudtrail, cloudtrail_regions, credential_report)
    if security_hub:
        if credential_report is not None:
            raise InputError(
                "--credential-report reads a file: --security-hub imports into an account "
                "(run detection against the account instead)"
            )
        if flags.dry_run:
            raise InputError(
                "--dry-run makes no write call at all: --security-hub imports findings (a write)",
                tip="print them with --output asff instead",
            )
    return RootUseRequest(
        aws=aws,
        days=days,
        report_timeout=report_timeout or limits.DEFAULT_REPORT_TIMEOUT,
        credential_report=credential_report,
        output=output,
        accounts=sweep,
        remediation=remediation,
        fail_on_hygiene=fail_on == "hygiene",
        cloudtrail=trail,
        security_hub=security_hub,
    )


def _self_service_with_a_key(user: str, given: str) -> str:
    return (
        f"{given} is no second factor: whoever holds {user}'s access key could enroll an MFA "
        "device of their own and make MFA sessions with it"
    )


def _kept_seed(user: str) -> str:
    return (
        "--delete-root-keys needs a second factor the keyring does not hold, and --mfa-auto "
        f"keeps {user}'s MFA seed in it, beside the password: whoever reads the keyring could "
        f"sign in as {user} with MFA"
    )


def _kept_seed_tip(user: str, delete_root_keys: str) -> str:
    return (
        f"enroll {user}'s device in person (leave out --mfa-auto), or hand it off (--mfa-handoff "
        f"--qr-file PATH, then --mfa-codes CODE1 CODE2 {delete_root_keys}); or delete root's "
        f"keys later, once {user} has scanned the seed and `remediate secrets forget {user}` "
        "has removed it"
    )


def _second_factor_options(
    user: str,
    access: str | None,
    mfa_self_service: bool,
    delete_root_keys: bool,
    flags: RemediationFlags,
) -> None:
    """root-use's MFA choices that would leave no second factor: self-service MFA beside an
    access key (its holder enrolls a device of their own first), and root's keys deleted on a
    device whose seed the keyring keeps beside the password."""
    if mfa_self_service and access in ("programmatic", "both"):
        raise InputError(
            _self_service_with_a_key(user, f"--mfa-self-service with --access {access}"),
            tip=f"enroll {user}'s device now instead (in person, --mfa-auto, or --mfa-handoff "
            "--qr-file PATH), or keep --mfa-self-service with --access console",
        )
    if delete_root_keys and flags.mfa_auto:
        raise InputError(_kept_seed(user), tip=_kept_seed_tip(user, "--delete-root-keys"))


def _second_factor_steps(request: RemediationRequest, steps: Sequence[AnyStep]) -> None:
    """The same rules for any playbook run, by what its steps do (playbook run's ``--var``
    values are bound only now)."""
    keyed = {str(s.user).casefold() for s in steps if s.gives_access_key}
    enrolled = {str(s.user).casefold() for s in steps if s.asks_for_codes}
    for step in steps:
        user = str(step.user)
        if step.self_service_mfa and user.casefold() in enrolled:
            raise InputError(
                f"self-service MFA lets {user} enroll their own device, and this run enrolls one "
                f"for {user} too: choose one",
                tip="--var mfa=false with --var mfa_self_service=true, or leave "
                "mfa_self_service out",
            )
        if step.self_service_mfa and user.casefold() in keyed:
            raise InputError(
                f"self-service MFA with an access key for {user} is no second factor: whoever "
                "holds the key could enroll an MFA device of their own and make MFA sessions "
                "with it",
                tip=f"enroll {user}'s device now instead (--var mfa=true: in person, --mfa-auto, "
                "or --mfa-handoff --qr-file PATH), or keep --var mfa_self_service=true with "
                "--var access=console",
            )
    if request.mfa.mode != "auto":
        return
    for step in steps:
        admin = step.user if step.needs_unheld_mfa else None
        if admin:
            raise InputError(
                _kept_seed(str(admin)),
                tip=_kept_seed_tip(str(admin), "--var delete_root_keys=true"),
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


def _cloudtrail_request(
    cloudtrail: bool, regions: str | None, credential_report: Path | None
) -> CloudTrailRequest | None:
    """--cloudtrail [--cloudtrail-regions R,R|all] checked."""
    if regions is not None and not cloudtrail:
        raise InputError("--cloudtrail-regions needs --cloudtrail")
    if not cloudtrail:
        return None
    if credential_report is not None:
        raise InputError(
            "--credential-report reads a file: --cloudtrail looks events up in the account"
        )
    return CloudTrailRequest(validate.cloudtrail_regions(regions) if regions is not None else None)


def _one_account_options(flags: RemediationFlags, account_ids: tuple[str, ...] | None) -> None:
    """Options that hold for one account only, across accounts (``account_ids`` None: every
    account of the organization). A hand-off finishes account by account: --mfa-codes with one
    account named; a QR code file per account with {account} in its name."""
    one = account_ids is not None and len(account_ids) == 1
    if flags.password_prompt:
        raise InputError("--password-prompt is for one account at a time")
    if flags.mfa_codes and not one:
        raise InputError(
            "--mfa-codes are the codes of one device, so for one account at a time: name it "
            "alone with --accounts ID"
        )
    if flags.qr_file and not one and QR_FILE_ACCOUNT not in str(flags.qr_file):
        raise InputError(
            "--qr-file names one file, for one account at a time: across accounts, put "
            f"{QR_FILE_ACCOUNT} in it (one file per account)",
            tip=f"--qr-file 'qr/{QR_FILE_ACCOUNT}-alice.png'",
        )


def playbook_run_request(
    playbook: str,
    *,
    aws: AwsChoice,
    variables: Sequence[str] = (),
    tags: Sequence[str] = (),
    flags: RemediationFlags | None = None,
    output: OutputFormat = "text",
) -> PlaybookRunRequest:
    """``playbook run``'s options: ``--var KEY=VALUE`` once per key, tags one way only."""
    given: dict[str, Any] = dict(playbook_variables(variables))
    if tags:
        if "tags" in given:
            raise InputError("give tags with --tag or --var tags=..., not both")
        given["tags"] = validate.tag_options(tags)
    remediation = remediation_request(playbook, given, flags or RemediationFlags())
    return PlaybookRunRequest(remediation=remediation, aws=aws, output=output)


@dataclass(frozen=True)
class PreparedPlaybook:
    """A playbook loaded, its variables bound and its steps built: ready for the engine."""

    name: str
    steps: tuple[AnyStep, ...]


def prepare(request: RemediationRequest, *, across_accounts: bool = False) -> PreparedPlaybook:
    """Load and check the playbook, and the rules that depend on what its steps can do."""
    from remediate.playbook.binding import bind, instantiate
    from remediate.playbook.loading import load_playbook

    playbook = load_playbook(request.playbook)
    steps = tuple(instantiate(playbook, bind(playbook, request.variables)))
    if request.password_source is not PasswordSource.GENERATED and not any(
        s.takes_password for s in steps
    ):
        raise InputError("a password option needs console access (--access console or both)")
    if request.reset_password and not any(s.resets_password for s in steps):
        raise InputError("--reset-password needs console access (--access console or both)")
    if request.adopt_existing_user and not any(s.adopts_users for s in steps):
        raise InputError(f"--adopt-existing-user: playbook {playbook.name} has no IAM user step")
    _second_factor_steps(request, steps)
    if request.mfa.mode == "handoff" and not any(s.asks_for_codes for s in steps):
        raise InputError(
            f"--mfa-handoff: this run of playbook {playbook.name} enrolls no virtual MFA device",
            tip="drop --no-mfa (root-use), or pass --var mfa=true (onboard-user)",
        )
    if across_accounts:
        if request.password_source is PasswordSource.STDIN:
            raise InputError(
                "--password-stdin would set one password in every account",
                tip="let each account's password be generated",
            )
        if any(s.asks_for_codes for s in steps) and request.mfa.mode == "interactive":
            raise InputError(
                "across accounts, MFA enrollment cannot prompt in each account",
                tip="pass --mfa-handoff with --qr-file 'qr/{account}.png' (each owner enrolls "
                "their own), --mfa-auto (the seeds stay in the keyring), or --no-mfa",
            )
    return PreparedPlaybook(playbook.name, steps)


@dataclass(frozen=True)
class RootCredentialsRequest:
    """``root-credentials audit`` or ``delete``: which member accounts (``account_ids`` None:
    every member account), and how."""

    aws: AwsChoice = field(default_factory=AwsChoice)
    account_ids: tuple[str, ...] | None = None
    concurrency: int = limits.DEFAULT_CONCURRENCY
    output: OutputFormat = "text"
    dry_run: bool = False
    yes: bool = False
    lock_timeout: float = limits.DEFAULT_LOCK_TIMEOUT


def root_credentials_request(
    command: Literal["audit", "delete"],
    *,
    aws: AwsChoice,
    all_accounts: bool = False,
    accounts: str | None = None,
    concurrency: int | None = None,
    output: OutputFormat = "text",
    dry_run: bool = False,
    yes: bool = False,
    lock_timeout: float | None = None,
) -> RootCredentialsRequest:
    """Audit defaults to every member account; delete, which cannot be undone, names them."""
    if all_accounts and accounts is not None:
        raise InputError("give --all-accounts or --accounts, not both")
    if command == "delete" and not all_accounts and accounts is None:
        raise InputError(
            "name the accounts whose root credentials to delete: --accounts ID,ID,... or "
            "--all-accounts",
            tip="see them first with `remediate root-credentials audit`",
        )
    if command == "audit" and (dry_run or yes or lock_timeout is not None):
        raise InputError("audit changes nothing: it takes no --dry-run, --yes or --lock-timeout")
    if lock_timeout is not None:
        check_range("--lock-timeout", lock_timeout, 0, limits.MAX_LOCK_TIMEOUT)
    if concurrency is not None:
        check_range("--concurrency", concurrency, 1, limits.MAX_CONCURRENCY)
    return RootCredentialsRequest(
        aws=aws,
        account_ids=validate.account_ids(accounts) if accounts is not None else None,
        concurrency=concurrency or limits.DEFAULT_CONCURRENCY,
        output=output,
        dry_run=dry_run,
        yes=yes,
        lock_timeout=lock_timeout if lock_timeout is not None else limits.DEFAULT_LOCK_TIMEOUT,
    )


@dataclass(frozen=True)
class PermissionsRequest:
    """``remediate permissions``: the policy for detection and a playbook, scoped to the run
    described by ``variables`` in ``account`` (any account when ``None``) in ``partition``, and
    the sweep's needs; or the management account's needs for root-credentials."""

    playbook: str = "root-use"
    variables: Mapping[str, str] = field(default_factory=dict)
    account: str | None = None
    partition: str = "aws"
    detect_only: bool = False
    organization_role: str | None = None
    root_credentials: bool = False
    cloudtrail: bool = False
    security_hub: bool = False
    administrative: bool = False


def permissions_request(
    playbook: str = "root-use",
    *,
    variables: Sequence[str] = (),
    account: str | None = None,
    region: str | None = None,
    detect_only: bool = False,
    organization: bool = False,
    role_name: str | None = None,
    root_credentials: bool = False,
    cloudtrail: bool = False,
    security_hub: bool = False,
    administrative: bool = False,
) -> PermissionsRequest:
    """``permissions``' options: ``--var KEY=VALUE`` once per key, a 12-digit ``--account``, the
    partition of ``--region``, else of the region the AWS configuration gives (``aws`` without
    one). --root-credentials prints a policy of its own: it takes no other choice but the region.
    --administrative prints the playbook's administrative steps' alone: what detection, a sweep,
    CloudTrail and Security Hub need is the operator's."""
    from remediate.aws.session import configured_region, partition_of_region

    if root_credentials and (
        detect_only or organization or playbook != "root-use" or variables or account
    ):
        raise InputError(
            "--root-credentials prints the management account's policy for `remediate "
            "root-credentials`: it takes no PLAYBOOK, --var, --account, --detect-only or "
            "--organization"
        )
    if root_credentials and (cloudtrail or security_hub):
        raise InputError(
            "--cloudtrail and --security-hub add to root-use's policy: `remediate "
            "root-credentials` needs neither"
        )
    if administrative and (
        root_credentials or detect_only or organization or cloudtrail or security_hub
    ):
        raise InputError(
            "--administrative prints what a playbook's administrative steps need, and nothing "
            "else: it takes no --root-credentials, --detect-only, --organization, --cloudtrail "
            "or --security-hub",
            tip="print the operator's policy with those options, and the administrator's on its "
            "own",
        )
    given = playbook_variables(variables)
    region = region or configured_region()
    # --security-hub scopes its statement to --account's default product, detection or not.
    if detect_only and (given or (account is not None and not security_hub)):
        raise InputError(
            "--detect-only prints no playbook statements: it takes no --var or --account"
        )
    return PermissionsRequest(
        playbook=playbook,
        variables=given,
        account=validate.account_id(account, "--account") if account is not None else None,
        partition=partition_of_region(region) if region else "aws",
        detect_only=detect_only,
        organization_role=(
            validate.role_name(role_name if role_name is not None else limits.DEFAULT_ROLE_NAME)
            if organization
            else None
        ),
        root_credentials=root_credentials,
        cloudtrail=cloudtrail,
        security_hub=security_hub,
        administrative=administrative,
    )


def journal_limit(limit: int) -> int:
    check_range("--limit", limit, 1)
    return limit


def rerun_command(request: RootUseRequest | PlaybookRunRequest, account_id: str) -> str:
    """The same remediation as a command, for ``account_id``: what finishes a run that ended
    early (self-service MFA, once the user has enabled a device), and, with ``--mfa-codes CODE1
    CODE2`` added, an MFA enrollment left pending (a hand-off, an interrupted run). Across
    accounts it names that one account (``--all``: whatever its detection says now)."""
    import shlex

    remediation = request.remediation
    assert remediation is not None
    variables = dict(remediation.variables)
    args: list[str] = []
    if isinstance(request, RootUseRequest):
        args += ["root-use", "--create-admin", str(variables.pop("user"))]
        for name, option in (("group", "--group"), ("access", "--access")):
            if name in variables:
                args += [option, str(variables.pop(name))]
        if variables.pop("delete_root_keys", False):
            args.append("--delete-root-keys")
        self_service = variables.pop("mfa_self_service", False)
        # --mfa-self-service sets mfa false itself; otherwise mfa false is --no-mfa.
        if variables.pop("mfa", True) is False and not self_service:
            args.append("--no-mfa")
        if self_service:
            args.append("--mfa-self-service")
    else:
        args += ["playbook", "run", remediation.playbook]
    tags = variables.pop("tags", {})
    if not isinstance(tags, dict):  # given as --var tags=K=V,... (text until the playbook binds it)
        variables["tags"] = tags
        tags = {}
    for name, value in variables.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        args += ["--var", f"{name}={text}"]
    for key, value in tags.items():
        args += ["--tag", f"{key}={value}"]
    aws = request.aws
    for option, given in (
        ("--profile", aws.profile),
        ("--region", aws.region),
        ("--endpoint-url", aws.endpoint_url),
    ):
        if given is not None:
            args += [option, given]
    if aws.allow_insecure_endpoint:
        args.append("--allow-insecure-endpoint")
    if aws.sandbox:
        args.append("--sandbox")
    accounts = request.accounts if isinstance(request, RootUseRequest) else None
    if accounts is not None:
        args += ["--accounts", account_id, "--all"]
        if accounts.role_name != limits.DEFAULT_ROLE_NAME:
            args += ["--role-name", accounts.role_name]
        if accounts.external_id is not None:
            args += ["--external-id", accounts.external_id]
    return " ".join(["remediate", *map(shlex.quote, args)])


def finish_mfa_command(request: RootUseRequest | PlaybookRunRequest, account_id: str) -> str:
    """The command that finishes an MFA enrollment left pending in ``account_id`` (a hand-off,
    an interrupted run): the same remediation with ``--mfa-codes CODE1 CODE2``, which also runs
    the steps held back."""
    from remediate.render.handover import with_codes

    return with_codes(rerun_command(request, account_id))


@dataclass(frozen=True)
class JournalRequest:
    """``remediate journal``: the newest ``limit`` entries of those that match."""

    limit: int = limits.DEFAULT_JOURNAL_LIMIT
    account: str | None = None
    user: str | None = None
    since: datetime | None = None
    output: OutputFormat = "text"


_AGO = re.compile(r"([0-9]{1,6})([mhdw])")
_AGO_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, *, now: datetime) -> datetime:
    """``--since``: a time of day in ISO 8601 (``2026-11-29T08:00:00Z``; UTC when it has no
    offset), a date (``2026-11-29``, from its start in UTC), or a span back from ``now``
    (``30m``, ``12h``, ``7d``, ``2w``)."""
    value = text.strip()
    ago = _AGO.fullmatch(value)
    if ago:
        return now - timedelta(**{_AGO_UNITS[ago.group(2)]: int(ago.group(1))})
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"invalid --since {text[:40]!r}: expected a date (2026-11-29), a time "
            "(2026-11-29T08:00:00Z) or a span back from now (30m, 12h, 7d, 2w)"
        ) from None
    return utc(when)


def journal_request(
    *,
    limit: int = limits.DEFAULT_JOURNAL_LIMIT,
    account: str | None = None,
    user: str | None = None,
    since: str | None = None,
    output: OutputFormat = "text",
    now: datetime | None = None,
) -> JournalRequest:
    """``journal``'s options: a positive --limit, a 12-digit --account, an IAM user name."""
    return JournalRequest(
        limit=journal_limit(limit),
        account=validate.account_id(account, "--account") if account is not None else None,
        user=validate.user_name(user) if user is not None else None,
        since=parse_since(since, now=now or datetime.now(UTC)) if since is not None else None,
        output=output,
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
