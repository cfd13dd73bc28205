"""A pack indexed for reading: symbols by id, file and cluster, the file tree, the statistics.

Everything a page needs that is not one lookup is computed here once, when a pack is opened,
so that rendering a page of a 70,000-symbol pack costs only the page itself.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from doctown.docpack import Cluster, Docpack, InvertedSearchIndex, SourceFile, Symbol, SymbolIndex
from doctown.docpack.authorship import Authorship, authorship
from doctown.docpack.overview_text import OverviewIndex
from doctown.freshness.status import StatusReport, SymbolFreshness
from doctown.overviews.diagram import DiagramCluster, architecture_diagram, cluster_edges

# The offline model's backend name: its summaries are a preview, and every page says so.
# Related symbols come through the first few callers and callees, and a bounded number of
# their neighbours: a hub (a test helper called from thousands of places) would make it slow.
HOP_LIMIT = 5
NEIGHBOUR_LIMIT = 50


@dataclass(frozen=True, slots=True)
class Statistics:
    """What happened to the pack's symbols, counted once."""

    symbols: int
    documented: int
    reused: int
    failed: int
    skipped: int
    ungrounded: int
    tests: int


@dataclass(slots=True)
class Folder:
    """A folder of the file tree: sub-folders and files, each sorted by name."""

    name: str
    path: str
    folders: list[Folder] = field(default_factory=list)
    files: list[SourceFile] = field(default_factory=list)

    @property
    def file_count(self) -> int:
        """Files in this folder and below."""
        return len(self.files) + sum(folder.file_count for folder in self.folders)


def _source_order(symbol: Symbol) -> tuple[int, int, str]:
    # An enclosing symbol starts where its first member may start: the longer one first.
    return (symbol.byte_range[0], -symbol.byte_range[1], symbol.id)


def _tree(files: list[SourceFile]) -> Folder:
    root = Folder(name="", path="")
    folders: dict[str, Folder] = {"": root}
    for source in sorted(files, key=lambda f: f.file_path):
        parts = source.file_path.split("/")
        parent = root
        for depth in range(1, len(parts)):
            path = "/".join(parts[:depth])
            folder = folders.get(path)
            if folder is None:
                folder = folders[path] = Folder(name=parts[depth - 1], path=path)
                parent.folders.append(folder)
            parent = folder
        parent.files.append(source)
    return root


