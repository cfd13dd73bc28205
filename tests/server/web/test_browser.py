"""The web app as people use it: Debian's Chromium, driven by Playwright, against `doctown
serve` in its own process with the fake OpenAI server.

Submit an upload and watch it build (progress live, a failure as it happens), open the pack,
find it in the library and download it; cancel a build; give the key when WORKER_API_KEY is
set; read the library and packs without JavaScript; follow every link; show hostile names
and packs as text. Screenshots at desktop and phone widths go to the test's folder.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest

from doctown.docpack import read_docpack
from doctown.server.jobs.records import JobSource
from doctown.testing import FakeOpenAIServer
from doctown.testing.replies import ok, refusal, stall
from tests.conftest import TEST_KEY
from tests.server.web.conftest import Served, project, seed_job, serving, the_symbol, zipped
from tests.site.browser import DESKTOP, PHONE, chromium, crawl, watch
from tests.site.hostile import IMAGE, LINK, SCRIPT, write_hostile_pack

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

LATENCY = 0.4
STALL = 5.0  # longer than every other request of a build together, on one request slot
WORKER_KEY = "wk-live-5f1c0e9a7b3d"
SEEDED_PACK = "seededhostilejob0000000000000001"
SEEDED_FAILURE = "seededhostilejob0000000000000002"
# Every value the watch page's counter shows, from its first draw: proof that it moves
# without a reload. An init script, so it is there before the page's own scripts run.
# A payload that runs sets window.pwned: the setter reports it as a console error, which the
# tests collect on every page they open.
TRAP = """Object.defineProperty(window, "pwned", { set() { console.error("pwned ran"); } });"""
RECORD_COUNTER = """
window.counterShown = [];
document.addEventListener("DOMContentLoaded", () => {
  const counter = document.getElementById("done");
  if (!counter) return;
  new MutationObserver(() => window.counterShown.push(Number(counter.textContent)))
    .observe(counter, { childList: true, characterData: true, subtree: true });
});
"""


def seed_hostile_jobs(jobs_dir: Path) -> None:
    """Two finished jobs, as an earlier worker would have left them, whose every text is a
    payload: one with the hostile pack, one that failed with a hostile reason."""
    seed_job(
        jobs_dir,
        SEEDED_PACK,
        state="succeeded",
        source=JobSource(kind="upload", name=f"{SCRIPT}.zip"),
        pack=write_hostile_pack,
    )
    seed_job(
        jobs_dir,
        SEEDED_FAILURE,
        state="failed",
        source=JobSource(kind="git", name=f"https://example.com/{LINK}"),
        error=f"Unsafe member {IMAGE}",
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(api_key=TEST_KEY) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_fake(fake: FakeOpenAIServer) -> None:
    fake.reset()
    fake.latency = LATENCY


@pytest.fixture(scope="module")
def served(fake: FakeOpenAIServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("serve")
    seed_hostile_jobs(folder / "jobs")
    # One symbol per request: the refused symbol and the stalled one are answered apart, so
    # the failure shows while the stall holds the build open (a refused group of a file's
    # symbols is asked again one by one, which would queue it behind the stall).
    with serving(fake, folder, MAX_CONCURRENT_REQUESTS="2", DOCTOWN_GROUP_SIZE="1") as running:
        yield running


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    yield context.new_page()
    context.close()


def upload(page, name: str, data: bytes) -> str:  # type: ignore[no-untyped-def]
    """Submit `data` as the archive `name` from the submit page; the new job's id."""
    page.set_input_files(
        "#archive", files=[{"name": name, "mimeType": "application/zip", "buffer": data}]
    )
    page.click("#submit-button")
    page.wait_for_url("**/jobs/*/watch")
    return str(page.url.split("/")[-2])


def number(page, selector: str) -> int:  # type: ignore[no-untyped-def]
    return int(page.locator(selector).inner_text().replace(",", ""))


