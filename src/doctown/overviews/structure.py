"""What the analysis says about the levels above the symbol: modules, clusters, the repository.

Everything here is computed, never generated: which symbols a module holds, which modules it
depends on and which depend on it, the call edges between clusters, and the repository's
entry points (console scripts, `__main__` modules, HTTP routes of recognisable frameworks,
packages). Source files are read only as text, bounded, and never executed.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from doctown.analysis import CONFIDENT, AnalysisResult
from doctown.overviews.diagram import DiagramCluster, cluster_edges
from doctown.overviews.schemas import module_ref

MAX_README_BYTES = 64 * 1024
MAX_MANIFEST_BYTES = 256 * 1024
MAX_SCANNED_BYTES = 1024 * 1024  # a file larger than this is not searched for routes
MAX_NEIGHBOURS = 8
MAX_ENTRY_POINTS = 20
README_NAMES = ("README.md", "README.rst", "README.txt", "README", "readme.md", "Readme.md")
# `@app.get("/items")`, `@router.route('/x')`, `@bp.post("/y")`: Flask, FastAPI, Quart, Sanic,
# Starlette-style routers.
_ROUTE = re.compile(
    r"@\s*([A-Za-z_][\w.]*)\.(route|get|post|put|patch|delete|api_route|websocket)"
    r"\(\s*[rbuf]?[\"']([^\"'\n]{1,200})[\"']"
)


@dataclass(frozen=True, slots=True)
class EntryPoint:
    """A way into the code: a console script, a `__main__` module, an HTTP route, a package."""

    kind: str  # console_script, main_module, http_route, package
    name: str
    ref: str | None  # the symbol or module it leads to, when the pack holds it


@dataclass(frozen=True, slots=True)
class ModuleFacts:
    """A module (file) and the documented symbols at its top level, in source order."""

    path: str
    language: str
    members: list[str]  # symbol ids
    methods: dict[str, list[str]]  # class id -> its documented members' ids
    depends_on: list[str]  # module paths
    used_by: list[str]


@dataclass(frozen=True, slots=True)
class Neighbour:
    cluster_id: str
    calls_out: int  # call edges from this cluster to the neighbour
    calls_in: int


@dataclass(frozen=True, slots=True)
class ClusterFacts:
    """A cluster: its documented members by centrality, the modules it spans, its neighbours."""

    cluster_id: str
    label: str
    size: int
    members: list[str]  # documented symbol ids, most central first
    modules: list[str]  # paths, most members first
    neighbours: list[Neighbour]


@dataclass(frozen=True, slots=True)
class Structure:
    """The levels above the symbol, as the analysis sees them."""

    name: str
    modules: dict[str, ModuleFacts]
    clusters: dict[str, ClusterFacts]
    entry_points: list[EntryPoint]
    readme: str | None
    cluster_edges: dict[tuple[str, str], int] = field(default_factory=dict)
    # Every cluster of the analysis, documented or not: what the diagram draws.
    all_clusters: list[DiagramCluster] = field(default_factory=list)


def _module_dependencies(
    analysis: AnalysisResult, file_of: dict[str, str]
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Module paths each module uses (through imports and confident calls), and is used by."""
    uses: dict[str, set[str]] = defaultdict(set)
    used_by: dict[str, set[str]] = defaultdict(set)
    for edge in analysis.edges:
        if edge.kind == "calls" and edge.confidence < CONFIDENT:
            continue
        if edge.kind not in ("calls", "imports"):
            continue
        source, target = file_of.get(edge.source), file_of.get(edge.target)
        if source is None or target is None or source == target:
            continue
        uses[source].add(target)
        used_by[target].add(source)
    return uses, used_by


def _cluster_edges(analysis: AnalysisResult) -> dict[tuple[str, str], int]:
    """Confident call edges between clusters, weighted by call sites: (from, to) -> count."""
    cluster_of = {symbol: str(cluster) for symbol, cluster in analysis.cluster_of.items()}
    calls = (
        (edge.source, edge.target, edge.confidence, edge.weight)
        for edge in analysis.edges
        if edge.kind == "calls"
    )
    return cluster_edges(cluster_of, calls)


def analyse_structure(
    analysis: AnalysisResult, documented: Collection[str], *, root: Path | None, name: str
) -> Structure:
    """The modules, clusters and entry points of `analysis`; `documented` holds the ids of
    the symbols that have a summary (the children overviews are written from)."""
    documented = set(documented)
    symbols = analysis.symbols
    file_of = {symbol.id: symbol.file_path for symbol in symbols}
    language_of = {record.path: record.language for record in analysis.files}
    uses, used_by = _module_dependencies(analysis, file_of)
    kind_of = {symbol.id: symbol.kind for symbol in symbols}
    members: dict[str, list[str]] = defaultdict(list)
    methods: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for symbol in sorted(symbols, key=lambda s: (s.file_path, s.start_byte, s.id)):
        if symbol.id not in documented or symbol.kind == "module":
            continue
        parent = symbol.parent_id
        if parent is None or kind_of.get(parent) == "module":
            members[symbol.file_path].append(symbol.id)
        elif parent in documented:
            methods[symbol.file_path][parent].append(symbol.id)
    modules = {
        path: ModuleFacts(
            path=path,
            language=language_of.get(path, ""),
            members=ids,
            methods={parent: list(found) for parent, found in methods[path].items()},
            depends_on=sorted(uses.get(path, ())),
            used_by=sorted(used_by.get(path, ())),
        )
        for path, ids in sorted(members.items())
    }
    edges = _cluster_edges(analysis)
    centrality = analysis.centrality
    clusters: dict[str, ClusterFacts] = {}
    for cluster in analysis.clusters:
        key = str(cluster.id)
        chosen = sorted(
            (m for m in cluster.members if m in documented and kind_of.get(m) != "module"),
            key=lambda m: (-centrality.get(m, 0.0), m),
        )
        if not chosen:
            continue
        spanned = Counter(file_of[m] for m in cluster.members if m in file_of)
        clusters[key] = ClusterFacts(
            cluster_id=key,
            label=cluster.label,
            size=cluster.size,
            members=chosen,
            modules=[path for path, _ in sorted(spanned.items(), key=lambda p: (-p[1], p[0]))],
            neighbours=_neighbours(key, edges),
        )
    return Structure(
        name=name,
        modules=modules,
        clusters=clusters,
        entry_points=entry_points(analysis, root) if root is not None else [],
        readme=read_readme(root) if root is not None else None,
        cluster_edges=edges,
        all_clusters=[
            DiagramCluster(str(cluster.id), cluster.label, cluster.size)
            for cluster in analysis.clusters
        ],
    )


