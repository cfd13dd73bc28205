from __future__ import annotations

import click

from doctown.cli.options import concurrency_option
from doctown.config import load_service_settings


@click.command("worker")
@click.option("--name", default=None, help="This worker's name (default: doctown-PID@HOST).")
@concurrency_option
def worker_command(name: str | None, concurrency: int | None) -> None:
    """Document shards of distributed builds (`doctown build --distributed`) until stopped.

    Takes shards from the Redis at DOCTOWN_REDIS_URL, one at a time, and sends their requests
    with this process's model settings (OPENAI_API_KEY, MODEL_NAME, ...), at most
    MAX_CONCURRENT_REQUESTS at once. Start as many as you like, on any machine that reaches
    Redis. Ctrl-C finishes the current shard first.
    """
    overrides: dict[str, object] = (
        {} if concurrency is None else {"max_concurrent_requests": concurrency}
    )
    settings = load_service_settings(**overrides)
    from doctown.distributed.worker import run_worker

    run_worker(settings, name=name)
