"""The worker's key for a view pass: what the pass opens, what it does not, and how a wrong
key, a forged pass or a form pointing elsewhere are refused. Real HTTP, the worker in-process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest

from doctown.server.jobs.records import JobSource
from doctown.server.viewpass import COOKIE_NAME, ViewPass
from doctown.server.web.session import local_path
from tests.docpack.factory import write_sample
from tests.server.web.conftest import seed_job

KEY = "wk-session-0c7d1e2f"
JOB = "a" * 32
SAME_SITE = {"Sec-Fetch-Site": "same-origin"}


@pytest.fixture
def keyed(worker_at: Callable[..., httpx2.Client], jobs_dir: str) -> httpx2.Client:
    seed_job(
        Path(jobs_dir),
        JOB,
        state="succeeded",
        source=JobSource(kind="upload", name="shop.zip"),
        pack=write_sample,
    )
    return worker_at(worker_api_key=KEY)


def test_pages_without_key_or_pass_answer_with_the_key_page(keyed: httpx2.Client) -> None:
    for path in (
        "/",
        "/library",
        f"/jobs/{JOB}/watch",
        f"/jobs/{JOB}/view/",
        f"/jobs/{JOB}/view/files",
    ):
        page = keyed.get(path)
        assert page.status_code == 401, path
        assert page.headers["www-authenticate"] == "Bearer"
        assert "This worker needs its key" in page.text
        assert f'name="next" value="{path}"' in page.text
        assert "shop.zip" not in page.text  # nothing of the jobs
    assert keyed.get(f"/jobs/{JOB}/docpack").status_code == 401
    assert keyed.get("/jobs").status_code == 401
    # The static files hold no data: the key page needs them.
    assert keyed.get("/static/app.js").status_code == 200


def test_the_key_as_a_bearer_header_opens_everything(keyed: httpx2.Client) -> None:
    bearer = {"Authorization": f"Bearer {KEY}"}
    for path in ("/", "/library", f"/jobs/{JOB}/view/", f"/jobs/{JOB}/docpack", "/jobs"):
        assert keyed.get(path, headers=bearer).status_code == 200, path


def test_a_form_with_the_key_gets_a_pass_that_opens_pages_and_downloads_only(
    keyed: httpx2.Client,
) -> None:
    wrong = keyed.post("/session", data={"key": "nope", "next": "/library"}, headers=SAME_SITE)
    assert wrong.status_code == 401
    assert "That is not this worker&#39;s key" in wrong.text
    assert 'name="next" value="/library"' in wrong.text
    assert COOKIE_NAME not in wrong.cookies

    right = keyed.post("/session", data={"key": KEY, "next": "/library"}, headers=SAME_SITE)
    assert right.status_code == 303 and right.headers["location"] == "/library"
    cookie = right.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Max-Age" not in cookie and "expires" not in cookie.lower()  # ends with the session
    assert KEY not in cookie
    assert keyed.cookies[COOKIE_NAME] == right.cookies[COOKIE_NAME]  # the client keeps it
    for path in (
        "/",
        "/library",
        f"/jobs/{JOB}/watch",
        f"/jobs/{JOB}/view/",
        f"/jobs/{JOB}/docpack",
    ):
        assert keyed.get(path).status_code == 200, path
    # The API and everything that spends or changes still need the key itself.
    assert keyed.get("/jobs").status_code == 401
    assert keyed.get(f"/jobs/{JOB}").status_code == 401
    assert keyed.get(f"/jobs/{JOB}/events").status_code == 401
    assert keyed.post("/jobs", json={"path": "/x"}).status_code == 401
    assert keyed.delete(f"/jobs/{JOB}").status_code == 401


def test_the_script_offers_the_key_as_a_header_and_gets_204(keyed: httpx2.Client) -> None:
    wrong = keyed.post("/session", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "not this worker's key" in wrong.json()["detail"]
    right = keyed.post("/session", headers={"Authorization": f"Bearer {KEY}"})
    assert right.status_code == 204 and COOKIE_NAME in right.cookies
    dropped = keyed.delete("/session")
    assert dropped.status_code == 204
    assert f'{COOKIE_NAME}=""' in dropped.headers["set-cookie"]


def test_forged_expired_and_foreign_passes_open_nothing(keyed: httpx2.Client) -> None:
    for token in (
        ViewPass("another key").issue(),
        ViewPass(KEY).issue(0),  # expired long ago
        ViewPass(KEY).issue().split(".")[0] + ".forged",
    ):
        keyed.cookies.set(COOKIE_NAME, token)
        assert keyed.get("/library").status_code == 401


def test_a_form_cannot_send_the_reader_to_another_site(keyed: httpx2.Client) -> None:
    for target in ("//evil.example/x", "https://evil.example", "/\\evil.example", "library"):
        answer = keyed.post("/session", data={"key": KEY, "next": target}, headers=SAME_SITE)
        assert answer.headers["location"] == "/", target
    assert local_path("/jobs/x/view/symbol/a?b=1") == "/jobs/x/view/symbol/a?b=1"
    assert local_path("/\x00") == "/"


def test_another_site_cannot_post_the_key_form(keyed: httpx2.Client) -> None:
    refused = keyed.post("/session", data={"key": KEY}, headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403 and COOKIE_NAME not in refused.cookies


def test_without_a_key_every_page_is_open_and_session_has_nothing_to_do(
    worker_at: Callable[..., httpx2.Client],
) -> None:
    client = worker_at()
    assert client.get("/library").status_code == 200
    opened = client.post("/session", headers={"Authorization": "Bearer anything"})
    assert opened.status_code == 204 and COOKIE_NAME not in opened.cookies
