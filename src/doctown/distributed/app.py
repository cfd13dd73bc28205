"""The Celery application both sides share: Redis as broker and result backend.

A shard is acknowledged only once it is done (`task_acks_late`), and given back to the queue
if its worker dies (`task_reject_on_worker_lost`, and for a worker that vanishes with its
machine, the broker's visibility timeout). Each worker holds one shard at a time (prefetch
multiplier 1), so a dead worker strands at most one. The visibility timeout is longer than a
shard may run, so a shard still running is never handed to a second worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from doctown.config import Settings
from doctown.errors import ConfigurationError

if TYPE_CHECKING:
    from celery import Celery

QUEUE = "doctown"
SHARD_TASK = "doctown.document_shard"
# Each live worker refreshes this key; the coordinator reads them before a build.
WORKER_KEY = "doctown:workers:{name}"
# How much longer than DOCTOWN_SHARD_TIMEOUT a shard stays invisible to other workers.
VISIBILITY_FACTOR = 1.5
# Seconds between sweeps that hand the shards of dead workers back to the queue.
MAX_RESTORE_INTERVAL = 10
RESULT_SECONDS = 86_400


def redis_url(settings: Settings) -> str:
    """DOCTOWN_REDIS_URL, or a ConfigurationError that says how to set it."""
    if settings.doctown_redis_url is None:
        raise ConfigurationError(
            "Distributed builds need Redis: set DOCTOWN_REDIS_URL (for example "
            "redis://127.0.0.1:6379/0) for `doctown worker`, `doctown build --distributed` "
            "and `doctown serve` alike."
        )
    url = settings.doctown_redis_url.get_secret_value()
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigurationError(
            "DOCTOWN_REDIS_URL must be a redis://, rediss:// or unix:// URL "
            "(for example redis://127.0.0.1:6379/0)."
        )
    return url


def visibility_timeout(settings: Settings) -> float:
    return settings.doctown_shard_timeout * VISIBILITY_FACTOR


def celery_app(settings: Settings) -> Celery:
    """The Celery app for DOCTOWN_REDIS_URL; the worker registers the shard task on it."""
    from celery import Celery

    url = redis_url(settings)
    visibility = visibility_timeout(settings)
    app = Celery("doctown", broker=url, backend=url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={
            "visibility_timeout": visibility,
            "unacked_restore_interval": max(1, min(MAX_RESTORE_INTERVAL, int(visibility / 4))),
            "unacked_restore_throttle": 1,
        },
        # Messages are data: JSON only, never pickle.
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_default_queue=QUEUE,
        result_expires=RESULT_SECONDS,
        broker_connection_retry_on_startup=True,
        # With late acknowledgement a lost broker connection already returns the shard to the
        # queue; finishing it here as well would only pay for it twice.
        worker_cancel_long_running_tasks_on_connection_loss=True,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
    )
    return app
