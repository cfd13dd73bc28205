"""`doctown view` and `doctown export` as a user runs them, in real subprocesses."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2

from doctown.testing import FakeOpenAIServer
from tests.cli.process import doctown, invoke
from tests.cli.test_generate import openai_env
from tests.cli.test_status_command import change_total
from tests.docpack.factory import read_entries, rezip, write_sample
from tests.pipeline.conftest import write_repo


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tampered(tmp_path: Path) -> Path:
    write_sample(tmp_path / "shop.docpack")
    entries = read_entries(tmp_path / "shop.docpack")
    entries["nodes.json"] = entries["nodes.json"].replace(b"Adds a quantity", b"Deletes all")
    return rezip(tmp_path / "tampered.docpack", entries.items())


@dataclass
class Viewer:
    """A running `doctown view`: where it answers, and what it printed once it stopped."""

    base: str
    stderr: str = ""


@contextmanager
def viewing(pack: Path, *options: str) -> Iterator[Viewer]:
    """`doctown view PACK OPTIONS` on a free port, from when it answers until it is stopped."""
    port = free_port()
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("DOCTOWN_DEBUG", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "doctown", "view", str(pack), "--port", str(port), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    viewer = Viewer(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx2.get(f"{viewer.base}/")
                break
            except httpx2.TransportError:
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline
                time.sleep(0.1)
        yield viewer
    finally:
        process.terminate()
        viewer.stderr = process.communicate(timeout=10)[1]


def test_view_serves_the_pack_on_loopback(tmp_path: Path) -> None:
    write_sample(tmp_path / "shop.docpack")
    with viewing(tmp_path / "shop.docpack") as viewer:
        base = viewer.base
        response = httpx2.get(f"{base}/symbol/py:shop.cart.Cart.total")
        assert response.status_code == 200 and "Sums the prices" in response.text
        # Loopback only, unless --host says otherwise.
        port = base.rsplit(":", 1)[1]
        listening = subprocess.run(
            ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
        )
        assert [line.split()[3] for line in listening.stdout.splitlines()] == [f"127.0.0.1:{port}"]
    assert f"9 symbols on {base}/" in viewer.stderr


def test_view_marks_each_summary_fresh_or_stale_against_a_source(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    repo = write_repo(tmp_path / "shop-repo")
    pack = tmp_path / "shop.docpack"
    made = invoke(
        "build", str(repo), "-o", str(pack), "--no-cache", "--yes", "--quiet",
        env=openai_env(fake_openai),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    change_total(repo)
    with viewing(pack, "--source", str(repo)) as viewer:
        base = viewer.base
        total = httpx2.get(f"{base}/symbol/shop/pricing.py::total").text
        cart = httpx2.get(f"{base}/symbol/shop/cart.py::Cart").text
        overview = httpx2.get(f"{base}/").text
        listing = httpx2.get(f"{base}/file/shop/pricing.py").text
    assert 'class="status f-stale"' in total and "stale: signature, body" in total
    assert 'class="status f-fresh"' in cart and "f-stale" not in cart
    assert "<h2>Freshness</h2>" in overview and "1 stale" in overview
    assert "stale: signature, body" in listing
    with viewing(pack) as viewer:  # without a source, nothing claims to be fresh
        assert "f-fresh" not in httpx2.get(f"{viewer.base}/symbol/shop/cart.py::Cart").text


def test_view_and_export_refuse_a_pack_that_fails_verification(tmp_path: Path) -> None:
    pack = tampered(tmp_path)
    for args in (
        ["view", str(pack), "--port", str(free_port())],
        ["export", str(pack), "--format", "html", "-o", str(tmp_path / "out")],
    ):
        result = doctown(*args)
        assert result.returncode == 1
        assert "modified after it was written" in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_export_writes_each_format(tmp_path: Path) -> None:
    write_sample(tmp_path / "shop.docpack")
    for kind, entry in (("html", "index.html"), ("markdown", "index.md"), ("llms-txt", "llms.txt")):
        out = tmp_path / kind
        result = doctown(
            "export", str(tmp_path / "shop.docpack"), "--format", kind, "-o", str(out), "--json"
        )
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["format"] == kind and report["symbols"] == 9 and report["files"] > 2
        assert (out / entry).is_file()
    result = doctown(
        "export", str(tmp_path / "shop.docpack"), "--format", "html", "-o", str(tmp_path)
    )
    assert result.returncode == 1 and "not empty" in result.stderr
