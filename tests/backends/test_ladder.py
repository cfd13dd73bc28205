"""The structured-output ladder against the fake server refusing formats as real servers do."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from doctown.backends.formats import OutputFormat
from doctown.backends.ladder import MEMORY_FILE_NAME, REPROBE_AFTER_SECONDS, FormatMemory
from doctown.backends.openai import OpenAIBackend
from doctown.generation import build_engine
from doctown.pricing import FREE
from doctown.prompts import PromptBuilder
from doctown.testing import (
    FakeOpenAIServer,
    FormatRefusal,
    llama_cpp_python_refusal,
    lm_studio_refusal,
    ollama_refusal,
    text,
    vllm_refusal,
)
from doctown.tokens import TokenCounter
from tests.cli.test_generate import EXAMPLES, doctown, openai_env, read
from tests.conftest import TEST_KEY, SleepRecorder, openai_settings, symbol

_open: list[OpenAIBackend] = []


@pytest.fixture(autouse=True)
async def close_backends() -> AsyncIterator[None]:
    yield
    while _open:
        await _open.pop().aclose()


def backend_for(server: FakeOpenAIServer, memory: FormatMemory) -> OpenAIBackend:
    backend = OpenAIBackend(
        api_key=TEST_KEY, model="gpt-5-nano", price=FREE, base_url=server.base_url,
        format_memory=memory, max_concurrency=50,
    )  # fmt: skip
    _open.append(backend)
    return backend


def prompt(name: str = "calculate_total"):  # type: ignore[no-untyped-def]
    builder = PromptBuilder(TokenCounter("gpt-5-nano"), max_prompt_tokens=2000, few_shot=False)
    return builder.build(symbol("s1", name).context)


def asked(server: FakeOpenAIServer) -> list[str | None]:
    """The response_format type of each chat request, in order (None: no response_format)."""
    return [
        (request["body"].get("response_format") or {}).get("type")
        for request in server.chat_requests()
    ]


def refusing(**formats: FormatRefusal) -> FakeOpenAIServer:
    return FakeOpenAIServer(api_key=TEST_KEY, refused_formats=formats)


@pytest.mark.parametrize(
    "refusal",
    [vllm_refusal(), llama_cpp_python_refusal(), ollama_refusal()],
    ids=["vllm-400", "llama-cpp-python-500", "ollama-400"],
)
async def test_a_refused_json_schema_steps_down_to_json_object_once(
    refusal: FormatRefusal, tmp_path: Path
) -> None:
    memory = FormatMemory(tmp_path / MEMORY_FILE_NAME)
    with refusing(json_schema=refusal) as server:
        backend = backend_for(server, memory)
        first = await backend.complete(prompt("alpha"))
        second = await backend.complete(prompt("beta"))
        assert asked(server) == ["json_schema", "json_object", "json_object"]
        body = server.chat_requests()[1]["body"]
        assert body["response_format"]["schema"]["required"] == ["summary"]
    assert first.output_format is second.output_format is OutputFormat.JSON_OBJECT
    assert first.output.summary == "Documents the function alpha."


async def test_concurrent_first_requests_probe_once(tmp_path: Path) -> None:
    memory = FormatMemory(tmp_path / MEMORY_FILE_NAME)
    with refusing(json_schema=vllm_refusal()) as server:
        server.latency = 0.05
        backend = backend_for(server, memory)
        results = await asyncio.gather(*(backend.complete(prompt(f"f{i}")) for i in range(20)))
        kinds = asked(server)
    assert kinds.count("json_schema") == 1 and kinds.count("json_object") == 20
    assert {r.output_format for r in results} == {OutputFormat.JSON_OBJECT}


async def test_a_server_refusing_every_format_gets_json_instructions(tmp_path: Path) -> None:
    memory = FormatMemory(tmp_path / MEMORY_FILE_NAME)
    with refusing(json_schema=vllm_refusal(), json_object=lm_studio_refusal()) as server:
        server.script(
            text('```json\n{"summary": "Adds two numbers."}\n```'),
            text("Adds two numbers and returns the sum."),
        )
        backend = backend_for(server, memory)
        fenced = await backend.complete(prompt("add"))
        prose = await backend.complete(prompt("plus"))
        assert asked(server) == ["json_schema", "json_object", None, None]
        assert "response_format" not in server.chat_requests()[-1]["body"]
    assert (fenced.output.summary, fenced.output_format) == (
        "Adds two numbers.",
        OutputFormat.JSON_INSTRUCTIONS,
    )
    assert (prose.output.summary, prose.output_format) == (
        "Adds two numbers and returns the sum.",
        OutputFormat.TEXT,
    )


async def test_a_server_ignoring_the_format_is_recognised_from_its_first_answer(
    tmp_path: Path,
) -> None:
    # Ollama before 0.5 accepted json_schema and ignored it: the answer is prose.
    memory = FormatMemory(tmp_path / MEMORY_FILE_NAME)
    with FakeOpenAIServer(api_key=TEST_KEY) as server:
        server.script(text("Adds two numbers."), text("Multiplies two numbers."))
        backend = backend_for(server, memory)
        first = await backend.complete(prompt("add"))
        second = await backend.complete(prompt("mul"))
        assert asked(server) == ["json_schema", None]
    assert first.output_format is second.output_format is OutputFormat.TEXT
    assert memory.recall(backend.base_url, "gpt-5-nano") is OutputFormat.JSON_INSTRUCTIONS


async def test_format_refusals_are_never_retried_as_transient(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCTOWN_CACHE_DIR", str(tmp_path))
    sleeps = SleepRecorder()
    with refusing(json_schema=llama_cpp_python_refusal()) as server:
        engine = build_engine(openai_settings(server, max_retries=3), sleep=sleeps)
        try:
            result = await engine.generate("job", [symbol("a", "alpha"), symbol("b", "beta")])
        finally:
            await engine.backend.aclose()
        kinds = asked(server)
    assert result.status == "success" and sleeps.delays == []
    # Both symbols are asked in one request; the ladder probes with it.
    assert kinds == ["json_schema", "json_object"]
    assert [d.output_format for d in result.documented_symbols] == ["json_object"] * 2
    assert all(d.attempts == 1 for d in result.documented_symbols)


async def test_text_summaries_are_marked_and_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCTOWN_CACHE_DIR", str(tmp_path))
    with refusing(json_schema=vllm_refusal(), json_object=vllm_refusal("json_object")) as server:
        server.on("Symbol: prose\n", text("Reads things."))
        engine = build_engine(openai_settings(server))
        try:
            result = await engine.generate("job", [symbol("a", "prose"), symbol("b", "json")])
        finally:
            await engine.backend.aclose()
    formats = {d.symbol_id: d.output_format for d in result.documented_symbols}
    assert formats == {"a": "text", "b": "json_instructions"}
    assert any(w.startswith("a: the answer held no JSON") for w in result.warnings)


async def test_a_group_is_asked_and_read_at_the_rung_the_server_supports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCTOWN_CACHE_DIR", str(tmp_path))
    with refusing(json_schema=vllm_refusal(), json_object=vllm_refusal("json_object")) as server:
        # A server that ignores formats and wraps its JSON in prose still answers a group.
        server.on("Symbol: alpha\n", text('Here: {"1": "Adds.", "2": "Subtracts."} Done.'))
        engine = build_engine(openai_settings(server))
        try:
            result = await engine.generate("job", [symbol("a", "alpha"), symbol("b", "beta")])
        finally:
            await engine.backend.aclose()
        kinds = asked(server)
    assert kinds == ["json_schema", "json_object", None]  # probed once, with the group
    assert [d.summary for d in result.documented_symbols] == ["Adds.", "Subtracts."]
    assert {d.output_format for d in result.documented_symbols} == {"json_instructions"}


async def test_the_rung_is_remembered_in_the_file_and_probed_again_when_stale(
    tmp_path: Path,
) -> None:
    path = tmp_path / MEMORY_FILE_NAME
    with refusing(json_schema=vllm_refusal()) as server:
        await backend_for(server, FormatMemory(path)).complete(prompt())
        # What another process sees: the file alone (a fresh in-process memory for the path).
        FormatMemory._known.clear()
        again = backend_for(server, FormatMemory(path))
        await again.complete(prompt("beta"))
        assert asked(server) == ["json_schema", "json_object", "json_object"]
        with sqlite3.connect(path) as db:
            db.execute(
                "UPDATE formats SET probed_at = ?", (time.time() - REPROBE_AFTER_SECONDS - 1,)
            )
        FormatMemory._known.clear()
        stale = backend_for(server, FormatMemory(path))
        await stale.complete(prompt("gamma"))
        assert asked(server)[3:] == ["json_schema", "json_object"]


def test_a_restarted_generate_asks_for_the_remembered_format(tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    with refusing(json_schema=llama_cpp_python_refusal()) as server:
        env = openai_env(server, DOCTOWN_CACHE_DIR=cache)
        first = doctown("generate", str(EXAMPLES), "-o", str(tmp_path / "1.json"), env=env)
        probed = asked(server)
        second = doctown("generate", str(EXAMPLES), "-o", str(tmp_path / "2.json"), env=env)
        after_restart = asked(server)[len(probed) :]
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    # One request per file: the symbols of a file share one.
    count = len({symbol["context"]["file_path"] for symbol in read(EXAMPLES)["symbols"]})
    assert probed.count("json_schema") == 1 and probed.count("json_object") == count
    assert after_restart == ["json_object"] * count
    out: dict[str, Any] = json.loads((tmp_path / "2.json").read_text())
    assert {d["output_format"] for d in out["documented_symbols"]} == {"json_object"}


async def test_readiness_falls_back_to_the_model_list(tmp_path: Path) -> None:
    with FakeOpenAIServer(api_key=TEST_KEY, model_route=False) as server:
        backend = backend_for(server, FormatMemory(tmp_path / MEMORY_FILE_NAME))
        assert await backend.readiness() is None  # a one-model server answers to any name
        assert [r["path"] for r in server.requests] == ["/v1/models/gpt-5-nano", "/v1/models"]
