"""A real third-party server: llama-cpp-python's OpenAI-compatible server on the embedded GGUF.

It refuses `json_schema` with a 500 and honours `json_object` with a schema, so doctown must
step down the ladder once, without retrying, and document the symbols in JSON mode.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from doctown.backends.formats import OutputFormat
from doctown.backends.ladder import MEMORY_FILE_NAME, FormatMemory
from doctown.backends.local import find_model_file
from doctown.backends.openai import OpenAIBackend
from doctown.pricing import FREE
from tests.cli.test_generate import EXAMPLES, doctown, read

# CI sets DOCTOWN_REQUIRE_LOCAL_MODEL=1 so that a missing server fails instead of skipping.
if not os.environ.get("DOCTOWN_REQUIRE_LOCAL_MODEL"):
    pytest.importorskip("llama_cpp.server.app", reason="the llama-server extra is not installed")

pytestmark = pytest.mark.local_model

SYMBOLS = 3
STARTUP_SECONDS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` on a free loopback port; yields its base URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(find_model_file()),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "2048",
                "--n_threads",
                "1",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx2.get(f"{base_url}/models", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama_cpp.server did not start in time")
            time.sleep(0.25)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)


async def test_readiness_without_the_per_model_route(llama_server: str, tmp_path: Path) -> None:
    backend = OpenAIBackend(
        api_key="sk-local", model="smollm2", price=FREE, base_url=llama_server,
        format_memory=FormatMemory(tmp_path / MEMORY_FILE_NAME),
    )  # fmt: skip
    try:
        assert await backend.readiness() is None
    finally:
        await backend.aclose()


def test_generate_steps_down_to_json_object_and_documents(
    llama_server: str, tmp_path: Path
) -> None:
    contexts = tmp_path / "contexts.json"
    example = read(EXAMPLES)
    contexts.write_text(json.dumps({**example, "symbols": example["symbols"][:SYMBOLS]}))
    out, cache = tmp_path / "out.json", tmp_path / "cache"
    env = {
        "OPENAI_API_KEY": "sk-local",
        "OPENAI_BASE_URL": llama_server,
        "MODEL_NAME": "smollm2",
        "INPUT_TOKEN_PRICE": "0",
        "OUTPUT_TOKEN_PRICE": "0",
        "MAX_CONCURRENT_REQUESTS": "1",
        "MAX_COMPLETION_TOKENS": "160",
        "DOCTOWN_CACHE_DIR": str(cache),
    }
    result = doctown("generate", str(contexts), "-o", str(out), "--quiet", env=env)
    assert result.returncode in (0, 3), result.stderr
    body = read(out)
    # A 135M model may run past the cap or write too much; it must never be a transport or
    # format failure, and the answers that came back were read in JSON mode.
    assert {f["reason"] for f in body["failed_symbols"]} <= {"length", "invalid_output"}
    assert body["documented_symbols"], body["failed_symbols"]
    assert {d["output_format"] for d in body["documented_symbols"]} == {"json_object"}
    assert all(d["attempts"] == 1 for d in body["documented_symbols"])
    remembered = FormatMemory(cache / MEMORY_FILE_NAME).recall(llama_server.rstrip("/"), "smollm2")
    assert remembered is OutputFormat.JSON_OBJECT
