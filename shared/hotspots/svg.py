"""The hotspot heat map as SVG text: lots x hour of day, shaded by utilisation. Plain string building, so the
deployed API draws it without matplotlib (``plot.py`` renders the PNG for local reports)."""

from __future__ import annotations

from html import escape

CELL, LABEL, TOP = 22, 170, 28


def _shade(u: float) -> str:
    """White to dark red, as matplotlib's YlOrRd roughly does: the hotter, the darker."""
    u = max(0.0, min(1.0, u))
    red, green, blue = 255, int(255 - 200 * u), int(235 - 235 * u)
    return f"#{red:02x}{green:02x}{max(blue, 0):02x}"


def heatmap_svg(report: dict, title: str = "") -> str:
    lots = sorted(report.get("lots", {}))
    width, height = LABEL + 24 * CELL + 10, TOP + CELL * max(1, len(lots)) + 24
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
           f'aria-label="{escape(title or "utilisation by hour")}">',
           f'<title>{escape(title or "utilisation by hour of day " + str(report.get("day", "")))}</title>',
           f'<text x="4" y="16" font-size="13">{escape(title or "utilisation by hour, " + str(report.get("day", "")))}</text>']
    for h in range(24):
        out.append(f'<text x="{LABEL + h * CELL + 4}" y="{TOP + CELL * max(1, len(lots)) + 16}" font-size="10">{h}</text>')
    for row, lot in enumerate(lots):
        y = TOP + row * CELL
        out.append(f'<text x="4" y="{y + 15}" font-size="11">{escape(lot)}</text>')
        for h, u in enumerate(report["lots"][lot]):
            out.append(f'<rect x="{LABEL + h * CELL}" y="{y}" width="{CELL - 1}" height="{CELL - 1}" fill="{_shade(u)}">'
                       f'<title>{escape(lot)} {h}:00 {round(u * 100)}%</title></rect>')
    out.append("</svg>")
    return "".join(out)
