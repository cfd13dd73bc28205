"""The embedded model end to end: no key, no network, no mocks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from doctown.backends.local import find_model_file
from doctown.config import load_settings
from doctown.errors import ConfigurationError
from tests.cli.test_generate import EXAMPLES, doctown

# CI sets DOCTOWN_REQUIRE_LOCAL_MODEL=1 so that a missing model fails instead of skipping.
if not os.environ.get("DOCTOWN_REQUIRE_LOCAL_MODEL"):
    pytest.importorskip("llama_cpp", reason="the local extra is not installed")

pytestmark = pytest.mark.local_model


def test_backend_defaults_to_local_without_a_key() -> None:
    assert load_settings().backend == "local"
    assert load_settings(openai_api_key="sk-x").backend == "openai"
    assert load_settings(openai_api_key="sk-x", doctown_backend="local").backend == "local"


def test_the_bundled_model_file_is_found() -> None:
    assert find_model_file().name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    with pytest.raises(ConfigurationError, match="DOCTOWN_LOCAL_MODEL_PATH"):
        find_model_file("/nonexistent/model.gguf")


def test_documents_the_example_contexts_offline(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    result = doctown(
        "generate", str(EXAMPLES), "-o", str(out), "--quiet", env={"HF_HUB_OFFLINE": "1"}
    )
    assert result.returncode in (0, 3), result.stderr  # 3: some symbols failed, honestly reported
    body = json.loads(out.read_text())
    assert body["backend"] == "local" and body["preview"] is True
    assert body["total_cost"] == 0 and body["usage"]["cost"] == 0
    assert body["usage"]["input_tokens"] > 0 and body["usage"]["output_tokens"] > 0
    assert "offline preview" in body["warnings"][0]
    ids = [s["symbol_id"] for s in json.loads(EXAMPLES.read_text())["symbols"]]
    seen = [d["symbol_id"] for d in body["documented_symbols"]] + [
        f["symbol_id"] for f in body["failed_symbols"]
    ]
    assert sorted(seen) == sorted(ids)
    assert len(body["documented_symbols"]) >= len(ids) * 0.7
    for documented in body["documented_symbols"]:
        assert (
            documented["summary"].strip()
            and documented["tokens_used"] > 0
            and documented["cost"] == 0
        )
    for failed in body["failed_symbols"]:
        assert failed["reason"] in ("length", "invalid_output") and failed["message"]
