"""CPU per request of the candidate HTTP client paths, the measurement the lean path was chosen by.

Each path sends the same prompts (one structured-output chat request per symbol) at a fixed
concurrency to the fake OpenAI server running in its own process, and the CPU time of this
process is divided by the number of requests. Needs the dev extra (the official client).

    .venv/bin/python bench/client_paths.py [--requests 1000] [--concurrency 100] [--latency 0.05]

Prints a table and writes bench/results/client_paths.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx2
from openai import AsyncOpenAI

from doctown.backends.formats import OutputFormat, request_fields
from doctown.backends.openai import OpenAIBackend
from doctown.backends.openai_wire import ChatCompletionBody
from doctown.pricing import FREE
from doctown.prompts import Prompt, PromptBuilder
from doctown.schemas import DocumentationOutput, SymbolContext
from doctown.tokens import TokenCounter
from worker_throughput import free_port, print_table, start_fake, wait_until_ready

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "client_paths.json"
MODEL = "gpt-5-nano"
PARAMETERS = {"max_completion_tokens": 2048, "reasoning_effort": "minimal"}
KEY = "sk-bench"

Path_ = Callable[[str, list[Prompt], int], Awaitable[None]]


def prompts(count: int) -> list[Prompt]:
    builder = PromptBuilder(TokenCounter(MODEL), max_prompt_tokens=2000, few_shot=False)
    return [
        builder.build(
            SymbolContext(
                name=f"function_{i}",
                kind="function",
                language="python",
                file_path=f"pkg/module_{i % 50}.py",
                signature=f"def function_{i}(items: list[int], limit: int = 10) -> int",
                calls=["helper_a", "helper_b"],
                called_by=["main"],
            )
        )
        for i in range(count)
    ]


async def bounded(concurrency: int, jobs: list[Callable[[], Awaitable[Any]]]) -> None:
    slots = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[Any]]) -> None:
        async with slots:
            await job()

    await asyncio.gather(*(one(job) for job in jobs))


async def sdk_parse(url: str, batch: list[Prompt], concurrency: int) -> None:
    """The official client's `parse` with a Pydantic response format (the former path)."""
    client = AsyncOpenAI(api_key=KEY, base_url=url, max_retries=0)
    await bounded(
        concurrency,
        [
            lambda p=p: client.chat.completions.parse(
                model=MODEL,
                messages=p.messages,  # type: ignore[arg-type]
                response_format=DocumentationOutput,
                **PARAMETERS,  # type: ignore[arg-type]
            )
            for p in batch
        ],
    )
    await client.close()


async def sdk_create(url: str, batch: list[Prompt], concurrency: int) -> None:
    """The official client's `create` with a precomputed response_format dict."""
    client = AsyncOpenAI(api_key=KEY, base_url=url, max_retries=0)
    fields = request_fields(OutputFormat.JSON_SCHEMA)

    async def one(prompt: Prompt) -> None:
        completion = await client.chat.completions.create(
            model=MODEL,
            messages=prompt.messages,  # type: ignore[arg-type]
            **fields,
            **PARAMETERS,  # type: ignore[arg-type]
        )
        DocumentationOutput.model_validate_json(completion.choices[0].message.content or "")

    await bounded(concurrency, [lambda p=p: one(p) for p in batch])
    await client.close()


def body(prompt: Prompt) -> bytes:
    fields = request_fields(OutputFormat.JSON_SCHEMA)
    return json.dumps(
        {"model": MODEL, "messages": prompt.messages, **fields, **PARAMETERS}
    ).encode()


def read(raw: bytes) -> None:
    answer = ChatCompletionBody.model_validate_json(raw)
    DocumentationOutput.model_validate_json(answer.choices[0].message.content or "")


async def httpx_post(url: str, batch: list[Prompt], concurrency: int) -> None:
    """httpx2's AsyncClient posting a prebuilt body, the answer read by pydantic-core."""
    limits = httpx2.Limits(max_connections=concurrency)
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    async with httpx2.AsyncClient(limits=limits, headers=headers, timeout=60) as client:

        async def one(prompt: Prompt) -> None:
            response = await client.post(f"{url}/chat/completions", content=body(prompt))
            read(response.content)

        await bounded(concurrency, [lambda p=p: one(p) for p in batch])


async def aiohttp_post(url: str, batch: list[Prompt], concurrency: int) -> None:
    """aiohttp posting a prebuilt body, the answer read by pydantic-core."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def one(prompt: Prompt) -> None:
            async with session.post(f"{url}/chat/completions", data=body(prompt)) as response:
                read(await response.read())

        await bounded(concurrency, [lambda p=p: one(p) for p in batch])


async def doctown_backend(url: str, batch: list[Prompt], concurrency: int) -> None:
    """doctown's OpenAIBackend: the aiohttp path plus the ladder and every error rule."""
    backend = OpenAIBackend(
        api_key=KEY, model=MODEL, price=FREE, base_url=url, max_concurrency=concurrency
    )
    await bounded(concurrency, [lambda p=p: backend.complete(p) for p in batch])
    await backend.aclose()


PATHS: dict[str, Path_] = {
    "openai SDK, parse with a Pydantic model (the former path)": sdk_parse,
    "openai SDK, create with a precomputed response_format": sdk_create,
    "httpx2 AsyncClient.post of a prebuilt body": httpx_post,
    "aiohttp ClientSession.post of a prebuilt body": aiohttp_post,
    "doctown OpenAIBackend (aiohttp, ladder, error rules)": doctown_backend,
}


async def measure(url: str, path: Path_, requests: int, concurrency: int) -> dict[str, float]:
    batch = prompts(requests + 50)
    await path(url, batch[:50], concurrency)  # connections, imports, caches
    cpu, started = time.process_time(), time.perf_counter()
    await path(url, batch[50:], concurrency)
    wall = time.perf_counter() - started
    return {
        "requests_per_s": round(requests / wall, 1),
        "cpu_ms_per_request": round(1000 * (time.process_time() - cpu) / requests, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    port = free_port()
    fake = start_fake(port, args.latency)
    url = f"http://127.0.0.1:{port}/v1"
    rows = []
    try:
        wait_until_ready(f"{url}/models/x", fake)
        for name, path in PATHS.items():
            row = {"path": name, **asyncio.run(measure(url, path, args.requests, args.concurrency))}
            rows.append(row)
    finally:
        fake.terminate()
        fake.wait(timeout=30)
    load = os.getloadavg()[0]
    print_table(
        ["client path", "requests/s", "CPU ms per request"],
        [[r["path"], r["requests_per_s"], r["cpu_ms_per_request"]] for r in rows],
    )
    print(f"\nload average {load:.1f}; bound {args.concurrency / args.latency:.0f} requests/s")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "command": "python bench/client_paths.py " + " ".join(sys.argv[1:]),
                "requests": args.requests,
                "concurrency": args.concurrency,
                "latency_s": args.latency,
                "load_average": round(load, 2),
                "paths": rows,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
