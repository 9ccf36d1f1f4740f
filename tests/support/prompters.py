"""A Prompter for tests: the answers a person would type, or nobody at all."""

from __future__ import annotations

from collections.abc import Iterable


class Scripted:
    """Answers each question with the next scripted line (``None`` once they run out, as at the
    end of input); records what was asked. ``interactive`` says whether a person is there;
    ``stdin`` is what standard input holds for ``--password-stdin``; ``stdin_is_terminal``
    whether it is a terminal (by default: when a person is there, as for the real terminal)."""

    def __init__(
        self,
        lines: Iterable[str] = (),
        *,
        interactive: bool = True,
        stdin: str = "",
        passwords: Iterable[str] = (),
        stdin_is_terminal: bool | None = None,
    ) -> None:
        self.lines = list(lines)
        self.passwords = list(passwords)
        self._interactive = interactive
        self._stdin = stdin
        self._stdin_is_terminal = interactive if stdin_is_terminal is None else stdin_is_terminal
        self.asked: list[str] = []

    @property
    def interactive(self) -> bool:
        return self._interactive

    @property
    def stdin_is_terminal(self) -> bool:
        return self._stdin_is_terminal

    def line(self, prompt: str) -> str | None:
        self.asked.append(prompt)
        return self.lines.pop(0) if self.lines else None

    def confirm(self, question: str) -> bool:
        answer = self.line(question)
        return answer is not None and answer.strip().lower() in ("y", "yes")

    def password(self, prompt: str) -> str:
        self.asked.append(prompt)
        return self.passwords.pop(0)

    def stdin_line(self) -> str | None:
        line, _, self._stdin = self._stdin.partition("\n")
        return line.rstrip("\r") if line or _ else None


def nobody(stdin: str = "") -> Scripted:
    """No terminal: nobody can answer (a script, a pipeline, CI)."""
    return Scripted(interactive=False, stdin=stdin)
