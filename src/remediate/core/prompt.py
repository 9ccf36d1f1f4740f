"""The person at the terminal: every question the CLI or a step asks goes through a Prompter.

Steps and the engine never read standard input themselves; tests inject their own Prompter.
"""

from __future__ import annotations

import sys
from typing import Protocol, TextIO

from remediate.core.errors import InputError
from remediate.core.terminal import prompt_opened


class Prompter(Protocol):
    """Asks the person running the command; ``interactive`` says whether anybody can answer."""

    @property
    def interactive(self) -> bool: ...

    @property
    def stdin_is_terminal(self) -> bool:
        """Whether standard input is a terminal: a password read from it would echo as typed."""
        ...

    def confirm(self, question: str) -> bool:
        """Yes or no; no answer (end of input) is no."""
        ...

    def line(self, prompt: str) -> str | None:
        """One line of text, or ``None`` at the end of input (Ctrl-D, a closed terminal)."""
        ...

    def password(self, prompt: str) -> str:
        """A secret, typed twice without echo."""
        ...

    def stdin_line(self) -> str | None:
        """The first line of standard input, no prompt (``--password-stdin``)."""
        ...


class TerminalPrompter:
    """Questions on stderr, answers from stdin; interactive only when stdin is a terminal."""

    def __init__(self, stdin: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self._stdin = stdin
        self._stderr = stderr

    @property
    def stdin(self) -> TextIO:
        return self._stdin or sys.stdin

    @property
    def stderr(self) -> TextIO:
        return self._stderr or sys.stderr

    @property
    def interactive(self) -> bool:
        return self.stdin_is_terminal

    @property
    def stdin_is_terminal(self) -> bool:
        try:
            return self.stdin.isatty()
        except (AttributeError, ValueError):  # a closed or replaced stream
            return False

    def line(self, prompt: str) -> str | None:
        # Not input(): it flushes stderr first and discards any error raised meanwhile, so a
        # Ctrl-C pressed while the prompt is being written is lost and the read then blocks.
        prompt_opened(True)
        self.stderr.write(f"{prompt}: ")
        self.stderr.flush()
        line = self.stdin.readline()
        prompt_opened(False)
        if not line:
            # Ctrl-D: the terminal echoes nothing, so the line is ended here.
            self.stderr.write("\n")
            return None
        return line.rstrip("\r\n")

    def stdin_line(self) -> str | None:
        line = self.stdin.readline()
        return line.rstrip("\r\n") if line else None

    def confirm(self, question: str) -> bool:
        answer = self.line(f"{question} [y/N]")
        return answer is not None and answer.strip().lower() in ("y", "yes")

    def password(self, prompt: str) -> str:
        import getpass

        while True:
            try:
                prompt_opened(True)
                first = getpass.getpass(f"{prompt}: ", stream=self.stderr)
                second = getpass.getpass(f"{prompt} (again): ", stream=self.stderr)
                prompt_opened(False)
            except EOFError:
                prompt_opened(False)
                # Ctrl-D: asked before anything is applied, so nothing was changed.
                self.stderr.write("\n")
                raise InputError(
                    "no password was typed (end of input): nothing was changed"
                ) from None
            if first == second:
                return first
            self.stderr.write("The two passwords differ; type them again.\n")


def confirm_or_refuse(
    prompter: Prompter, question: str, *, yes: bool, unchanged: str = "nothing was changed"
) -> None:
    """Go on with --yes or a "y" from the person at the terminal; otherwise an input error (exit
    2) that says ``unchanged``."""
    if yes:
        return
    if not prompter.interactive:
        raise InputError(
            f"no terminal to confirm on, and --yes was not given: {unchanged}",
            tip="review the plan with --dry-run, then rerun with --yes",
        )
    if not prompter.confirm(question):
        raise InputError(f"not confirmed: {unchanged}")
