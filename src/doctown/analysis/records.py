"""The analysis result: symbols, edges with confidence, clusters and the files they came from.

The records are named tuples: a large repository has hundreds of thousands of them, and
tuples are the cheapest Python objects to make, store and read back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

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


class Symbol(NamedTuple):
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


class Edge(NamedTuple):
    """A relation between two symbols: `calls`, `imports` or `contains`.

    For calls, `weight` counts the call sites and `tier` says how the target was found.
    """

    source: str
    target: str
    kind: str
    confidence: float = 1.0
    tier: str = ""
    weight: int = 1


class UnresolvedCall(NamedTuple):
    """A call kept as written: `external` (outside the repository), `ambiguous` or `unknown`."""

    source: str
    name: str
    reason: str
    line: int


class FileRecord(NamedTuple):
    """An analysed file: what the source map of a docpack needs."""

    path: str
    language: str
    size: int
    sha256: str
    lines: int
    module: str
    syntax_errors: int = 0


class SkippedFile(NamedTuple):
    """A file left out, and why: binary, vendored, generated, minified, oversized, ..."""

    path: str
    reason: str


class Cluster(NamedTuple):
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
    # The contexts as plain `SymbolContext` fields, in symbol order: what a contexts file holds.
    context_fields: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # How many files were parsed rather than read from the cache.
    parsed_files: int = 0
    # How many files' calls were resolved rather than kept from the last analysis.
    resolved_files: int = 0

    @property
    def contexts(self) -> list[SymbolContext]:
        """One `SymbolContext` per symbol, in symbol order."""
        # The fields were built and bounded by the analysis: validating them again would
        # only repeat that work, on every symbol of a large repository.
        return [SymbolContext.model_construct(**fields) for fields in self.context_fields]

    def calls(self, *, confident_only: bool = True) -> list[Edge]:
        """Call edges, by default only those confident enough to show."""
        return [
            edge
            for edge in self.edges
            if edge.kind == "calls" and (edge.confidence >= CONFIDENT or not confident_only)
        ]
