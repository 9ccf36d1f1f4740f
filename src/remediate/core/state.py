"""Where remediate keeps its own files (the journal, the account locks), opened so that another
local user can neither redirect nor forge them.

The state directory is ``$XDG_STATE_HOME/remediate`` (``~/.local/state/remediate`` when the
variable is unset or, as the XDG Base Directory specification says, not an absolute path).
Directories are created 0700 and files 0600; an existing directory must belong to this user and be
writable by nobody else; files are opened relative to their directory's descriptor and never
through a symbolic link, so a link planted in place of the journal or a lock is refused with its
target untouched. Every refusal is an input error (exit 2) naming the path.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from remediate.core.errors import InputError

# Refused descriptors: a link is never followed, a FIFO never blocks the open, nothing leaks into
# child processes.
_FILE_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_LINK_ERRORS = (errno.ELOOP, errno.EMLINK)  # Linux says ELOOP for O_NOFOLLOW, FreeBSD EMLINK


def state_dir() -> Path:
    """``$XDG_STATE_HOME/remediate``, or ``~/.local/state/remediate``."""
    return _state_dir()[0]


def _state_dir() -> tuple[Path, Path | None]:
    """The state directory, and the home directory it is under when it comes from there: that
    one must exist (remediate creates its own directories, never a home)."""
    base = os.environ.get("XDG_STATE_HOME", "")
    if os.path.isabs(base):
        return Path(base) / "remediate", None
    # XDG: "If an implementation encounters a relative path in any of these variables it
    # should consider the path invalid and ignore it."
    try:
        home = Path.home()
    except RuntimeError:
        raise InputError(
            "cannot find the home directory for remediate's state (journal and locks)",
            tip="set XDG_STATE_HOME to an absolute path",
        ) from None
    return home / ".local" / "state" / "remediate", home


def _check_dir(fd: int, path: Path) -> None:
    """Close ``fd`` and refuse unless it is a directory of this user's, writable by nobody else."""
    info = os.fstat(fd)
    problem = None
    if not stat.S_ISDIR(info.st_mode):
        problem = "is not a directory"
    elif info.st_uid != os.geteuid():
        problem = f"belongs to another user (uid {info.st_uid})"
    elif info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        problem = f"is writable by group or others (mode {stat.S_IMODE(info.st_mode):04o})"
    if problem is not None:
        os.close(fd)
        raise InputError(
            f"refusing the state directory {path}: it {problem}, so another user could forge "
            "the journal or the locks",
            tip=f"use a directory of your own (chmod 700 {path}), or set XDG_STATE_HOME",
        )


def _make_dirs(path: Path, home: Path | None) -> None:
    """Create ``path`` and its missing parents, each 0700 (mkdir -p would use the umask); never
    ``home`` itself, nor anything above it."""
    missing: list[Path] = []
    for candidate in (path, *path.parents):
        try:
            if candidate.exists():
                break
        except OSError as exc:  # a parent this user may not look into
            raise InputError(
                f"cannot use the state directory {path}: {candidate}: {exc.strerror}",
                tip="set XDG_STATE_HOME to a directory of your own",
            ) from None
        if candidate == home:
            raise InputError(
                f"cannot use the state directory {path}: the home directory {home} does not exist",
                tip="set HOME to your home directory, or XDG_STATE_HOME to a directory of your own",
            )
        missing.append(candidate)
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:  # a concurrent run made it first
            pass
        except OSError as exc:
            raise InputError(
                f"cannot create the state directory {directory}: {exc.strerror}",
                tip="set XDG_STATE_HOME to a directory of your own",
            ) from None


def _open_dir(parts: tuple[str, ...], *, create: bool) -> tuple[int, Path] | None:
    """A descriptor on the checked state directory (or a subdirectory of it); ``None`` when it
    does not exist and ``create`` is false."""
    top, home = _state_dir()
    if create:
        _make_dirs(top, home)
    try:
        # The top directory may be a link the user made (to another disk, say): its target is
        # what gets checked. Below it, every name is remediate's own and never a link.
        fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError) and not create:
            return None
        raise InputError(
            f"cannot open the state directory {top}: {exc.strerror}",
            tip="set XDG_STATE_HOME to a directory of your own",
        ) from None
    _check_dir(fd, top)
    path = top
    for part in parts:
        path = path / part
        if create:
            try:
                os.mkdir(part, 0o700, dir_fd=fd)
            except FileExistsError:
                pass  # made earlier, or by a concurrent run: checked below like any other
            except OSError as exc:
                os.close(fd)
                raise InputError(f"cannot create {path}: {exc.strerror}") from None
        try:
            child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | _FILE_FLAGS, dir_fd=fd)
        except FileNotFoundError:
            os.close(fd)
            return None
        except OSError as exc:
            os.close(fd)
            raise _open_error(path, exc) from None
        os.close(fd)
        _check_dir(child, path)
        fd = child
    return fd, path


def _open_error(path: Path, exc: OSError) -> InputError:
    if exc.errno in _LINK_ERRORS or (exc.errno == errno.ENOTDIR and path.is_symlink()):
        return InputError(
            f"refusing {path}: it is a symbolic link (its target is left untouched)",
            tip="remove the link: remediate creates its own file there",
        )
    return InputError(f"cannot open {path}: {exc.strerror}")


def open_state_file(*parts: str, flags: int, create: bool = True) -> int | None:
    """A descriptor on ``state_dir()/parts...`` opened with ``flags`` (plus ``O_CREAT`` and mode
    0600 when ``create``), or ``None`` when it does not exist and ``create`` is false.

    Refused with an input error: a symbolic link, anything but a regular file, a file of another
    user's, a directory on the way that another user could write to.
    """
    *directories, name = parts
    opened = _open_dir(tuple(directories), create=create)
    if opened is None:
        return None
    dir_fd, directory = opened
    path = directory / name
    try:
        fd = os.open(
            name, flags | _FILE_FLAGS | (os.O_CREAT if create else 0), 0o600, dir_fd=dir_fd
        )
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _open_error(path, exc) from None
    finally:
        os.close(dir_fd)
    info = os.fstat(fd)
    problem = None
    if not stat.S_ISREG(info.st_mode):
        problem = "it is not a regular file"
    elif info.st_uid != os.geteuid():
        problem = f"it belongs to another user (uid {info.st_uid})"
    if problem is not None:
        os.close(fd)
        raise InputError(f"refusing {path}: {problem}", tip="remove it: remediate creates its own")
    if stat.S_IMODE(info.st_mode) != 0o600:
        os.fchmod(fd, 0o600)  # the umask cannot widen a new file, but an old one may be wider
    return fd
