"""The Celery settings the issue requires, and what DOCTOWN_REDIS_URL must look like."""

from __future__ import annotations

import pytest

from doctown.config import load_settings
from doctown.distributed.app import celery_app, redis_url
from doctown.errors import ConfigurationError


def test_a_dead_worker_strands_one_shard_and_a_running_one_is_never_taken_twice() -> None:
    settings = load_settings(
        doctown_redis_url="redis://127.0.0.1:6399/0", doctown_shard_timeout=120
    )
    conf = celery_app(settings).conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] > settings.doctown_shard_timeout
    assert conf.accept_content == ["json"] and conf.task_serializer == "json"


def test_the_redis_url_is_required_and_checked() -> None:
    with pytest.raises(ConfigurationError, match="set DOCTOWN_REDIS_URL"):
        redis_url(load_settings())
    with pytest.raises(ConfigurationError, match="redis://"):
        redis_url(load_settings(doctown_redis_url="http://127.0.0.1:6379"))
    secret = "redis://:hunter2-password@127.0.0.1:6379/0"
    settings = load_settings(doctown_redis_url=secret)
    assert redis_url(settings) == secret and "hunter2" not in repr(settings)
