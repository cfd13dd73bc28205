"""The job routes over real HTTP: uvicorn on loopback, backed by the fake OpenAI server."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import time
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.staticfiles import StaticFiles

from doctown import events
from doctown.docpack import read_docpack
from doctown.server.app import create_app
from doctown.server.jobs.records import Job, JobSource
from doctown.server.jobs.store import JobStore
from doctown.testing import FakeOpenAIServer, ThreadedServer
from tests.conftest import openai_settings
from tests.overviews.conftest import overview_requests

FILES = {
    "shapes/__init__.py": '"""Shapes and their areas."""\n',
    "shapes/circle.py": (
        "import math\n\n\n"
        "class Circle:\n"
        "    def __init__(self, radius: float) -> None:\n"
        "        self.radius = radius\n\n"
        "    def area(self) -> float:\n"
        "        return math.pi * self.radius**2\n\n"
        "    def _check(self) -> bool:\n"
        "        return self.radius >= 0\n"
    ),
    "shapes/total.py": (
        "from shapes.circle import Circle\n\n\n"
        "def total_area(circles: list[Circle]) -> float:\n"
        '    """Add up the areas of many circles at once."""\n'
        "    return sum(circle.area() for circle in circles)\n"
    ),
}


class Worker:
    """One worker app on loopback and a client bound to it."""

    def __init__(self, server: FakeOpenAIServer, **overrides: Any) -> None:
        self.server = ThreadedServer(create_app(openai_settings(server, **overrides))).start()
        self.client = httpx2.Client(base_url=self.server.url, timeout=30)

    def submit(self, **kwargs: Any) -> dict[str, Any]:
        response = self.client.post("/jobs", **kwargs)
        assert response.status_code == 202, response.text
        body: dict[str, Any] = response.json()
        return body

    def wait(self, job_id: str, *states: str, timeout: float = 20) -> dict[str, Any]:
        """Poll the job until it reaches one of `states`."""
        deadline = time.monotonic() + timeout
        while True:
            job: dict[str, Any] = self.client.get(f"/jobs/{job_id}").json()
            if job["state"] in states:
                return job
            assert time.monotonic() < deadline, job
            time.sleep(0.02)

    def wait_documented(self, job_id: str, at_least: int) -> None:
        """Poll the running job until it has documented `at_least` symbols."""
        while self.wait(job_id, "running")["counts"]["documented"] < at_least:
            time.sleep(0.02)

    def events(self, job_id: str, **headers: str) -> list[tuple[int, dict[str, Any]]]:
        with self.client.stream("GET", f"/jobs/{job_id}/events", headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            return list(parse_sse(response.iter_lines()))

    def stop(self) -> None:
        self.client.close()
        self.server.stop()


def parse_sse(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(id, event) for each Server-Sent Event; comments (keep-alive pings) are skipped."""
    event_id, data = 0, []
    for line in lines:
        if line.startswith("id: "):
            event_id = int(line.removeprefix("id: "))
        elif line.startswith("data: "):
            data.append(line.removeprefix("data: "))
        elif not line and data:
            yield event_id, json.loads("\n".join(data))
            event_id, data = 0, []


@pytest.fixture
def worker(fake_openai: FakeOpenAIServer) -> Iterator[Any]:
    started: list[Worker] = []

    def start(**overrides: Any) -> Worker:
        started.append(Worker(fake_openai, **overrides))
        return started[-1]

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repos" / "shapes-repo"
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def zipped(root: Path) -> bytes:
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as bundle:
        for path in sorted(root.rglob("*.py")):
            bundle.write(path, f"{root.name}/{path.relative_to(root)}")
    return packed.getvalue()


def tarred(root: Path) -> bytes:
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz") as bundle:
        bundle.add(root, arcname=root.name)
    return packed.getvalue()


def upload(data: bytes, name: str = "shapes-repo.zip", **fields: str) -> dict[str, Any]:
    return {"files": {"archive": (name, data, "application/octet-stream")}, "data": fields}


