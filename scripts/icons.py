"""Draws the PNG icons phones ask for (web app manifest, Apple touch icon) from the favicon's shapes: a white
drop on a navy disc. Run once after changing the design: python scripts/icons.py"""

from pathlib import Path

from PIL import Image, ImageDraw

NAVY, WHITE = (11, 58, 102, 255), (255, 255, 255, 255)
OUT = Path(__file__).resolve().parents[1] / "static" / "img" / "icons"


def drop(draw: ImageDraw.ImageDraw, size: int, scale: float) -> None:
    """The favicon's drop (viewBox 64): a point at the top, a circle of radius 14 around (32, 39) below."""
    unit = size / 64 * scale
    offset = size * (1 - scale) / 2
    cx, cy, r = offset + 32 * unit, offset + 39 * unit, 14 * unit
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=WHITE)
    draw.polygon([(cx, offset + 12 * unit), (cx - r * 0.93, cy - r * 0.35), (cx + r * 0.93, cy - r * 0.35)], fill=WHITE)


def icon(size: int, *, maskable: bool) -> Image.Image:
    big = size * 4  # drawn large and scaled down for smooth edges
    image = Image.new("RGBA", (big, big), NAVY if maskable else (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if not maskable:
        draw.ellipse([0, 0, big - 1, big - 1], fill=NAVY)
    drop(draw, big, 0.8 if maskable else 1.0)  # a maskable icon keeps its drawing inside the safe zone
    return image.resize((size, size), Image.LANCZOS)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        icon(size, maskable=False).save(OUT / f"icon-{size}.png", optimize=True)
        icon(size, maskable=True).save(OUT / f"maskable-{size}.png", optimize=True)
    icon(180, maskable=True).convert("RGB").save(OUT / "apple-touch-icon-180.png", optimize=True)
