"""Options that travel together, declared once: how to reach AWS (five commands take it) and
the flags of a remediation run (root-use and playbook run). A command names one parameter,
``aws`` or ``flags``; :func:`aws_options` and :func:`remediation_flags` put the group's options
in its place in the signature typer reads, and hand the command one typer-free object
(remediate.commands.request.AwsChoice, remediate.commands.remediation_request.RemediationFlags).

No ``from __future__ import annotations``: typer reads these annotations as objects."""

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import remediate.cli.options as o

if TYPE_CHECKING:
    from remediate.commands.request import AwsChoice, RemediationFlags

Command = Callable[..., None]


def _option(name: str, annotation: object, default: object) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


# In the order --help lists them.
AWS_OPTIONS = (
    _option("profile", o.Profile, None),
    _option("region", o.Region, None),
    _option("endpoint_url", o.EndpointUrl, None),
    _option("allow_insecure_endpoint", o.AllowInsecureEndpoint, False),
    _option("sandbox", o.SandboxFlag, False),
)
# --adopt-existing-user and --reset-password first: --help shows them next to --create-admin.
REMEDIATION_FLAGS = (
    _option("adopt_existing_user", o.AdoptExistingUser, False),
    _option("reset_password", o.ResetPassword, False),
    _option("dry_run", o.DryRun, False),
    _option("yes", o.Yes, False),
    _option("lock_timeout", o.LockTimeout, None),
    _option("show_secrets", o.ShowSecrets, False),
    _option("allow_plaintext_keyring", o.AllowPlaintextKeyring, False),
    _option("password_prompt", o.PasswordPrompt, False),
    _option("password_stdin", o.PasswordStdin, False),
    _option("mfa_auto", o.MfaAuto, False),
    _option("mfa_codes", o.MfaCodes, None),
    _option("qr_file", o.QrFile, None),
    _option("show_mfa_secret", o.ShowMfaSecret, False),
    _option("mfa_handoff", o.MfaHandoff, False),
)


def _grouped(
    parameter: str, group: tuple[inspect.Parameter, ...], build: Callable[..., object]
) -> Callable[[Command], Command]:
    """Replace ``parameter`` of a command with ``group``'s options (for typer), and call the
    command with ``build(**the options given)`` in its place."""

    def decorate(command: Command) -> Command:
        signature = inspect.signature(command)
        replaced: list[inspect.Parameter] = []
        for p in signature.parameters.values():
            if p.name == parameter:
                replaced.extend(group)
            else:
                # Keyword-only, as typer passes every value by name (and defaults may then be
                # followed by options without one).
                replaced.append(p.replace(kind=inspect.Parameter.KEYWORD_ONLY))

        @functools.wraps(command)
        def wrapper(**given: Any) -> None:
            values = {p.name: given.pop(p.name) for p in group}
            command(**given, **{parameter: build(**values)})

        wrapper.__signature__ = signature.replace(parameters=replaced)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in replaced} | {"return": None}
        return wrapper

    return decorate


# The commands' modules are imported when a command runs, never for --help (start-up).
def _aws_choice(**given: Any) -> "AwsChoice":
    from remediate.commands.request import AwsChoice

    return AwsChoice(**given)


def _remediation_flags(**given: Any) -> "RemediationFlags":
    from remediate.commands.request import RemediationFlags

    return RemediationFlags(**given)


# The AWS options in place of a command's ``aws`` parameter.
aws_options = _grouped("aws", AWS_OPTIONS, _aws_choice)
# A remediation's flags in place of a command's ``flags`` parameter.
remediation_flags = _grouped("flags", REMEDIATION_FLAGS, _remediation_flags)
