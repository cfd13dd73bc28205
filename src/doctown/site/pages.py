"""One model per page kind: what a template shows, computed from a `Catalog`.

Templates only lay out what these dataclasses hold. A new fact on a page (a freshness mark,
a module overview) is a field here and a few lines in one template.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from typing import ClassVar

from doctown.docpack import Cluster, Hit, Related, SourceFile, Symbol
from doctown.docpack.overviews import (
    ClusterOverview,
    ClusterRelation,
    EntryPoint,
    ModuleOverview,
    RepositoryOverview,
)
from doctown.overviews.diagram import node_id
from doctown.site.catalog import Catalog, Folder, Statistics
from doctown.site.diagrams import ClusterMap, Neighbourhood, cluster_map, neighbourhood
from doctown.site.links import Links

TOP_CLUSTERS = 8
TOP_SYMBOLS = 10
CLUSTER_PREVIEW = 5
CLUSTER_MEMBERS_SHOWN = 500
SEARCH_LIMIT = 20


@dataclass(frozen=True, slots=True)
class Reference:
    """Something an overview names, with its page: `url` is None when the pack lacks it."""

    ref: str
    name: str
    kind: str  # symbol, module or cluster
    url: str | None


@dataclass(frozen=True, slots=True)
class RepositoryView:
    """The repository overview, every reference resolved to a link, and the diagram."""

    overview: RepositoryOverview
    main_parts: list[Reference]
    start_reading: list[Reference]
    entry_points: list[tuple[EntryPoint, Reference | None]]


@dataclass(frozen=True, slots=True)
class ModuleView:
    """A module overview on its file's page."""

    overview: ModuleOverview
    public_api: list[Reference]
    depends_on: list[Reference]
    used_by: list[Reference]


@dataclass(frozen=True, slots=True)
class ClusterView:
    """A cluster overview on its cluster's page."""

    overview: ClusterOverview
    key_symbols: list[Reference]
    relations: list[tuple[Reference, ClusterRelation]]


@dataclass(frozen=True, slots=True)
class Diagram:
    """The architecture diagram's Mermaid text and a link for each of its nodes."""

    text: str
    nodes: list[tuple[str, Reference]]


@dataclass(frozen=True, slots=True)
class OverviewPage:
    """The pack at a glance: what the project is (its overview and architecture diagram),
    where it came from, what was documented, its largest clusters."""

    template: ClassVar[str] = "overview.html.jinja2"
    kind: ClassVar[str] = "overview"
    title: str
    statistics: Statistics
    languages: list[tuple[str, int, int]]
    clusters: list[Cluster]
    central: list[Symbol]
    repository: RepositoryView | None = None
    diagram: Diagram | None = None


@dataclass(frozen=True, slots=True)
class FilesPage:
    """The file tree."""

    template: ClassVar[str] = "files.html.jinja2"
    kind: ClassVar[str] = "files"
    title: str
    tree: Folder


@dataclass(frozen=True, slots=True)
class Row:
    """A symbol in a list, indented under the symbol that encloses it."""

    symbol: Symbol
    depth: int
    anchor: str


@dataclass(frozen=True, slots=True)
class FilePage:
    """One file's symbols in source order."""

    template: ClassVar[str] = "file.html.jinja2"
    kind: ClassVar[str] = "file"
    title: str
    path: str
    source: SourceFile | None
    rows: list[Row]
    test: bool
    module: ModuleView | None = None


@dataclass(frozen=True, slots=True)
class SymbolPage:
    """Everything the pack knows about one symbol."""

    template: ClassVar[str] = "symbol.html.jinja2"
    kind: ClassVar[str] = "symbol"
    title: str
    symbol: Symbol
    ancestors: list[Symbol]
    anchor: str
    callers: list[Related]
    callees: list[Related]
    testers: list[Related]
    members: list[Symbol]
    related: list[Symbol]
    cluster: Cluster | None
    graph: Neighbourhood


