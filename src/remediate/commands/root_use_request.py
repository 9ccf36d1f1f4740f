"""``remediate root-use`` as asked for: detection in one account, many or a file, maybe a
remediation, every rule that relates one of its options to another, and the command that reruns
a remediation (what finishes one that ended early). Typer-free and AWS-free: each rule is
unit-tested on its own, and every violation is an InputError (exit 2) before anything is
changed."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from remediate.commands.detection import check_detection_options
from remediate.commands.remediation_request import (
    PlaybookRunRequest,
    RemediationRequest,
    kept_seed,
    kept_seed_tip,
    remediation_request,
)
from remediate.commands.request import (
    TEXT,
    AwsChoice,
    OutputFormat,
    RemediationFlags,
    check_output,
    member_role,
    named_accounts,
)
from remediate.core import limits, validate
from remediate.core.errors import InputError
from remediate.findings.explain import explain
from remediate.render.handover import with_codes
from remediate.steps.base import QR_FILE_ACCOUNT

SWEEP_OPTIONS = "--all, --role-name, --external-id and --concurrency"
ROOT_CREDENTIALS_DELETE_TIP = (
    "in an AWS Organization, `remediate root-credentials delete --accounts ID` from the "
    "management account deletes member accounts' root credentials"
)


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
    output: OutputFormat = TEXT
    accounts: AccountsRequest | None = None
    remediation: RemediationRequest | None = None
    # --fail-on hygiene: a root hygiene finding also makes detection exit 1.
    fail_on_hygiene: bool = False
    cloudtrail: CloudTrailRequest | None = None
    # --security-hub: import the findings with securityhub:BatchImportFindings.
    security_hub: bool = False
    # --explain ID: print a finding's long text, and nothing else.
    explain: str | None = None


def root_use_request(
    *,
    aws: AwsChoice,
    days: int = limits.DEFAULT_DAYS,
    report_timeout: float | None = None,
    credential_report: Path | None = None,
    output: OutputFormat = TEXT,
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
    explain: str | None = None,
) -> RootUseRequest:
    """``root-use``'s options checked against each other, in this order: detection's and MFA's,
    the remediation's, the accounts', then what a credential report file and --security-hub
    take. Options left out of the playbook's variables take the playbook's own defaults.
    (Over a screen only for its signature: one keyword per option; each rule is a function.)"""
    flags = flags or RemediationFlags()
    if explain is not None:
        return _explain_request(
            explain,
            output,
            alone=aws == AwsChoice()
            and create_admin is None
            and credential_report is None
            and not (all_accounts or accounts is not None or cloudtrail or security_hub),
        )
    _check_options(
        days=days,
        report_timeout=report_timeout,
        create_admin=create_admin,
        no_mfa=no_mfa,
        flags=flags,
        fail_on=fail_on,
        delete_root_keys=delete_root_keys,
        mfa_self_service=mfa_self_service,
        across_accounts=all_accounts or accounts is not None,
    )
    if create_admin is not None:
        _second_factor_options(create_admin, access, mfa_self_service, delete_root_keys, flags)
    variables = _variables(
        create_admin,
        group=group,
        access=access,
        tags=tags,
        no_mfa=no_mfa,
        delete_root_keys=delete_root_keys,
        mfa_self_service=mfa_self_service,
    )
    if variables is None and (flags.any_given() or group is not None or access is not None):
        raise InputError("remediation options need --create-admin NAME")
    remediation = remediation_request("root-use", variables, flags) if variables else None
    sweep = _accounts_request(
        all_accounts=all_accounts,
        accounts=accounts,
        role_name=role_name,
        external_id=external_id,
        concurrency=concurrency,
        every_account=every_account,
        credential_report=credential_report,
        flags=flags if remediation is not None else None,
    )
    if credential_report is not None and (
        aws != AwsChoice() or create_admin or report_timeout is not None
    ):
        raise InputError("--credential-report reads a file: it takes no AWS option")
    trail = _cloudtrail_request(cloudtrail, cloudtrail_regions, credential_report)
    if security_hub:
        _check_security_hub(credential_report, flags)
    return RootUseRequest(
        aws=aws,
        days=days,
        report_timeout=report_timeout or limits.DEFAULT_REPORT_TIMEOUT,
        credential_report=credential_report,
        output=check_output(output, findings=True),
        accounts=sweep,
        remediation=remediation,
        fail_on_hygiene=fail_on == "hygiene",
        cloudtrail=trail,
        security_hub=security_hub,
    )


def _check_options(
    *,
    days: int,
    report_timeout: float | None,
    create_admin: str | None,
    no_mfa: bool,
    flags: RemediationFlags,
    fail_on: str | None,
    delete_root_keys: bool,
    mfa_self_service: bool,
    across_accounts: bool,
) -> None:
    """Detection's options (as detection alone checks them), MFA's exclusive choices, --fail-on
    and --delete-root-keys."""
    check_detection_options(days=days, report_timeout=report_timeout, fail_on=fail_on)
    if no_mfa and flags.any_mfa_option():
        raise InputError("--no-mfa skips MFA enrollment: it takes no other MFA option")
    if mfa_self_service and (no_mfa or flags.any_mfa_option()):
        raise InputError(
            "--mfa-self-service creates no device (the user assigns their own): it takes no "
            "other MFA option"
        )
    if fail_on is not None and create_admin is not None:
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
        if across_accounts:
            raise InputError(
                "--delete-root-keys deletes the keys of the root user you are signed in as, "
                "in one account",
                tip=ROOT_CREDENTIALS_DELETE_TIP,
            )


def _variables(
    create_admin: str | None,
    *,
    group: str | None,
    access: str | None,
    tags: Sequence[str],
    no_mfa: bool,
    delete_root_keys: bool,
    mfa_self_service: bool,
) -> dict[str, object] | None:
    """The root-use playbook's variables given on the command line (None: no --create-admin):
    values of several types (text, a flag, tags), bound by remediate.playbook.model."""
    if create_admin is None:
        if tags or no_mfa or mfa_self_service:
            raise InputError("remediation options need --create-admin NAME")
        return None
    variables: dict[str, object] = {"user": validate.user_name(create_admin)}
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
    return variables


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
            f"--mfa-self-service with --access {access} is no second factor: whoever holds "
            f"{user}'s access key could enroll an MFA device of their own and make MFA sessions "
            "with it",
            tip=f"enroll {user}'s device now instead (in person, --mfa-auto, or --mfa-handoff "
            "--qr-file PATH), or keep --mfa-self-service with --access console",
        )
    if delete_root_keys and flags.mfa_auto:
        raise InputError(kept_seed(user), tip=kept_seed_tip(user, "--delete-root-keys"))


def _accounts_request(
    *,
    all_accounts: bool,
    accounts: str | None,
    role_name: str | None,
    external_id: str | None,
    concurrency: int | None,
    every_account: bool,
    credential_report: Path | None,
    flags: RemediationFlags | None,
) -> AccountsRequest | None:
    """The accounts to sweep (None: the caller's own); ``flags``: a remediation's, whose
    one-account options are checked across accounts."""
    if not (all_accounts or accounts is not None):
        if every_account or any(v is not None for v in (role_name, external_id, concurrency)):
            raise InputError(f"{SWEEP_OPTIONS} need --all-accounts or --accounts")
        return None
    account_ids = named_accounts(
        all_accounts=all_accounts, accounts=accounts, concurrency=concurrency
    )
    if credential_report is not None:
        raise InputError("--credential-report judges one file: it takes no account option")
    if every_account and flags is None:
        raise InputError("--all needs --create-admin NAME")
    if flags is not None:
        _one_account_options(flags, account_ids)
    role, external = member_role(role_name, external_id)
    return AccountsRequest(
        account_ids=account_ids,
        role_name=role,
        external_id=external,
        concurrency=concurrency or limits.DEFAULT_CONCURRENCY,
        every_account=every_account,
    )


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


def _explain_request(finding_id: str, output: OutputFormat, *, alone: bool) -> RootUseRequest:
    """--explain ID prints a text and reads nothing: an id a finding has, text or json."""
    if not alone:
        raise InputError(
            "--explain prints a finding's text and reads no account: it takes no other option "
            "but --output"
        )
    if output not in ("text", "json"):
        raise InputError("--explain prints text or json (--output text or json)")
    explain(finding_id)
    return RootUseRequest(output=output, explain=finding_id)


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


def _check_security_hub(credential_report: Path | None, flags: RemediationFlags) -> None:
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


# --- the command that reruns a remediation ------------------------------------------------------


def rerun_command(request: RootUseRequest | PlaybookRunRequest, account_id: str) -> str:
    """The same remediation as a command, for ``account_id``: what finishes a run that ended
    early (self-service MFA, once the user has enabled a device), and, with ``--mfa-codes CODE1
    CODE2`` added, an MFA enrollment left pending (a hand-off, an interrupted run). Across
    accounts it names that one account (``--all``: whatever its detection says now)."""
    remediation = request.remediation
    assert remediation is not None
    variables = dict(remediation.variables)
    if isinstance(request, RootUseRequest):
        args = _root_use_args(variables)
    else:
        args = ["playbook", "run", remediation.playbook]
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


def _root_use_args(variables: dict[str, object]) -> list[str]:
    """root-use's own options for its playbook variables, taken out of ``variables``."""
    args = ["root-use", "--create-admin", str(variables.pop("user"))]
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
    return args


def finish_mfa_command(request: RootUseRequest | PlaybookRunRequest, account_id: str) -> str:
    """The command that finishes an MFA enrollment left pending in ``account_id`` (a hand-off,
    an interrupted run): the same remediation with ``--mfa-codes CODE1 CODE2``, which also runs
    the steps held back."""
    return with_codes(rerun_command(request, account_id))