def _neighbours(cluster: str, edges: dict[tuple[str, str], int]) -> list[Neighbour]:
    out: Counter[str] = Counter()
    into: Counter[str] = Counter()
    for (source, target), weight in edges.items():
        if source == cluster:
            out[target] += weight
        elif target == cluster:
            into[source] += weight
    ranked = sorted(set(out) | set(into), key=lambda c: (-(out[c] + into[c]), _numeric(c)))
    return [Neighbour(c, out[c], into[c]) for c in ranked[:MAX_NEIGHBOURS]]


def _numeric(cluster_id: str) -> tuple[int, str]:
    return (int(cluster_id), "") if cluster_id.isdigit() else (1 << 62, cluster_id)


def _read_text(path: Path, limit: int) -> str | None:
    """At most `limit` bytes of a regular file (never through a link), as text."""
    try:
        if path.is_symlink() or not path.is_file():
            return None
        with path.open("rb") as stream:
            return stream.read(limit).decode("utf-8", "replace")
    except OSError:
        return None


def read_readme(root: Path) -> str | None:
    """The repository's README, bounded; untrusted text for the repository prompt."""
    for name in README_NAMES:
        text = _read_text(root / name, MAX_README_BYTES)
        if text and text.strip():
            return text
    return None


def entry_points(analysis: AnalysisResult, root: Path) -> list[EntryPoint]:
    """Console scripts, `__main__` modules, HTTP routes and top-level packages, in that order."""
    by_qualified: dict[str, str] = {}
    for symbol in analysis.symbols:
        by_qualified.setdefault(symbol.qualified_name, symbol.id)
    paths = {record.path for record in analysis.files}
    found: list[EntryPoint] = []
    for script, target in _console_scripts(root):
        module, _, attribute = target.partition(":")
        qualified = f"{module}.{attribute}" if attribute else module
        # Scripts name the installed module (`pkg.cli:main`); the analysis may see the package
        # from inside it, so trailing parts of the name are tried too.
        found.append(EntryPoint("console_script", script, _lookup(qualified, by_qualified)))
    for path in sorted(paths):
        if path.rsplit("/", 1)[-1] == "__main__.py":
            found.append(EntryPoint("main_module", path, module_ref(path)))
    found += _routes(analysis, root)
    packages = sorted(
        {
            path.split("/", 1)[0]
            for path in paths
            if path.count("/") == 1 and path.endswith("/__init__.py")
        }
    )
    for package in packages:
        found.append(EntryPoint("package", package, module_ref(f"{package}/__init__.py")))
    return found[:MAX_ENTRY_POINTS]


def _lookup(qualified: str, by_qualified: dict[str, str]) -> str | None:
    parts = qualified.split(".")
    for start in range(len(parts)):
        found = by_qualified.get(".".join(parts[start:]))
        if found is not None:
            return found
    return None


def _console_scripts(root: Path) -> list[tuple[str, str]]:
    text = _read_text(root / "pyproject.toml", MAX_MANIFEST_BYTES)
    if not text:
        return []
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return []
    project = data.get("project")
    scripts = project.get("scripts") if isinstance(project, dict) else None
    if not isinstance(scripts, dict):
        return []
    return sorted((str(k), str(v)) for k, v in scripts.items() if isinstance(v, str))


def _routes(analysis: AnalysisResult, root: Path) -> list[EntryPoint]:
    """Functions decorated as HTTP routes: the decorator line is read just above each one."""
    found: list[EntryPoint] = []
    by_file: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for symbol in analysis.symbols:
        if symbol.language == "python" and symbol.kind in ("function", "method"):
            by_file[symbol.file_path].append((symbol.start_byte, symbol.id))
    for path in sorted(by_file):
        text = _read_text(root / path, MAX_SCANNED_BYTES)
        if not text or "@" not in text:
            continue
        data = text.encode()
        previous = 0
        for start, symbol_id in sorted(by_file[path]):
            # Decorators sit between the previous definition's start and this one.
            head = data[max(previous, start - 2_000) : start].decode("utf-8", "replace")
            previous = start
            for match in _ROUTE.finditer(head):
                method = match.group(2).upper() if match.group(2) != "route" else "ROUTE"
                found.append(EntryPoint("http_route", f"{method} {match.group(3)}", symbol_id))
    return found


def cluster_title(facts: ClusterFacts) -> str:
    return facts.label or f"cluster {facts.cluster_id}"


def describe_neighbour(neighbour: Neighbour) -> str:
    parts = []
    if neighbour.calls_out:
        parts.append(f"calls it {neighbour.calls_out}x")
    if neighbour.calls_in:
        parts.append(f"called by it {neighbour.calls_in}x")
    return ", ".join(parts)
