"""Repository analysis: from a source tree to the symbol contexts the generator verbalizes.

    ingest -> parse (queries/*.scm) -> symbols -> resolve -> graph -> contexts

`analyze_repository` runs every stage and returns an `AnalysisResult` holding the symbols,
every edge with its confidence, the clusters, the file records and the contexts.
"""

from doctown.analysis.records import (
    CONFIDENT,
    AnalysisResult,
    Cluster,
    Edge,
    FileRecord,
    SkippedFile,
    Symbol,
    UnresolvedCall,
)
from doctown.analysis.repository import analyze_repository

__all__ = [
    "CONFIDENT",
    "AnalysisResult",
    "Cluster",
    "Edge",
    "FileRecord",
    "SkippedFile",
    "Symbol",
    "UnresolvedCall",
    "analyze_repository",
]