@dataclass(frozen=True, slots=True)
class ClusterSummary:
    """A cluster and its most central members."""

    cluster: Cluster
    leaders: list[Symbol]


@dataclass(frozen=True, slots=True)
class ClustersPage:
    """Every cluster, and the calls between the largest as a diagram."""

    template: ClassVar[str] = "clusters.html.jinja2"
    kind: ClassVar[str] = "clusters"
    title: str
    clusters: list[ClusterSummary]
    diagram: ClusterMap


@dataclass(frozen=True, slots=True)
class ClusterPage:
    """One cluster's members, ranked by centrality."""

    template: ClassVar[str] = "cluster.html.jinja2"
    kind: ClassVar[str] = "cluster"
    title: str
    cluster: Cluster
    members: list[Symbol]
    total: int
    overview: ClusterView | None = None


@dataclass(frozen=True, slots=True)
class SearchPage:
    """Search results: ranked by the pack's BM25F search when a query was given."""

    template: ClassVar[str] = "search.html.jinja2"
    kind: ClassVar[str] = "search"
    title: str
    query: str
    hits: list[Hit] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class NotFoundPage:
    """What a link to nothing shows."""

    template: ClassVar[str] = "missing.html.jinja2"
    kind: ClassVar[str] = "missing"
    title: str
    message: str


Page = (
    OverviewPage
    | FilesPage
    | FilePage
    | SymbolPage
    | ClustersPage
    | ClusterPage
    | SearchPage
    | NotFoundPage
)


def reference(catalog: Catalog, links: Links, ref: str) -> Reference:
    """What `ref` (a symbol id, `module:PATH` or `cluster:ID`) names, and its page."""
    name = catalog.overviews.name(ref)
    if ref.startswith("module:"):
        path = ref.removeprefix("module:")
        known = path in catalog.file_by_path or path in catalog.by_file
        return Reference(ref, name, "module", links.file(path) if known else None)
    if ref.startswith("cluster:"):
        cluster_id = ref.removeprefix("cluster:")
        known = cluster_id in catalog.cluster_by_id
        return Reference(ref, name, "cluster", links.cluster(cluster_id) if known else None)
    found = catalog.index.get(ref) is not None
    return Reference(ref, name, "symbol", links.symbol(ref) if found else None)


def _references(catalog: Catalog, links: Links, refs: list[str]) -> list[Reference]:
    return [reference(catalog, links, ref) for ref in refs]


def _modules(catalog: Catalog, links: Links, paths: list[str]) -> list[Reference]:
    return [reference(catalog, links, f"module:{path}") for path in paths]


def overview_page(catalog: Catalog, links: Links) -> OverviewPage:
    central = list(islice((s for s in catalog.central if s.documentation.summary), TOP_SYMBOLS))
    found = catalog.overviews.repository
    repository = None
    if found is not None:
        repository = RepositoryView(
            overview=found,
            main_parts=_references(catalog, links, found.main_parts),
            start_reading=_references(catalog, links, found.start_reading),
            entry_points=[
                (entry, reference(catalog, links, entry.ref) if entry.ref else None)
                for entry in found.entry_points
            ],
        )
    return OverviewPage(
        title=catalog.name,
        statistics=catalog.statistics,
        languages=catalog.languages,
        clusters=catalog.clusters[:TOP_CLUSTERS],
        central=central,
        repository=repository,
        diagram=diagram(catalog, links),
    )


def diagram(catalog: Catalog, links: Links) -> Diagram | None:
    """The architecture diagram of a pack with overviews (drawn from its graph)."""
    if not catalog.overviews.present or not catalog.diagram:
        return None
    text = catalog.diagram
    nodes = [
        (node_id(cluster.cluster_id), reference(catalog, links, f"cluster:{cluster.cluster_id}"))
        for cluster in catalog.clusters
        if f"  {node_id(cluster.cluster_id)}[" in text
    ]
    return Diagram(text=text, nodes=nodes)


