"""From an overview run to the pack's overviews.json entry."""

from __future__ import annotations

from decimal import Decimal

from doctown import docpack as dp
from doctown import pricing
from doctown.backends.base import Completion
from doctown.docpack.overviews import (
    ClusterOverview,
    ClusterRelation,
    EntryPoint,
    ModuleOverview,
    Overview,
    Overviews,
    RepositoryOverview,
)
from doctown.errors import SymbolFailure
from doctown.freshness import fingerprint
from doctown.model_catalog import Price
from doctown.overviews.derived import DERIVED_BACKEND
from doctown.overviews.diagram import architecture_diagram
from doctown.overviews.levels import KEY_SYMBOLS
from doctown.overviews.schemas import (
    CLUSTER_PREFIX,
    MODULE_PREFIX,
    REPOSITORY,
    ClusterOverviewOutput,
    ModuleOverviewOutput,
    RepositoryOverviewOutput,
)
from doctown.overviews.schemas import (
    ClusterRelation as RelationOutput,
)
from doctown.overviews.stage import OverviewResult, OverviewRun
from doctown.overviews.structure import Structure
from doctown.schemas import DocumentationOutput
from doctown.usage import Usage

# Never sent: the job had stopped, or the request's worst case would have passed --max-cost.
_NOT_TRIED = frozenset({"not_attempted", "budget_exhausted"})


class _Writer:
    def __init__(self, run: OverviewRun, *, backend: str, model: str, preview: bool, price: Price):
        self.run = run
        self.backend = backend
        self.model = model
        self.preview = preview
        self.price = price

    def _cost(self, answer: Completion | SymbolFailure) -> tuple[Usage, Decimal]:
        usage = answer.cost_to_make if isinstance(answer, Completion) else answer.usage
        price = pricing.batch_price(self.price) if answer.batch else self.price
        return usage, pricing.cost(usage, price)

    def common(self, result: OverviewResult) -> dict[str, object]:
        """Status, summary and provenance; the cost includes the groups it was built from."""
        answer = result.answer
        usage, cost = self._cost(answer)
        for group in result.groups:
            found = self.run.results.get(group)
            if found is not None:
                more_usage, more_cost = self._cost(found.answer)
                usage, cost = usage + more_usage, cost + more_cost
        if isinstance(answer, SymbolFailure):
            return {
                "status": "skipped" if answer.reason in _NOT_TRIED else "failed",
                "reason": answer.reason,
                "message": str(answer),
                "groups": len(result.groups),
            }
        if result.derived:
            # Not model-written: marked as the pack marks a docstring reused without a call.
            return {
                "summary": answer.summary.strip(),
                "status": "documented",
                "groups": 0,
                "provenance": dp.Provenance(
                    backend=DERIVED_BACKEND, model="", prompt_version=None, preview=self.preview
                ),
            }
        return {
            "summary": answer.summary.strip(),
            "status": "documented",
            "groups": len(result.groups),
            "fingerprint": fingerprint.of_prompt(result.prompt),
            "provenance": dp.Provenance(
                backend=self.backend,
                model=self.model,
                prompt_version=result.prompt.version,
                tokens=usage.input_tokens + usage.output_tokens,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cost=pricing.as_float(cost),
                preview=self.preview,
                reasked=answer.reasked,
                ungrounded=list(answer.ungrounded),
                output_format=answer.output_format.value,
                batch=answer.batch,
            ),
        }


def overviews_entry(
    run: OverviewRun,
    structure: Structure,
    *,
    backend: str,
    model: str,
    preview: bool,
    price: Price,
) -> Overviews:
    """The overviews.json content: every overview written or the reason it is not, and the
    architecture diagram."""
    writer = _Writer(run, backend=backend, model=model, preview=preview, price=price)
    modules, clusters = [], []
    titles: dict[str, str] = {}
    for ref, result in run.results.items():
        output = result.answer.output if isinstance(result.answer, Completion) else None
        if ref.startswith(MODULE_PREFIX):
            facts = structure.modules[ref.removeprefix(MODULE_PREFIX)]
            modules.append(
                ModuleOverview(
                    path=facts.path,
                    public_api=result.context.resolve(output.public_api)
                    if isinstance(output, ModuleOverviewOutput)
                    else [],
                    depends_on=facts.depends_on,
                    used_by=facts.used_by,
                    **writer.common(result),  # type: ignore[arg-type]
                )
            )
        elif ref.startswith(CLUSTER_PREFIX):
            cluster_id = ref.removeprefix(CLUSTER_PREFIX)
            facts_of = structure.clusters[cluster_id]
            written = output if isinstance(output, ClusterOverviewOutput) else None
            described = {r.cluster: r.description for r in written.relations} if written else {}
            if written is not None and written.title.strip():
                titles[cluster_id] = written.title.strip()
            clusters.append(
                ClusterOverview(
                    cluster_id=cluster_id,
                    title=titles.get(cluster_id),
                    key_symbols=facts_of.members[:KEY_SYMBOLS],
                    relations=[
                        ClusterRelation(
                            cluster_id=n.cluster_id,
                            calls_out=n.calls_out,
                            calls_in=n.calls_in,
                            description=described.get(CLUSTER_PREFIX + n.cluster_id),
                        )
                        for n in facts_of.neighbours
                    ],
                    **writer.common(result),  # type: ignore[arg-type]
                )
            )
    repository = None
    found = run.results.get(REPOSITORY)
    if found is not None:
        output = found.answer.output if isinstance(found.answer, Completion) else None
        written_repo = output if isinstance(output, RepositoryOverviewOutput) else None
        repository = RepositoryOverview(
            main_parts=written_repo.main_parts if written_repo else [],
            start_reading=written_repo.start_reading if written_repo else [],
            entry_points=[
                EntryPoint(kind=e.kind, name=e.name, ref=e.ref) for e in structure.entry_points
            ],
            **writer.common(found),  # type: ignore[arg-type]
        )
    return Overviews(
        repository=repository,
        modules=modules,
        clusters=clusters,
        diagram=architecture_diagram(structure.all_clusters, structure.cluster_edges),
    )


def written_output(entry: Overview) -> DocumentationOutput | None:
    """The answer an overview in a pack was written from, as its level's schema holds it
    (what `build --update` serves for an unchanged prompt); None when it has no summary."""
    if entry.summary is None:
        return None
    if isinstance(entry, ModuleOverview):
        return ModuleOverviewOutput.model_construct(
            summary=entry.summary, public_api=list(entry.public_api)
        )
    if isinstance(entry, ClusterOverview):
        return ClusterOverviewOutput.model_construct(
            title=entry.title or "",
            summary=entry.summary,
            relations=[
                RelationOutput(cluster=CLUSTER_PREFIX + r.cluster_id, description=r.description)
                for r in entry.relations
                if r.description is not None
            ],
        )
    if isinstance(entry, RepositoryOverview):
        return RepositoryOverviewOutput.model_construct(
            summary=entry.summary,
            main_parts=list(entry.main_parts),
            start_reading=list(entry.start_reading),
        )
    return None
