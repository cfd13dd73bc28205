"""The docpack/1.0 format: one pydantic model per entry of the archive.

A `.docpack` is a zip whose entries are flat JSON files, no folders:

    manifest.json         what the pack is: id, source, statistics, checksum
    nodes.json            every symbol with its documentation
    graph.json            symbol ids, edges and global metrics
    clusters.json         groups of related symbols
    source_map.json       the files, their hashes and their symbols' byte ranges
    symbol_contexts.json  optional: the exact context and prompt each summary came from
    embeddings.bin        optional, opaque bytes: vectors for semantic search
    overviews.json        optional (docpack/1.1): module, cluster and repository overviews

Field names follow Doctown's docpack/1.0. docpack/1.1 adds optional entries and fields only:
a 1.1 reader reads 1.0 packs, and everything doctown adds is optional, so a pack without the
additions still reads.

A pack is a function of the source, the summaries, the model and the prompt version: what one
run spent (tokens, cost, cache hits) belongs to that run's report, never to the pack, so a
warm rebuild writes the same bytes as the cold build that paid for it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Final, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    model_validator,
)

from doctown.schemas import SymbolContext

if TYPE_CHECKING:
    from doctown.docpack.overviews import Overviews

SCHEMA_VERSION: Final = "docpack/1.1"
LEGACY_SCHEMA_VERSION: Final = "docpack/1.0"
SUPPORTED_VERSIONS = (LEGACY_SCHEMA_VERSION, SCHEMA_VERSION)
SchemaVersion = Literal["docpack/1.0", "docpack/1.1"]
CHECKSUM_ALGORITHM: Final = "sha256"

MANIFEST = "manifest.json"
NODES = "nodes.json"
GRAPH = "graph.json"
CLUSTERS = "clusters.json"
SOURCE_MAP = "source_map.json"
SYMBOL_CONTEXTS = "symbol_contexts.json"
EMBEDDINGS = "embeddings.bin"
OVERVIEWS = "overviews.json"

REQUIRED_ENTRIES = (MANIFEST, NODES, GRAPH, CLUSTERS, SOURCE_MAP)
OPTIONAL_ENTRIES = (SYMBOL_CONTEXTS, EMBEDDINGS, OVERVIEWS)
# Entries a docpack/1.1 may hold and a docpack/1.0 may not.
ADDED_IN_1_1 = (OVERVIEWS,)
# The order entries are written in. The content entries (all but the manifest) are hashed in
# this order too; the manifest cannot be hashed since it holds the hash.
ENTRY_ORDER = (
    MANIFEST,
    NODES,
    GRAPH,
    CLUSTERS,
    SOURCE_MAP,
    SYMBOL_CONTEXTS,
    EMBEDDINGS,
    OVERVIEWS,
)
CONTENT_ENTRIES = ENTRY_ORDER[1:]

_SHA256_HEX = r"^[0-9a-f]{64}$"


class _Entry(BaseModel):
    # Unknown fields are dropped rather than refused: a newer 1.x writer may add optional ones.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def _ordered(value: tuple[int, int]) -> tuple[int, int]:
    if value[0] > value[1]:
        raise ValueError(f"range starts after it ends: {list(value)}")
    return value


ByteRange = Annotated[tuple[NonNegativeInt, NonNegativeInt], AfterValidator(_ordered)]
"""[start, end) byte offsets into the file."""

LineRange = Annotated[tuple[PositiveInt, PositiveInt], AfterValidator(_ordered)]
"""[first, last] line numbers, counted from 1."""


# --- manifest.json -------------------------------------------------------------------------


class Generator(_Entry):
    """The program that wrote the pack."""

    name: str = "doctown"
    version: str


class Source(_Entry):
    """Where the documented code came from: a repository URL or a local path (or both)."""

    repo_url: str | None = None
    path: str | None = None
    git_ref: str | None = None
    commit_hash: str | None = None

    @model_validator(mode="after")
    def _names_a_source(self) -> Self:
        if self.repo_url is None and self.path is None:
            raise ValueError("a source needs a repo_url or a path")
        return self


class Statistics(_Entry):
    """Counts over the content; the reader checks them against it."""

    file_count: NonNegativeInt
    symbol_count: NonNegativeInt
    documented_count: NonNegativeInt = Field(
        description="Symbols with a summary (status documented or reused)"
    )
    failed_count: NonNegativeInt
    cluster_count: NonNegativeInt
    ungrounded_count: NonNegativeInt = Field(
        default=0, description="Summaries kept but marked: they name identifiers that exist nowhere"
    )


class Checksum(_Entry):
    """The digest of the content entries, see `content_digest`."""

    algorithm: Literal["sha256"] = CHECKSUM_ALGORITHM
    value: str = Field(pattern=_SHA256_HEX)


class OptionalEntries(_Entry):
    """Which optional entries the pack holds."""

    has_symbol_contexts: bool = False
    has_embeddings: bool = False
    has_overviews: bool = False  # docpack/1.1


class PackUsage(_Entry):
    """What the run that wrote the pack spent, in tokens and US dollars.

    Only packs written by doctown 0.1.0 carry it: it made a warm rebuild differ from the cold
    build, so it is read when present and never written.
    """

    backend: str = ""
    model: str = ""
    input_tokens: NonNegativeInt = 0
    cached_tokens: NonNegativeInt = 0
    output_tokens: NonNegativeInt = 0
    reasoning_tokens: NonNegativeInt = 0
    requests: NonNegativeInt = 0
    cost: float = Field(default=0.0, ge=0.0)

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens, as billed."""
        return self.input_tokens + self.output_tokens


