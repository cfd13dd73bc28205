"""A pack diff as Markdown, sized for a pull-request comment.

Summaries and names come from a pack, so they are untrusted: every cell is escaped (HTML,
table pipes, Markdown punctuation, line breaks), so a summary cannot add markup, links or
HTML to the comment. The whole text stays under `MAX_CHARS` (GitHub takes 65,536 per
comment); rows that do not fit are counted, not shown.
"""

from __future__ import annotations

import re

from doctown.freshness.diff import Change, PackDiff

MAX_CHARS = 60_000
MAX_ROWS_PER_SECTION = 100
MAX_CELL_CHARS = 400
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# What could start markup mid-line: emphasis, code, links and images, pipes that end a
# cell, strikethrough, autolinks (`:`, `@`), mentions and issue references (`@`, `#`).
_PUNCTUATION = re.compile(r"([\\`*_\[\]!|~:@#])")


def cell(text: str | None, *, limit: int = MAX_CELL_CHARS) -> str:
    """`text` as one inert table cell: flattened, shortened, escaped."""
    if not text:
        return ""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    escaped = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _PUNCTUATION.sub(r"\\\1", escaped)


def _symbol(change: Change) -> str:
    return f"{cell(change.name, limit=120)}<br><sub>{cell(change.where, limit=160)}</sub>"


def _redocumented(change: Change) -> str:
    why = f"<br><sub>{cell(', '.join(change.changed))}</sub>" if change.changed else ""
    return f"| {_symbol(change)}{why} | {cell(change.before)} | {cell(change.after)} |"


def _one_sided(change: Change, *, text: str | None) -> str:
    return f"| {_symbol(change)} | {cell(text)} |"


def _failed(change: Change) -> str:
    return f"| {_symbol(change)} | {cell(change.reason)} | {cell(change.before)} |"


SECTIONS = (
    ("Re-documented", "redocumented", "| symbol | before | after |\n|---|---|---|"),
    ("Added", "added", "| symbol | summary |\n|---|---|"),
    ("Removed", "removed", "| symbol | last summary |\n|---|---|"),
    ("Failed", "failed", "| symbol | reason | last summary |\n|---|---|---|"),
)


def _row(kind: str, change: Change) -> str:
    if kind == "redocumented":
        return _redocumented(change)
    if kind == "failed":
        return _failed(change)
    return _one_sided(change, text=change.after if kind == "added" else change.before)


def render(diff: PackDiff, *, title: str = "Documentation changes") -> str:
    """The diff as Markdown: totals, then one collapsible table per kind of change."""
    totals = (
        f"**{len(diff.redocumented)} re-documented**, {len(diff.added)} added, "
        f"{len(diff.removed)} removed, {len(diff.failed)} failed; {diff.unchanged} unchanged "
        f"({diff.documented_before} → {diff.documented_after} documented). "
        f"Cost of the new summaries: ${diff.cost:.6f}."
    )
    parts = [f"### {cell(title)}", "", totals, ""]
    if diff.empty:
        parts.append("No summary changed.")
        return "\n".join(parts) + "\n"
    # Room for the sections' own lines and the notes about rows left out.
    budget = MAX_CHARS - len("\n".join(parts)) - 200 * len(SECTIONS)
    for heading, kind, header in SECTIONS:
        changes: list[Change] = getattr(diff, kind)
        if not changes:
            continue
        rows = []
        for change in changes[:MAX_ROWS_PER_SECTION]:
            row = _row(kind, change)
            if len(row) + 1 > budget:
                break
            budget -= len(row) + 1
            rows.append(row)
        parts += [
            f"<details{' open' if kind == 'redocumented' else ''}>",
            f"<summary>{heading} ({len(changes)})</summary>",
            "",
            header,
            *rows,
        ]
        if len(rows) < len(changes):
            parts += ["", f"… and {len(changes) - len(rows)} more: run `doctown diff` to see all."]
        parts += ["", "</details>", ""]
    return "\n".join(parts)
