"""The command line's options, declared once and shared by the commands that take them.

No ``from __future__ import annotations`` here or in remediate.cli.app: typer would evaluate
every annotation string when it builds the commands, which `remediate --help` would pay for.
"""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from remediate.core import limits
from remediate.findings.formats import FORMATS

# Each command's --help lists its own exit codes; this one is shared by the commands that only
# print.
READ_EXIT_CODES = "Exit codes: 0 printed; 2 invalid input (a playbook that does not load)."

# The panels --help shows a command's options in (remediate.cli.helptext), in this order.
DETECT_PANEL = "What to detect"
FIX_PANEL = "The fix"
MFA_PANEL = "MFA"
HANDOVER_PANEL = "Hand-over"
ORG_PANEL = "Organization"
OUTPUT_PANEL = "Output"
AWS_PANEL = "AWS connection"
PANELS = (DETECT_PANEL, FIX_PANEL, MFA_PANEL, HANDOVER_PANEL, ORG_PANEL, OUTPUT_PANEL, AWS_PANEL)
# Earlier names of two of them.
REMEDIATION_PANEL = FIX_PANEL
FINDINGS_PANEL = DETECT_PANEL


class Output(StrEnum):
    text = "text"
    json = "json"


# root-use's --output: the common choices, and the findings in a security team's format, one
# for each registered findings format (remediate.findings.formats).
RootUseOutput = StrEnum(  # type: ignore[misc]  # the registry's names, not literals
    "RootUseOutput", [(name, name) for name in ("text", "json", *FORMATS)]
)
ROOT_USE_TEXT = RootUseOutput("text")


class Access(StrEnum):
    console = "console"
    programmatic = "programmatic"
    both = "both"


class FailOn(StrEnum):
    hygiene = "hygiene"


class What(StrEnum):
    password = "password"  # noqa: S105 (a name, not a secret)
    access_key = "access-key"
    mfa_qr = "mfa-qr"
    mfa_secret = "mfa-secret"  # noqa: S105
    console = "console"


# --- AWS and output ---

Profile = Annotated[
    str | None,
    typer.Option(
        "--profile",
        help="AWS profile (default: boto3's chain, AWS_PROFILE).",
        rich_help_panel=AWS_PANEL,
    ),
]
Region = Annotated[
    str | None,
    typer.Option(
        "--region",
        help="AWS region; picks the partition (aws, aws-us-gov, aws-cn).",
        rich_help_panel=AWS_PANEL,
    ),
]
EndpointUrl = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        help="Send every AWS call here (also AWS_ENDPOINT_URL).",
        rich_help_panel=AWS_PANEL,
    ),
]
AllowInsecureEndpoint = Annotated[
    bool,
    typer.Option(
        "--allow-insecure-endpoint",
        help="Accept an http:// endpoint on another machine (secrets cross it in clear text).",
        rich_help_panel=AWS_PANEL,
    ),
]
SandboxFlag = Annotated[
    bool,
    typer.Option(
        "--sandbox",
        help="Run against the built-in local AWS emulator (no account).",
        rich_help_panel=AWS_PANEL,
    ),
]
OutputFormat = Annotated[
    Output,
    typer.Option(
        "--output",
        "-o",
        help="text for people, json for programs (stdout only).",
        rich_help_panel=OUTPUT_PANEL,
    ),
]

RootUseOutputFormat = Annotated[
    RootUseOutput,
    typer.Option(
        "--output",
        "-o",
        help="text for people, json for programs; "
        + " or ".join(f"{f.name} ({f.title})" for f in FORMATS.values())
        + ": the findings as a JSON list (stdout only).",
        rich_help_panel=OUTPUT_PANEL,
    ),
]

# --- detection ---

Days = Annotated[
    int,
    typer.Option(
        "--days",
        help="Root used within this many days counts as in use; the window is counted to the "
        f"second back from now, not in calendar days (1-{limits.MAX_DAYS}).",
        rich_help_panel=DETECT_PANEL,
    ),
]
ReportTimeout = Annotated[
    float | None,
    typer.Option(
        "--report-timeout",
        help=f"Seconds to wait for the credential report (1-{limits.MAX_REPORT_TIMEOUT:g}) "
        f"[default: {limits.DEFAULT_REPORT_TIMEOUT:g}].",
        rich_help_panel=DETECT_PANEL,
    ),
]
FailOnOption = Annotated[
    FailOn | None,
    typer.Option(
        "--fail-on",
        help="hygiene: also exit 1 when the root user has any hygiene finding "
        "(MFA not active, active access keys or signing certificates).",
        rich_help_panel=DETECT_PANEL,
    ),
]
Explain = Annotated[
    str | None,
    typer.Option(
        "--explain",
        metavar="ID",
        help="Print what a finding (an id detection prints, e.g. root-mfa-not-active) means, why "
        "it matters and how to fix it; nothing is read from AWS.",
        rich_help_panel=FINDINGS_PANEL,
    ),
]
CredentialReport = Annotated[
    Path | None,
    typer.Option(
        "--credential-report",
        metavar="FILE",
        help="Judge a credential report instead of asking AWS: the CSV the console downloads, "
        "or the JSON `aws iam get-credential-report` prints (- reads standard input).",
        rich_help_panel=DETECT_PANEL,
    ),
]

