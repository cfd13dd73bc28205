"""The worker over real HTTP: uvicorn on loopback, backed by the fake OpenAI server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from doctown import events
from doctown.server.app import create_app
from doctown.testing import FakeOpenAIServer, ThreadedServer, insufficient_quota
from tests.conftest import openai_settings

SEED_REQUEST = {
    "job_id": "job_123",
    "symbols": [
        {
            "symbol_id": "sym_1",
            "context": {
                "symbol_id": "sym_1",
                "name": "calculate_total",
                "kind": "function",
                "language": "python",
                "file_path": "src/utils.py",
                "signature": "def calculate_total(items: list[int]) -> int",
                "calls": ["sum", "len"],
                "called_by": ["main"],
                "imports": ["typing"],
                "related_symbols": ["validate_items"],
                "cluster_label": "math utilities",
                "centrality": 0.75,
            },
        }
    ],
}

Worker = Callable[..., Any]


@pytest.fixture
def worker(fake_openai: FakeOpenAIServer) -> Iterator[Worker]:
    """Start the worker app with settings overrides; yields an httpx2 client bound to it."""
    started: list[tuple[ThreadedServer, httpx2.Client]] = []

    def start(**overrides: Any) -> httpx2.Client:
        app = create_app(openai_settings(fake_openai, **overrides))
        server = ThreadedServer(app).start()
        client = httpx2.Client(base_url=server.url, timeout=30)
        started.append((server, client))
        client.app = app  # type: ignore[attr-defined]
        return client

    yield start
    for server, client in started:
        client.close()
        server.stop()


def test_health_matches_the_seed_and_spends_no_tokens(
    worker: Worker, fake_openai: FakeOpenAIServer
) -> None:
    client = worker()
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("status", "model", "ready")} == {
        "status": "healthy",
        "model": "gpt-5-nano",
        "ready": True,
    }
    assert fake_openai.chat_requests() == []
    assert [r["path"] for r in fake_openai.requests] == ["/v1/models/gpt-5-nano"]
    client.get("/health")  # cached: no second model lookup
    assert len(fake_openai.requests) == 1


def test_health_reports_an_unknown_model_as_not_ready(
    worker: Worker, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.unknown_models = {"gpt-5-nano"}
    response = worker().get("/health")
    assert response.status_code == 503
    assert response.json()["ready"] is False and "MODEL_NAME" in response.json()["detail"]


def test_generate_answers_in_the_seed_shape(worker: Worker) -> None:
    response = worker().post("/generate", json=SEED_REQUEST)
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"documented_symbols", "total_tokens", "total_cost"}
    (documented,) = body["documented_symbols"]
    assert documented["symbol_id"] == "sym_1"
    assert documented["summary"] == "Documents the function calculate_total."
    assert documented["tokens_used"] == body["total_tokens"] > 0
    assert body["total_cost"] > 0 and body["failed_symbols"] == [] and body["status"] == "success"


def test_invalid_input_gets_422_naming_the_field(worker: Worker) -> None:
    bad = json.loads(json.dumps(SEED_REQUEST))
    del bad["symbols"][0]["context"]["name"]
    bad["symbols"][0]["context"]["centrality"] = 3
    response = worker().post("/generate", json=bad)
    assert response.status_code == 422
    message = response.json()["message"]
    assert "symbols.0.context.name: Field required" in message
    assert "symbols.0.context.centrality" in message


def test_mismatched_symbol_ids_are_refused(worker: Worker) -> None:
    bad = json.loads(json.dumps(SEED_REQUEST))
    bad["symbols"][0]["context"]["symbol_id"] = "sym_2"
    response = worker().post("/generate", json=bad)
    assert response.status_code == 422 and "differs from symbol_id" in response.json()["message"]


def test_batch_and_body_sizes_are_bounded(worker: Worker) -> None:
    client = worker(max_batch_size=2, max_request_bytes=20_000)
    many = {"job_id": "j", "symbols": SEED_REQUEST["symbols"] * 3}  # type: ignore[operator]
    response = client.post("/generate", json=many)
    assert response.status_code == 413 and "MAX_BATCH_SIZE" in response.json()["detail"]
    huge = json.loads(json.dumps(SEED_REQUEST))
    huge["symbols"][0]["context"]["signature"] = "x" * 30_000
    response = client.post("/generate", json=huge)
    assert response.status_code == 413 and "MAX_REQUEST_BYTES" in response.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the streamed size is counted
        yield json.dumps(huge).encode()

    response = client.post(
        "/generate", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_bearer_token_guards_everything_but_health(
    worker: Worker, fake_openai: FakeOpenAIServer
) -> None:
    client = worker(worker_api_key="let-me-in")
    assert client.get("/health").status_code == 200
    assert client.post("/generate", json=SEED_REQUEST).status_code == 401
    assert client.post("/estimate", json=SEED_REQUEST).status_code == 401
    wrong = client.post("/generate", json=SEED_REQUEST, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    right = client.post(
        "/generate", json=SEED_REQUEST, headers={"Authorization": "Bearer let-me-in"}
    )
    assert right.status_code == 200
    assert len(fake_openai.chat_requests()) == 1


def test_cors_allows_only_configured_origins(worker: Worker) -> None:
    client = worker(cors_origins="https://docs.example.com")
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = client.options(
        "/generate", headers={"Origin": "https://docs.example.com", **preflight}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://docs.example.com"
    denied = client.options("/generate", headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in denied.headers


def test_estimate_counts_tokens_without_calling_the_model(
    worker: Worker, fake_openai: FakeOpenAIServer
) -> None:
    client = worker()
    estimate = client.post("/estimate", json=SEED_REQUEST).json()
    assert fake_openai.chat_requests() == []
    generated = client.post("/generate", json=SEED_REQUEST).json()
    assert estimate["prompt_tokens"] == generated["usage"]["input_tokens"]  # counted exactly
    assert estimate["cost_min"] <= generated["total_cost"] <= estimate["cost_max"]
    assert estimate["max_completion_tokens"] == 2048


def test_estimate_counts_the_requests_a_file_s_symbols_share(
    worker: Worker, fake_openai: FakeOpenAIServer
) -> None:
    context = SEED_REQUEST["symbols"][0]["context"]  # type: ignore[index]
    symbols = [
        {
            "symbol_id": f"s{i}",
            "context": {
                **context,
                "symbol_id": f"s{i}",
                "name": f"fn_{i}",
                "file_path": f"f{i % 2}.py",
            },
        }
        for i in range(5)
    ]
    body = {"job_id": "job_5", "symbols": symbols}
    client = worker()
    estimate = client.post("/estimate", json=body).json()
    generated = client.post("/generate", json=body).json()
    assert estimate["unique_prompts"] == 5 and estimate["requests"] == 2
    assert generated["usage"]["requests"] == len(fake_openai.chat_requests()) == 2
    assert estimate["prompt_tokens"] == generated["usage"]["input_tokens"]  # counted exactly
    assert estimate["cost_min"] <= generated["total_cost"] <= estimate["cost_max"]


def test_out_of_quota_returns_402_with_what_was_done(
    worker: Worker, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.script(insufficient_quota())
    response = worker().post("/generate", json=SEED_REQUEST)
    assert response.status_code == 402
    body = response.json()
    assert body["status"] == "aborted" and body["error"]["type"] == "insufficient_quota"
    assert body["failed_symbols"][0]["reason"] == "insufficient_quota"


def test_events_are_written_as_json_lines(worker: Worker, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "events.jsonl"
    worker(events_file=str(path)).post("/generate", json=SEED_REQUEST)
    types = [e["type"] for e in events.read_events(path)]
    assert types == [
        events.GENERATION_STARTED,
        events.GENERATION_SYMBOL_DOCUMENTED,
        events.GENERATION_COMPLETED,
    ]


def test_the_api_key_never_reaches_responses_or_events(
    worker: Worker, fake_openai: FakeOpenAIServer, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "events.jsonl"
    client = worker(openai_api_key="sk-wrong-0123456789SECRET", events_file=str(path))
    health = client.get("/health").text
    generated = client.post("/generate", json=SEED_REQUEST).text
    for text in (health, generated, path.read_text()):
        assert "SECRET" not in text and "0123456789" not in text


def echoing_gateway(key_seen: list[str]) -> Starlette:
    """An OpenAI-compatible gateway that echoes the key it was sent in every error."""

    async def refuse(request: Request) -> JSONResponse:
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        key_seen.append(key)
        message = f"upstream refused the request made with key {key}"
        return JSONResponse({"error": {"message": message, "type": "server_error"}}, 502)

    return Starlette(routes=[Route("/v1/{rest:path}", refuse, methods=["GET", "POST"])])


def test_a_key_of_any_shape_echoed_upstream_is_never_shown_logged_or_written(
    worker: Worker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = "gw-live-7f3a9c2e1b5d"  # no sk- prefix: only its literal value can be redacted
    seen: list[str] = []
    path = tmp_path / "events.jsonl"
    with ThreadedServer(echoing_gateway(seen), lifespan="off") as gateway:
        client = worker(
            openai_api_key=key,
            openai_base_url=f"{gateway.url}/v1",
            events_file=str(path),
            max_retries=1,
            worker_api_key="worker-secret-42",
        )
        auth = {"Authorization": "Bearer worker-secret-42"}
        health = client.get("/health")
        generated = client.post("/generate", json=SEED_REQUEST, headers=auth)
    assert seen and set(seen) == {key}  # the gateway really echoed it
    assert health.status_code == 503 and "upstream refused" in health.json()["detail"]
    assert generated.json()["failed_symbols"][0]["reason"] == "retries_exhausted"
    for text in (health.text, generated.text, path.read_text(), caplog.text):
        assert "7f3a9c2e1b5d" not in text and "worker-secret-42" not in text


def test_health_answers_while_a_large_estimate_is_counted(worker: Worker) -> None:
    client = worker()
    assert client.get("/health").status_code == 200  # readiness cached from here on
    text = "word " * 19_000  # within the 100,000 characters a field may have
    context = {
        **SEED_REQUEST["symbols"][0]["context"],  # type: ignore[index]
        "signature": "def f(" + "a: int, " * 2_000 + ")",
        "calls": [f"callee_{i}" for i in range(5_000)],
        "docstring": text,
        "source_excerpt": text,
    }
    big = {
        "job_id": "big",
        "symbols": [
            {"symbol_id": f"s{i}", "context": {**context, "symbol_id": f"s{i}"}} for i in range(14)
        ],
    }
    finished: list[float] = []

    def estimate() -> None:
        with httpx2.Client(base_url=str(client.base_url), timeout=120) as other:
            assert other.post("/estimate", json=big).status_code == 200
        finished.append(time.monotonic())

    thread = threading.Thread(target=estimate)
    thread.start()
    time.sleep(0.3)  # the estimate is being counted
    answers: list[tuple[float, float]] = []  # (latency, when answered)
    while thread.is_alive():
        started = time.monotonic()
        assert client.get("/health").status_code == 200
        answers.append((time.monotonic() - started, time.monotonic()))
        time.sleep(0.05)
    thread.join()
    during = [latency for latency, at in answers if at < finished[0]]
    assert len(during) >= 3, answers
    assert max(during) < 1.0, answers


def test_state_changes_from_other_sites_are_refused(
    worker: Worker, fake_openai: FakeOpenAIServer
) -> None:
    client = worker(cors_origins="https://docs.example.com")
    own = str(client.base_url).rstrip("/")
    form = {"files": {"archive": ("r.zip", b"PK\x05\x06" + b"\0" * 18, "application/zip")}}
    for headers, named in (
        ({"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, "Sec-Fetch-Site"),
        ({"Origin": "https://evil.example"}, "Origin"),
        ({"Origin": "null"}, "Origin"),
        ({"Sec-Fetch-Site": "same-site"}, "Sec-Fetch-Site"),
    ):
        refused = client.post("/jobs", headers=headers, **form)  # a form any page can send
        assert refused.status_code == 403, refused.text
        detail = refused.json()["detail"]
        assert named in detail and "CORS_ORIGINS" in detail
        assert client.post("/generate", json=SEED_REQUEST, headers=headers).status_code == 403
    assert fake_openai.chat_requests() == []

    same_origin = {"Origin": own, "Sec-Fetch-Site": "same-origin"}  # a page the worker serves
    assert client.post("/generate", json=SEED_REQUEST, headers=same_origin).status_code == 200
    trusted = {"Origin": "https://docs.example.com", "Sec-Fetch-Site": "cross-site"}
    assert client.post("/generate", json=SEED_REQUEST, headers=trusted).status_code == 200
    assert client.post("/generate", json=SEED_REQUEST).status_code == 200  # curl, scripts
    assert client.get("/health", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200


def test_host_names_the_worker_does_not_answer_to_are_refused(worker: Worker) -> None:
    client = worker(allowed_hosts="docs.internal, Build.Example.org")
    port = str(client.base_url).rsplit(":", 1)[1].rstrip("/")
    rebound = client.get("/health", headers={"Host": f"attacker.example:{port}"})
    assert rebound.status_code == 400 and "ALLOWED_HOSTS" in rebound.json()["detail"]
    assert client.post("/generate", json=SEED_REQUEST, headers={"Host": "evil"}).status_code == 400
    for host in ("localhost", "127.0.0.1", "[::1]", "docs.internal", "build.example.org."):
        assert client.get("/health", headers={"Host": f"{host}:{port}"}).status_code == 200, host


def test_the_schema_and_its_pages_need_the_bearer_token(worker: Worker) -> None:
    client = worker(worker_api_key="let-me-in")
    for route in ("/openapi.json", "/docs", "/redoc"):
        assert client.get(route).status_code == 401, route
    authorized = client.get("/openapi.json", headers={"Authorization": "Bearer let-me-in"})
    assert authorized.status_code == 200 and "/jobs" in authorized.json()["paths"]
    assert worker().get("/openapi.json").status_code == 200  # no key set: open, as before