def test_an_uploaded_zip_builds_a_docpack_that_reads_back(
    worker: Any, repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    running = worker()
    response = running.client.post("/jobs", **upload(zipped(repo)))
    assert response.status_code == 202
    accepted = response.json()
    assert accepted["state"] == "queued" and accepted["source"] == {
        "kind": "upload",
        "name": "shapes-repo.zip",
    }
    assert response.headers["location"] == accepted["links"]["job"] == f"/jobs/{accepted['id']}"

    job = running.wait(accepted["id"], "succeeded", "partial", "failed")
    assert job["state"] == "succeeded" and job["error"] is None
    counts = job["counts"]
    assert counts["symbols"] > 3 and counts["documented"] == counts["symbols"]
    assert counts["failed"] == counts["remaining"] == counts["cached"] == 0
    assert job["usage"]["input_tokens"] > 0 and job["usage"]["cost"] > 0
    assert job["usage"]["requests"] == len(fake_openai.summary_requests()) < counts["symbols"]
    assert len(fake_openai.symbols_asked()) == counts["symbols"]  # a file's symbols share one
    assert job["created_at"] <= job["started_at"] <= job["finished_at"]

    download = running.client.get(accepted["links"]["docpack"])
    assert download.status_code == 200
    assert 'filename="shapes-repo.docpack"' in download.headers["content-disposition"]
    (tmp_path / "out.docpack").write_bytes(download.content)
    pack = read_docpack(tmp_path / "out.docpack")
    assert pack.manifest.docpack_id == job["docpack_id"]
    assert pack.manifest.statistics.documented_count == counts["symbols"]
    assert {symbol.file_path for symbol in pack.symbols} >= {"shapes/circle.py"}


def test_a_tar_gz_upload_takes_the_build_options(
    worker: Any, repo: Path, fake_openai: FakeOpenAIServer
) -> None:
    running = worker()
    fields = {"include_private": "true", "docstrings": "reuse", "limit": "4", "max_cost": "0.5"}
    accepted = running.submit(**upload(tarred(repo), "shapes-repo.tar.gz", **fields))
    assert accepted["options"] == {
        "include_private": True,
        "include_tests": False,
        "docstrings": "reuse",
        "limit": 4,
        "max_cost": 0.5,
        "ref": None,
        "distributed": False,
        "overviews": True,
    }
    job = running.wait(accepted["id"], "succeeded", "partial", "failed")
    assert job["state"] == "succeeded"
    counts = job["counts"]
    assert counts["symbols"] == 4 and counts["reused"] + counts["documented"] == 4
    assert overview_requests(fake_openai)  # the job's pack has its overviews, after summaries
    assert len(fake_openai.symbols_asked()) == counts["documented"]


def test_a_path_job_builds_from_an_allowed_folder(worker: Any, repo: Path) -> None:
    running = worker(jobs_allowed_roots=str(repo.parent))
    accepted = running.submit(json={"path": str(repo), "limit": 2, "include_tests": True})
    assert accepted["source"] == {"kind": "path", "name": str(repo)}
    job = running.wait(accepted["id"], "succeeded", "partial", "failed")
    assert job["state"] == "succeeded" and job["counts"]["documented"] == 2
    download = running.client.get(f"/jobs/{job['id']}/docpack")
    assert download.status_code == 200
    (repo.parent / "path-job.docpack").write_bytes(download.content)
    recipe = read_docpack(repo.parent / "path-job.docpack").content.nodes.recipe
    # Unset options resolve as `doctown build` resolves them for this backend.
    assert recipe is not None and recipe.include_tests and recipe.docstrings == "context"


def test_paths_outside_the_allowed_roots_are_refused_with_403(
    worker: Any, repo: Path, tmp_path: Path
) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "link").symlink_to(repo)
    running = worker(jobs_allowed_roots=str(allowed))
    for path in (repo, allowed / "link", allowed / ".." / "repos" / repo.name):
        response = running.client.post("/jobs", json={"path": str(path)})
        assert response.status_code == 403, path
        assert "outside the folders JOBS_ALLOWED_ROOTS allows" in response.json()["detail"]
    closed = worker().client.post("/jobs", json={"path": str(repo)})
    assert closed.status_code == 403 and "set JOBS_ALLOWED_ROOTS" in closed.json()["detail"]


