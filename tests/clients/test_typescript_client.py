"""The TypeScript client (clients/typescript): its types against our schemas, and its calls
against a live worker over real HTTP, driven by Node."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from doctown import schemas
from doctown.server.app import create_app
from doctown.testing import FakeOpenAIServer, ThreadedServer, insufficient_quota
from tests.conftest import openai_settings

CLIENT_DIR = Path(__file__).resolve().parents[2] / "clients" / "typescript"
WORKER_KEY = "worker-key-for-tests"
WIRE_MODELS = [
    schemas.SymbolContext,
    schemas.SymbolInput,
    schemas.GenerateRequest,
    schemas.UsageReport,
    schemas.DocumentedSymbol,
    schemas.FailedSymbol,
    schemas.JobError,
    schemas.GenerateResponse,
    schemas.HealthResponse,
    schemas.EstimateResponse,
]

_INTERFACE = re.compile(r"^export interface (\w+) \{\n(.*?)^\}", re.MULTILINE | re.DOTALL)
_FIELD = re.compile(r"^  (\w+)(\??):", re.MULTILINE)


def typescript_interfaces() -> dict[str, dict[str, str]]:
    """Each interface in src/schemas.ts as {field: "?" if optional else ""}."""
    text = (CLIENT_DIR / "src" / "schemas.ts").read_text()
    return {name: dict(_FIELD.findall(body)) for name, body in _INTERFACE.findall(text)}


def test_every_wire_model_has_an_interface() -> None:
    assert set(typescript_interfaces()) == {model.__name__ for model in WIRE_MODELS}


@pytest.mark.parametrize("model", WIRE_MODELS, ids=lambda model: model.__name__)
def test_interface_mirrors_the_python_schema(model: type[BaseModel]) -> None:
    expected = {
        name: "" if field.is_required() else "?" for name, field in model.model_fields.items()
    }
    assert typescript_interfaces()[model.__name__] == expected


def run(*args: str, env: dict[str, str] | None = None) -> str:
    """Run a command in the client's folder; fail the test with its output if it fails."""
    completed = subprocess.run(
        args, cwd=CLIENT_DIR, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert completed.returncode == 0, (
        f"{' '.join(args)} failed:\n{completed.stdout}{completed.stderr}"
    )
    return completed.stdout


@pytest.fixture(scope="module")
def node() -> str:
    """The node binary, with the client built into dist/."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("needs Node.js: put node and npm on PATH to test the TypeScript client")
    if not (CLIENT_DIR / "node_modules").is_dir():
        run(npm, "ci", "--no-audit", "--no-fund")
    run(npm, "run", "build")
    return node


@pytest.mark.node
def test_the_client_talks_to_a_live_worker(node: str, fake_openai: FakeOpenAIServer) -> None:
    fake_openai.on("Symbol: over_budget\n", insufficient_quota())
    # One request at a time, one symbol each (not a file's symbols in one request), so the
    # symbol before `over_budget` is documented before the stop.
    settings = openai_settings(
        fake_openai, worker_api_key=WORKER_KEY, max_concurrent_requests=1, doctown_group_size=1
    )
    with ThreadedServer(create_app(settings)) as worker:
        env = {**os.environ, "DOCTOWN_WORKER_URL": worker.url, "WORKER_API_KEY": WORKER_KEY}
        results: dict[str, Any] = json.loads(run(node, "test/smoke.mjs", env=env))

    health = results["health"]["value"]
    assert (health["status"], health["ready"], health["model"]) == ("healthy", True, "gpt-5-nano")

    estimate = results["estimate"]["value"]
    assert (estimate["job_id"], estimate["symbols"]) == ("job_123", 1)
    assert estimate["prompt_tokens"] > 0 and estimate["requests"] == 1

    generated = results["generate"]["value"]
    (documented,) = generated["documented_symbols"]
    assert documented["summary"] == "Documents the function calculate_total."
    assert documented["tokens_used"] == generated["total_tokens"] > 0
    assert generated["usage"]["input_tokens"] == estimate["prompt_tokens"]
    assert estimate["cost_min"] <= generated["total_cost"] <= estimate["cost_max"]

    unauthorized = results["unauthorized"]
    assert unauthorized["status"] == 401 and unauthorized["partial"] is None
    assert "WORKER_API_KEY" in unauthorized["message"]

    stopped = results["out_of_quota"]
    assert stopped["status"] == 402 and "billing" in stopped["message"]
    partial = stopped["partial"]
    assert partial == stopped["body"]
    assert (partial["status"], partial["error"]["type"]) == ("aborted", "insufficient_quota")
    assert [d["symbol_id"] for d in partial["documented_symbols"]] == ["sym_1"]
    assert partial["documented_symbols"][0]["summary"] == documented["summary"]
    assert [(f["symbol_id"], f["reason"]) for f in partial["failed_symbols"]] == [
        ("sym_2", "insufficient_quota")
    ]
    # The unauthorized call never reached the model; the other two jobs asked three times.
    assert len(fake_openai.chat_requests()) == 3
