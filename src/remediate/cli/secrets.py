"""``remediate secrets list``, ``show`` and ``forget``: their options, and the calls to
remediate.commands.secrets."""

from typing import Annotated

import typer

import remediate.cli.options as o
from remediate.cli import helptext
from remediate.cli.state import prompter

EXIT_CODES = (
    "Exit codes: 0 done; 2 invalid input, no such secret, or no usable keyring; 130 "
    "interrupted (Ctrl-C)."
)
User = Annotated[str, typer.Argument(metavar="USER", help="The IAM user.")]

app = typer.Typer(
    help="Secrets remediate keeps in the system keyring (passwords, access keys, MFA seeds).",
    short_help="List, hand over and forget the secrets it keeps.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command(
    "list",
    epilog=helptext.epilog(
        EXIT_CODES,
        ("Which users' secrets the keyring holds", "remediate secrets list"),
        ("The same, for a program", "remediate secrets list --output json"),
    ),
    short_help="List the secrets the keyring holds, never their values.",
)
def secrets_list(
    output: o.OutputFormat = o.Output.text,
    allow_plaintext_keyring: o.AllowPlaintextKeyring = False,
) -> None:
    """Which secrets the keyring holds, by account and user (never the values)."""
    from remediate.commands.secrets import secrets_list as run_list

    raise typer.Exit(run_list(output.value, allow_plaintext=allow_plaintext_keyring))


@app.command(
    "show",
    epilog=helptext.epilog(
        EXIT_CODES,
        (
            "Alice's console password, to hand it to her",
            "remediate secrets show alice --what password",
        ),
        (
            "Her MFA QR code as a PNG file (mode 0600)",
            "remediate secrets show alice --what mfa-qr --qr-file alice-mfa.png",
        ),
        (
            "Her access key, when she is in several accounts",
            "remediate secrets show alice --what access-key --account 111122223333",
        ),
    ),
)
def secrets_show(
    user: User,
    what: Annotated[o.What, typer.Option("--what", help="Which secret to hand over.")],
    account: o.Account = None,
    qr_file: o.QrFile = None,
    allow_plaintext_keyring: o.AllowPlaintextKeyring = False,
) -> None:
    """Print (or render) a secret, to hand it to its owner."""
    from remediate.commands.secrets import secrets_show as run_show

    raise typer.Exit(
        run_show(user, what.value, account, qr_file, allow_plaintext=allow_plaintext_keyring)
    )


@app.command(
    "forget",
    epilog=helptext.epilog(
        EXIT_CODES,
        (
            "Once alice has her secrets: delete them from the keyring",
            "remediate secrets forget alice",
        ),
        (
            "In one account, without asking",
            "remediate secrets forget alice --account 111122223333 --yes",
        ),
    ),
)
def secrets_forget(
    user: User,
    account: o.Account = None,
    yes: o.Yes = False,
    allow_plaintext_keyring: o.AllowPlaintextKeyring = False,
    include_pending_mfa: Annotated[
        bool,
        typer.Option(
            "--include-pending-mfa",
            help="Also forget the seed of an MFA device still pending (not enabled): its "
            "enrollment can then no longer be finished with --mfa-codes.",
        ),
    ] = False,
) -> None:
    """Delete a user's secrets from the keyring (after a confirmation). The seed of an MFA device
    still waiting for its owner's codes is kept unless --include-pending-mfa."""
    from remediate.commands.secrets import secrets_forget as run_forget

    raise typer.Exit(
        run_forget(
            user,
            account,
            yes=yes,
            prompter=prompter(),
            allow_plaintext=allow_plaintext_keyring,
            include_pending_mfa=include_pending_mfa,
        )
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="secrets")
