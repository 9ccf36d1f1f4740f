"""What the listing commands print, text or one JSON document, decided here once each: the
shipped playbooks, the keyring's secrets (never their values), the journal, and the root
credentials audit and deletion across an organization."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from remediate.core.terminal import print_json, stdout_console, write_line
from remediate.render.documents import root_credentials_delete_document
from remediate.render.tables import render_root_audit

if TYPE_CHECKING:
    from remediate.org.root_credentials import AuditResult, OrganizationRootAccess
    from remediate.playbook.engine import AccountRun
    from remediate.playbook.model import Playbook

# A user's secrets in one account: (account id, user) -> the kinds the keyring holds.
Grouped = Mapping[tuple[str, str], Sequence[str]]


def show_playbooks(books: Sequence[Playbook], output: str) -> None:
    """Each playbook's name and description."""
    if output == "json":
        print_json({"playbooks": [{"name": b.name, "description": b.description} for b in books]})
        return
    for b in books:
        print(f"{b.name}: {' '.join(b.description.split())}")


def show_secrets(
    keyring: str, grouped: Grouped, warnings: Mapping[tuple[str, str], Sequence[str]], output: str
) -> None:
    """Which secrets ``keyring`` holds, by account and user, with a warning where one matters."""
    if output == "json":
        print_json(
            {
                "keyring": keyring,
                "secrets": [
                    {
                        "account_id": a,
                        "user": u,
                        "kinds": list(kinds),
                        "warnings": list(warnings[(a, u)]),
                    }
                    for (a, u), kinds in sorted(grouped.items())
                ],
            }
        )
        return
    if not grouped:
        write_line(f"No secrets in {keyring}.")
    for (account, user), kinds in sorted(grouped.items()):
        # The index is a keyring entry like any other: anything may have been written there.
        marks = "".join(f"  ({w})" for w in warnings[(account, user)])
        write_line(f"{account}  {user}  {', '.join(kinds)}{marks}")


def show_journal(
    path: Path,
    entries: Sequence[Mapping[str, Any]],
    unreadable: Sequence[int],
    output: str,
    *,
    filtered: bool,
) -> None:
    """The journal's entries (each a line of a file: text, made safe), and on stderr how many
    lines could not be read."""
    if unreadable:
        lines = ", ".join(str(n) for n in unreadable[:10]) + (
            ", ..." if len(unreadable) > 10 else ""
        )
        plural = "s" * (len(unreadable) != 1)
        write_line(
            f"Skipped {len(unreadable)} unreadable line{plural} of {path} (line{plural} "
            f"{lines}): not journal entries.",
            sys.stderr,
        )
    if output == "json":
        print_json(
            {"journal": str(path), "entries": list(entries), "unreadable_lines": list(unreadable)}
        )
        return
    if not entries:
        write_line(f"No {'matching ' if filtered else ''}changes recorded in {path}.")
    for e in entries:
        # A journal line is a file anyone with access to it may have edited: text, made safe.
        step = f"{e.get('playbook')}/{e.get('step')}" if e.get("step") else e.get("playbook")
        write_line(f"{e.get('time')}  {e.get('account')}  {step}")
        write_line(f"    {e.get('change')} {e.get('resource')}")
        by = f"by {e.get('caller')}" + (f" as {e['acting_as']}" if e.get("acting_as") else "")
        write_line(f"    {e['action']}: {e.get('outcome')}; {by}" if "action" in e else f"    {by}")
        for detail in e.get("details") or []:
            write_line(f"    {detail}")


def show_root_audit(result: AuditResult, output: str, *, sandbox: bool = False) -> None:
    """Which member accounts' root users hold credentials."""
    if output == "json":
        print_json(result.to_json())
    else:
        render_root_audit(stdout_console(), result, sandbox=sandbox)


def show_root_credentials_deleted(
    organization: OrganizationRootAccess, runs: Sequence[AccountRun], output: str
) -> None:
    """The deletion's document (JSON only: the text was shown as the engine went)."""
    if output == "json":
        print_json(root_credentials_delete_document(organization.to_json(), runs))
