"""The coordinator's dispatcher against a real Redis: a shard whose sending fails is sent
again, never dropped (the build would wait for it forever)."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path
from typing import Any

from doctown.config import load_settings
from doctown.distributed.app import celery_app
from doctown.distributed.dispatch import ShardDispatcher
from tests.distributed.processes import running_redis


async def test_a_shard_whose_send_fails_is_sent_again_and_its_result_arrives(
    tmp_path: Path,
) -> None:
    with running_redis(tmp_path) as url:
        app = celery_app(load_settings(doctown_redis_url=url))
        sent: list[str] = []
        send_task = app.send_task

        def flaky_send(*args: Any, **kwargs: Any) -> Any:
            if not sent:
                sent.append("")
                raise ConnectionError("the broker went away")  # as a dropped connection does
            result = send_task(*args, **kwargs)
            sent.append(result.id)
            return result

        app.send_task = flaky_send  # type: ignore[method-assign]
        dispatcher = ShardDispatcher(app).start()
        try:
            future = dispatcher.submit({"shard": 1})
            for _ in range(200):
                if len(sent) == 2:
                    break
                await asyncio.sleep(0.05)
            assert len(sent) == 2, "the shard was never sent again"
            # A worker's answer, stored where Celery's result backend keeps it.
            with warnings.catch_warnings():  # the redis client's note on Celery's own call
                warnings.simplefilter("ignore", DeprecationWarning)
                app.backend.store_result(sent[1], {"documented": 1}, "SUCCESS")
            assert await asyncio.wait_for(future, timeout=10) == {"documented": 1}
        finally:
            dispatcher.close()
