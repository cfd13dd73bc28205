"""`POST /jobs` with `"distributed": true` on `doctown serve`: the job's shards go to workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from doctown.docpack import read_docpack
from tests.distributed.processes import Cluster
from tests.overviews.conftest import overview_requests
from tests.pipeline.conftest import write_repo
from tests.server.routes.test_jobs import Worker


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "repos" / "shop-repo")


def serve(cluster: Cluster, repo: Path, jobs: Path, **overrides: object) -> Worker:
    return Worker(
        cluster.server, jobs_allowed_roots=str(repo.parent), jobs_dir=str(jobs), **overrides
    )


def test_a_distributed_job_is_documented_by_the_workers(
    three: Cluster, repo: Path, tmp_path: Path
) -> None:
    server = serve(three, repo, tmp_path / "jobs", doctown_redis_url=three.redis_url)
    try:
        accepted = server.submit(json={"path": str(repo), "distributed": True})
        assert accepted["options"]["distributed"] is True
        job = server.wait(accepted["id"], "succeeded", "partial", "failed", timeout=60)
        assert job["state"] == "succeeded", job
        # The symbols of a file share a request (this server groups; the workers answer).
        requests = len(three.server.summary_requests())
        assert job["counts"]["documented"] == 11 and job["usage"]["requests"] == requests < 11
        pack = server.client.get(f"/jobs/{job['id']}/docpack")
        (tmp_path / "shop.docpack").write_bytes(pack.content)
        symbols = read_docpack(tmp_path / "shop.docpack").symbols
        assert sum(s.documentation.status == "documented" for s in symbols) == 11
        assert sorted(three.server.symbols_asked()) == sorted(
            s.name for s in symbols if s.documentation.status == "documented"
        )
        assert overview_requests(three.server)
        assert any(f"shard of build {job['id']}-" in w.text() for w in three.alive())
    finally:
        server.stop()


def test_a_distributed_job_on_a_server_without_redis_is_refused(
    cluster: Cluster, repo: Path, tmp_path: Path
) -> None:
    server = serve(cluster, repo, tmp_path / "jobs")
    try:
        response = server.client.post("/jobs", json={"path": str(repo), "distributed": True})
        assert response.status_code == 503
        assert "DOCTOWN_REDIS_URL" in response.text
    finally:
        server.stop()
