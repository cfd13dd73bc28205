"""The analysis result: symbols, edges with confidence, clusters and the files they came from."""

from __future__ import annotations

from dataclasses import dataclass, field

from doctown.schemas import SymbolContext

# Edges at or above this confidence are shown to the model as `calls` / `called_by`;
# every edge, weighted by its confidence, feeds the graph metrics.
CONFIDENT = 0.8

# How sure each resolution tier is that the edge names the symbol the code means.
TIER_CONFIDENCE: dict[str, float] = {
    "scope": 1.0,  # defined in an enclosing scope, the module or its package
    "import": 0.95,  # an imported name or alias, or a member of an imported module
    "self": 0.95,  # self/this/cls/super through the enclosing class and its bases
    "declared": 0.9,  # a receiver whose type is annotated or declared
    "inferred": 0.85,  # a receiver typed by `x = Class(...)` or a function's return type
    "unique_name": 0.3,  # the only symbol in the repository with that name; a guess
}


@dataclass(frozen=True, slots=True)
class Symbol:
    """One declared symbol. `id` is stable across runs: the file path and the name path in it."""

    id: str
    name: str
    qualified_name: str
    kind: str
    language: str
    file_path: str
    start_byte: int
    end_byte: int
    start_line: int
    end_line: int
    signature: str
    docstring: str | None
    visibility: str
    parent_id: str | None


@dataclass(frozen=True, slots=True)
class Edge:
    """A relation between two symbols: `calls`, `imports` or `contains`.

    For calls, `weight` counts the call sites and `tier` says how the target was found.
    """

    source: str
    target: str
    kind: str
    confidence: float = 1.0
    tier: str = ""
    weight: int = 1


@dataclass(frozen=True, slots=True)
class UnresolvedCall:
    """A call kept as written: `external` (outside the repository), `ambiguous` or `unknown`."""

    source: str
    name: str
    reason: str
    line: int


@dataclass(frozen=True, slots=True)
class FileRecord:
    """An analysed file: what the source map of a docpack needs."""

    path: str
    language: str
    size: int
    sha256: str
    lines: int
    module: str
    syntax_errors: int = 0


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file left out, and why: binary, vendored, generated, minified, oversized, ..."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class Cluster:
    """A community of closely connected symbols."""

    id: int
    label: str
    size: int
    representative: str
    members: tuple[str, ...]


@dataclass(slots=True)
class AnalysisResult:
    """Everything the analysis computed about one repository."""

    root: str
    files: list[FileRecord]
    skipped: list[SkippedFile]
    symbols: list[Symbol]
    edges: list[Edge]
    unresolved: list[UnresolvedCall]
    imports: dict[str, list[str]]
    clusters: list[Cluster]
    cluster_of: dict[str, int]
    centrality: dict[str, float]
    contexts: list[SymbolContext]
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # How many files were parsed rather than read from the cache.
    parsed_files: int = 0

    def calls(self, *, confident_only: bool = True) -> list[Edge]:
        """Call edges, by default only those confident enough to show."""
        return [
            edge
            for edge in self.edges
            if edge.kind == "calls" and (edge.confidence >= CONFIDENT or not confident_only)
        ]
