"""Reading QR codes back as a bank's app would: zbar (Debian's zbar-tools) on the rendered PDF or page.

The portal draws its codes as SVG (segno), the PDF as one-pixel-a-module PNGs; the PDF is rasterised with
poppler's pdftoppm, an SVG code of a page is drawn module by module with Pillow, and zbarimg decodes both. The
error-correction level is read from the code's own format information, the 15 bits beside the top-left finder
pattern.
"""

import base64
import io
import re
import subprocess
import urllib.parse
from pathlib import Path

from PIL import Image

# ISO/IEC 18004: the format information is masked with this pattern; its two top bits are the level.
FORMAT_MASK = 0b101010000010010
LEVELS = {0b01: "L", 0b00: "M", 0b11: "Q", 0b10: "H"}


def _zbarimg(image: Path, *options: str) -> bytes:
    result = subprocess.run(
        ["zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", *options, str(image)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout


def zbar(image: Path) -> str:
    """The one QR code in the image, as UTF-8 text.

    zbar guesses the charset of a code without an ECI mark (and takes "ę" for Shift JIS), so the text is read in
    binary mode; binary mode does not separate symbols, so the image must hold exactly one, which is checked.
    """
    symbols = _zbarimg(image).decode("utf-8", errors="replace").splitlines()
    assert len(symbols) == 1, f"{len(symbols)} QR codes in {image.name}: {symbols}"
    return _zbarimg(image, "-Sbinary").decode("utf-8").removesuffix("\n")


def pdf_code(pdf: bytes, folder: Path) -> str:
    """The QR code of a one-page PDF, rasterised at 300 dpi."""
    source = folder / "document.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "300", "-png", "-singlefile", str(source), str(folder / "page")], check=True)
    return zbar(folder / "page.png")


def svg_modules(data_uri: str) -> list[list[bool]]:
    """The dark modules of a segno SVG data: URI, border removed (row by row, True = dark)."""
    svg = data_uri.split(",", 1)[1]
    svg = base64.b64decode(svg).decode() if ";base64" in data_uri.split(",", 1)[0] else urllib.parse.unquote(svg)
    width = float(re.search(r"width=[\"']([\d.]+)", svg).group(1))
    scale = float(re.search(r"scale\(([\d.]+)\)", svg).group(1)) if "scale(" in svg else 1.0
    dark, x, y = set(), 0.0, 0.0
    for command, arguments in re.findall(r"([MmHh])([^MmHh]*)", re.search(r" d=[\"']([^\"']+)", svg).group(1)):
        numbers = [float(n) for n in re.findall(r"-?[\d.]+", arguments)]
        if command == "M":
            x, y = numbers
        elif command == "m":
            x, y = x + numbers[0], y + numbers[1]
        else:
            dark.update((int(y), int(x) + i) for i in range(int(numbers[0])))
            x += numbers[0]
    total = round(width / scale)
    border = min(column for _, column in dark)  # the finder pattern starts at the first dark column
    size = total - 2 * border
    return [[(row + border, column + border) in dark for column in range(size)] for row in range(size)]


def png_modules(data_uri: str, *, border: int = 2) -> list[list[bool]]:
    """The dark modules of a one-pixel-a-module PNG data: URI (the PDF's codes), border removed."""
    image = Image.open(io.BytesIO(base64.b64decode(data_uri.split(",", 1)[1]))).convert("L")
    size = image.width - 2 * border
    assert image.height == image.width and 21 <= size <= 177 and (size - 17) % 4 == 0, image.size
    return [[image.getpixel((border + column, border + row)) < 128 for column in range(size)] for row in range(size)]


def error_level(modules: list[list[bool]]) -> str:
    """The error-correction level written in the code's format information (top-left copy)."""
    cells = [(8, column) for column in range(6)] + [(8, 7), (8, 8), (7, 8)] + [(row, 8) for row in range(5, -1, -1)]
    bits = 0
    for row, column in cells:
        bits = (bits << 1) | modules[row][column]
    return LEVELS[((bits ^ FORMAT_MASK) >> 13) & 0b11]


def svg_code(data_uri: str, folder: Path) -> str:
    """Draw the SVG code's modules as a PNG with a quiet zone and let zbar read it."""
    modules = svg_modules(data_uri)
    size, scale, quiet = len(modules), 8, 4
    image = Image.new("L", ((size + 2 * quiet) * scale,) * 2, 255)
    for row, line in enumerate(modules):
        for column, is_dark in enumerate(line):
            if is_dark:
                left, top = (column + quiet) * scale, (row + quiet) * scale
                image.paste(0, (left, top, left + scale, top + scale))
    path = folder / "code.png"
    image.save(path)
    return zbar(path)
