"""The embedded model end to end: no key, no network, no mocks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from doctown.backends.local import LocalBackend, find_model_file
from doctown.config import load_settings
from doctown.contexts_file import read_request
from doctown.docpack import read_docpack
from doctown.errors import ConfigurationError
from doctown.prompts import Prompt, PromptBuilder
from doctown.tokens import TokenCounter
from tests.cli.test_generate import EXAMPLES, doctown
from tests.pipeline.conftest import FILES

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
    # The README's first command: every example documented, none past the completion cap.
    assert result.returncode == 0, result.stderr
    body = json.loads(out.read_text())
    assert body["failed_symbols"] == [] and body["status"] == "success"
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


def _prompts(backend: LocalBackend, count: int) -> list[Prompt]:
    builder = PromptBuilder(TokenCounter(backend.model), max_prompt_tokens=2000, few_shot=True)
    symbols = read_request(EXAMPLES, default_job_id="x").symbols[:count]
    return [builder.build(item.context) for item in symbols]


async def test_the_shared_head_of_the_prompt_is_evaluated_once() -> None:
    backend = LocalBackend(threads=1)
    first, second = _prompts(backend, 2)
    llama = backend._load()
    evaluated: list[int] = []
    evaluate = llama.eval

    def counting(tokens: list[int]) -> None:  # watches the real model; changes nothing
        evaluated.append(len(tokens))
        evaluate(tokens)

    llama.eval = counting
    try:
        cold = await backend.complete(first)
        assert evaluated[0] == cold.usage.input_tokens  # nothing cached yet: all of it is read
        evaluated.clear()
        warm = await backend.complete(second)
    finally:
        await backend.aclose()
    # Only the second symbol's own message is read; the system prompt and worked examples
    # (most of the prompt) were still in the KV cache.
    assert evaluated[0] < warm.usage.input_tokens / 2


def test_generation_ends_when_the_json_object_closes() -> None:
    backend = LocalBackend(threads=1)
    for prompt in _prompts(backend, 3):
        result = backend._generate(prompt.messages)
        choice = result["choices"][0]
        content = choice["message"]["content"]
        assert choice["finish_reason"] == "stop"
        assert content.startswith('{"summary": "') and content.endswith('"}')
        assert json.loads(content)["summary"].strip()


def test_another_gguf_is_named_in_the_report_and_every_provenance(tmp_path: Path) -> None:
    renamed = tmp_path / "my-own-model.gguf"
    renamed.symlink_to(find_model_file())
    folder = tmp_path / "shop"
    for name, text in FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    out = tmp_path / "shop.docpack"
    env = {"HF_HUB_OFFLINE": "1", "DOCTOWN_LOCAL_MODEL_PATH": str(renamed)}
    args = ["--cache", str(tmp_path / "cache.sqlite3"), "--quiet"]
    result = doctown("build", str(folder), "-o", str(out), "--limit", "4", *args, env=env)
    assert result.returncode in (0, 3), result.stderr
    expected = "Smollm2 135M 8k Lc100K Mix1 Ep2 (my-own-model)"
    assert f"local ({expected})" in result.stderr  # the build report
    symbols = read_docpack(out).symbols
    documented = [s for s in symbols if s.documentation.status == "documented"]
    assert documented and all(
        s.documentation.provenance
        and s.documentation.provenance.model == expected
        and s.documentation.provenance.preview
        for s in documented
    )
    shown = doctown("query", str(out), documented[0].id)
    assert shown.returncode == 0 and "offline preview" in shown.stdout
    # With the preview model, a human docstring is reused rather than paraphrased.
    reused = {s.name for s in symbols if s.documentation.status == "reused"}
    assert "apply_discount" in reused
