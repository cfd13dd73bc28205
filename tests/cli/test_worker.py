"""`doctown worker` refuses, with the fix in the message, what cannot work."""

from __future__ import annotations

from tests.cli.process import invoke
from tests.conftest import TEST_KEY
from tests.distributed.processes import free_port


def test_without_redis_the_worker_says_which_setting_to_give() -> None:
    result = invoke("worker")
    assert result.returncode == 1
    assert "set DOCTOWN_REDIS_URL" in result.stderr


def test_an_unreachable_redis_or_a_bad_model_is_refused_before_any_shard() -> None:
    env = {"OPENAI_API_KEY": TEST_KEY, "DOCTOWN_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    unreachable = invoke("worker", "--name", "w", env=env)
    assert unreachable.returncode == 1
    assert "Cannot reach Redis at DOCTOWN_REDIS_URL" in unreachable.stderr
    unpriced = invoke("worker", env={**env, "MODEL_NAME": "some-new-model"})
    assert unpriced.returncode == 1 and "INPUT_TOKEN_PRICE" in unpriced.stderr
    assert TEST_KEY not in unreachable.stderr + unpriced.stderr
