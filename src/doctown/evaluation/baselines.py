"""The two baselines that give an agreement score its meaning.

The floor is what anyone could write from the name alone ("Function `x` in module `y`."); the
chance level is a real docstring of another symbol of the same kind: fluent, on topic for the
codebase, and about the wrong thing. A summary is worth something when it beats both.
"""

from __future__ import annotations

import random

from doctown.analysis import AnalysisResult, Symbol


def floor_text(symbol: Symbol, module: str) -> str:
    """The name-only template: what the symbol is called and where it lives, nothing more."""
    if symbol.kind == "module":
        return f"Module `{module or symbol.name}`."
    name = symbol.qualified_name.removeprefix(f"{module}.") if module else symbol.qualified_name
    return f"{symbol.kind.capitalize()} `{name}` in module `{module}`."


def modules_by_file(result: AnalysisResult) -> dict[str, str]:
    """File path -> the module name the analysis gave it."""
    return {record.path: record.module for record in result.files}


def chance_text(
    index: int, result: AnalysisResult, references: dict[int, str], *, seed: int
) -> str | None:
    """The reference sentence of another symbol of the same kind, drawn with a seeded choice.

    Sentences equal to the symbol's own are never drawn (a copied docstring is not chance).
    When no other symbol of the kind has one, any other symbol's is drawn; None when there is
    no other at all.
    """
    symbols = result.symbols
    own = references[index]
    others = [i for i in references if i != index and references[i] != own]
    same_kind = [i for i in others if symbols[i].kind == symbols[index].kind]
    pool = sorted(same_kind or others)
    if not pool:
        return None
    # Seeded per symbol, so a symbol's baseline does not depend on which others were sampled.
    chooser = random.Random(f"{seed}:{symbols[index].id}")  # noqa: S311 - not for security
    return references[chooser.choice(pool)]
