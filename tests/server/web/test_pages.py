"""The app's pages as the server renders them: what the settings allow, the library's order
and pages, a build's page, escaping and headers. Real HTTP, the worker in-process."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx2

from doctown.server.jobs.records import JobSource
from doctown.site import CONTENT_SECURITY_POLICY
from tests.docpack.factory import write_sample
from tests.server.web.conftest import SEEDED_AT, seed_job
from tests.site.hostile import IMAGE, SCRIPT

Start = Callable[..., httpx2.Client]


def test_the_submit_page_offers_only_what_the_settings_allow(
    worker_at: Start, tmp_path: Path
) -> None:
    plain = worker_at().get("/").text
    assert 'id="archive"' in plain and 'data-max-bytes="200000000"' in plain
    assert 'id="url"' not in plain and 'id="path"' not in plain
    assert 'name="source"' not in plain  # one way to send: no choice to make
    assert (
        'name="distributed"' not in plain
        and 'id="max_cost" name="max_cost" type="number" min="0" step="any" placeholder="no cap"'
        in plain
    )

    roots = tmp_path / "repos"
    roots.mkdir()
    wide = worker_at(
        jobs_allow_git_urls=True,
        jobs_allowed_roots=str(roots),
        jobs_max_cost="0.50",
        jobs_max_upload_bytes=5_000_000,
        doctown_redis_url="redis://127.0.0.1:1/0",
    ).get("/")
    assert wide.status_code == 200
    page = wide.text
    assert re.findall(r'name="source" value="(\w+)"', page) == ["archive", "url", "path"]
    assert 'id="url"' in page and 'id="ref"' in page
    assert f'<option value="{roots.resolve()}/">' in page
    assert 'max="0.50"' in page and 'data-max-bytes="5000000"' in page
    assert 'name="distributed"' in page
    assert "up to 5 MB" in page


def test_pages_carry_the_strict_policy_and_keep_the_referrer_at_home(worker_at: Start) -> None:
    page = worker_at().get("/library")
    assert page.headers["content-security-policy"].startswith(CONTENT_SECURITY_POLICY)
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    # A same-origin form post then carries the worker's own Origin, which the guard accepts.
    assert page.headers["referrer-policy"] == "same-origin"
    assert not re.search(r"<[^>]+ on\w+=", page.text)  # no inline handlers
    assert "<script>" not in page.text and "style=" not in page.text


def test_the_library_lists_builds_newest_first_a_page_at_a_time(
    worker_at: Start, jobs_dir: str
) -> None:
    for day in range(5):
        seed_job(
            Path(jobs_dir),
            f"{day:032d}",
            state="succeeded" if day % 2 else "failed",
            source=JobSource(kind="upload", name=f"day{day}.zip"),
            pack=write_sample if day % 2 else None,
            error=None if day % 2 else f"Day {day} went wrong.",
            created_at=SEEDED_AT + timedelta(days=day),
        )
    client = worker_at()
    first = client.get("/library?limit=2").text
    assert re.findall(r"day\d\.zip", first) == ["day4.zip", "day3.zip"]
    assert "Day 4 went wrong." in first
    assert f'href="/jobs/{3:032d}/view/"' in first and f'href="/jobs/{3:032d}/docpack"' in first
    assert f'href="/jobs/{4:032d}/view/"' not in first  # failed: nothing to read
    older = re.search(r'href="(/library\?[^"]+)">Older builds', first)
    assert older is not None and "Newest builds" not in first
    second = client.get(older.group(1).replace("&amp;", "&")).text
    assert re.findall(r"day\d\.zip", second) == ["day2.zip", "day1.zip"]
    assert "Newest builds" in second
    assert client.get("/library?before=nope").status_code == 404


def test_a_builds_page_shows_where_it_stands_and_links_to_what_exists(
    worker_at: Start, jobs_dir: str
) -> None:
    seed_job(
        Path(jobs_dir),
        "b" * 32,
        state="succeeded",
        source=JobSource(kind="git", name="https://example.com/shop.git"),
        pack=write_sample,
    )
    client = worker_at()
    page = client.get(f"/jobs/{'b' * 32}/watch").text
    assert 'data-state="succeeded"' in page and "git repository" in page
    assert '<li data-stage="done" aria-current="step">' in page
    assert f'href="/jobs/{"b" * 32}/view/"' in page and f'href="/jobs/{"b" * 32}/docpack"' in page
    missing = client.get("/jobs/nope/watch")
    assert missing.status_code == 404 and "This worker has no job &#39;nope&#39;." in missing.text


def test_hostile_job_texts_are_escaped(worker_at: Start, jobs_dir: str) -> None:
    seed_job(
        Path(jobs_dir),
        "c" * 32,
        state="failed",
        source=JobSource(kind="upload", name=f"{SCRIPT}.zip"),
        error=IMAGE,
    )
    client = worker_at()
    for path in ("/library", f"/jobs/{'c' * 32}/watch"):
        page = client.get(path).text
        assert SCRIPT not in page and IMAGE not in page, path
        assert "&lt;script&gt;window.pwned=1&lt;/script&gt;.zip" in page, path
        assert "&#34;&gt;&lt;img src=/pwned onerror=&#34;window.pwned=1&#34;&gt;" in page, path
