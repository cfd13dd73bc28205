"""Scores over a set of symbol records: coverage, grounding, agreement, form and cost.

Every function takes the records of one run (one corpus or all of them, one context option)
and returns plain numbers; a score that cannot be computed (no summary at all, no embedding
model) is None, never a made-up zero.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import fmean, median

WORST_CASES = 5


@dataclass
class SymbolRecord:
    """One sampled symbol in one run: what came back and how it scored.

    `agreement`, `floor_agreement` and `chance_agreement` are the cosine similarities of the
    summary, the name-only template and another symbol's docstring with the reference.
    """

    corpus: str
    option: str
    symbol_id: str
    name: str
    kind: str
    reference: str
    floor: str
    chance: str | None
    summary: str | None = None
    failure: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Decimal = Decimal(0)
    reasked: bool = False
    ungrounded: list[str] = field(default_factory=list)
    form: list[str] = field(default_factory=list)
    seconds: float | None = None  # since the previous symbol of its run finished
    agreement: float | None = None
    floor_agreement: float | None = None
    chance_agreement: float | None = None


@dataclass(frozen=True)
class Coverage:
    symbols: int
    documented: int
    share: float | None
    failures: dict[str, int]


@dataclass(frozen=True)
class Grounding:
    share_ungrounded: float | None  # of summaries naming at least one unknown identifier
    share_reasked: float | None  # of summaries asked again at generation time
    worst: list[dict[str, object]]


@dataclass(frozen=True)
class Agreement:
    """Mean cosines with the reference, and where the summaries sit between floor and it.

    `position` is 0 at the name-only floor and 1 at the reference docstring itself;
    `chance_position` puts another symbol's docstring on the same scale.
    """

    summary: float | None
    floor: float | None
    chance: float | None
    position: float | None
    chance_position: float | None


@dataclass(frozen=True)
class Form:
    share_good: float | None
    issues: dict[str, int]


@dataclass(frozen=True)
class Cost:
    """Spend per documented symbol; failed attempts are part of what the documented cost.

    `seconds` is the run's wall time per summary; `median_seconds` the median time between
    consecutive symbols finishing (each symbol's own time on a backend that answers one
    prompt at a time, like the embedded model); `cpu_seconds` the process' CPU time per
    summary, which a busy shared machine inflates far less than wall time.
    """

    input_tokens: float | None
    output_tokens: float | None
    dollars: Decimal | None
    seconds: float | None
    median_seconds: float | None = None
    cpu_seconds: float | None = None


def coverage(records: list[SymbolRecord]) -> Coverage:
    documented = sum(record.summary is not None for record in records)
    failures = Counter(record.failure for record in records if record.failure is not None)
    return Coverage(
        symbols=len(records),
        documented=documented,
        share=documented / len(records) if records else None,
        failures=dict(sorted(failures.items())),
    )


def grounding(records: list[SymbolRecord]) -> Grounding:
    documented = [record for record in records if record.summary is not None]
    flagged = [record for record in documented if record.ungrounded]
    flagged.sort(key=lambda record: (-len(record.ungrounded), record.corpus, record.symbol_id))
    return Grounding(
        share_ungrounded=len(flagged) / len(documented) if documented else None,
        share_reasked=sum(r.reasked for r in documented) / len(documented) if documented else None,
        worst=[
            {
                "corpus": record.corpus,
                "symbol": record.name,
                "summary": record.summary,
                "ungrounded": record.ungrounded,
            }
            for record in flagged[:WORST_CASES]
        ],
    )


def position(score: float, floor: float) -> float | None:
    """Where `score` sits on the scale from `floor` (0) to the reference itself (1)."""
    return (score - floor) / (1.0 - floor) if floor < 1.0 else None


def agreement(records: list[SymbolRecord]) -> Agreement:
    """Means over the documented symbols, baselines included, so all compare the same set."""
    scored = [r for r in records if r.agreement is not None and r.floor_agreement is not None]
    if not scored:
        return Agreement(None, None, None, None, None)
    summary = fmean(r.agreement for r in scored if r.agreement is not None)
    floor = fmean(r.floor_agreement for r in scored if r.floor_agreement is not None)
    chances = [r.chance_agreement for r in scored if r.chance_agreement is not None]
    chance = fmean(chances) if chances else None
    return Agreement(
        summary=summary,
        floor=floor,
        chance=chance,
        position=position(summary, floor),
        chance_position=position(chance, floor) if chance is not None else None,
    )


def form(records: list[SymbolRecord]) -> Form:
    documented = [record for record in records if record.summary is not None]
    issues = Counter(issue for record in documented for issue in record.form)
    return Form(
        share_good=sum(not r.form for r in documented) / len(documented) if documented else None,
        issues=dict(sorted(issues.items())),
    )


def cost(
    records: list[SymbolRecord],
    seconds: float,
    *,
    generated: int | None = None,
    cpu_seconds: float | None = None,
) -> Cost:
    """Tokens and dollars of the records' own prompts, per documented symbol.

    `seconds` (and `cpu_seconds`) are spread over the `generated` summaries (default: the
    documented records): a run that also wrote summaries only to show them (callees) took
    time for those too.
    """
    documented = sum(record.summary is not None for record in records)
    if not documented:
        return Cost(None, None, None, None)
    timed = [record.seconds for record in records if record.seconds is not None]
    return Cost(
        input_tokens=sum(record.input_tokens for record in records) / documented,
        output_tokens=sum(record.output_tokens for record in records) / documented,
        dollars=sum((record.cost for record in records), Decimal(0)) / documented,
        seconds=seconds / (generated or documented),
        median_seconds=median(timed) if timed else None,
        cpu_seconds=cpu_seconds / (generated or documented) if cpu_seconds is not None else None,
    )
