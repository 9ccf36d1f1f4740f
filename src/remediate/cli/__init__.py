"""The command line: remediate.cli.app parses; remediate.commands.run does the work."""

from remediate.cli.app import app, main, run

__all__ = ["app", "main", "run"]
