"""The .docpack: doctown's output, a zip of flat JSON entries in the docpack/1.0 layout.

`write_docpack` writes one, byte-identical for the same content; `read_docpack` reads one as
untrusted input; `SymbolIndex` and `SearchIndex` answer `doctown query` and `doctown search`.
"""

from doctown.docpack.format import (
    SCHEMA_VERSION,
    Checksum,
    Chunk,
    Cluster,
    Clusters,
    Documentation,
    DocumentationStatus,
    Edge,
    Generator,
    Graph,
    GraphMetrics,
    Manifest,
    Nodes,
    OptionalEntries,
    PackContent,
    PackUsage,
    PromptMessage,
    Provenance,
    Source,
    SourceFile,
    SourceMap,
    Statistics,
    Symbol,
    SymbolContextRecord,
    SymbolContexts,
)
from doctown.docpack.query import Lookup, Related, SymbolIndex
from doctown.docpack.reader import DEFAULT_LIMITS, Docpack, Limits, read_docpack
from doctown.docpack.search import Hit, InvertedSearchIndex, SearchIndex, tokenize
from doctown.docpack.writer import write_docpack

__all__ = [
    "DEFAULT_LIMITS",
    "SCHEMA_VERSION",
    "Checksum",
    "Chunk",
    "Cluster",
    "Clusters",
    "Docpack",
    "Documentation",
    "DocumentationStatus",
    "Edge",
    "Generator",
    "Graph",
    "GraphMetrics",
    "Hit",
    "InvertedSearchIndex",
    "Limits",
    "Lookup",
    "Manifest",
    "Nodes",
    "OptionalEntries",
    "PackContent",
    "PackUsage",
    "PromptMessage",
    "Provenance",
    "Related",
    "SearchIndex",
    "Source",
    "SourceFile",
    "SourceMap",
    "Statistics",
    "Symbol",
    "SymbolContextRecord",
    "SymbolContexts",
    "SymbolIndex",
    "read_docpack",
    "tokenize",
    "write_docpack",
]
