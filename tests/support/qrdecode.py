"""Reading QR codes back, for tests: the terminal's half blocks and the PNG file, each into
modules, so a test can compare them with an independently built matrix."""

from __future__ import annotations

from pathlib import Path

from remediate.credentials.totp import HALF_BLOCKS

_HALF_BLOCK_INK = {ch: (i >= 2, i % 2 == 1) for i, ch in enumerate(HALF_BLOCKS)}


def terminal_to_matrix(text: str) -> list[list[bool]]:
    """Inverse of remediate.credentials.totp.render_qr_terminal; ValueError on text it could
    not produce."""
    lines = text.splitlines()
    if not lines:
        raise ValueError("no QR code in text")
    size = len(lines[0])
    if any(len(line) != size for line in lines) or len(lines) != (size + 1) // 2:
        raise ValueError("QR text is not a square of half-block rows")
    matrix: list[list[bool]] = []
    for line in lines:
        try:
            cells = [_HALF_BLOCK_INK[ch] for ch in line]
        except KeyError as exc:
            raise ValueError(f"unexpected character {exc.args[0]!r} in QR text") from None
        # Ink = light module, so dark = not ink.
        matrix.append([not top for top, _ in cells])
        matrix.append([not bottom for _, bottom in cells])
    return matrix[:size]  # drop the padding half row of an odd-sized matrix


def png_to_matrix(path: Path, *, scale: int = 8) -> list[list[bool]]:
    """A PNG written by remediate.credentials.totp.write_qr_png, read back into modules by
    sampling each module's centre."""
    import png

    width, height, rows, info = png.Reader(filename=str(path)).asDirect()
    if width != height or width % scale:
        raise ValueError(f"{path} is not a square QR image at scale {scale}")
    planes: int = info["planes"]
    threshold = (2 ** info["bitdepth"] - 1) / 2
    pixels = [list(r) for r in rows]
    size = width // scale
    centre = scale // 2
    # Only the first plane is sampled: grey for greyscale, red for RGB(A); ours is greyscale.
    return [
        [pixels[y * scale + centre][(x * scale + centre) * planes] < threshold for x in range(size)]
        for y in range(size)
    ]