def shoot(page, folder: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    """The page at desktop and phone widths, whole, in `folder`."""
    folder.mkdir(exist_ok=True)
    for width, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def test_submit_an_upload_watch_it_live_open_it_find_it_and_download_it(
    page, served: Served, fake: FakeOpenAIServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    fake.on(the_symbol("fragile_report"), refusal("The report cannot be summarised."))
    fake.on(the_symbol("slow_audit"), stall(STALL))
    page.add_init_script(RECORD_COUNTER)
    seen = watch(page)
    shots = tmp_path / "screenshots"

    page.goto(served.url + "/")
    # Only what the settings allow: uploads, no git URL or server folder by default.
    assert page.locator("fieldset.source").count() == 1
    assert page.locator("#url, #path, input[name=source]").count() == 0
    shoot(page, shots, "submit")
    job_id = upload(page, "warehouse.zip", zipped(project("warehouse")))
    page.evaluate("window.sameDocument = true")

    # The failure shows as it happens, while slow_audit still holds the build open.
    failure = page.locator("#failures li")
    expect(failure).to_contain_text("fragile_report", timeout=15_000)
    expect(failure).to_contain_text("refusal")
    expect(failure).to_contain_text("the model refused: The report cannot be summarised.")
    assert page.locator("#job-state").inner_text() == "running"
    assert page.locator("#stages [aria-current=step]").inner_text() == "Writing summaries"
    total = number(page, "#total")
    assert 0 < number(page, "#done") < total
    assert page.locator("#cost").inner_text().startswith("$0.0")
    assert page.locator("#outcome a").count() == 0
    shoot(page, shots, "watch-mid-build")

    expect(page.locator("#job-state")).to_have_text("partial", timeout=(STALL + 15) * 1000)
    assert page.evaluate("window.sameDocument")  # no reload: the page followed the stream
    shown = page.evaluate("window.counterShown")
    assert shown == sorted(shown) and shown[-1] == total and len(set(shown)) >= 4, shown
    assert number(page, "#failed") == 1 and number(page, "#documented") == total - 1
    expect(page.locator("#stages [aria-current=step]")).to_have_text("Done")
    assert page.locator("#cancel").is_hidden()
    # The overviews were written after the summaries, each one shown as it came.
    expect(page.locator("#log")).to_contain_text("overview of module:stock.py")
    assert page.locator("#stages [data-stage=overviews][data-passed]").count() == 1

    page.click("text=Read the documentation")
    page.wait_for_url(f"**/jobs/{job_id}/view/")
    assert page.locator("h1").inner_text() == "warehouse.zip"
    page.click("nav.nav >> text=Files")
    page.click("text=stock.py")
    file_page = page.locator("main").inner_text()
    assert "Documents the function slow_audit." in file_page
    assert "Not documented: the model refused: The report cannot be summarised." in file_page

    page.click("a.up")  # the viewer's way back to the app
    page.wait_for_url("**/library")
    entry = page.locator("li.job", has_text="warehouse.zip")
    assert entry.locator(".state").inner_text() == "partial"
    shoot(page, shots, "library")
    with page.expect_download() as downloading:
        entry.locator("text=Download .docpack").click()
    download = downloading.value
    assert download.suggested_filename == "warehouse.docpack"
    pack = read_docpack(Path(download.path()))  # verified: the pack the build wrote
    assert pack.manifest.statistics.failed_count == 1
    assert seen.errors == []
    assert all(url.startswith(served.url) for url in seen.requests)
    print(f"screenshots in {shots}")


def test_cancel_a_build_from_its_page(page, served: Served, fake: FakeOpenAIServer) -> None:  # type: ignore[no-untyped-def]
    fake.on(lambda prompt: True, stall(1.0))
    seen = watch(page)
    page.goto(served.url + "/")
    job_id = upload(page, "depot.zip", zipped(project("depot")))
    expect(page.locator("#stages [aria-current=step]")).to_have_text("Writing summaries")
    page.click("#cancel")
    expect(page.locator("#job-state")).to_have_text("cancelled", timeout=15_000)
    assert "cancelled" in page.locator("#job-error").inner_text()
    assert page.locator("#outcome a").count() == 0
    assert number(page, "#done") < number(page, "#total")
    job = httpx2.get(f"{served.url}/jobs/{job_id}").json()
    assert job["state"] == "cancelled"
    page.goto(served.url + "/library")
    entry = page.locator("li.job", has_text="depot.zip")
    assert entry.locator(".state").inner_text() == "cancelled"
    assert entry.locator("text=Download .docpack").count() == 0
    assert seen.errors == []


def test_every_link_of_the_app_opens_without_errors(
    page, served: Served, fake: FakeOpenAIServer
) -> None:  # type: ignore[no-untyped-def]
    fake.latency = 0.05
    built = httpx2.post(
        f"{served.url}/jobs", files={"archive": ("crawl.zip", zipped(project("crawl")))}
    ).json()
    page.goto(f"{served.url}/jobs/{built['id']}/watch")
    expect(page.locator("#job-state")).to_have_text("succeeded", timeout=30_000)
    seen = watch(page)
    statuses = crawl(
        page,
        served.url + "/",
        inside=lambda url: url.startswith(served.url),
        fetch=lambda url: url.endswith("/docpack"),
    )
    assert [url for url, status in statuses.items() if status != 200] == []
    opened = {urlsplit(url).path for url in statuses}
    assert {"/", "/library", f"/jobs/{built['id']}/watch", f"/jobs/{built['id']}/view/"} <= opened
    assert f"/jobs/{built['id']}/docpack" in opened
    assert any("/view/symbol/" in path for path in opened)
    assert seen.errors == []
    assert all(url.startswith(served.url) for url in seen.requests)


def test_hostile_names_summaries_and_packs_render_as_text(
    page, served: Served, fake: FakeOpenAIServer
) -> None:  # type: ignore[no-untyped-def]
    fake.latency = 0.05
    fake.on(the_symbol("fragile_report"), refusal(f"No {IMAGE}"))
    fake.on(lambda prompt: True, ok(f"Counts {SCRIPT} {IMAGE} [x]({LINK})"))
    page.add_init_script(TRAP)
    seen = watch(page)
    page.goto(served.url + "/")
    live = upload(page, f"{IMAGE}.zip", zipped(project("hostile")))
    expect(page.locator("#job-state")).to_have_text("partial", timeout=30_000)
    # Browsers send a file name's quotes as %22 (the HTML standard's multipart encoding).
    sent = IMAGE.replace('"', "%22") + ".zip"
    assert page.locator("h1").inner_text() == sent
    assert f"No {IMAGE}" in page.locator("#failures").inner_text()

    visited = crawl(
        page,
        f"{served.url}/library",
        inside=lambda url: (
            url.startswith(served.url)
            and any(part in url for part in ("/library", SEEDED_PACK, SEEDED_FAILURE, live))
        ),
        fetch=lambda url: url.endswith("/docpack"),
    )
    assert [url for url, status in visited.items() if status != 200] == []
    assert any(f"{SEEDED_PACK}/view/symbol/" in url for url in visited)
    page.goto(served.url + "/library")
    library = page.locator("main").inner_text()
    for shown in (f"{SCRIPT}.zip", sent, f"Unsafe member {IMAGE}", LINK):
        assert shown in library
    page.goto(f"{served.url}/jobs/{SEEDED_PACK}/view/clusters")
    assert SCRIPT in page.locator("main").inner_text()
    page.goto(f"{served.url}/jobs/{live}/view/")
    page.locator("#search-input").fill("counts")
    expect(page.locator("#search-results li[role=option]").first).to_contain_text(SCRIPT)
    assert [url for url in seen.requests if urlsplit(url).path == "/pwned"] == []
    assert seen.errors == []  # nothing ran, nothing was blocked


def test_the_library_and_packs_work_without_javascript(browser, served: Served) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False, accept_downloads=True)
    page = context.new_page()
    page.goto(served.url + "/library")
    entry = page.locator("li.job", has_text=f"{SCRIPT}.zip")
    entry.locator("text=Read").click()
    page.wait_for_url(f"**/{SEEDED_PACK}/view/")
    page.click("nav.nav >> text=Files")
    assert page.locator("main a").count() > 0
    page.go_back()
    page.go_back()
    with page.expect_download() as downloading:
        page.locator("li.job", has_text=f"{SCRIPT}.zip").locator("text=Download .docpack").click()
    assert read_docpack(Path(downloading.value.path())).manifest.docpack_id.startswith("sha256:")
    page.goto(f"{served.url}/jobs/{SEEDED_PACK}/watch")
    assert page.locator("#outcome a").count() == 2  # a finished build's links need no script
    context.close()


def test_the_key_is_asked_once_and_kept_for_the_session(
    browser, fake: FakeOpenAIServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    fake.latency = 0.05
    shelf = tmp_path / "repos" / "shelf"
    for name, text in project("shelf").items():
        (shelf / name).parent.mkdir(parents=True, exist_ok=True)
        (shelf / name).write_text(text)
    with serving(
        fake, tmp_path, WORKER_API_KEY=WORKER_KEY, JOBS_ALLOWED_ROOTS=str(shelf.parent)
    ) as keyed:
        context = browser.new_context(accept_downloads=True)
        page = context.new_page()
        seen = watch(page)
        response = page.goto(keyed.url + "/library")
        assert response.status == 401
        assert page.locator("h1").inner_text() == "This worker needs its key"
        shoot(page, tmp_path / "screenshots", "key")

        page.fill("#key-input", "not-the-key")
        page.click(".key-form button")
        expect(page.locator(".key-form .form-status")).to_have_text(
            "That is not this worker's key."
        )
        assert page.evaluate("sessionStorage.length") == 0
        page.fill("#key-input", WORKER_KEY)
        page.click(".key-form button")
        expect(page.locator("h1")).to_have_text("Library")  # back where the reader was going
        assert page.evaluate("sessionStorage.getItem('doctown.worker-key')") == WORKER_KEY

        # Kept for the session: another page, a build with its live events, its pack.
        page.goto(keyed.url + "/")
        job_id = upload(page, "keyed.zip", zipped(project("keyed")))
        expect(page.locator("#job-state")).to_have_text("succeeded", timeout=30_000)
        assert number(page, "#done") == number(page, "#total") > 0
        page.click("text=Read the documentation")
        assert page.locator("h1").inner_text() == "keyed.zip"
        page.go_back()
        with page.expect_download() as downloading:
            page.click("text=Download the .docpack")
        read_docpack(Path(downloading.value.path()))
        page.reload()
        assert page.locator("h1").inner_text() == "keyed.zip"

        # The pass cookie opens pages and downloads, never the API; it is not the key.
        (cookie,) = context.cookies()
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert WORKER_KEY not in cookie["value"]
        assert page.request.get(f"{keyed.url}/jobs/{job_id}").status == 401
        assert page.request.get(f"{keyed.url}/jobs/{job_id}/docpack").status == 200

        # A new tab has the pass but not the key: the first request that needs it asks. This
        # one names a folder on the worker, which the settings allow here.
        tab = context.new_page()
        tab.goto(keyed.url + "/")
        tab.check("input[name=source][value=path]")
        assert tab.locator("#archive").is_hidden() and tab.locator("#url").count() == 0
        tab.fill("#path", str(shelf))
        tab.click("#submit-button")
        dialog = tab.locator("#key-dialog")
        expect(dialog).to_be_visible()
        dialog.locator("#key-input").fill(WORKER_KEY)
        dialog.locator("button[type=submit]").click()
        tab.wait_for_url("**/watch")  # the submission went on once the key was given
        assert tab.locator("h1").inner_text() == str(shelf)
        expect(tab.locator("#job-state")).to_have_text("succeeded", timeout=30_000)
        tab.close()

        # Another session is asked again; forgetting the key asks again here too.
        other = browser.new_context()
        assert other.new_page().goto(keyed.url + "/").status == 401
        other.close()
        page.click("#forget-key")
        page.wait_for_url(keyed.url + "/")
        assert page.locator("h1").inner_text() == "This worker needs its key"
        assert page.evaluate("sessionStorage.length") == 0

        # Without JavaScript, the key goes in a form post and the library and packs open.
        plain = browser.new_context(java_script_enabled=False)
        bare = plain.new_page()
        bare.goto(keyed.url + "/library")
        bare.fill("#key-input", WORKER_KEY)
        bare.click(".key-form button")
        bare.locator("li.job", has_text="keyed.zip").locator("text=Read").click()
        assert bare.locator("h1").inner_text() == "keyed.zip"
        plain.close()
        context.close()
        log = keyed.log.read_text()
    # The key is never in a URL, nor in the worker's log.
    assert not [url for url in seen.requests if WORKER_KEY in url]
    assert WORKER_KEY not in log
    # The only complaints are the browser's own notes of the wrong key's 401s.
    assert all(re.search(r"\b401\b", error) for error in seen.errors), seen.errors
