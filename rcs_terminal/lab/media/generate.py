"""Draws the lab chatbots' sample media: small PNG pictures and one PDF, with the standard
library only (no imaging package is a dependency).

Run ``python rcs_terminal/lab/media/generate.py`` to write the files next to this script;
the output is deterministic, so re-running it changes nothing. The pictures are simple
scenes made of gradients, discs, boxes and a 5x7 pixel font: enough for a card to show
something recognisable (a parcel, a sun, a bank card) in a terminal or an SVG export.

PNG (ISO/IEC 15948): signature, ``IHDR`` (8-bit RGB), one zlib-compressed ``IDAT`` with
filter byte 0 per row, ``IEND``; every chunk carries its CRC-32.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

Colour = tuple[int, int, int]
Painter = Callable[[float, float], Colour | None]
"""Colours pixel (x, y) in 0..1 coordinates, or leaves it to the layers below (None)."""

# --------------------------------------------------------------------------- PNG


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def encode_png(width: int, height: int, pixels: bytes) -> bytes:
    """A PNG of ``width`` x ``height`` RGB ``pixels`` (row-major, 3 bytes each)."""
    stride = width * 3
    raw = b"".join(b"\x00" + pixels[y * stride : (y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(raw, 9)),
            _chunk(b"IEND", b""),
        )
    )


def render(width: int, height: int, layers: list[Painter]) -> bytes:
    """Paint ``layers`` (top layer last) into a PNG."""
    out = bytearray()
    for y in range(height):
        v = (y + 0.5) / height
        for x in range(width):
            u = (x + 0.5) / width
            colour: Colour = (0, 0, 0)
            for layer in reversed(layers):
                found = layer(u, v)
                if found is not None:
                    colour = found
                    break
            out += bytes(colour)
    return encode_png(width, height, bytes(out))


# --------------------------------------------------------------------------- shapes


def _mix(a: Colour, b: Colour, t: float) -> Colour:
    t = min(1.0, max(0.0, t))
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def vertical(top: Colour, bottom: Colour) -> Painter:
    return lambda u, v: _mix(top, bottom, v)


def disc(cx: float, cy: float, r: float, colour: Colour, aspect: float = 1.0) -> Painter:
    def paint(u: float, v: float) -> Colour | None:
        return colour if math.hypot((u - cx) * aspect, v - cy) <= r else None

    return paint


def ring(cx: float, cy: float, r: float, width: float, colour: Colour) -> Painter:
    def paint(u: float, v: float) -> Colour | None:
        return colour if abs(math.hypot(u - cx, v - cy) - r) <= width / 2 else None

    return paint


def box(x0: float, y0: float, x1: float, y1: float, colour: Colour) -> Painter:
    return lambda u, v: colour if x0 <= u <= x1 and y0 <= v <= y1 else None


def hills(base: float, amplitude: float, waves: float, phase: float, colour: Colour) -> Painter:
    def paint(u: float, v: float) -> Colour | None:
        return colour if v >= base - amplitude * math.sin(u * waves * math.pi + phase) else None

    return paint


def triangle(points: tuple[tuple[float, float], ...], colour: Colour) -> Painter:
    (ax, ay), (bx, by), (cx, cy) = points

    def side(px: float, py: float, x1: float, y1: float, x2: float, y2: float) -> float:
        return (px - x2) * (y1 - y2) - (x1 - x2) * (py - y2)

    def paint(u: float, v: float) -> Colour | None:
        d1, d2, d3 = (
            side(u, v, ax, ay, bx, by),
            side(u, v, bx, by, cx, cy),
            side(u, v, cx, cy, ax, ay),
        )
        negative = d1 < 0 or d2 < 0 or d3 < 0
        positive = d1 > 0 or d2 > 0 or d3 > 0
        return None if negative and positive else colour

    return paint


_FONT = {
    "0": "01110 10001 10011 10101 11001 10001 01110",
    "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111",
    "3": "11110 00001 00001 01110 00001 00001 11110",
    "4": "00010 00110 01010 10010 11111 00010 00010",
    "5": "11111 10000 11110 00001 00001 10001 01110",
    "G": "01110 10001 10000 10111 10001 10001 01111",
    "N": "10001 11001 10101 10011 10001 10001 10001",
    "E": "11111 10000 10000 11110 10000 10000 11111",
    "W": "10001 10001 10001 10101 10101 10101 01010",
    "S": "01111 10000 10000 01110 00001 00001 11110",
    "$": "00100 01111 10100 01110 00101 11110 00100",
    "!": "00100 00100 00100 00100 00100 00000 00100",
    " ": "00000 00000 00000 00000 00000 00000 00000",
}


def text(label: str, x: float, y: float, height: float, colour: Colour, aspect: float) -> Painter:
    """``label`` in the 5x7 font, top-left at (x, y), ``height`` tall (0..1 units);
    ``aspect`` is the picture's width / height."""
    cell = height / 7
    cell_u = cell / aspect
    rows = [_FONT[ch].split() for ch in label]

    def paint(u: float, v: float) -> Colour | None:
        col = math.floor((u - x) / cell_u)
        row = math.floor((v - y) / cell)
        if not 0 <= row < 7 or col < 0:
            return None
        glyph, within = divmod(col, 6)
        if glyph >= len(rows) or within == 5:
            return None
        return colour if rows[glyph][row][within] == "1" else None

    return paint


