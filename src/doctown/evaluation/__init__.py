"""Evaluation: how good are the summaries, measured on real code with human docstrings.

    corpora -> sampling -> options (contexts) -> generation -> metrics -> report

Each sampled symbol's docstring is hidden from the model and the summary is scored against
it: coverage, grounding, agreement (with a name-only floor and a chance baseline), form and
cost, per corpus and overall, for each context option. `doctown eval` runs it.
"""

from doctown.evaluation.corpora import Corpus, CorpusSet, load_corpora
from doctown.evaluation.harness import Evaluation, Run, evaluate
from doctown.evaluation.metrics import SymbolRecord
from doctown.evaluation.options import OPTIONS, ContextOption

__all__ = [
    "OPTIONS",
    "ContextOption",
    "Corpus",
    "CorpusSet",
    "Evaluation",
    "Run",
    "SymbolRecord",
    "evaluate",
    "load_corpora",
]
