"""Defaults and ranges of command-line values, each defined once.

Kept free of imports: the command line's help text reads them, and `remediate --help` must stay
fast. The rules that check them are in remediate.commands.requests.
"""

DEFAULT_DAYS = 7
MAX_DAYS = 3650
DEFAULT_REPORT_TIMEOUT = 60.0
MAX_REPORT_TIMEOUT = 3600.0
DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
DEFAULT_CONCURRENCY = 16
MAX_CONCURRENCY = 64
DEFAULT_JOURNAL_LIMIT = 1000
DEFAULT_LOCK_TIMEOUT = 120.0
MAX_LOCK_TIMEOUT = 3600.0
