"""Status from a source: analyse it, choose and prompt as the pack's build did, compare.

Nothing is asked and nothing is spent: the prompts a build would send are written, their
fingerprints compared with the pack's, and the ones that differ priced at the model's rates.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from doctown import collector, pricing
from doctown.analysis import AnalysisResult, analyze_repository
from doctown.config import DEFAULT_MODEL, Settings, load_settings
from doctown.docpack import Docpack, Fingerprint, Recipe
from doctown.errors import ConfigurationError
from doctown.events import EventEmitter
from doctown.freshness import fingerprint
from doctown.freshness.status import (
    TO_ASK,
    RefreshCost,
    StatusReport,
    SymbolFreshness,
    compare,
    judge,
)
from doctown.model_catalog import Price
from doctown.pipeline.selection import inputs_of, select_as
from doctown.pipeline.sources import open_source
from doctown.pipeline.waves import dependency_order
from doctown.prompts import CALLEES, PROMPT_VERSION, TEMPLATES, Prompt, PromptBuilder
from doctown.schemas import SymbolInput
from doctown.tokens import TokenCounter

_FREE_BACKENDS = frozenset({"local", "facts"})


@dataclass
class Expected:
    """What a build with the pack's recipe would do now: each symbol's prompt and fingerprint.

    `forced` names parts that will change although the prompt cannot be written yet: with
    callee summaries on, a caller whose callee is documented again will be told something new.
    """

    fingerprints: dict[str, Fingerprint] = field(default_factory=dict)
    prompts: dict[str, Prompt] = field(default_factory=dict)
    forced: dict[str, list[str]] = field(default_factory=dict)


def recipe_of(pack: Docpack) -> Recipe:
    """The pack's recipe; for an older pack, a default build's with the pack's own model
    (only to find new symbols and price them: its summaries' freshness stays unknown)."""
    if pack.content.nodes.recipe is not None:
        return pack.content.nodes.recipe
    makers = Counter(
        (p.backend, p.model, p.prompt_version or PROMPT_VERSION)
        for p in (symbol.documentation.provenance for symbol in pack.symbols)
        if p is not None and p.backend != "docstring"
    )
    backend, model, version = (
        makers.most_common(1)[0][0] if makers else ("openai", DEFAULT_MODEL, PROMPT_VERSION)
    )
    preview = backend == "local"
    return Recipe(
        backend=backend,
        model=model,
        prompt_version=version,
        max_prompt_tokens=Settings.model_fields["max_prompt_tokens"].default,
        docstrings="reuse" if preview else "context",
        source_excerpt=not preview,
    )


def builder_for(recipe: Recipe) -> PromptBuilder:
    """A prompt builder writing what the recipe's build wrote. A template that no longer
    exists is replaced by the current one, so every summary it wrote comes out stale."""
    version = recipe.prompt_version if recipe.prompt_version in TEMPLATES else PROMPT_VERSION
    return PromptBuilder.for_version(
        version, TokenCounter(recipe.model), max_prompt_tokens=recipe.max_prompt_tokens
    )


def expected(
    pack: Docpack, analysis: AnalysisResult, recipe: Recipe, builder: PromptBuilder
) -> Expected:
    """The fingerprint of every symbol a build following `recipe` (and writing its prompts
    with `builder`) would document now."""
    selection = select_as(analysis, recipe)
    result = Expected()
    for index, sentence in selection.reused.items():
        result.fingerprints[analysis.symbols[index].id] = fingerprint.of_docstring(sentence)
    inputs = inputs_of(selection)
    if recipe.callee_summaries:
        _in_waves(pack, analysis, inputs, builder, result)
    else:
        result.prompts = {item.symbol_id: _prompt(builder, item) for item in inputs}
    for symbol_id, prompt in result.prompts.items():
        result.fingerprints[symbol_id] = fingerprint.of_prompt(prompt)
    return result


def _prompt(builder: PromptBuilder, item: SymbolInput) -> Prompt:
    # Counting tokens is most of the work, and a prompt that certainly fits needs no count:
    # its messages are what a build sends. Tokens are counted for the few asked again.
    return builder.uncounted(item.context) or builder.build(item.context)


def _in_waves(
    pack: Docpack,
    analysis: AnalysisResult,
    inputs: list[SymbolInput],
    builder: PromptBuilder,
    result: Expected,
) -> None:
    """Prompts as the engine writes them in waves: each caller told its callees' summaries,
    which are the pack's where the callee stays fresh (so unchanged)."""
    order = dependency_order(analysis, [item.symbol_id for item in inputs])
    by_id = {item.symbol_id: item for item in inputs}
    previous = {symbol.id: symbol for symbol in pack.symbols}
    known: dict[str, str] = {}  # summaries the engine would tell callers: the ones it keeps
    again: set[str] = set()  # symbols that would be documented again
    for wave in order.waves:
        kept: dict[str, str] = {}
        for symbol_id in wave:
            prompt = _prompt(builder, order.enrich(by_id[symbol_id], known))
            result.prompts[symbol_id] = prompt
            callees = [callee for _name, callee in order.callees.get(symbol_id, [])]
            if any(callee in again for callee in callees):
                result.forced[symbol_id] = [CALLEES]
                again.add(symbol_id)
                continue
            old = previous.get(symbol_id)
            judged = judge(old, fingerprint.of_prompt(prompt))
            doc = old.documentation if old is not None else None
            if judged is None or judged[0] != "fresh" or doc is None or doc.summary is None:
                again.add(symbol_id)
            elif doc.grounded_summary is not None:
                kept[symbol_id] = doc.grounded_summary
        known.update(kept)  # a wave's members are not told about each other


def price_of(recipe: Recipe) -> Price | None:
    """The recipe's model's price (with the configured overrides when it is the configured
    model); None when no price is known."""
    if recipe.backend in _FREE_BACKENDS:
        return pricing.FREE
    try:
        settings = load_settings()
        configured = settings.model_name == recipe.model
        return pricing.resolve_price(
            recipe.model,
            input_override=settings.input_token_price if configured else None,
            output_override=settings.output_token_price if configured else None,
            cached_input_override=settings.cached_input_token_price if configured else None,
        )
    except ConfigurationError:
        return None


def refresh_cost(
    records: Iterable[SymbolFreshness],
    prompts: dict[str, Prompt],
    recipe: Recipe,
    counter: TokenCounter,
) -> RefreshCost:
    """What asking again for every stale, new, undocumented or unknown symbol would cost."""
    asked = [r.symbol_id for r in records if r.state in TO_ASK and r.symbol_id in prompts]
    unique = {prompts[symbol_id].key: prompts[symbol_id] for symbol_id in asked}
    tokens = sum(counter.count_messages(prompt.messages) for prompt in unique.values())
    price = price_of(recipe)
    low, high = (
        pricing.cost_range(
            tokens, len(unique), completion_cap=recipe.max_completion_tokens, price=price
        )
        if price is not None
        else (None, None)
    )
    return RefreshCost(
        backend=recipe.backend,
        model=recipe.model,
        symbols=len(asked),
        prompts=len(unique),
        prompt_tokens=tokens,
        cost_min=low,
        cost_max=high,
    )


def check(
    pack: Docpack, analysis: AnalysisResult, *, files: Iterable[str] | None = None
) -> StatusReport:
    """`pack` against `analysis`: every symbol's freshness and the cost of a refresh.

    `files` (paths relative to the source root) limits the report to those files.
    """
    recipe = recipe_of(pack)
    builder = builder_for(recipe)
    with collector.paused():  # a prompt and a fingerprint for each of thousands of symbols
        now = expected(pack, analysis, recipe, builder)
        records = compare(
            pack.symbols, analysis.symbols, now.fingerprints, forced=now.forced, files=files
        )
    return StatusReport(
        symbols=tuple(records),
        refresh=refresh_cost(records, now.prompts, recipe, builder.counter),
        recipe=pack.content.nodes.recipe,
    )


def check_source(
    pack: Docpack,
    source: str,
    *,
    ref: str | None = None,
    files: Iterable[str] | None = None,
    emitter: EventEmitter | None = None,
) -> StatusReport:
    """Open `source` (a folder, an archive, a git URL; `ref` for a branch, tag or commit),
    analyse it and check `pack` against it."""
    with tempfile.TemporaryDirectory(prefix="doctown-status-") as workdir:
        tree = open_source(source, ref=ref, workdir=Path(workdir))
        analysis = analyze_repository(tree.root, emitter=emitter)
    return check(pack, analysis, files=files)


def freshness_lookup(pack: Docpack, source: str) -> Callable[[str], SymbolFreshness | None]:
    """symbol id -> its freshness against `source` (None when neither side documents it).

    One analysis of `source` answers every lookup.
    """
    return check_source(pack, source).of
