"""What the command line keeps for the length of one run: whether --debug was given, and the
prompter (the terminal, or one a test or an embedding program passed to remediate.cli.run)."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from remediate.core.prompt import Prompter


class State:
    # Plain class, not a dataclass: `remediate --help` must not pay for importing dataclasses.
    debug = False
    prompter: "Prompter | None" = None


state = State()


def prompter() -> "Prompter":
    """The prompter a command asks with: the one given to run(), else the terminal."""
    from remediate.core.prompt import TerminalPrompter

    return state.prompter or TerminalPrompter()
