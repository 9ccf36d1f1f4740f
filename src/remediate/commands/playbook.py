"""``remediate playbook list``, ``show`` and ``run``: the shipped playbooks, one printed as it
runs, and a playbook run in the caller's account through the engine."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from remediate.aws.identity import caller_identity
from remediate.commands.remediation import prepare_remediation, remediate_one_account
from remediate.commands.remediation_request import PlaybookRunRequest
from remediate.commands.request import OutputFormat
from remediate.commands.session import open_aws
from remediate.core.errors import EXIT_OK
from remediate.core.terminal import safe
from remediate.playbook.loading import load_playbook, shipped_names
from remediate.render.listings import show_playbooks
from remediate.render.outputs import output_for

if TYPE_CHECKING:
    from remediate.core.prompt import Prompter


def playbook_list(output: OutputFormat) -> int:
    """The shipped playbooks, each with its description."""
    show_playbooks([load_playbook(name) for name in shipped_names()], output)
    return EXIT_OK


def playbook_show(name: str) -> int:
    """Print a playbook (after validating it)."""
    text = load_playbook(name).text
    # Line by line, as YAML reads it: a bidirectional override or a stray carriage return must
    # not make the text shown differ from the text that runs.
    shown = "\n".join(safe(line, markup=False) for line in text.splitlines())
    sys.stdout.write(shown + ("\n" if text.endswith(("\n", "\r")) else ""))
    return EXIT_OK


def playbook_run(
    request: PlaybookRunRequest, prompter: Prompter, *, organization: bool = False
) -> int:
    """Run a playbook in the caller's account: plan, confirm, apply. ``organization``: the
    sandbox is seeded with one (root-credentials centralize)."""
    remediation = prepare_remediation(request.remediation, prompter)
    output = output_for(request.output, sandbox=request.aws.sandbox)
    with open_aws(request.aws, read_only=remediation.dry_run, organization=organization) as aws:
        identity = caller_identity(aws)
        base = {"account_id": identity.account_id, "sandbox": request.aws.sandbox}
        return remediate_one_account(remediation, aws, identity, prompter, request, output, base)
