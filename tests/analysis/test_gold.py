"""The call graph against the hand-checked gold sets in eval/gold (downloads each package)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOLD_FILES = sorted((ROOT / "eval" / "gold").glob("*-calls.json"))


def _accuracy_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "callgraph_accuracy", ROOT / "bench" / "callgraph_accuracy.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.network
@pytest.mark.parametrize("gold_file", GOLD_FILES, ids=lambda path: path.stem)
def test_gold_precision_and_recall(
    gold_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    accuracy = _accuracy_module()
    cache = tmp_path_factory.getbasetemp().parent / "doctown-eval"
    try:
        report = accuracy.evaluate(gold_file, cache, with_jedi=False)
    except (subprocess.CalledProcessError, FileNotFoundError):
        pytest.skip("the package could not be downloaded (offline, or no pip/npm)")
    confident = report["doctown_confident"]
    assert confident["precision"] >= 0.98, report["wrong"]
    assert confident["recall"] >= 0.90, report["missed"]