def test_bad_requests_get_a_clear_4xx(worker: Any, repo: Path) -> None:
    running = worker(jobs_allowed_roots=str(repo.parent), jobs_max_upload_bytes=10_000)
    post = running.client.post

    def detail(response: httpx2.Response, code: int) -> str:
        assert response.status_code == code, response.text
        body = response.json()
        return str(body.get("message") or body["detail"])

    assert "neither a .zip nor a .tar.gz" in detail(post("/jobs", **upload(b"plain text")), 422)
    assert "Give exactly one source" in detail(post("/jobs", json={"limit": 3}), 422)
    both = upload(zipped(repo), path=str(repo))
    assert "got archive, path" in detail(post("/jobs", **both), 422)
    assert "docstrings" in detail(post("/jobs", json={"path": str(repo), "docstrings": "x"}), 422)
    assert "limit" in detail(post("/jobs", **upload(zipped(repo), limit="many")), 422)
    assert "ref applies to git URLs" in detail(post("/jobs", json={"path": "/", "ref": "v1"}), 422)
    assert "not valid JSON" in detail(
        post("/jobs", content=b"{", headers={"content-type": "application/json"}), 422
    )
    assert "multipart/form-data" in detail(post("/jobs", content=b"path=/srv"), 415)
    big = upload(b"0" * 20_000, "big.zip")
    assert "JOBS_MAX_UPLOAD_BYTES (10000 bytes)" in detail(post("/jobs", **big), 413)
    assert "no job 'nope'" in detail(running.client.get("/jobs/nope"), 404)
    assert running.client.get("/jobs/nope/events").status_code == 404


def test_an_unsafe_archive_fails_the_job_with_the_reason(worker: Any) -> None:
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as bundle:
        bundle.writestr("../escape.py", "x = 1\n")
    running = worker()
    accepted = running.submit(**upload(packed.getvalue(), "evil.zip"))
    job = running.wait(accepted["id"], "failed", "succeeded")
    assert job["state"] == "failed" and job["error"]["type"] == "input_error"
    assert "unsafe member name" in job["error"]["message"]
    refused = running.client.get(f"/jobs/{job['id']}/docpack")
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith(f"Job {job['id']} failed without a docpack:")
    (_, last), *_ = reversed(running.events(job["id"]))
    assert (last["type"], last["status"]) == (events.JOB_COMPLETED, "failed")
    assert "unsafe member name" in last["payload"]["error"]["message"]


