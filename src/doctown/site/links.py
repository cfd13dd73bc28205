"""Where each page lives: URLs on a server, relative file paths in a static export.

Pages link through a `Links` object and never build URLs themselves, so one set of templates
serves `doctown view` (absolute URLs under any prefix: `/symbol/<id>`, `/file/<path>`) and
`doctown export --format html` (relative links between files that work from `file://`).

Ids and paths come from the pack, which is untrusted: every one is percent-encoded on a
server and reduced to safe file names in an export, so no pack text can become a scheme
(`javascript:`), a host (`//evil`) or a path that climbs out of the site (`..`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Protocol
from urllib.parse import quote

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 120
_HASH_CHARS = 10


class Links(Protocol):
    """The URL of every page kind, as seen from the page being rendered."""

    # Two Links with the same key give the same URLs: rendered pieces may be shared.
    key: str

    def home(self) -> str: ...
    def files(self) -> str: ...
    def clusters(self) -> str: ...
    def search(self) -> str: ...
    def file(self, path: str) -> str: ...
    def symbol(self, symbol_id: str) -> str: ...
    def cluster(self, cluster_id: str) -> str: ...
    def static(self, name: str) -> str: ...


def url_part(value: str) -> str:
    """`value` percent-encoded for a URL path, keeping `/` and `:` readable when that is safe.

    Slashes stay when no segment is empty, `.` or `..` (a browser would fold those away);
    otherwise they are encoded too and the server decodes them back.
    """
    segments = value.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        return quote(value, safe=":")
    return quote(value, safe="/:")


class ServerLinks:
    """Absolute URLs under `root` (the prefix an app is mounted at, "" at the top)."""

    def __init__(self, root: str = "") -> None:
        self.root = root.rstrip("/")
        self.key = f"server {self.root}"

    def home(self) -> str:
        return f"{self.root}/"

    def files(self) -> str:
        return f"{self.root}/files"

    def clusters(self) -> str:
        return f"{self.root}/clusters"

    def search(self) -> str:
        return f"{self.root}/search"

    def search_api(self) -> str:
        """The JSON search the page script asks as the reader types."""
        return f"{self.root}/search.json"

    def file(self, path: str) -> str:
        return f"{self.root}/file/{url_part(path)}"

    def symbol(self, symbol_id: str) -> str:
        return f"{self.root}/symbol/{url_part(symbol_id)}"

    def cluster(self, cluster_id: str) -> str:
        return f"{self.root}/cluster/{url_part(cluster_id)}"

    def static(self, name: str) -> str:
        return f"{self.root}/static/{name}"


def _safe_name(value: str) -> str:
    name = _UNSAFE_NAME.sub("_", value).strip(".")[:_MAX_NAME]
    return name or "_"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_CHARS]


def _unique(names: dict[str, str]) -> dict[str, str]:
    """Give every value that collides with another (ignoring case) a hash of its key."""
    seen: dict[str, int] = {}
    for name in names.values():
        seen[name.lower()] = seen.get(name.lower(), 0) + 1
    return {
        key: f"{name}-{_digest(key)}" if seen[name.lower()] > 1 else name
        for key, name in names.items()
    }


class StaticPaths:
    """The file of every page of a static export, relative to the export's root.

    Symbol and cluster pages are flat (`symbol/<name>.html`); file pages mirror the source
    tree (`file/src/app.py.html`). Names keep only `[A-Za-z0-9._-]`; a name that had to be
    changed, or that would collide with another (on a case-insensitive disk too), gets a
    hash of the original, so names are stable from one export to the next.
    """

    def __init__(
        self, symbol_ids: Iterable[str], file_paths: Iterable[str], cluster_ids: Iterable[str]
    ) -> None:
        self._symbols = _unique(
            {symbol_id: _symbol_name(symbol_id) for symbol_id in sorted(set(symbol_ids))}
        )
        self._clusters = _unique({c: _safe_name(c) for c in sorted(set(cluster_ids))})
        self._files = _unique({path: _file_name(path) for path in sorted(set(file_paths))})

    def symbol(self, symbol_id: str) -> str:
        return f"symbol/{self._symbols[symbol_id]}.html"

    def cluster(self, cluster_id: str) -> str:
        return f"cluster/{self._clusters[cluster_id]}.html"

    def file(self, path: str) -> str:
        return f"file/{self._files[path]}.html"

    def file_stem(self, path: str) -> str:
        """The file's safe name without folder or extension: `src/app.py` for `src/app.py`."""
        return self._files[path]


def _symbol_name(symbol_id: str) -> str:
    # `src/app.py::Client.send` reads as `src.app.py.Client.send`.
    readable = symbol_id.replace("::", ".").replace("/", ".")
    name = _safe_name(readable)
    return name if name == readable else f"{name}-{_digest(symbol_id)}"


def _file_name(path: str) -> str:
    segments = path.split("/")
    safe = [_safe_name(segment) for segment in segments]
    if safe == segments and not any(segment in ("", ".", "..") for segment in segments):
        return path
    return "/".join(safe) + f"-{_digest(path)}"


def depth_of(page: str) -> int:
    """How many folders deep a page of the export is (`index.html` 0, `symbol/x.html` 1)."""
    return page.count("/")


class StaticLinks:
    """Relative links from one page of a static export to the others."""

    def __init__(self, paths: StaticPaths, *, depth: int) -> None:
        self.paths = paths
        self.up = "../" * depth
        self.key = f"static {depth}"

    def root(self) -> str:
        """The site's root folder, as seen from this page."""
        return self.up or "./"

    def home(self) -> str:
        return f"{self.up}index.html"

    def files(self) -> str:
        return f"{self.up}files.html"

    def clusters(self) -> str:
        return f"{self.up}clusters.html"

    def search(self) -> str:
        return f"{self.up}search.html"

    def file(self, path: str) -> str:
        return self.up + self.paths.file(path)

    def symbol(self, symbol_id: str) -> str:
        return self.up + self.paths.symbol(symbol_id)

    def cluster(self, cluster_id: str) -> str:
        return self.up + self.paths.cluster(cluster_id)

    def static(self, name: str) -> str:
        return f"{self.up}static/{name}"
