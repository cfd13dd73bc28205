"""A finished job's pack under `/jobs/{id}/view/`: the viewer's pages under the prefix, the
way back to the library, what has no pack, a pack that fails verification, and the few
packs kept open. Real HTTP, the worker in-process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx2

from doctown.server.jobs.records import JobSource
from doctown.server.web.viewer import OPEN_PACKS
from tests.docpack.factory import write_sample
from tests.server.web.conftest import seed_job

Start = Callable[..., httpx2.Client]
SHOP = JobSource(kind="upload", name="shop.zip")


def job(number: int) -> str:
    return f"{number:032x}"


def test_the_pack_is_read_under_the_job_with_a_way_back_to_the_library(
    worker_at: Start, jobs_dir: str
) -> None:
    seed_job(Path(jobs_dir), job(1), state="partial", source=SHOP, pack=write_sample)
    client = worker_at()
    base = f"/jobs/{job(1)}/view"
    page = client.get(f"{base}/symbol/py:shop.cart.Cart.total")
    assert page.status_code == 200
    assert "Sums the prices of the items, less any discount." in page.text
    assert f'href="{base}/symbol/py:shop.pricing.compute_discount"' in page.text
    assert '<a class="up" href="/library">Library</a>' in page.text
    assert page.headers["content-security-policy"].endswith("frame-ancestors 'none'")
    assert client.get(f"{base}/static/layout.css").status_code == 200
    found = client.get(f"{base}/search.json", params={"q": "discount"}).json()
    assert found["results"] and all(
        r["url"].startswith(f"{base}/symbol/") for r in found["results"]
    )
    assert client.get(base, follow_redirects=True).url.path == f"{base}/"
    assert client.post(f"{base}/").status_code == 405  # read-only


def test_builds_without_a_pack_say_why(worker_at: Start, jobs_dir: str) -> None:
    seed_job(Path(jobs_dir), job(2), state="failed", source=SHOP, error="No Python files.")
    client = worker_at()
    failed = client.get(f"/jobs/{job(2)}/view/")
    assert failed.status_code == 409
    assert "This build is failed: it has no pack to read (No Python files.)" in failed.text
    missing = client.get(f"/jobs/{job(3)}/view/files")
    assert missing.status_code == 404 and "This worker has no job" in missing.text


def test_a_pack_that_fails_verification_is_refused_with_the_readers_message(
    worker_at: Start, jobs_dir: str
) -> None:
    seed_job(Path(jobs_dir), job(4), state="succeeded", source=SHOP, pack=write_sample)
    (Path(jobs_dir) / job(4) / "docpack").write_bytes(b"not a zip")
    client = worker_at()
    refused = client.get(f"/jobs/{job(4)}/view/")
    assert refused.status_code == 500
    assert "This pack cannot be shown" in refused.text and "not a zip" in refused.text.lower()
    # Not kept: once the file is right again, the next request reads it.
    write_sample(Path(jobs_dir) / job(4) / "docpack")
    assert client.get(f"/jobs/{job(4)}/view/").status_code == 200


def test_the_packs_read_last_stay_open(worker_at: Start, jobs_dir: str) -> None:
    for number in range(OPEN_PACKS + 1):
        seed_job(Path(jobs_dir), job(number), state="succeeded", source=SHOP, pack=write_sample)
    client = worker_at()
    assert client.get(f"/jobs/{job(0)}/view/").status_code == 200
    # Spoiled on disk after it was opened: the open pack is still read.
    (Path(jobs_dir) / job(0) / "docpack").write_bytes(b"spoiled")
    assert client.get(f"/jobs/{job(0)}/view/files").status_code == 200
    for number in range(1, OPEN_PACKS + 1):
        assert client.get(f"/jobs/{job(number)}/view/").status_code == 200
    # Four others read since: it was closed, and opening it again finds the damage.
    assert client.get(f"/jobs/{job(0)}/view/").status_code == 500
