"""`doctown build --batch`: the checks, the plan's batch lines, and the runner it uses."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal

import click
from rich.console import Console

from doctown import events
from doctown.backends.openai import OpenAIBackend
from doctown.batch import BatchRunner
from doctown.config import Settings
from doctown.generation import GenerationEngine
from doctown.generation.answered import Answer
from doctown.generation.cache import SummaryCache
from doctown.pipeline import Plan
from doctown.prompts import Prompt


def batch_runner(
    engine: GenerationEngine,
    cache: SummaryCache | None,
    settings: Settings,
    emitter: events.EventEmitter,
    *,
    callee_summaries: bool,
) -> BatchRunner:
    """The runner for this build, or a usage error saying why --batch cannot run."""
    if not isinstance(engine.backend, OpenAIBackend):
        raise click.UsageError(
            "--batch sends the requests through the OpenAI Batch API; it needs the openai "
            "backend (set OPENAI_API_KEY)."
        )
    if cache is None:
        raise click.UsageError(
            "--batch keeps its batch ids in the summary cache so that a killed build resumes "
            "them instead of paying again; drop --no-cache."
        )
    if callee_summaries:
        raise click.UsageError(
            "--callee-summaries asks wave by wave, and each batch may take up to 24 hours; "
            "use one or the other."
        )
    return BatchRunner(
        engine.backend,
        cache,
        emitter=emitter,
        poll_seconds=settings.batch_poll_seconds,
        grouping=engine.grouping,
    )


async def run_batch(runner: BatchRunner, plan: Plan) -> dict[str, Answer]:
    """The batch's answers for the plan's requests; its time is the plan's `batch` stage."""
    clock = time.monotonic()
    try:
        return await runner.run(plan.uncached)
    finally:
        plan.seconds["batch"] = time.monotonic() - clock


def overview_batches(
    runner: BatchRunner,
) -> Callable[[Mapping[str, Prompt]], Awaitable[dict[str, Answer]]]:
    """Each overview level's answers through a batch of its own (levels build on the one
    below, so they go one after the other); prompts already in the cache are not sent."""
    backend, cache = runner.backend, runner.cache

    async def answers(prompts: Mapping[str, Prompt]) -> dict[str, Answer]:
        missing = {
            key: prompt
            for key, prompt in prompts.items()
            if cache.get(SummaryCache.key_for(backend.name, backend.model, key)) is None
        }
        return await runner.run(missing) if missing else {}

    return answers


def check_batch_budget(plan: Plan, max_cost: Decimal | None) -> None:
    """A batch is submitted whole: refuse one whose worst case could pass --max-cost."""
    if max_cost is not None and plan.batch_cost_max > max_cost:
        raise click.ClickException(
            f"The batch may cost up to ${plan.batch_cost_max:.4f}, above --max-cost "
            f"${max_cost}; raise it, or document fewer symbols (--limit)."
        )


def print_request_files(console: Console, runner: BatchRunner, plan: Plan, model: str) -> None:
    """Write the requests a batch run would upload, and say how to run them elsewhere."""
    files = runner.write_requests(runner.requests(plan.uncached))
    for request_file in files:
        console.print(
            f"[bold]requests[/bold]: {request_file.path} ({len(request_file.keys)} requests, "
            f"{request_file.bytes / 1_000_000:.1f} MB; not uploaded)"
        )
    if files:
        console.print(
            f"the same file runs on vLLM: vllm run-batch -i {files[0].path} "
            f"-o results.jsonl --model {model}"
        )