CloudTrail = Annotated[
    bool,
    typer.Option(
        "--cloudtrail",
        help="Also look up what root did, from where, with or without MFA: CloudTrail's event "
        "history in every enabled region (ec2:DescribeRegions, then cloudtrail:LookupEvents, "
        "at most 2 requests/s per account and region, the regions at once).",
        rich_help_panel=DETECT_PANEL,
    ),
]
CloudTrailRegions = Annotated[
    str | None,
    typer.Option(
        "--cloudtrail-regions",
        metavar="R,R,...|all",
        help="With --cloudtrail: only these regions and us-east-1 (always: root's console "
        "sign-ins and IAM are recorded there) [default: all, every enabled region].",
        rich_help_panel=DETECT_PANEL,
    ),
]
SecurityHub = Annotated[
    bool,
    typer.Option(
        "--security-hub",
        help="Import the findings into AWS Security Hub (securityhub:BatchImportFindings); "
        "after --create-admin, the account's root-use finding again, as PASSED, then marked "
        "RESOLVED (securityhub:BatchUpdateFindings).",
        rich_help_panel=OUTPUT_PANEL,
    ),
]

# --- remediation ---

CreateAdmin = Annotated[
    str | None,
    typer.Option(
        "--create-admin",
        metavar="NAME",
        help="Remediate: run the root-use playbook for this IAM user.",
        rich_help_panel=FIX_PANEL,
    ),
]
Group = Annotated[
    str | None,
    typer.Option(
        "--group",
        help="The administrators group [default: the playbook's, Administrators].",
        rich_help_panel=FIX_PANEL,
    ),
]
AccessKind = Annotated[
    Access | None,
    typer.Option(
        "--access",
        help="Console (login profile), programmatic (access key), both "
        "[default: the playbook's, console].",
        rich_help_panel=FIX_PANEL,
    ),
]
Tags = Annotated[
    list[str] | None,
    typer.Option(
        "--tag",
        metavar="KEY=VALUE",
        help="Tag for the user (repeatable).",
        rich_help_panel=FIX_PANEL,
    ),
]
Variables = Annotated[
    list[str] | None,
    typer.Option(
        "--var",
        metavar="KEY=VALUE",
        help="A playbook variable (repeatable).",
        rich_help_panel=FIX_PANEL,
    ),
]
DryRun = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Print the plan; make no write call at all.",
        rich_help_panel=FIX_PANEL,
    ),
]
Yes = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Apply without asking.", rich_help_panel=FIX_PANEL),
]
DeleteRootKeys = Annotated[
    bool,
    typer.Option(
        "--delete-root-keys",
        help="Signed in as root: delete root's own access keys, last, once the administrator "
        "exists with MFA (a device whose seed the keyring does not keep: not --mfa-auto) and is "
        "in the group.",
        rich_help_panel=FIX_PANEL,
    ),
]
LockTimeout = Annotated[
    float | None,
    typer.Option(
        "--lock-timeout",
        metavar="SECONDS",
        help="How long to wait for another run's lock on an account "
        f"(0-{limits.MAX_LOCK_TIMEOUT:g}) [default: {limits.DEFAULT_LOCK_TIMEOUT:g}].",
        rich_help_panel=FIX_PANEL,
    ),
]
ShowSecrets = Annotated[
    bool,
    typer.Option(
        "--show-secrets",
        help="Print generated passwords, secret keys and MFA seeds once.",
        rich_help_panel=HANDOVER_PANEL,
    ),
]
AllowPlaintextKeyring = Annotated[
    bool,
    typer.Option(
        "--allow-plaintext-keyring",
        envvar="REMEDIATE_ALLOW_PLAINTEXT_KEYRING",
        show_envvar=True,
        help="Keep secrets in a keyring backend not known to encrypt them (e.g. a plain file).",
        rich_help_panel=HANDOVER_PANEL,
    ),
]
PasswordPrompt = Annotated[
    bool,
    typer.Option(
        "--password-prompt",
        help="Type the console password (twice).",
        rich_help_panel=HANDOVER_PANEL,
    ),
]
PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the console password from standard input.",
        rich_help_panel=HANDOVER_PANEL,
    ),
]

# --- MFA ---