class Manifest(_Entry):
    """manifest.json: the root of truth about a pack."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    docpack_id: str = Field(
        pattern=r"^sha256:[0-9a-f]{64}$",
        description="'sha256:' + the checksum: packs with the same content share an id",
    )
    created_at: AwareDatetime
    generator: Generator
    source: Source
    statistics: Statistics
    checksum: Checksum
    optional: OptionalEntries = Field(default_factory=OptionalEntries)
    usage: PackUsage | None = Field(
        default=None, description="Older packs only: what the run that wrote them spent"
    )


# --- nodes.json ----------------------------------------------------------------------------

DocumentationStatus = Literal["documented", "reused", "failed", "skipped"]
"""documented: written by a model; reused: taken from an existing docstring without a call;
failed: could not be documented (see `reason`); skipped: not selected, or left over when a
cost cap stopped the run."""


class Provenance(_Entry):
    """Where a summary came from and what producing it cost when it was made.

    The same for a summary paid for in this run and one served from the cache, so a pack
    does not depend on the run that wrote it. (Older packs also carried `cached`; it is
    ignored on reading.)
    """

    backend: str = ""
    model: str = ""
    prompt_version: str | None = None
    tokens: NonNegativeInt = 0
    input_tokens: NonNegativeInt = 0
    output_tokens: NonNegativeInt = 0
    cost: float = Field(default=0.0, ge=0.0)
    preview: bool = Field(
        default=False, description="Written by an offline preview model: often vague or wrong"
    )
    reasked: bool = Field(default=False, description="Asked again: it first named unknown things")
    ungrounded: list[str] = Field(
        default_factory=list, description="Identifiers the summary names that exist nowhere"
    )
    output_format: str | None = Field(
        default=None,
        description="How the answer was read: json_schema, json_object, json_instructions, or "
        "text (no JSON in the answer; its text was taken as the summary)",
    )
    batch: bool = Field(default=False, description="Answered through the Batch API")


class Fingerprint(_Entry):
    """What a summary was made from, so a later analysis can tell whether it still holds.

    `digest` is `sha256:` + the sha256 of the prompt version and the exact messages sent (the
    prompt's cache key); `parts` holds, for each part of the context the prompt showed
    (signature, body, docstring, callers, callees, ...), the first 16 hex digits of the sha256
    of its text as written in the prompt. A summary reused from a docstring has no
    `prompt_version`; its digest covers the sentence taken.
    """

    prompt_version: str | None = None
    digest: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    parts: dict[str, str] = Field(default_factory=dict)


class Documentation(_Entry):
    """A symbol's documentation, or the reason it has none."""

    summary: str | None = None
    details: str | None = None
    status: DocumentationStatus = "documented"
    reason: str | None = Field(
        default=None, description="A stable code when failed or skipped: refusal, length, ..."
    )
    message: str | None = None
    provenance: Provenance | None = None
    fingerprint: Fingerprint | None = Field(
        default=None, description="Addition: what the summary was made from (older packs: none)"
    )

    @model_validator(mode="after")
    def _status_agrees(self) -> Self:
        if self.status in ("documented", "reused") and not self.summary:
            raise ValueError(f"status {self.status!r} needs a summary")
        if self.status in ("failed", "skipped") and self.summary is not None:
            raise ValueError(f"status {self.status!r} carries no summary: text is never invented")
        if self.status == "failed" and not self.reason:
            raise ValueError("status 'failed' needs a reason")
        return self

    @property
    def grounded_summary(self) -> str | None:
        """The model-written summary a caller's prompt or an overview may build on: none when
        it was not documented or names something that does not exist (`ungrounded`)."""
        made = self.provenance
        if self.status != "documented" or (made is not None and made.ungrounded):
            return None
        return self.summary


class Symbol(_Entry):
    """One symbol of the source and its documentation."""

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    kind: str
    language: str
    file_path: str
    byte_range: ByteRange
    signature: str = ""
    calls: list[str] = Field(default_factory=list, description="Symbol ids")
    called_by: list[str] = Field(default_factory=list, description="Symbol ids")
    imports: list[str] = Field(default_factory=list)
    cluster_id: str | None = None
    centrality: float = Field(default=0.0, ge=0.0, le=1.0)
    documentation: Documentation
    # Additions.
    qualified_name: str | None = None
    line_range: LineRange | None = None
    parent: str | None = Field(default=None, description="Id of the enclosing symbol")
    visibility: str | None = None
    docstring: str | None = None
    test: bool = Field(default=False, description="Test code: a test file or a test folder")
    tested_by: list[str] = Field(
        default_factory=list, description="Ids of the test code that calls it; not in called_by"
    )


class Recipe(_Entry):
    """How a build chose its symbols and wrote their prompts.

    Everything `doctown status` needs to write the same prompts again from a new analysis, and
    so to tell which summaries still match their code.
    """

    backend: str
    model: str
    prompt_version: str
    max_prompt_tokens: PositiveInt
    max_completion_tokens: NonNegativeInt = 0
    include_private: bool = False
    include_tests: bool = False
    docstrings: Literal["context", "reuse", "ignore"] = "context"
    source_excerpt: bool = True
    limit: NonNegativeInt | None = None
    callee_summaries: bool = False


class Nodes(_Entry):
    """nodes.json: the symbol table, and the recipe its summaries were made with."""

    symbols: list[Symbol]
    recipe: Recipe | None = Field(default=None, description="Addition: absent in older packs")


# --- graph.json ----------------------------------------------------------------------------


class Edge(_Entry):
    """A directed edge between two symbol ids."""

    # `from` is a Python keyword: the attribute is `from_`, the JSON key stays "from".
    from_: str = Field(validation_alias="from", serialization_alias="from")
    to: str
    kind: str = Field(description="calls, imports, contains, inherits, ...")
    # Additions: how sure the analysis is of the edge, and how many sites it stands for.
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    weight: PositiveInt | None = None


class GraphMetrics(_Entry):
    """Global metrics of the graph."""

    density: float = Field(ge=0.0)
    avg_degree: float = Field(ge=0.0)

    @classmethod
    def of(cls, node_count: int, edge_count: int) -> GraphMetrics:
        """Density of a directed graph (edges over possible edges) and mean in+out degree."""
        possible = node_count * (node_count - 1)
        return cls(
            density=edge_count / possible if possible else 0.0,
            avg_degree=2 * edge_count / node_count if node_count else 0.0,
        )


class Graph(_Entry):
    """graph.json: node ids and edges; symbol details live in nodes.json."""

    nodes: list[str]
    edges: list[Edge]
    metrics: GraphMetrics


# --- clusters.json -------------------------------------------------------------------------


class Cluster(_Entry):
    """A group of related symbols, for navigation."""

    cluster_id: str
    label: str
    member_count: NonNegativeInt
    representative_symbol: str | None = None


class Clusters(_Entry):
    """clusters.json."""

    clusters: list[Cluster]


# --- source_map.json -----------------------------------------------------------------------


class Chunk(_Entry):
    """A byte range of a file and the symbols defined in it."""

    chunk_id: str
    byte_range: ByteRange
    symbol_ids: list[str]


class SourceFile(_Entry):
    """One source file."""

    file_path: str
    language: str
    size: NonNegativeInt = Field(description="Bytes")
    content_hash: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    chunks: list[Chunk] = Field(default_factory=list)


class SourceMap(_Entry):
    """source_map.json: from the pack back to the files and byte ranges it describes."""

    files: list[SourceFile]


# --- symbol_contexts.json ------------------------------------------------------------------


class PromptMessage(_Entry):
    """One chat message exactly as it was sent."""

    role: str
    content: str


class SymbolContextRecord(SymbolContext):
    """The context a summary was generated from, and the prompt built from it."""

    prompt_version: str | None = None
    prompt_key: str | None = Field(default=None, description="The cache key of the prompt")
    messages: list[PromptMessage] = Field(default_factory=list)


class SymbolContexts(_Entry):
    """symbol_contexts.json: contexts by symbol id."""

    contexts: dict[str, SymbolContextRecord]


# --- the whole pack ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PackContent:
    """Everything in a pack but its manifest, which the writer derives from it."""

    nodes: Nodes
    graph: Graph
    clusters: Clusters
    source_map: SourceMap
    symbol_contexts: SymbolContexts | None = None
    embeddings: bytes | None = None
    overviews: Overviews | None = None


def content_digest(entries: Mapping[str, bytes]) -> str:
    """The sha256 (hex) of the content entries present in `entries`.

    Each entry is framed by its name and length, in `CONTENT_ENTRIES` order, so bytes cannot
    move from one entry to another, nor an entry be renamed, without changing the digest.
    """
    digest = hashlib.sha256()
    for name in CONTENT_ENTRIES:
        data = entries.get(name)
        if data is not None:
            digest.update(f"{name}\n{len(data)}\n".encode())
            digest.update(data)
    return digest.hexdigest()


def statistics_of(content: PackContent) -> Statistics:
    """The statistics a manifest must carry for `content`."""
    statuses = [symbol.documentation.status for symbol in content.nodes.symbols]
    return Statistics(
        file_count=len(content.source_map.files),
        symbol_count=len(statuses),
        documented_count=sum(status in ("documented", "reused") for status in statuses),
        failed_count=statuses.count("failed"),
        cluster_count=len(content.clusters.clusters),
        ungrounded_count=sum(
            bool(s.documentation.provenance and s.documentation.provenance.ungrounded)
            for s in content.nodes.symbols
        ),
    )
