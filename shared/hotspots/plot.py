"""The staff's hotspot plot: a heat map of utilisation, lots x hour of day, as PNG bytes (matplotlib).

Rendering only (no storage); matplotlib is imported here, with the Agg backend, so nothing else pays for it.
"""

from __future__ import annotations

import io


def heatmap_png(report: dict, title: str = "") -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lots = sorted(report["lots"])
    rows = [report["lots"][lot] for lot in lots]
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.35 * max(1, len(lots))))
    image = ax.imshow(rows, aspect="auto", cmap="YlOrRd", vmin=0, vmax=1)
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    ax.set_yticks(range(len(lots)), lots)
    ax.set_xlabel("hour of day (Asia/Shanghai)")
    ax.set_title(title or f"Utilisation by hour, {report['day']} (hotspot >= 85 %)")
    for spot in report["hotspots"]:
        ax.add_patch(matplotlib.patches.Rectangle((spot["hour"] - 0.5, lots.index(spot["lot_id"]) - 0.5), 1, 1,
                                                  fill=False, edgecolor="black", linewidth=1.5))
    fig.colorbar(image, ax=ax, label="share of spaces in use")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100)
    plt.close(fig)
    return out.getvalue()
