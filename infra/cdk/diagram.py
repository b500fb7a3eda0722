"""``python -m infra.cdk.diagram``: draw ``docs/architecture.svg`` from ``shared.resources``.

Columns, left to right: who calls the platform, what invokes functions (the HTTP API, schedules,
workflows), the functions, and where data lives. Edges are the IAM grants of ``derive.grants`` (what a function may
read, write, start, complete), workflow tasks and stream sources, so the picture cannot drift from the stack.
Plain SVG written by hand: no graphviz needed, and the output is byte-for-byte reproducible.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from infra.cdk import derive
from shared import resources

OUTPUT = Path(__file__).resolve().parents[2] / "docs" / "architecture.svg"
COLUMNS = {"actors": 20, "entry": 290, "functions": 600, "data": 1000}
WIDTHS = {"actors": 190, "entry": 220, "functions": 240, "data": 260}
TOP, GAP, LINE = 80, 16, 15
EDGE_STYLES = {
    # kind: (colour, dashed, legend)
    "call": ("#444444", False, "request / trigger"),
    "write": ("#b5651d", False, "reads and writes"),
    "read": ("#b5651d", True, "reads only"),
    "replay": ("#6a6a6a", True, "auditors read the archive"),
    "start": ("#1f5fbf", False, "starts a workflow"),
    "callback": ("#1f5fbf", True, "completes a waiting task"),
    "task": ("#2e8b57", False, "workflow invokes a task"),
    "stream": ("#7b3fa0", True, "stream feeds a function"),
    "secret": ("#8a8a00", True, "KMS key / SSM parameter"),
}


@dataclass
class Box:
    key: str
    column: str
    lines: list[tuple[str, str]]  # (text, css class)
    style: str
    x: float = 0
    y: float = 0

    @property
    def w(self) -> float:
        return WIDTHS[self.column]

    @property
    def h(self) -> float:
        return 12 + LINE * len(self.lines)


@dataclass
class Edge:
    src: str
    dst: str
    kind: str
    label: str = ""
    anchors: dict[str, tuple[float, float]] = field(default_factory=dict)


def _boxes() -> list[Box]:
    boxes = [
        Box("devices", "actors", [("Devices and lot systems", "b"), ("signed HTTPS events", "s")], "actor"),
        Box("providers", "actors", [("Payment providers", "b"), ("callbacks (S9)", "s")], "actor"),
        Box("public", "actors", [("Public service window", "b"), ("Wuxi Parking mini-program", "s")], "actor"),
        Box("staff", "actors", [("City and district staff", "b"), ("admin API, bearer token", "s")], "actor"),
        Box("auditors", "actors", [("Auditors", "b"), ("replay the event archive", "s")], "actor"),
        Box("api", "entry", [("HTTP API", "b"), ("API Gateway + WAF", "s"), ("Chalice app, /api stage", "s")], "entry"),
    ]
    for s in resources.SCHEDULES:
        boxes.append(Box(f"schedule:{s.logical}", "entry", [(s.logical, "b"), (s.expression, "m")], "schedule"))
    for f in resources.FUNCTIONS:
        module = f.handler.rsplit(".", 1)[0]
        boxes.append(
            Box(f"fn:{f.logical}", "functions", [(f.logical, "b"), (module, "m"), (_trigger(f), "s")], "function")
        )
    for m in resources.STATE_MACHINES:
        boxes.append(Box(f"sm:{m.logical}", "entry", [(m.logical, "b"), (f"Step Functions {m.kind}", "s")], "workflow"))
    for t in resources.TABLES:
        keys = t.hash_key + (f" / {t.range_key}" if t.range_key else "")
        flags = [
            f"{len(t.indexes)} GSI" if t.indexes else "",
            f"TTL {t.ttl_attribute}" if t.ttl_attribute else "",
            "stream" if t.stream else "",
        ]
        boxes.append(
            Box(
                f"table:{t.logical}",
                "data",
                [(t.logical, "b"), (" · ".join([keys, *(x for x in flags if x)]), "s")],
                "table",
            )
        )
    boxes.append(
        Box("key", "data", [(resources.DEVICE_SECRETS_KEY_ALIAS, "b"), ("KMS key: device secrets", "s")], "secret")
    )
    boxes.append(
        Box(
            f"param:{resources.ADMIN_TOKEN_PARAMETER}",
            "data",
            [(resources.ADMIN_TOKEN_PARAMETER, "b"), ("SSM SecureString, generated", "s")],
            "secret",
        )
    )
    for logical in derive.provider_parameters():
        boxes.append(Box(f"param:{logical}", "data", [(logical, "b"), ("SSM SecureString, set by ops", "s")], "secret"))
    # Last in its column: the auditors' edge leaves from its foot.
    for b in resources.BUCKETS:
        lock = f"Object Lock {b.object_lock_days} d, compliance" if b.object_lock_days else "versioned"
        boxes.append(Box(f"bucket:{b.logical}", "data", [(b.logical, "b"), (f"S3 · {lock}", "s")], "bucket"))
    return boxes


def _trigger(f: resources.Function) -> str:
    if f.logical == derive.HTTP_API:
        return "HTTP requests"
    parts = []
    if f.stream_source:
        parts.append(f"stream of {f.stream_source}")
    if derive.scheduled(f):
        parts.append("scheduled")
    if derive.workflow_task(f):
        parts.append("workflow task")
    return ", ".join(parts) or "invoked directly"


def _edges() -> list[Edge]:
    edges = [
        Edge("devices", "api", "call"),
        Edge("providers", "api", "call"),
        Edge("public", "api", "call"),
        Edge("staff", "api", "call"),
        Edge("api", f"fn:{derive.HTTP_API}", "call"),
        *(Edge(f"bucket:{b.logical}", "auditors", "replay") for b in resources.BUCKETS),
    ]
    edges += [Edge(f"schedule:{s.logical}", f"fn:{s.function}", "call") for s in resources.SCHEDULES]
    for f in resources.FUNCTIONS:
        for g in derive.grants(f):
            if g.target == "table":
                edges.append(
                    Edge(f"fn:{f.logical}", f"table:{g.name}", "write" if g.name in f.tables_write else "read")
                )
            elif g.target == "bucket-objects":
                edges.append(Edge(f"fn:{f.logical}", f"bucket:{g.name}", "write"))
            elif g.target == "state-machine":
                edges.append(Edge(f"fn:{f.logical}", f"sm:{g.name}", "start"))
            elif g.target == "task-tokens":
                edges.append(Edge(f"fn:{f.logical}", f"sm:{g.name}", "callback"))
            elif g.target == "device-secrets-key":
                edges.append(Edge(f"fn:{f.logical}", "key", "secret"))
            elif g.target == "parameter":
                edges.append(Edge(f"fn:{f.logical}", f"param:{g.name}", "secret"))
        if f.stream_source:
            edges.append(Edge(f"table:{f.stream_source}", f"fn:{f.logical}", "stream"))
    for m in resources.STATE_MACHINES:
        edges += [Edge(f"sm:{m.logical}", f"fn:{t}", "task") for t in m.tasks]
    return [e for e in edges if e]


def _layout(boxes: list[Box]) -> float:
    heights = {c: sum(b.h + GAP for b in boxes if b.column == c) - GAP for c in COLUMNS}
    tallest = max(heights.values())
    for column, x in COLUMNS.items():
        y = TOP + (tallest - heights[column]) / 2
        for box in (b for b in boxes if b.column == column):
            box.x, box.y = x, y
            y += box.h + GAP
    return TOP + tallest


def _anchor(edges: list[Edge], boxes: dict[str, Box], lane: float) -> None:
    """Spreads the ends of edges along each box side, ordered by where the other end is."""
    sides: dict[tuple[str, str], list[tuple[float, Edge, str]]] = {}
    for e in edges:
        if e.kind == "replay":  # runs in a lane under the columns, from the bucket's foot
            src, dst = boxes[e.src], boxes[e.dst]
            e.anchors = {
                "src": (src.x + src.w / 2, src.y + src.h),
                "dst": (dst.x + dst.w / 2, dst.y + dst.h),
                "lane": (0, lane),
            }
            continue
        src, dst = boxes[e.src], boxes[e.dst]
        forward = dst.x > src.x
        sides.setdefault((e.src, "r" if forward else "l"), []).append((dst.y + dst.h / 2, e, "src"))
        sides.setdefault((e.dst, "l" if forward else "r"), []).append((src.y + src.h / 2, e, "dst"))
    for (key, side), ends in sides.items():
        box = boxes[key]
        ends.sort(key=lambda item: (item[0], item[1].src, item[1].dst))
        for i, (_, edge, role) in enumerate(ends):
            x = box.x + box.w if side == "r" else box.x
            edge.anchors[role] = (x, box.y + box.h * (i + 1) / (len(ends) + 1))


def _path(edge: Edge) -> str:
    (x1, y1), (x2, y2) = edge.anchors["src"], edge.anchors["dst"]
    if "lane" in edge.anchors:
        lane = edge.anchors["lane"][1]
        return f"M{x1:.1f},{y1:.1f} L{x1:.1f},{lane:.1f} L{x2:.1f},{lane:.1f} L{x2:.1f},{y2:.1f}"
    bend = max(40.0, abs(x2 - x1) / 2)
    c1 = x1 + bend if x2 > x1 else x1 - bend
    c2 = x2 - bend if x2 > x1 else x2 + bend
    return f"M{x1:.1f},{y1:.1f} C{c1:.1f},{y1:.1f} {c2:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"


STYLE = """
.box{stroke:#555;stroke-width:1;rx:6}
.actor{fill:#f3f3f3}.entry{fill:#e6eefc}.schedule{fill:#fdf3d8}.function{fill:#fbe9dc}
.workflow{fill:#e3f4e8}.table{fill:#eef0f7}.bucket{fill:#e8e0f3}.secret{fill:#f6f6dc}
text{font-family:Helvetica,Arial,sans-serif;font-size:12px;fill:#222}
.b{font-weight:bold}.s{font-size:11px;fill:#555}.m{font-family:Menlo,Consolas,monospace;font-size:10px;fill:#555}
.h{font-size:13px;font-weight:bold;fill:#333}.t{font-size:16px;font-weight:bold}
"""


def render() -> str:
    boxes = _boxes()
    bottom = _layout(boxes)
    by_key = {b.key: b for b in boxes}
    edges = _edges()
    _anchor(edges, by_key, lane=bottom + 20)
    width = COLUMNS["data"] + WIDTHS["data"] + 20
    height = bottom + 110
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" viewBox="0 0 {width} {height:.0f}">',
        f"<style>{STYLE}</style>",
        "<defs>",
    ]
    for kind, (colour, _, _) in EDGE_STYLES.items():
        out.append(
            f'<marker id="a-{kind}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        )
    out.append("</defs>")
    out.append('<rect width="100%" height="100%" fill="white"/>')
    out.append(
        '<text class="t" x="20" y="28">Tongting: one stack per stage (resource names are tongting-&lt;stage&gt;-&lt;name&gt;)</text>'
    )
    out.append('<text class="s" x="20" y="46">Generated from shared/resources.py by python -m infra.cdk.diagram</text>')
    titles = {
        "actors": "Callers",
        "entry": "API, schedules, workflows",
        "functions": "Lambda functions",
        "data": "Data",
    }
    for column, x in COLUMNS.items():
        out.append(f'<text class="h" x="{x}" y="{TOP - 12}">{titles[column]}</text>')
    for e in edges:
        colour, dashed, _ = EDGE_STYLES[e.kind]
        dash = ' stroke-dasharray="5,4"' if dashed else ""
        out.append(
            f'<path d="{_path(e)}" fill="none" stroke="{colour}" stroke-width="1.2" stroke-opacity="0.8"{dash} marker-end="url(#a-{e.kind})"/>'
        )
    for b in boxes:
        out.append(f'<rect class="box {b.style}" x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w}" height="{b.h:.0f}"/>')
        for i, (text, css) in enumerate(b.lines):
            out.append(f'<text class="{css}" x="{b.x + 8:.1f}" y="{b.y + 18 + i * LINE:.1f}">{escape(text)}</text>')
    x, y = 20.0, bottom + 60
    for kind, (colour, dashed, legend) in EDGE_STYLES.items():
        dash = ' stroke-dasharray="5,4"' if dashed else ""
        if x + 36 + 7 * len(legend) > width:
            x, y = 20.0, y + 20
        out.append(
            f'<line x1="{x}" y1="{y - 4}" x2="{x + 30}" y2="{y - 4}" stroke="{colour}" stroke-width="1.5"{dash}/>'
        )
        out.append(f'<text class="s" x="{x + 36}" y="{y}">{legend}</text>')
        x += 36 + 7 * len(legend) + 24
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render())
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
