"""`doctown eval` for real: the embedded model on standard-library files, bounded for CI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.cli.test_generate import doctown
from tests.evaluation.test_embedding import have_extra

if not os.environ.get("DOCTOWN_REQUIRE_LOCAL_MODEL"):
    pytest.importorskip("llama_cpp", reason="the local extra is not installed")

pytestmark = pytest.mark.local_model

CORPORA = Path(__file__).parents[2] / "eval" / "corpora.toml"


def test_scores_five_standard_library_symbols_with_the_embedded_model(tmp_path: Path) -> None:
    out = tmp_path / "results"
    args = ["--corpora", str(CORPORA), "--corpus", "stdlib", "--limit", "5", "--options", "bare"]
    agreement = have_extra()
    result = doctown(
        "eval",
        *args,
        "--backend",
        "local",
        "--output",
        str(out),
        "--json",
        *([] if agreement else ["--no-agreement"]),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "offline preview" in result.stderr
    report = json.loads(result.stdout)
    assert report["backend"] == "local" and report["preview"] is True
    assert report["corpora"][0]["sampled"] == 5
    (overall,) = report["overall"]
    scores = overall["scores"]
    coverage = scores["coverage"]
    assert coverage["symbols"] == 5
    assert coverage["documented"] + sum(coverage["failures"].values()) == 5
    if coverage["documented"]:
        assert scores["cost"]["dollars"] == 0 and scores["cost"]["input_tokens"] > 100
        assert scores["cost"]["median_seconds"] > 0 and scores["cost"]["cpu_seconds"] > 0
        assert 0 <= scores["form"]["share_good"] <= 1
        if agreement:
            assert -1 < scores["agreement"]["summary"] <= 1
            assert scores["agreement"]["position"] is not None
    assert len((out / "symbols.jsonl").read_text().splitlines()) == 5
