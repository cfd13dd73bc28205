"""One Redis, one fake OpenAI server and three `doctown worker` processes for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from doctown.testing import FakeOpenAIServer
from tests.conftest import TEST_KEY
from tests.distributed.processes import Cluster, running_redis

# Small shards and few requests in flight, so that a few dozen symbols make many shards and
# every worker has several. A shard may run 3 s; a dead worker's shard returns after 4.5 s.
# One symbol per request, so that requests count symbols; a test of its own sends groups.
WORKER_ENV = {
    "MAX_CONCURRENT_REQUESTS": "2",
    "DOCTOWN_SHARD_TIMEOUT": "3",
    "DOCTOWN_SHARD_SIZE": "6",
    "DOCTOWN_SHARDS_IN_FLIGHT": "4",
    "DOCTOWN_GROUP_SIZE": "1",
}


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("cluster")
    with (
        running_redis(folder) as url,
        FakeOpenAIServer(api_key=TEST_KEY, latency=0.05) as server,
    ):
        running = Cluster(url, server, folder, env=dict(WORKER_ENV))
        try:
            yield running
        finally:
            running.stop()


@pytest.fixture
def three(cluster: Cluster) -> Cluster:
    """The cluster with three live workers and nothing left from an earlier test."""
    cluster.keep(3)
    cluster.reset()
    cluster.server.latency = 0.05
    return cluster