NoMfa = Annotated[
    bool,
    typer.Option(
        "--no-mfa", help="Skip enrolling a virtual MFA device.", rich_help_panel=MFA_PANEL
    ),
]
MfaAuto = Annotated[
    bool,
    typer.Option(
        "--mfa-auto",
        help="Compute the two MFA codes from the seed (unattended); the seed stays in the "
        "keyring for the owner to scan, and defeats MFA until forgotten.",
        rich_help_panel=MFA_PANEL,
    ),
]
MfaCodes = Annotated[
    tuple[str, str] | None,
    typer.Option(
        "--mfa-codes",
        metavar="CODE1 CODE2",
        help="Two consecutive codes for a device pending from an earlier run.",
        rich_help_panel=MFA_PANEL,
    ),
]
QrFile = Annotated[
    Path | None,
    typer.Option(
        "--qr-file",
        metavar="PATH",
        help="Also write the QR code as a PNG (mode 0600); {account} in PATH stands for the "
        "account id (one file per account).",
        rich_help_panel=MFA_PANEL,
    ),
]
ShowMfaSecret = Annotated[
    bool,
    typer.Option(
        "--show-mfa-secret",
        help="Also print the MFA secret key for manual entry.",
        rich_help_panel=MFA_PANEL,
    ),
]

MfaHandoff = Annotated[
    bool,
    typer.Option(
        "--mfa-handoff",
        help="Create the device, write its QR code with --qr-file for its owner and stop with "
        "it pending; --mfa-codes with the two codes they send back finishes.",
        rich_help_panel=MFA_PANEL,
    ),
]
MfaSelfService = Annotated[
    bool,
    typer.Option(
        "--mfa-self-service",
        help="No device: attach the self-service MFA policy, so the user assigns their own MFA "
        "device at first sign-in; the group waits until IAM shows it enabled, and a rerun then "
        "detaches the policy and adds the user. Console access only.",
        rich_help_panel=MFA_PANEL,
    ),
]
AdoptExistingUser = Annotated[
    bool,
    typer.Option(
        "--adopt-existing-user",
        help="Let the run change an IAM user that remediate did not create (the plan says what "
        "it has).",
        rich_help_panel=FIX_PANEL,
    ),
]
ResetPassword = Annotated[
    bool,
    typer.Option(
        "--reset-password",
        help="Set a new generated console password on the existing login profile (reset "
        "required at next sign-in) and keep it in the keyring.",
        rich_help_panel=FIX_PANEL,
    ),
]

# --- across accounts ---

AllAccounts = Annotated[
    bool,
    typer.Option(
        "--all-accounts",
        help="Every active account of the AWS Organization.",
        rich_help_panel=ORG_PANEL,
    ),
]
Accounts = Annotated[
    str | None,
    typer.Option(
        "--accounts",
        metavar="ID,ID,...",
        help="Only these accounts (with or without Organizations).",
        rich_help_panel=ORG_PANEL,
    ),
]
RoleName = Annotated[
    str | None,
    typer.Option(
        "--role-name",
        help=f"Role to assume in member accounts [default: {limits.DEFAULT_ROLE_NAME}].",
        rich_help_panel=ORG_PANEL,
    ),
]
ExternalId = Annotated[
    str | None,
    typer.Option("--external-id", help="External id for AssumeRole.", rich_help_panel=ORG_PANEL),
]
Concurrency = Annotated[
    int | None,
    typer.Option(
        "--concurrency",
        help=f"Accounts judged at once (1-{limits.MAX_CONCURRENCY}) "
        f"[default: {limits.DEFAULT_CONCURRENCY}].",
        rich_help_panel=ORG_PANEL,
    ),
]
EveryAccount = Annotated[
    bool,
    typer.Option(
        "--all",
        help="With --create-admin across accounts: remediate every account, not only those "
        "where root is in use.",
        rich_help_panel=ORG_PANEL,
    ),
]

# --- secrets and journal ---

Account = Annotated[
    str | None,
    typer.Option("--account", metavar="ID", help="The account id (needed if USER is in several)."),
]
JournalLimit = Annotated[
    int, typer.Option("--limit", metavar="N", help="Show only the newest N entries.")
]
JournalAccount = Annotated[
    str | None,
    typer.Option("--account", metavar="ID", help="Only the changes in this account."),
]
JournalUser = Annotated[
    str | None,
    typer.Option("--user", metavar="NAME", help="Only the changes to this IAM user."),
]
JournalSince = Annotated[
    str | None,
    typer.Option(
        "--since",
        metavar="WHEN",
        help="Only the changes since WHEN: a date (2026-11-29, UTC), a time "
        "(2026-11-29T08:00:00Z), or a span back from now (30m, 12h, 7d, 2w).",
    ),
]