def files_page(catalog: Catalog) -> FilesPage:
    return FilesPage(title=f"Files · {catalog.name}", tree=catalog.tree)


def file_page(catalog: Catalog, path: str, links: Links) -> FilePage | None:
    symbols = catalog.by_file.get(path)
    source = catalog.file_by_path.get(path)
    if symbols is None and source is None:
        return None
    depth: dict[str, int] = {}
    rows = []
    for symbol in symbols or []:
        level = depth.get(symbol.parent, -1) + 1 if symbol.parent else 0
        depth[symbol.id] = level
        rows.append(Row(symbol=symbol, depth=level, anchor=catalog.anchors[symbol.id]))
    return FilePage(
        title=f"{path} · {catalog.name}",
        path=path,
        source=source,
        rows=rows,
        test=catalog.is_test_file(path),
        module=_module_view(catalog, links, path),
    )


def _module_view(catalog: Catalog, links: Links, path: str) -> ModuleView | None:
    found = catalog.overviews.modules.get(path)
    if found is None:
        return None
    return ModuleView(
        overview=found,
        public_api=_references(catalog, links, found.public_api),
        depends_on=_modules(catalog, links, found.depends_on),
        used_by=_modules(catalog, links, found.used_by),
    )


def symbol_page(catalog: Catalog, symbol_id: str, links: Links) -> SymbolPage | None:
    symbol = catalog.index.get(symbol_id)
    if symbol is None:
        return None
    index = catalog.index
    callers, callees = index.callers(symbol), index.callees(symbol)
    here = links.symbol(symbol.id)
    graph = neighbourhood(
        symbol,
        [r.symbol for r in callers if r.symbol is not None],
        [r.symbol for r in callees if r.symbol is not None],
        link=lambda other: links.symbol(other.id),
        more=lambda section: f"{here}#{section}",
    )
    members = [child for child in catalog.children.get(symbol.id, []) if child.kind != "module"]
    return SymbolPage(
        title=f"{symbol.qualified_name or symbol.name} · {catalog.name}",
        symbol=symbol,
        ancestors=catalog.ancestors(symbol),
        anchor=catalog.anchors[symbol.id],
        callers=callers,
        callees=callees,
        testers=index.testers(symbol),
        members=members,
        related=catalog.related(symbol),
        cluster=catalog.cluster_of(symbol),
        graph=graph,
    )


def clusters_page(catalog: Catalog, links: Links) -> ClustersPage:
    return ClustersPage(
        title=f"Clusters · {catalog.name}",
        clusters=[
            ClusterSummary(cluster, catalog.members.get(cluster.cluster_id, [])[:CLUSTER_PREVIEW])
            for cluster in catalog.clusters
        ],
        diagram=cluster_map(
            catalog.clusters,
            catalog.cluster_edges,
            link=lambda cluster: links.cluster(cluster.cluster_id),
        ),
    )


def cluster_page(catalog: Catalog, cluster_id: str, links: Links) -> ClusterPage | None:
    cluster = catalog.cluster_by_id.get(cluster_id)
    if cluster is None:
        return None
    members = catalog.members.get(cluster_id, [])
    found = catalog.overviews.clusters.get(cluster_id)
    view = None
    if found is not None:
        view = ClusterView(
            overview=found,
            key_symbols=_references(catalog, links, found.key_symbols),
            relations=[
                (reference(catalog, links, f"cluster:{relation.cluster_id}"), relation)
                for relation in found.relations
            ],
        )
    return ClusterPage(
        title=f"{cluster.label} · {catalog.name}",
        cluster=cluster,
        members=members[:CLUSTER_MEMBERS_SHOWN],
        total=len(members),
        overview=view,
    )


def search_page(catalog: Catalog, query: str) -> SearchPage:
    index = catalog.search_index
    hits = index.search(query, limit=SEARCH_LIMIT, prefix=True) if query.strip() else []
    title = f"{query} · search" if query.strip() else "Search"
    return SearchPage(title=f"{title} · {catalog.name}", query=query, hits=hits)
