"""What a terminal of a given size shows, for tests: the text a program wrote to a pseudo-terminal,
laid on a grid of rows and columns the way a terminal lays it (lines wrap at the last column,
the screen scrolls), and that screen photographed and read by a QR decoder (zxing-cpp), as a
phone would read it."""

from __future__ import annotations

import re

import zxingcpp

from remediate.credentials.totp import HALF_BLOCKS

_TOKEN = re.compile(
    r"\x1b\[([0-9;?]*)([A-Za-z])|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]|(.)", re.DOTALL
)


def visible(text: str, columns: int = 80, rows: int = 24) -> list[str]:
    """The ``rows`` lines a ``columns``-wide terminal shows after ``text``: lines wrap at the last
    column, the screen scrolls; the cursor moves and erasing that spinners and progress bars use
    (CSI A, B, G, K) are followed, colours and other escape sequences dropped."""
    lines: list[list[str]] = [[]]
    row, column = 0, 0
    wrap_pending = False

    def line() -> list[str]:
        while len(lines) <= row:
            lines.append([])
        return lines[row]

    for match in _TOKEN.finditer(text):
        params, command, ch = match.group(1), match.group(2), match.group(3)
        if command is not None:
            n = int(params) if params and params.isdigit() else None
            if command == "A":
                row, wrap_pending = max(row - (n or 1), 0), False
            elif command == "B":
                row, wrap_pending = row + (n or 1), False
            elif command == "G":
                column, wrap_pending = max((n or 1) - 1, 0), False
            elif command == "K":
                current = line()
                if n == 2:
                    current.clear()
                elif not n:
                    del current[column:]
            continue
        if ch is None:
            continue
        if ch == "\r":
            column, wrap_pending = 0, False
        elif ch == "\n":
            row, wrap_pending = row + 1, False
            line()
            # ONLCR sends "\r\n"; a bare line feed keeps the column, as a terminal does.
        elif ch == "\b":
            column = max(column - 1, 0)
        elif ch >= " ":
            if wrap_pending:
                row, column, wrap_pending = row + 1, 0, False
            current = line()
            current.extend(" " * (column - len(current) + 1))
            current[column] = ch
            column += 1
            if column == columns:
                column, wrap_pending = columns - 1, True
    shown = ["".join(cells).ljust(columns)[:columns] for cells in lines[: max(row + 1, 1)]]
    shown = shown[-rows:]
    return shown + [" " * columns] * (rows - len(shown))


def photograph(screen: list[str], *, cell: int = 6) -> memoryview:
    """A greyscale picture of a dark-background terminal showing ``screen``: each character cell
    ``cell`` pixels wide and twice as tall; half blocks lit where they have ink, other
    characters drawn as a pattern of light pixels (text beside the code is noise to a camera)."""
    height, width = len(screen) * 2 * cell, len(screen[0]) * cell
    pixels = bytearray(width * height)
    for r, line in enumerate(screen):
        for c, ch in enumerate(line):
            if ch in HALF_BLOCKS:
                index = HALF_BLOCKS.index(ch)
                halves = (index >= 2, index % 2 == 1)
            for y in range(2 * cell):
                for x in range(cell):
                    if ch in HALF_BLOCKS:
                        lit = halves[0] if y < cell else halves[1]
                    else:
                        lit = ch != " " and (x + y) % 3 == 0
                    pixels[(r * 2 * cell + y) * width + c * cell + x] = 230 if lit else 25
    return memoryview(pixels).cast("B", (height, width))


def decode(screen: list[str]) -> list[str]:
    """The text of every QR code a decoder finds on the photographed screen (not inverted: a
    phone's camera app may not try that)."""
    found = zxingcpp.read_barcodes(photograph(screen), try_invert=False)
    return [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode]


def decode_matrix(matrix: list[list[bool]], *, scale: int = 4) -> list[str]:
    """The text of the QR code drawn from ``matrix`` (True = dark), black on white."""
    size = len(matrix) * scale
    pixels = bytearray(
        0 if matrix[y // scale][x // scale] else 255 for y in range(size) for x in range(size)
    )
    found = zxingcpp.read_barcodes(memoryview(pixels).cast("B", (size, size)), try_invert=False)
    return [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode]
