"""The command line: remediate.cli.app registers one typer wrapper per command, each calling
its command in remediate.commands."""

from remediate.cli.app import app, main, run

__all__ = ["app", "main", "run"]
