"""From an analysis and its generated summaries to the entries of a .docpack."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from doctown import docpack as dp
from doctown.analysis import CONFIDENT, AnalysisResult
from doctown.analysis.testcode import is_test_path
from doctown.freshness import fingerprint
from doctown.prompts import PROMPT_VERSION, Prompt
from doctown.schemas import DocumentedSymbol, FailedSymbol, SymbolContext

# Failures that mean "never tried" rather than "tried and failed".
_NOT_TRIED = frozenset({"not_attempted"})


@dataclass
class Outcomes:
    """What happened to each symbol id: a summary, a reused docstring, or a failure.

    `carried` holds the documentation a previous pack answered with (`build --update`): it is
    packed as it was, provenance and fingerprint included.
    """

    documented: dict[str, DocumentedSymbol] = field(default_factory=dict)
    reused: dict[str, str] = field(default_factory=dict)
    failed: dict[str, FailedSymbol] = field(default_factory=dict)
    prompts: dict[str, Prompt] = field(default_factory=dict)
    contexts: dict[str, SymbolContext] = field(default_factory=dict)
    carried: dict[str, dp.Documentation] = field(default_factory=dict)


def _documentation(
    symbol_id: str, outcomes: Outcomes, backend: str, model: str, preview: bool, *, test: bool
) -> dp.Documentation:
    prompt = outcomes.prompts.get(symbol_id)
    if symbol_id in outcomes.reused:
        sentence = outcomes.reused[symbol_id]
        return dp.Documentation(
            summary=sentence,
            status="reused",
            provenance=dp.Provenance(backend="docstring", model="", prompt_version=None),
            fingerprint=fingerprint.of_docstring(sentence),
        )
    if symbol_id in outcomes.carried:
        return outcomes.carried[symbol_id]
    documented = outcomes.documented.get(symbol_id)
    if documented is not None:
        # What the summary cost to make, not what this run paid for it (nothing, when cached):
        # the pack must not depend on which run wrote it.
        made = documented.original_usage or documented
        return dp.Documentation(
            summary=documented.summary,
            status="documented",
            provenance=dp.Provenance(
                backend=backend,
                model=model,
                prompt_version=prompt.version if prompt is not None else PROMPT_VERSION,
                tokens=made.input_tokens + made.output_tokens,
                input_tokens=made.input_tokens,
                output_tokens=made.output_tokens,
                cost=made.cost,
                preview=preview,
                reasked=documented.reasked,
                ungrounded=documented.ungrounded,
                output_format=documented.output_format,
                batch=documented.batch,
            ),
            fingerprint=fingerprint.of_prompt(prompt) if prompt is not None else None,
        )
    failed = outcomes.failed.get(symbol_id)
    if failed is not None:
        return dp.Documentation(
            status="skipped" if failed.reason in _NOT_TRIED else "failed",
            reason=failed.reason,
            message=failed.message,
        )
    return dp.Documentation(status="skipped", reason="test_code" if test else "not_selected")


def pack_content(
    result: AnalysisResult,
    outcomes: Outcomes,
    *,
    backend: str,
    model: str,
    preview: bool = False,
    with_contexts: bool = True,
    recipe: dp.Recipe | None = None,
) -> dp.PackContent:
    """Every symbol of the analysis, documented or with the reason it is not, and the recipe
    its prompts were written with."""
    calls: dict[str, list[str]] = defaultdict(list)
    called_by: dict[str, list[str]] = defaultdict(list)
    tested_by: dict[str, list[str]] = defaultdict(list)
    test = {symbol.id: is_test_path(symbol.file_path) for symbol in result.symbols}
    edges: list[dp.Edge] = []
    for edge in result.edges:
        edges.append(
            dp.Edge.model_validate(
                {
                    "from": edge.source,
                    "to": edge.target,
                    "kind": edge.kind,
                    "confidence": edge.confidence,
                    "weight": edge.weight,
                }
            )
        )
        if edge.kind == "calls" and edge.confidence >= CONFIDENT and edge.source != edge.target:
            calls[edge.source].append(edge.target)
            # A test calling code that is not a test is testing it (see analysis/testcode.py).
            if test.get(edge.source) and not test.get(edge.target):
                tested_by[edge.target].append(edge.source)
            else:
                called_by[edge.target].append(edge.source)
    symbols = []
    chunks: dict[str, list[dp.Chunk]] = defaultdict(list)
    for symbol in result.symbols:
        cluster = result.cluster_of.get(symbol.id)
        symbols.append(
            dp.Symbol(
                id=symbol.id,
                name=symbol.name,
                kind=symbol.kind,
                language=symbol.language,
                file_path=symbol.file_path,
                byte_range=(symbol.start_byte, symbol.end_byte),
                signature=symbol.signature,
                calls=sorted(set(calls[symbol.id])),
                called_by=sorted(set(called_by[symbol.id])),
                imports=result.imports.get(symbol.file_path, []) if symbol.kind == "module" else [],
                cluster_id=str(cluster) if cluster is not None else None,
                centrality=result.centrality.get(symbol.id, 0.0),
                documentation=_documentation(
                    symbol.id, outcomes, backend, model, preview, test=test[symbol.id]
                ),
                qualified_name=symbol.qualified_name,
                line_range=(symbol.start_line, max(symbol.end_line, symbol.start_line)),
                parent=symbol.parent_id,
                visibility=symbol.visibility,
                docstring=symbol.docstring,
                test=test[symbol.id],
                tested_by=sorted(set(tested_by[symbol.id])),
            )
        )
        chunks[symbol.file_path].append(
            dp.Chunk(
                chunk_id=symbol.id,
                byte_range=(symbol.start_byte, symbol.end_byte),
                symbol_ids=[symbol.id],
            )
        )
    files = [
        dp.SourceFile(
            file_path=record.path,
            language=record.language,
            size=record.size,
            content_hash=f"sha256:{record.sha256}",
            chunks=chunks.get(record.path, []),
        )
        for record in result.files
    ]
    clusters = [
        dp.Cluster(
            cluster_id=str(cluster.id),
            label=cluster.label,
            member_count=cluster.size,
            representative_symbol=cluster.representative,
        )
        for cluster in result.clusters
    ]
    contexts = None
    if with_contexts and outcomes.contexts:
        contexts = dp.SymbolContexts(
            contexts={
                symbol_id: dp.SymbolContextRecord(
                    **context.model_dump(),
                    prompt_version=outcomes.prompts[symbol_id].version,
                    prompt_key=outcomes.prompts[symbol_id].key,
                    messages=[dp.PromptMessage(**m) for m in outcomes.prompts[symbol_id].messages],
                )
                for symbol_id, context in outcomes.contexts.items()
            }
        )
    node_ids = [symbol.id for symbol in result.symbols]
    return dp.PackContent(
        nodes=dp.Nodes(symbols=symbols, recipe=recipe),
        graph=dp.Graph(
            nodes=node_ids, edges=edges, metrics=dp.GraphMetrics.of(len(node_ids), len(edges))
        ),
        clusters=dp.Clusters(clusters=clusters),
        source_map=dp.SourceMap(files=files),
        symbol_contexts=contexts,
    )
