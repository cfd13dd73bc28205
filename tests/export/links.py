"""Every link and asset reference of an exported site, checked against the files themselves."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.targets.append(value)
            if name == "id" and value is not None:
                self.ids.add(value)


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def broken_links(root: Path) -> list[str]:
    """`page -> target` for each link to a missing file or anchor; [] for a sound site."""
    pages = {path: parse(path) for path in sorted(root.rglob("*.html"))}
    broken = []
    for path, page in pages.items():
        for target in page.targets:
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or target.startswith("/"):
                broken.append(f"{path.relative_to(root)} -> {target} (not relative)")
                continue
            file = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if not file.is_relative_to(root.resolve()) or not file.is_file():
                broken.append(f"{path.relative_to(root)} -> {target}")
            elif parts.fragment and file in pages and parts.fragment not in pages[file].ids:
                broken.append(f"{path.relative_to(root)} -> {target} (no such anchor)")
    return broken
