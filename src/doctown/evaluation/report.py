"""The evaluation report: scores per corpus and overall, as JSON-ready dictionaries.

Overall scores pool the symbols of every corpus (each symbol counts once, whatever its
corpus), so a large corpus weighs more than a small one.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from doctown.evaluation import metrics
from doctown.evaluation.harness import Evaluation, Run
from doctown.evaluation.metrics import SymbolRecord

OVERALL = "overall"
DIGITS = 4


def scores(
    records: list[SymbolRecord], seconds: float, generated: int, cpu_seconds: float | None = None
) -> dict[str, Any]:
    """Every metric of one set of records."""
    scored: dict[str, Any] = _rounded(
        {
            "coverage": asdict(metrics.coverage(records)),
            "grounding": asdict(metrics.grounding(records)),
            "agreement": asdict(metrics.agreement(records)),
            "form": asdict(metrics.form(records)),
            "cost": asdict(
                metrics.cost(records, seconds, generated=generated, cpu_seconds=cpu_seconds)
            ),
        }
    )
    return scored


def summarise(evaluation: Evaluation, metadata: dict[str, Any]) -> dict[str, Any]:
    """The whole report: metadata, corpora, one entry per corpus and option, then overall."""
    by_option: dict[str, list[Run]] = {}
    for run in evaluation.runs:
        by_option.setdefault(run.option, []).append(run)
    return {
        **metadata,
        "corpora": evaluation.corpora,
        "runs": [
            {
                "corpus": run.corpus,
                "option": run.option,
                "scores": scores(run.records, run.seconds, run.generated, run.cpu_seconds),
                "generated": run.generated,
                "warnings": run.warnings,
            }
            for run in evaluation.runs
        ],
        OVERALL: [
            {
                "option": option,
                "scores": scores(
                    [record for run in runs for record in run.records],
                    sum(run.seconds for run in runs),
                    sum(run.generated for run in runs),
                    sum(run.cpu_seconds for run in runs),
                ),
            }
            for option, runs in by_option.items()
        ],
    }


def write(report: dict[str, Any], evaluation: Evaluation, directory: Path) -> list[Path]:
    """`results.json` (the report) and `symbols.jsonl` (every record) in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    results = directory / "results.json"
    results.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    symbols = directory / "symbols.jsonl"
    with symbols.open("w", encoding="utf-8") as stream:
        for run in evaluation.runs:
            for record in run.records:
                stream.write(json.dumps(_rounded(asdict(record)), ensure_ascii=False) + "\n")
    return [results, symbols]


def _rounded(value: Any) -> Any:
    """Floats to DIGITS places and dollars to the nanodollar, all the way down."""
    if isinstance(value, float):
        return round(value, DIGITS)
    if isinstance(value, Decimal):
        return float(value.quantize(Decimal("1e-9")))
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value