# --------------------------------------------------------------------------- the pictures

WHITE: Colour = (255, 255, 255)


def logo(background: Colour, symbol: list[Painter]) -> bytes:
    base = [box(0, 0, 1, 1, (245, 245, 245)), disc(0.5, 0.5, 0.48, background)]
    return render(96, 96, base + symbol)


def pictures() -> dict[str, bytes]:
    """Every sample picture by file name."""
    wide, tall = 16 / 9, 2 / 3
    blue, red, green = (30, 136, 229), (211, 47, 47), (67, 160, 71)
    orange, navy, teal = (245, 124, 0), (21, 67, 140), (0, 137, 123)
    sky = vertical((120, 190, 250), (220, 240, 255))
    out = {
        "demo-logo.png": logo(blue, [text("5G", 0.27, 0.36, 0.3, WHITE, 1.0)]),
        "hotline-logo.png": logo(red, [text("12345", 0.14, 0.42, 0.16, WHITE, 1.0)]),
        "express-logo.png": logo(
            orange,
            [box(0.28, 0.32, 0.72, 0.7, (255, 224, 178)), box(0.28, 0.32, 0.72, 0.4, WHITE)],
        ),
        "bank-logo.png": logo(
            navy,
            [ring(0.5, 0.5, 0.25, 0.06, (255, 213, 79)), text("$", 0.4, 0.36, 0.28, WHITE, 1.0)],
        ),
        "weather-logo.png": logo(
            teal,
            [
                disc(0.42, 0.42, 0.16, (255, 213, 79)),
                disc(0.58, 0.6, 0.14, WHITE),
                disc(0.42, 0.64, 0.1, WHITE),
            ],
        ),
        "news-logo.png": logo(
            green,
            [box(0.28, 0.3, 0.72, 0.7, WHITE)]
            + [box(0.34, y, 0.66, y + 0.04, green) for y in (0.38, 0.48, 0.58)],
        ),
        "demo-landscape.png": render(
            320,
            180,
            [
                sky,
                disc(0.78, 0.25, 0.1, (255, 202, 40), aspect=wide),
                hills(0.62, 0.12, 2.0, 0.3, (102, 187, 106)),
                hills(0.78, 0.08, 3.0, 1.5, (46, 125, 50)),
            ],
        ),
        "demo-square.png": render(
            200,
            200,
            [
                vertical((255, 236, 179), (255, 183, 77)),
                disc(0.5, 0.45, 0.3, (229, 57, 53)),
                disc(0.5, 0.45, 0.18, (255, 241, 118)),
                box(0.15, 0.82, 0.85, 0.86, (121, 85, 72)),
            ],
        ),
        "demo-portrait.png": render(
            160,
            240,
            [
                vertical((63, 81, 181), (156, 39, 176)),
                disc(0.5, 0.3, 0.2, (255, 255, 255), aspect=tall),
                triangle(((0.1, 0.95), (0.5, 0.5), (0.9, 0.95)), (255, 193, 7)),
            ],
        ),
        "demo-thumb.png": render(
            64,
            36,
            [
                sky,
                disc(0.78, 0.25, 0.12, (255, 202, 40), aspect=wide),
                hills(0.65, 0.12, 2.0, 0.3, (102, 187, 106)),
            ],
        ),
        "hotline-service.png": render(
            320,
            180,
            [
                vertical((255, 235, 238), (255, 205, 210)),
                box(0.3, 0.25, 0.7, 0.9, (198, 40, 40)),
                triangle(((0.25, 0.27), (0.5, 0.08), (0.75, 0.27)), (183, 28, 28)),
            ]
            + [box(x, 0.35, x + 0.06, 0.8, (255, 255, 255)) for x in (0.35, 0.47, 0.59)],
        ),
        "survey.png": render(
            320,
            180,
            [vertical((255, 248, 225), (255, 224, 130))]
            + [disc(x, 0.5, 0.07, (255, 179, 0), aspect=wide) for x in (0.2, 0.35, 0.5, 0.65, 0.8)],
        ),
        "parcel.png": render(
            320,
            180,
            [
                vertical((227, 242, 253), (187, 222, 251)),
                box(0.32, 0.3, 0.68, 0.85, (188, 143, 90)),
                box(0.32, 0.3, 0.68, 0.4, (161, 119, 73)),
                box(0.47, 0.3, 0.53, 0.85, (240, 220, 170)),
                box(0.36, 0.55, 0.45, 0.75, WHITE),
                box(0.37, 0.6, 0.44, 0.62, (90, 60, 30)),
                box(0.37, 0.66, 0.44, 0.68, (90, 60, 30)),
            ],
        ),
        "pickup-map.png": render(
            320,
            180,
            [box(0, 0, 1, 1, (236, 239, 241))]
            + [box(x, 0, x + 0.02, 1, (207, 216, 220)) for x in (0.2, 0.45, 0.7)]
            + [box(0, y, 1, y + 0.035, (207, 216, 220)) for y in (0.3, 0.65)]
            + [
                disc(0.55, 0.42, 0.09, (229, 57, 53), aspect=wide),
                disc(0.55, 0.42, 0.035, WHITE, aspect=wide),
            ],
        ),
        "bill.png": render(
            320,
            180,
            [
                vertical((232, 234, 246), (197, 202, 233)),
                box(0.18, 0.2, 0.82, 0.8, navy),
                box(0.18, 0.32, 0.82, 0.42, (13, 40, 90)),
                box(0.25, 0.55, 0.36, 0.68, (255, 213, 79)),
                text("$", 0.62, 0.52, 0.2, WHITE, wide),
            ],
        ),
        "weather-sunny.png": render(
            320,
            180,
            [
                sky,
                disc(0.5, 0.45, 0.16, (255, 202, 40), aspect=wide),
                ring(0.5, 0.45, 0.24, 0.02, (255, 224, 130)),
            ],
        ),
        "weather-rain.png": render(
            320,
            180,
            [vertical((96, 125, 139), (176, 190, 197))]
            + [disc(x, 0.35, 0.1, (236, 239, 241), aspect=wide) for x in (0.4, 0.5, 0.6)]
            + [box(x, 0.55, x + 0.01, 0.75, (144, 202, 249)) for x in (0.38, 0.46, 0.54, 0.62)],
        ),
        "warning-typhoon.png": render(
            320,
            180,
            [
                vertical((255, 243, 224), (255, 204, 128)),
                triangle(((0.3, 0.88), (0.5, 0.12), (0.7, 0.88)), (230, 81, 0)),
                text("!", 0.47, 0.42, 0.35, WHITE, wide),
            ],
        ),
    }
    scenes: list[tuple[Colour, Colour, Colour]] = [
        ((183, 28, 28), (255, 205, 210), (255, 235, 59)),
        ((13, 71, 161), (187, 222, 251), (255, 255, 255)),
        ((27, 94, 32), (200, 230, 201), (255, 241, 118)),
        ((74, 20, 140), (225, 190, 231), (255, 183, 77)),
    ]
    for index, (dark, light, accent) in enumerate(scenes, start=1):
        out[f"news-{index}.png"] = render(
            320,
            180,
            [
                vertical(light, dark),
                disc(0.25 + 0.15 * index, 0.35, 0.12, accent, aspect=wide),
                hills(0.75, 0.08, 1.0 + index, float(index), dark),
                text("NEWS", 0.06, 0.08, 0.14, WHITE, wide),
            ],
        )
    return out


def receipt_pdf() -> bytes:
    """A one-page PDF (ISO 32000-1 §7.5: header, objects, cross-reference table, trailer)."""
    content = (
        b"BT /F1 20 Tf 60 760 Td (rcs-terminal lab bank) Tj ET\n"
        b"BT /F1 12 Tf 60 730 Td (Electronic receipt - sample document) Tj ET\n"
        b"BT /F1 12 Tf 60 710 Td (Amount: CNY 1,288.00) Tj ET\n"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def main() -> None:
    """Write every file next to this script."""
    folder = Path(__file__).resolve().parent
    files = {**pictures(), "receipt.pdf": receipt_pdf()}
    for name, data in files.items():
        (folder / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