def test_the_event_stream_replays_then_follows_in_order(
    worker: Any, repo: Path, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.latency = 0.05
    running = worker()
    accepted = running.submit(**upload(zipped(repo)))
    live = running.events(accepted["id"])  # subscribed while the job is queued or running
    ids = [event_id for event_id, _ in live]
    assert ids == [event["sequence"] for _, event in live] == list(range(1, len(live) + 1))
    assert {event["job_id"] for _, event in live} == {accepted["id"]}
    types = [event["type"] for _, event in live]
    assert types[0].startswith("ingest.") and types[-1] == events.JOB_COMPLETED
    stages = [kind.split(".")[0] for kind in types[:-1]]
    assert stages == sorted(stages, key=["ingest", "assembly", "generation", "pack"].index)
    documented = types.count(events.GENERATION_SYMBOL_DOCUMENTED)
    assert documented == running.wait(accepted["id"], "succeeded")["counts"]["documented"]
    assert live[-1][1]["status"] == "success"

    assert running.events(accepted["id"]) == live  # a late subscriber gets the same stream
    resumed = running.events(accepted["id"], **{"Last-Event-ID": str(len(live) - 3)})
    assert resumed == live[-3:]


def test_the_docpack_is_409_until_the_job_is_done(
    worker: Any, repo: Path, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.latency = 0.3
    running = worker()
    accepted = running.submit(**upload(zipped(repo)))
    early = running.client.get(accepted["links"]["docpack"])
    assert early.status_code == 409
    assert "its docpack is ready once it finishes" in early.json()["detail"]
    running.wait(accepted["id"], "succeeded")
    assert running.client.get(accepted["links"]["docpack"]).status_code == 200


def test_every_jobs_route_needs_the_bearer_token(worker: Any, repo: Path) -> None:
    running = worker(worker_api_key="let-me-in")
    anonymous = running.client
    assert anonymous.post("/jobs", **upload(zipped(repo))).status_code == 401
    authorized = {"Authorization": "Bearer let-me-in"}
    accepted = running.submit(**upload(zipped(repo)), headers=authorized)
    for route in ("", "/events", "/docpack"):
        refused = anonymous.get(f"/jobs/{accepted['id']}{route}")
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    running.client.headers.update(authorized)
    assert running.wait(accepted["id"], "succeeded")["state"] == "succeeded"
    assert running.events(accepted["id"])[-1][1]["type"] == events.JOB_COMPLETED


def test_a_client_leaving_mid_stream_does_not_stop_the_job(
    worker: Any, repo: Path, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.latency = 0.1
    running = worker(max_concurrent_requests=2)
    accepted = running.submit(**upload(zipped(repo)))
    seen = []
    with running.client.stream("GET", accepted["links"]["events"]) as response:
        for _, event in parse_sse(response.iter_lines()):
            seen.append(event["type"])
            if event["type"] == events.GENERATION_SYMBOL_DOCUMENTED:
                break
    assert seen[0].startswith("ingest.") and seen[-1] == events.GENERATION_SYMBOL_DOCUMENTED
    assert running.client.get(accepted["links"]["job"]).json()["state"] == "running"
    job = running.wait(accepted["id"], "succeeded", "partial", "failed", "interrupted")
    assert job["state"] == "succeeded" and job["counts"]["remaining"] == 0


def test_jobs_beyond_the_limit_wait_their_turn(
    worker: Any, repo: Path, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.latency = 0.1
    running = worker(jobs_max_concurrent=1)
    first, second = (running.submit(**upload(zipped(repo))) for _ in range(2))
    running.wait(first["id"], "running")
    assert running.client.get(f"/jobs/{second['id']}").json()["state"] == "queued"
    finished = running.wait(first["id"], "succeeded")
    later = running.wait(second["id"], "succeeded")
    assert later["started_at"] >= finished["finished_at"]


def test_a_stopped_worker_marks_its_job_interrupted_and_a_resubmission_pays_nothing_twice(
    worker: Any, repo: Path, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.latency = 0.3
    first = worker(max_concurrent_requests=1)
    accepted = first.submit(**upload(zipped(repo)))
    first.wait_documented(accepted["id"], 2)
    first.stop()

    second = worker()
    job = second.wait(accepted["id"], "interrupted", timeout=0)
    assert "Submit it again" in job["error"]["message"] and job["finished_at"]
    paid = job["counts"]["documented"]
    assert paid >= 2 and job["counts"]["remaining"] > 0
    (_, last) = second.events(accepted["id"])[-1]
    assert (last["type"], last["status"]) == (events.JOB_COMPLETED, "interrupted")
    assert "Submit it again" in second.client.get(job["links"]["docpack"]).json()["detail"]

    fake_openai.latency = 0
    asked_before = len(fake_openai.symbols_asked())
    again = second.wait(second.submit(**upload(zipped(repo)))["id"], "succeeded")
    assert again["counts"]["cached"] >= paid
    assert len(fake_openai.symbols_asked()) - asked_before == (
        again["counts"]["symbols"] - again["counts"]["cached"]
    )


def test_jobs_a_dead_worker_left_running_read_interrupted_after_a_restart(
    worker: Any, jobs_dir: str
) -> None:
    store = JobStore(Path(jobs_dir) / "jobs.sqlite3")
    store.save(Job(id="a" * 32, state="running", source=JobSource(kind="upload", name="r.zip")))
    store.save(Job(id="b" * 32, state="queued", source=JobSource(kind="path", name="/srv/r")))
    store.close()
    folder = Path(jobs_dir) / ("a" * 32)
    folder.mkdir()
    started = events.Event(job_id="a" * 32, source="test", type="ingest.started.v1", sequence=1)
    (folder / "events.jsonl").write_text(started.to_json() + '\n{"torn')
    (folder / "upload").write_bytes(b"an archive that waited")

    running = worker()
    assert not (folder / "upload").exists()  # an interrupted job's upload is not kept
    for job_id in ("a" * 32, "b" * 32):
        job = running.client.get(f"/jobs/{job_id}").json()
        assert job["state"] == "interrupted" and "Submit it again" in job["error"]["message"]
    replay = running.events("a" * 32)
    assert [(event_id, event["type"]) for event_id, event in replay] == [
        (1, "ingest.started.v1"),
        (2, events.JOB_COMPLETED),
    ]


@pytest.fixture
def served_repo(repo: Path, tmp_path: Path) -> Iterator[str]:
    """`repo` committed and served over dumb HTTP on loopback; yields the clone URL."""
    served = tmp_path / "served"
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run([*git, "-C", str(repo), "add", "."], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-q", "-m", "shapes"], check=True)
    subprocess.run(
        ["git", "clone", "-q", "--bare", str(repo), str(served / "shapes.git")], check=True
    )
    subprocess.run(["git", "-C", str(served / "shapes.git"), "update-server-info"], check=True)
    with ThreadedServer(StaticFiles(directory=served), lifespan="off") as remote:
        yield f"{remote.url}/shapes.git"


def test_git_urls_need_the_setting_then_build_like_the_cli(
    worker: Any, served_repo: str, tmp_path: Path
) -> None:
    refused = worker().client.post("/jobs", json={"url": "https://example.com/r.git"})
    assert refused.status_code == 403 and "JOBS_ALLOW_GIT_URLS=true" in refused.json()["detail"]

    running = worker(jobs_allow_git_urls=True)
    local = running.client.post("/jobs", json={"url": f"file://{tmp_path}/served/shapes.git"})
    assert local.status_code == 422 and "remote git repository" in local.json()["detail"]
    accepted = running.submit(json={"url": served_repo, "ref": "main", "limit": 2})
    job = running.wait(accepted["id"], "succeeded", "failed")
    assert job["state"] == "succeeded", job["error"]
    assert job["source"] == {"kind": "git", "name": served_repo}
    download = running.client.get(job["links"]["docpack"])
    assert 'filename="shapes.docpack"' in download.headers["content-disposition"]


def test_credentials_in_a_git_url_are_used_but_never_kept_or_shown(
    worker: Any, served_repo: str, jobs_dir: str, tmp_path: Path
) -> None:
    running = worker(jobs_allow_git_urls=True)
    secret_url = served_repo.replace("://", "://builder:S3CRET-PASS@")
    accepted = running.submit(json={"url": secret_url, "ref": "main", "limit": 1})
    job = running.wait(accepted["id"], "succeeded", "failed")
    assert job["state"] == "succeeded", job["error"]
    assert job["source"]["name"] == served_repo
    (tmp_path / "out.docpack").write_bytes(running.client.get(job["links"]["docpack"]).content)
    assert read_docpack(tmp_path / "out.docpack").manifest.source.repo_url == served_repo

    missing = secret_url.replace("shapes.git", "missing.git")
    failed = running.wait(running.submit(json={"url": missing, "ref": "main"})["id"], "failed")
    assert "git clone failed" in failed["error"]["message"]
    running.stop()
    for path in Path(jobs_dir).rglob("*"):
        if path.is_file():
            assert b"S3CRET" not in path.read_bytes(), path
    assert "S3CRET" not in json.dumps(failed)


def test_malformed_requests_get_a_4xx_naming_the_field(worker: Any, repo: Path) -> None:
    running = worker(jobs_allowed_roots=str(repo.parent), jobs_allow_git_urls=True)

    def refused(body: bytes, field: str) -> None:
        response = running.client.post(
            "/jobs", content=body, headers={"content-type": "application/json"}
        )
        assert 400 <= response.status_code < 500, (response.status_code, response.text)
        payload = response.json()
        assert field in str(payload.get("message") or payload["detail"]), payload

    refused(b'{"path": "/srv/\xff\xfe"}', "UTF-8")
    refused(b'{"path": "/srv", "limit": ' + b"9" * 5_000 + b"}", "limit")
    refused(b"[" * 100_000 + b"]" * 100_000, "nested too deeply")
    refused(json.dumps({"path": f"{repo}\u0000/x"}).encode(), "path")
    refused(json.dumps({"path": "/" + "a" * 5_000}).encode(), "path")
    refused(json.dumps({"path": "/" + "a" * 300 + "/b"}).encode(), "path")
    refused(
        json.dumps({"url": "https://example.com/r.git", "ref": "--upload-pack=x"}).encode(), "ref"
    )
    refused(json.dumps({"url": "https://example.com/r .git"}).encode(), "url")


def test_corrupt_job_records_leave_the_worker_up_and_say_what_to_do(
    worker: Any, jobs_dir: str, repo: Path
) -> None:
    (Path(jobs_dir) / "jobs.sqlite3").write_bytes(b"not a database at all" * 200)
    running = worker()  # starts: /health and /generate do not depend on the job records
    assert running.client.get("/health").status_code == 200
    for response in (
        running.client.post("/jobs", **upload(zipped(repo))),
        running.client.get("/jobs/" + "a" * 32),
    ):
        assert response.status_code == 503, response.text
        detail = response.json()["detail"]
        assert f"{jobs_dir}/jobs.sqlite3 cannot be read" in detail
        assert "move the file aside" in detail


def test_jobs_are_listed_newest_first_a_page_at_a_time(worker: Any, repo: Path) -> None:
    running = worker()
    submitted = [running.submit(**upload(zipped(repo), limit="1"))["id"] for _ in range(3)]
    for job_id in submitted:
        running.wait(job_id, "succeeded")
    first = running.client.get("/jobs", params={"limit": 2}).json()
    assert [job["id"] for job in first["jobs"]] == submitted[::-1][:2]
    assert first["jobs"][0]["links"]["job"] == f"/jobs/{submitted[2]}"
    second = running.client.get(first["next"]).json()
    assert [job["id"] for job in second["jobs"]] == [submitted[0]] and second["next"] is None
    assert running.client.get("/jobs", params={"limit": 0}).status_code == 422
    unknown = running.client.get("/jobs", params={"before": "nope"})
    assert unknown.status_code == 422 and "no job 'nope'" in unknown.json()["detail"]


def test_a_queued_job_is_cancelled_at_once_and_the_queue_is_bounded(
    worker: Any, repo: Path, fake_openai: FakeOpenAIServer, jobs_dir: str
) -> None:
    fake_openai.latency = 0.3
    running = worker(jobs_max_concurrent=1, jobs_max_queued=1, max_concurrent_requests=1)
    first = running.submit(**upload(zipped(repo)))
    running.wait(first["id"], "running")
    queued = running.submit(**upload(zipped(repo)))
    full = running.client.post("/jobs", **upload(zipped(repo)))
    assert full.status_code == 429 and full.headers["retry-after"] == "30"
    assert "JOBS_MAX_QUEUED" in full.json()["detail"]

    cancelled = running.client.delete(f"/jobs/{queued['id']}")
    assert cancelled.status_code == 202 and cancelled.json()["state"] == "cancelled"
    assert not (Path(jobs_dir) / queued["id"] / "upload").exists()
    (_, last) = running.events(queued["id"])[-1]
    assert (last["type"], last["status"]) == (events.JOB_COMPLETED, "cancelled")
    assert running.client.post("/jobs", **upload(zipped(repo))).status_code == 202  # room again
    assert running.client.delete(f"/jobs/{queued['id']}").status_code == 409
    assert running.client.delete("/jobs/nope").status_code == 404


def test_cancelling_a_running_job_lets_requests_in_flight_finish_and_loses_nothing_paid(
    worker: Any, repo: Path, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.latency = 0.4
    # One symbol per request: more requests than slots, so some are still to send when the
    # job is cancelled (this small repository's files would fit in as many requests as slots).
    running = worker(max_concurrent_requests=2, doctown_group_size=1)
    accepted = running.submit(**upload(zipped(repo)))
    running.wait_documented(accepted["id"], 1)
    cancel = running.client.delete(f"/jobs/{accepted['id']}")
    assert cancel.status_code == 202
    job = running.wait(accepted["id"], "cancelled")
    assert job["error"]["type"] == "cancelled" and "costs nothing twice" in job["error"]["message"]
    paid = len(fake_openai.chat_requests())
    assert paid < job["counts"]["symbols"]  # it stopped asking
    assert job["counts"]["documented"] == paid  # every request sent was answered and kept
    assert running.client.get(accepted["links"]["docpack"]).status_code == 409

    fake_openai.latency = 0
    again = running.wait(running.submit(**upload(zipped(repo)))["id"], "succeeded")
    assert again["counts"]["cached"] == paid
    assert len(fake_openai.summary_requests()) == again["counts"]["symbols"]


def test_an_uploads_pack_names_the_upload_and_keeps_no_analysis_snapshot(
    worker: Any, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCTOWN_CACHE_DIR", str(tmp_path / "analysis"))
    running = worker(jobs_allowed_roots=str(repo.parent))
    for _ in range(2):
        job = running.wait(running.submit(**upload(zipped(repo), limit="1"))["id"], "succeeded")
    (tmp_path / "up.docpack").write_bytes(running.client.get(job["links"]["docpack"]).content)
    assert read_docpack(tmp_path / "up.docpack").manifest.source.path == "shapes-repo.zip"
    snapshots = tmp_path / "analysis" / "snapshots"
    assert not snapshots.exists() or list(snapshots.iterdir()) == []

    for _ in range(2):  # a folder on the worker keeps one snapshot, reused
        job = running.wait(running.submit(json={"path": str(repo), "limit": 1})["id"], "succeeded")
    assert len(list(snapshots.glob("*.snapshot"))) == 1
    (tmp_path / "path.docpack").write_bytes(running.client.get(job["links"]["docpack"]).content)
    assert read_docpack(tmp_path / "path.docpack").manifest.source.path == str(repo)


def test_a_path_swapped_for_a_link_after_submission_is_never_followed(
    worker: Any, repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("def leak():\n    return 'SECRET'\n")
    fake_openai.latency = 0.3
    running = worker(jobs_allowed_roots=str(repo.parent), jobs_max_concurrent=1)
    blocker = running.submit(**upload(zipped(repo)))
    running.wait(blocker["id"], "running")
    pinned = running.submit(json={"path": str(repo)})
    # While it waits, the folder is renamed and a link to a folder outside takes its place.
    repo.rename(repo.parent / "shapes-original")
    repo.symlink_to(outside)
    job = running.wait(pinned["id"], "succeeded", "partial", "failed", timeout=60)
    assert job["state"] == "succeeded", job["error"]
    (tmp_path / "p.docpack").write_bytes(running.client.get(job["links"]["docpack"]).content)
    files = {symbol.file_path for symbol in read_docpack(tmp_path / "p.docpack").symbols}
    assert "shapes/circle.py" in files and "secret.py" not in files
    assert all(
        "secret" not in request["body"]["messages"][-1]["content"].lower()
        for request in fake_openai.chat_requests()
    )


def test_a_folder_moved_out_of_the_allowed_roots_before_it_builds_is_refused(
    worker: Any, repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.latency = 0.3
    running = worker(jobs_allowed_roots=str(repo.parent), jobs_max_concurrent=1)
    blocker = running.submit(**upload(zipped(repo)))
    running.wait(blocker["id"], "running")
    waiting = running.submit(json={"path": str(repo)})
    repo.rename(tmp_path / "moved-away")
    job = running.wait(waiting["id"], "failed", "succeeded", timeout=60)
    assert job["state"] == "failed"
    assert "moved out of JOBS_ALLOWED_ROOTS" in job["error"]["message"]
