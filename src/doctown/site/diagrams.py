"""The geometry of the two diagrams, computed in Python and drawn as SVG by the templates.

Laying them out here keeps the pages free of JavaScript: the diagrams render, and every node
is a link, with scripts off. Both layouts are deterministic, so an export is too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from doctown.docpack import Cluster, Symbol

LABEL_CHARS = 26
NODE_WIDTH = 220
NODE_HEIGHT = 28
ROW_GAP = 10
COLUMN_GAP = 90
MAX_PER_SIDE = 8

CLUSTER_LIMIT = 20
CLUSTER_COLUMN = 230
CLUSTER_TOP = 20
CLUSTER_ROW = 30
CLUSTER_LABEL_CHARS = 26


def shorten(text: str, limit: int = LABEL_CHARS) -> str:
    """`text` cut to `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Box:
    """A node drawn as a labelled rectangle; `href` empty for a node that links nowhere."""

    x: float
    y: float
    label: str
    title: str
    href: str
    role: str  # caller, callee, focus, more


@dataclass(frozen=True, slots=True)
class Neighbourhood:
    """Callers on the left, the symbol in the middle, callees on the right: boxes and the
    curves joining them, in a `width` x `height` drawing."""

    width: float
    height: float
    boxes: list[Box]
    curves: list[str]
    headings: list[tuple[float, float, str]]
    box_width: float = NODE_WIDTH


def neighbourhood(
    focus: Symbol,
    callers: Sequence[Symbol],
    callees: Sequence[Symbol],
    *,
    link: Callable[[Symbol], str],
    more: Callable[[str], str],
) -> Neighbourhood:
    """The call neighbourhood of `focus`: at most `MAX_PER_SIDE` nodes a side, then "+N more"
    (`more("callers")` is where that node links)."""
    left = _column(callers, "caller", link, more("callers"))
    right = _column(callees, "callee", link, more("callees"))
    center = (shorten(focus.name), focus.qualified_name or focus.name, "", "focus")
    return _side_by_side(left, center, right)


Entry = tuple[str, str, str, str]  # label, title, href, role
HEADING = 22.0


def _side_by_side(left: list[Entry], center: Entry, right: list[Entry]) -> Neighbourhood:
    rows = max(1, len(left), len(right))
    height = rows * NODE_HEIGHT + (rows - 1) * ROW_GAP
    middle = HEADING + (height - NODE_HEIGHT) / 2
    center_x = NODE_WIDTH + COLUMN_GAP
    right_x = 2 * (NODE_WIDTH + COLUMN_GAP)
    boxes = [Box(center_x, middle, *center)]
    curves = []
    for x, column in ((0.0, left), (right_x, right)):
        top = HEADING + (height - (len(column) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP)) / 2
        for row, entry in enumerate(column):
            y = top + row * (NODE_HEIGHT + ROW_GAP)
            boxes.append(Box(x, y, *entry))
            if x == 0.0:
                curves.append(_curve(NODE_WIDTH, y, center_x, middle))
            else:
                curves.append(_curve(center_x + NODE_WIDTH, middle, x, y))
    headings = [
        (x + NODE_WIDTH / 2, 14.0, text)
        for x, column, text in ((0.0, left, "called by"), (right_x, right, "calls"))
        if column
    ]
    return Neighbourhood(
        right_x + NODE_WIDTH, HEADING + height, boxes, curves, headings, NODE_WIDTH
    )


def _column(
    symbols: Sequence[Symbol], role: str, link: Callable[[Symbol], str], more_href: str
) -> list[Entry]:
    shown = [
        (shorten(s.name), s.qualified_name or s.name, link(s), role) for s in symbols[:MAX_PER_SIDE]
    ]
    if len(symbols) > MAX_PER_SIDE:
        hidden = len(symbols) - MAX_PER_SIDE
        shown.append((f"+{hidden} more", f"{hidden} more", more_href, "more"))
    return shown


def _curve(x1: float, y1: float, x2: float, y2: float) -> str:
    a, b = y1 + NODE_HEIGHT / 2, y2 + NODE_HEIGHT / 2
    bend = (x2 - x1) / 2
    return f"M{x1:.1f},{a:.1f} C{x1 + bend:.1f},{a:.1f} {x2 - bend:.1f},{b:.1f} {x2:.1f},{b:.1f}"


@dataclass(frozen=True, slots=True)
class Bubble:
    """A cluster drawn as a circle sized by its members, labelled on its left."""

    x: float
    y: float
    r: float
    label: str
    title: str
    href: str
    label_x: float
    label_y: float


@dataclass(frozen=True, slots=True)
class Chord:
    """Calls between two clusters, both directions together: an arc on the right."""

    path: str
    width: float
    title: str


@dataclass(frozen=True, slots=True)
class ClusterMap:
    """An arc diagram: the largest clusters in a column, arcs for the calls between them."""

    width: float
    height: float
    bubbles: list[Bubble]
    chords: list[Chord]
    shown: int
    total: int


def cluster_map(
    clusters: Sequence[Cluster],
    edges: dict[tuple[str, str], int],
    *,
    link: Callable[[Cluster], str],
) -> ClusterMap:
    """The `CLUSTER_LIMIT` largest of `clusters` (largest first) and the calls between them.

    Labels never overlap in a column, whatever the count, and arcs nest: an arc between two
    clusters far apart in the column bulges further out than one between neighbours.
    """
    shown = list(clusters[:CLUSTER_LIMIT])
    largest = max((c.member_count for c in shown), default=1) or 1
    place: dict[str, float] = {}
    bubbles = []
    for position, cluster in enumerate(shown):
        y = CLUSTER_TOP + position * CLUSTER_ROW
        place[cluster.cluster_id] = y
        bubbles.append(
            Bubble(
                x=CLUSTER_COLUMN,
                y=y,
                r=round(3 + 9 * math.sqrt(cluster.member_count / largest), 1),
                label=shorten(cluster.label, CLUSTER_LABEL_CHARS),
                title=f"{cluster.label} ({cluster.member_count} symbols)",
                href=link(cluster),
                label_x=CLUSTER_COLUMN - 18,
                label_y=y + 4,
            )
        )
    between: dict[tuple[str, str], int] = {}
    for (source, target), count in edges.items():
        if source in place and target in place:
            key = (min(source, target), max(source, target))
            between[key] = between.get(key, 0) + count
    strongest = max(between.values(), default=1)
    chords = []
    for (a, b), count in sorted(between.items(), key=lambda item: (item[1], item[0])):
        top, bottom = sorted((place[a], place[b]))
        radius = (bottom - top) / 2
        chords.append(
            Chord(
                path=f"M{CLUSTER_COLUMN},{top} A{radius},{radius} 0 0,1 {CLUSTER_COLUMN},{bottom}",
                width=round(1 + 5 * math.log1p(count) / math.log1p(strongest), 2),
                title=f"{count} call{'s' if count != 1 else ''} between "
                f"{_label(shown, a)} and {_label(shown, b)}",
            )
        )
    span = (len(shown) - 1) * CLUSTER_ROW
    return ClusterMap(
        width=CLUSTER_COLUMN + span / 2 + 20,
        height=2 * CLUSTER_TOP + span,
        bubbles=bubbles,
        chords=chords,
        shown=len(shown),
        total=len(clusters),
    )


def _label(clusters: Sequence[Cluster], cluster_id: str) -> str:
    return next(c.label for c in clusters if c.cluster_id == cluster_id)