class Catalog:
    """One pack, read once and indexed for pages, search and agents.

    The pack must come from `read_docpack`, which refused it if it was unsafe or tampered
    with; nothing here trusts its text, which the templates escape.
    """

    def __init__(
        self,
        pack: Docpack,
        *,
        name: str | None = None,
        freshness: StatusReport | None = None,
        source: str | None = None,
    ) -> None:
        """`freshness` is the pack checked against the code at `source` (`view --source`):
        every symbol's summary is then marked fresh, stale, new or removed."""
        self.pack = pack
        self.freshness = freshness
        self.freshness_source = source
        self.manifest = pack.manifest
        self.name = name or _pack_name(pack)
        self.symbols = sorted(pack.symbols, key=lambda s: (s.file_path, _source_order(s)))
        self.index = SymbolIndex(self.symbols)
        self.files = sorted(pack.content.source_map.files, key=lambda f: f.file_path)
        self.file_by_path = {source.file_path: source for source in self.files}
        self.by_file: dict[str, list[Symbol]] = defaultdict(list)
        self.children: dict[str, list[Symbol]] = defaultdict(list)
        for symbol in self.symbols:
            self.by_file[symbol.file_path].append(symbol)
            if symbol.parent is not None and symbol.parent != symbol.id:
                self.children[symbol.parent].append(symbol)
        self.clusters = sorted(
            pack.content.clusters.clusters, key=lambda c: (-c.member_count, c.cluster_id)
        )
        self.cluster_by_id = {cluster.cluster_id: cluster for cluster in self.clusters}
        self.members: dict[str, list[Symbol]] = defaultdict(list)
        for symbol in self.symbols:
            if symbol.cluster_id is not None:
                self.members[symbol.cluster_id].append(symbol)
        for members in self.members.values():
            members.sort(key=lambda s: (-s.centrality, s.id))
        self.tree = _tree(self.files)
        self.statistics = _statistics(self.symbols)
        self.anchors = _anchors(self.by_file)

    def freshness_of(self, symbol_id: str) -> SymbolFreshness | None:
        """The symbol's freshness against `source`, or None without one (or no record)."""
        return self.freshness.of(symbol_id) if self.freshness is not None else None

    @cached_property
    def authorship(self) -> Authorship:
        """Who wrote the summaries and what writing them cost, from their provenance."""
        return authorship(self.symbols)

    @property
    def preview(self) -> bool:
        """True when an offline preview model wrote summaries."""
        return self.authorship.preview

    @cached_property
    def search_index(self) -> InvertedSearchIndex:
        """The pack's BM25F search over postings lists (many queries), built on first use."""
        return InvertedSearchIndex(self.symbols)

    @cached_property
    def central(self) -> list[Symbol]:
        """Symbols outside test code, most central first."""
        return sorted((s for s in self.symbols if not s.test), key=lambda s: (-s.centrality, s.id))

    @cached_property
    def languages(self) -> list[tuple[str, int, int]]:
        """(language, files, symbols), most files first."""
        files = Counter(source.language for source in self.files)
        symbols = Counter(symbol.language for symbol in self.symbols)
        return sorted(
            ((language, files[language], symbols[language]) for language in files | symbols),
            key=lambda row: (-row[1], -row[2], row[0]),
        )

    @cached_property
    def cluster_edges(self) -> dict[tuple[str, str], int]:
        """Calls from one cluster into another, counted by (caller's, callee's) cluster."""
        cluster_of = {s.id: s.cluster_id for s in self.symbols if s.cluster_id is not None}
        counts: Counter[tuple[str, str]] = Counter()
        for symbol in self.symbols:
            source = symbol.cluster_id
            if source is None:
                continue
            for callee in symbol.calls:
                target = cluster_of.get(callee)
                if target is not None and target != source:
                    counts[(source, target)] += 1
        return dict(counts)

    @cached_property
    def overviews(self) -> OverviewIndex:
        """The pack's module, cluster and repository overviews (empty for packs without)."""
        return OverviewIndex(self.pack.content)

    @cached_property
    def diagram(self) -> str:
        """The architecture diagram, drawn again from the pack's graph: the same Mermaid text
        the writer stored, made here so no text of the pack reaches the renderer unchecked."""
        cluster_of = {s.id: s.cluster_id for s in self.symbols if s.cluster_id is not None}
        calls = (
            (edge.from_, edge.to, edge.confidence, edge.weight)
            for edge in self.pack.content.graph.edges
            if edge.kind == "calls"
        )
        clusters = [DiagramCluster(c.cluster_id, c.label, c.member_count) for c in self.clusters]
        return architecture_diagram(clusters, cluster_edges(cluster_of, calls))

    def cluster_of(self, symbol: Symbol) -> Cluster | None:
        """The symbol's cluster, when the pack lists it."""
        return self.cluster_by_id.get(symbol.cluster_id) if symbol.cluster_id else None

    def is_test_file(self, path: str) -> bool:
        """True when the pack marks the file's symbols as test code."""
        symbols = self.by_file.get(path, [])
        return bool(symbols) and all(symbol.test for symbol in symbols)

    def ancestors(self, symbol: Symbol) -> list[Symbol]:
        """The enclosing symbols, outermost first (a module, then a class, ...)."""
        chain: list[Symbol] = []
        seen = {symbol.id}
        parent = symbol.parent
        while parent is not None and parent not in seen:
            found = self.index.get(parent)
            if found is None:
                break
            chain.append(found)
            seen.add(parent)
            parent = found.parent
        return chain[::-1]

    def related(self, symbol: Symbol, *, limit: int = 5) -> list[Symbol]:
        """Symbols that share callers or callees with `symbol`, then its cluster's leaders.

        Its own callers, callees and tests are left out: the page lists them already.
        """
        direct = {symbol.id, *symbol.calls, *symbol.called_by, *symbol.tested_by}
        scores: Counter[str] = Counter()
        for caller in symbol.called_by[:HOP_LIMIT]:
            found = self.index.get(caller)
            if found is not None:
                scores.update(o for o in found.calls[:NEIGHBOUR_LIMIT] if o not in direct)
        for callee in symbol.calls[:HOP_LIMIT]:
            found = self.index.get(callee)
            if found is not None:
                scores.update(o for o in found.called_by[:NEIGHBOUR_LIMIT] if o not in direct)
        ranked = [
            found
            for other, _count in sorted(scores.items(), key=lambda item: (-item[1], item[0]))
            if (found := self.index.get(other)) is not None and not found.test
        ][:limit]
        if len(ranked) < limit and symbol.cluster_id is not None:
            chosen = {s.id for s in ranked}
            for member in self.members.get(symbol.cluster_id, []):
                if member.id not in direct and member.id not in chosen and not member.test:
                    ranked.append(member)
                    if len(ranked) == limit:
                        break
        return ranked


def _anchors(by_file: dict[str, list[Symbol]]) -> dict[str, str]:
    """Each symbol's anchor on its file's page: `L<line>`, `L<line>-2` for a second one."""
    anchors: dict[str, str] = {}
    for symbols in by_file.values():
        taken: Counter[str] = Counter()
        for symbol in symbols:
            base = f"L{symbol.line_range[0]}" if symbol.line_range else f"B{symbol.byte_range[0]}"
            taken[base] += 1
            anchors[symbol.id] = base if taken[base] == 1 else f"{base}-{taken[base]}"
    return anchors


def _pack_name(pack: Docpack) -> str:
    source = pack.manifest.source
    where = source.repo_url or source.path or pack.path.stem
    name = where.rstrip("/").rsplit("/", 1)[-1]
    return name.removesuffix(".git") or pack.path.stem


def _statistics(symbols: list[Symbol]) -> Statistics:
    statuses = Counter(symbol.documentation.status for symbol in symbols)
    provenances = [s.documentation.provenance for s in symbols if s.documentation.provenance]
    return Statistics(
        symbols=len(symbols),
        documented=statuses["documented"],
        reused=statuses["reused"],
        failed=statuses["failed"],
        skipped=statuses["skipped"],
        ungrounded=sum(bool(p.ungrounded) for p in provenances),
        tests=sum(symbol.test for symbol in symbols),
    )
