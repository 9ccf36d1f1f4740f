"""Reading a file the user named, with a size limit that holds for devices and pipes too."""

from __future__ import annotations

from pathlib import Path

from remediate.core.errors import InputError


def _size(limit: int) -> str:
    return f"{limit // 2**20} MiB" if limit % 2**20 == 0 else f"{limit // 1024} KiB"


def read_limited(
    path: str | Path, limit: int, *, what: str, error: type[InputError] = InputError
) -> bytes:
    """The file's bytes, or ``error`` naming ``what`` and the path as given when it cannot be
    read or passes ``limit``.

    Reads one byte past the limit instead of trusting stat(): a device or a pipe has no size,
    and ``/dev/zero`` would never end.
    """
    try:
        with Path(path).open("rb") as file:
            content = file.read(limit + 1)
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    if len(content) > limit:
        raise error(f"{path}: {what} larger than {_size(limit)}")
    return content
