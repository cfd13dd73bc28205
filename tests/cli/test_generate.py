"""`doctown generate` as a user runs it: a real subprocess, the fake server over HTTP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from doctown import events
from doctown.testing import FakeOpenAIServer, insufficient_quota, refusal
from tests.conftest import TEST_KEY

EXAMPLES = Path(__file__).parents[2] / "examples" / "contexts.json"


def doctown(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k in ("PATH", "HOME", "TIKTOKEN_CACHE_DIR", "XDG_CACHE_HOME")
    }
    return subprocess.run(
        [sys.executable, "-m", "doctown", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        cwd=cwd,
        timeout=600,
    )


def openai_env(server: FakeOpenAIServer, **extra: str) -> dict[str, str]:
    return {"OPENAI_API_KEY": TEST_KEY, "OPENAI_BASE_URL": server.base_url, **extra}


def read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def test_documents_the_example_file(fake_openai: FakeOpenAIServer, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    log = tmp_path / "events.jsonl"
    result = doctown(
        "generate", str(EXAMPLES), "-o", str(out), "--events", str(log), env=openai_env(fake_openai)
    )
    assert result.returncode == 0, result.stderr
    body = read(out)
    expected_ids = [s["symbol_id"] for s in read(EXAMPLES)["symbols"]]
    assert [d["symbol_id"] for d in body["documented_symbols"]] == expected_ids
    # The two symbols of pricing.py share a request, and so do retry.py's.
    assert len(fake_openai.chat_requests()) == len(expected_ids) - 2
    for pattern in (
        r"documented\s+10\b",
        r"failed\s+0\b",
        r"cost\s+\$0\.\d{6}",
        r"tokens\s+\d+ in",
    ):
        assert re.search(pattern, result.stderr), pattern
    types = [e["type"] for e in events.read_events(log)]
    assert types[0] == events.GENERATION_STARTED and types[-1] == events.GENERATION_COMPLETED
    assert "sk-test" not in result.stderr + result.stdout + log.read_text()


def test_bare_list_input_and_json_summary(fake_openai: FakeOpenAIServer, tmp_path: Path) -> None:
    contexts = [s["context"] for s in read(EXAMPLES)["symbols"][:3]]
    source = tmp_path / "bare.json"
    source.write_text(json.dumps(contexts))
    out = tmp_path / "out.json"
    result = doctown(
        "generate", str(source), "-o", str(out), "--json", "--quiet", env=openai_env(fake_openai)
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["documented"] == 3 and summary["failed"] == 0 and summary["total_cost"] > 0
    assert read(out)["job_id"] == "bare"


def test_failed_symbols_set_exit_status_3(fake_openai: FakeOpenAIServer, tmp_path: Path) -> None:
    fake_openai.on("Symbol: cost\n", refusal())
    out = tmp_path / "out.json"
    result = doctown(
        "generate", str(EXAMPLES), "-o", str(out), "--quiet", env=openai_env(fake_openai)
    )
    assert result.returncode == 3
    assert "failures by reason: refusal=1" in result.stderr
    assert [f["symbol_id"] for f in read(out)["failed_symbols"]] == ["pricing.cost"]


def test_out_of_quota_stops_with_exit_status_4_and_keeps_results(
    fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.on("Symbol: Usage\n", insufficient_quota())
    out = tmp_path / "out.json"
    result = doctown(
        "generate",
        str(EXAMPLES),
        "-o",
        str(out),
        "--quiet",
        "--concurrency",
        "1",
        env=openai_env(fake_openai),
    )
    assert result.returncode == 4
    assert "insufficient quota" in result.stderr
    body = read(out)
    assert [d["symbol_id"] for d in body["documented_symbols"]] == [
        "pricing.cost",
        "pricing.resolve_price",
    ]
    assert len(fake_openai.chat_requests()) == 2  # pricing.py's two symbols, then the stop


def test_ctrl_c_writes_what_was_answered_and_exits_130(
    fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    import signal
    import time

    fake_openai.latency = 0.5
    out, log = tmp_path / "out.json", tmp_path / "events.jsonl"
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME")}
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "doctown", "generate", str(EXAMPLES), "-o", str(out)),
            *("--quiet", "--concurrency", "1", "--events", str(log)),
        ],
        env={**base, **openai_env(fake_openai)},
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while "generation.symbol_documented" not in (log.read_text() if log.exists() else ""):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in stderr, stderr
    assert "interrupted" in stderr
    body = read(out)
    documented = body["documented_symbols"]
    assert documented and len(documented) < 4  # it stopped sending
    # Every request sent was answered and written (a file's symbols share one); the rest say
    # they were not attempted.
    assert len(documented) == len(fake_openai.symbols_asked())
    assert {f["reason"] for f in body["failed_symbols"]} == {"not_attempted"}
    assert body["error"]["type"] == "cancelled"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "invalid JSON at line 1, column 2"),
        (
            '{"symbols": [{"symbol_id": "a", "context": {"kind": "function"}}]}',
            "symbols.0.context.name: Field required",
        ),
        ("42", "Expected a JSON object"),
    ],
)
def test_bad_input_is_named(tmp_path: Path, content: str | None, message: str) -> None:
    source = tmp_path / "in.json"
    if content is not None:
        source.write_text(content)
    result = doctown(
        "generate", str(source), "-o", str(tmp_path / "o.json"), env={"OPENAI_API_KEY": "x"}
    )
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o.json").exists()


def test_a_model_without_a_price_is_refused_before_any_call(
    fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    env = openai_env(fake_openai, MODEL_NAME="my-own-model")
    result = doctown("generate", str(EXAMPLES), "-o", str(tmp_path / "o.json"), env=env)
    assert result.returncode == 1 and "INPUT_TOKEN_PRICE" in result.stderr
    assert fake_openai.requests == []
    priced = {**env, "INPUT_TOKEN_PRICE": "0", "OUTPUT_TOKEN_PRICE": "0"}
    assert (
        doctown(
            "generate", str(EXAMPLES), "-o", str(tmp_path / "o.json"), "--quiet", env=priced
        ).returncode
        == 0
    )


def test_invalid_settings_name_the_variable(tmp_path: Path) -> None:
    result = doctown(
        "generate",
        str(EXAMPLES),
        "-o",
        str(tmp_path / "o.json"),
        env={"MAX_CONCURRENT_REQUESTS": "0"},
    )
    assert result.returncode == 1 and "MAX_CONCURRENT_REQUESTS" in result.stderr
