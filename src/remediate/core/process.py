"""Process-wide protection for the secrets a command holds in memory: no core dumps.

A generated password, an access key's secret, an MFA seed live in this process's memory while
the command runs. A crash (or a signal such as SIGQUIT) would write that memory to a core file
on disk, readable by whoever can read the dump; ``RLIMIT_CORE`` 0 means the kernel writes none.
Both limits are set: a hard limit of 0 cannot be raised again by this process or its children.
"""

from __future__ import annotations


def disable_core_dumps() -> bool:
    """Set RLIMIT_CORE to 0 (soft and hard); True when done. POSIX only: where there is no
    ``resource`` module (Windows) or the limit cannot be set, nothing happens and nothing is
    said (there is nothing the user could do about it)."""
    try:
        import resource
    except ImportError:
        return False
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        return False
    return True
