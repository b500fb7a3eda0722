"""The replay's outputs: a progress bar (rich), the JSON report and a Markdown report with an SVG plot of
daily totals (replayed against ledger)."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from pathlib import Path


@contextlib.contextmanager
def progress(total: int, enabled: bool = True):
    if not enabled:
        yield lambda n: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), transient=True) as bar:  # fmt: skip
        task = bar.add_task("replaying archive objects", total=total)
        yield lambda n: bar.advance(task, n)


def as_json(replay, comparison, verification) -> dict:
    doc: dict = {
        "summary": {
            "records": replay.events,
            "skipped": dict(sorted(replay.skipped.items())),  # by kind: the same text whatever the order of the work
            "sessions_charged": replay.sessions_charged,
            "replayed_fen": replay.replayed_fen,
            "money_records": replay.books_replayed,
        },
    }
    if verification is not None:
        cp = verification.checkpoint
        doc["verification"] = {"ok": verification.ok, "tree_size": cp.size if cp else None,
                               "root": cp.root.hex() if cp else None, "problems": verification.problems}  # fmt: skip
    if comparison is not None:
        doc["summary"].update(
            ledger_fen=sum(t["ledger_fen"] for t in comparison.totals.values()),
            differences=len(comparison.differences),
            difference_fen=comparison.difference_fen,
        )
        doc["totals"] = [
            {"operator_id": op, "day": day, **t}
            for (op, day), t in sorted(comparison.totals.items(), key=lambda x: (x[0][1], x[0][0]))
        ]
        doc["differences"] = [
            d.__dict__ | {"events": list(d.events), "postings": list(d.postings)} for d in comparison.differences
        ]
        doc["not_replayed"] = comparison.not_replayed
        doc["money_totals"] = [
            {"kind": kind, "day": day, **t} for (kind, day), t in sorted(comparison.book_totals.items())
        ]
    return doc


def svg_plot(totals: list[dict], width: int = 640, height: int = 240) -> str:
    """Daily totals, replayed (dark) beside ledger (light), in yuan."""
    days: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for t in totals:
        days[t["day"]][0] += t["replayed_fen"]
        days[t["day"]][1] += t["ledger_fen"]
    if not days:
        return ""
    top = max(max(v) for v in days.values()) or 1
    slot = (width - 60) / len(days)
    bars = []
    for i, (day, (rep, led)) in enumerate(sorted(days.items())):
        x = 50 + i * slot
        for j, (v, colour) in enumerate(((rep, "#1f4e79"), (led, "#9dc3e6"))):
            h = (height - 50) * v / top
            bars.append(f'<rect x="{x + j * slot * 0.4:.1f}" y="{height - 30 - h:.1f}" width="{slot * 0.38:.1f}" '
                        f'height="{h:.1f}" fill="{colour}"><title>{day}: {v / 100:.2f} yuan</title></rect>')  # fmt: skip
        bars.append(f'<text x="{x:.1f}" y="{height - 12}" font-size="10">{day[5:]}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
            f'<text x="50" y="14" font-size="12">Daily charges: replayed (dark) vs ledger (light); top '
            f'{top / 100:.2f} yuan</text>{"".join(bars)}</svg>')  # fmt: skip


def write_markdown(doc: dict, path: Path) -> None:
    s = doc["summary"]
    lines = ["# Archive replay", ""]
    if "verification" in doc:
        v = doc["verification"]
        lines.append(f"Archive verification: **{'passed' if v['ok'] else 'FAILED'}** (tree size {v['tree_size']}).")
    lines += [f"Records {s['records']}, sessions charged {s['sessions_charged']}, replayed {s['replayed_fen']} fen."]
    if "totals" in doc:
        lines += [f"Ledger {s['ledger_fen']} fen; **{s['differences']} differences ({s['difference_fen']} fen)**.", ""]
        plot = svg_plot(doc["totals"])
        if plot:
            path.with_suffix(".svg").write_text(plot)
            lines += [f"![daily totals]({path.with_suffix('.svg').name})", ""]
        lines += ["| day | operator | replayed fen | ledger fen |", "|---|---|---:|---:|"]
        lines += [
            f"| {t['day']} | {t['operator_id']} | {t['replayed_fen']} | {t['ledger_fen']} |" for t in doc["totals"]
        ]
        if doc["differences"]:
            lines += ["", "## Differences", "", "| kind | session | bill | day | replayed | ledger | events | postings |",
                      "|---|---|---|---|---:|---:|---|---|"]  # fmt: skip
            lines += [f"| {d['kind']} | {d['session_id']} | {d['bill_id']} | {d['day']} | {d['replayed_fen']} | "
                      f"{d['ledger_fen']} | {', '.join(d['events'])} | {', '.join(d['postings'])} |"
                      for d in doc["differences"]]  # fmt: skip
        if doc.get("money_totals"):
            lines += ["", "## Money records (payments, refunds, adjustments, write-offs)", "",
                      "| day | kind | replayed fen | ledger fen |", "|---|---|---:|---:|"]  # fmt: skip
            lines += [f"| {t['day']} | {t['kind']} | {t['replayed_fen']} | {t['ledger_fen']} |" for t in doc["money_totals"]]
        if doc["not_replayed"]:
            lines += [
                "",
                "Not replayed (ledger totals of kinds not archived): " + ", ".join(f"{k} {v} fen" for k, v in doc["not_replayed"].items()),
            ]
    path.write_text("\n".join(lines) + "\n")
