"""Module overviews written without a call, where a model would only repeat one summary.

A module whose only documented top-level symbol already has a summary gains nothing from a
model asked what the module is for: its answer can only restate that summary and rank a
public API of one. Its overview is put together from what is written (the module's own
summary when it has one, then the symbol's) and what the analysis computed; the pack marks it
as not model-written (`provenance.backend` is `facts`, no prompt version, no cost).
"""

from __future__ import annotations

from doctown.overviews.schemas import ModuleOverviewOutput, OverviewContext

DERIVED_BACKEND = "facts"


def derived_module_overview(context: OverviewContext) -> ModuleOverviewOutput | None:
    """The overview of a module with one documented top-level symbol that has a summary, from
    the summaries alone; None when the module needs a model (several symbols, or none summarised).
    """
    if context.level != "module":
        return None
    own = [item for item in context.items if item.kind == "module"]
    symbols = [item for item in context.items if item.kind != "module"]
    said = symbols[0].summary if len(symbols) == 1 else None
    if not said:
        return None
    symbol = symbols[0]
    name = symbol.alias or symbol.name
    parts = [" ".join(item.summary.split()) for item in own if item.summary is not None]
    parts.append(f"Its one documented {symbol.kind}, `{name}`: {' '.join(said.split())}")
    return ModuleOverviewOutput(summary=" ".join(parts), public_api=[symbol.ref])
