"""`doctown view` and `doctown export` as a user runs them, in real subprocesses."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2

from tests.cli.process import doctown
from tests.docpack.factory import read_entries, rezip, write_sample


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tampered(tmp_path: Path) -> Path:
    write_sample(tmp_path / "shop.docpack")
    entries = read_entries(tmp_path / "shop.docpack")
    entries["nodes.json"] = entries["nodes.json"].replace(b"Adds a quantity", b"Deletes all")
    return rezip(tmp_path / "tampered.docpack", entries.items())


def test_view_serves_the_pack_on_loopback(tmp_path: Path) -> None:
    write_sample(tmp_path / "shop.docpack")
    port = free_port()
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("DOCTOWN_DEBUG", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "doctown",
            "view",
            str(tmp_path / "shop.docpack"),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx2.get(f"http://127.0.0.1:{port}/symbol/py:shop.cart.Cart.total")
                break
            except httpx2.TransportError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        assert response.status_code == 200 and "Sums the prices" in response.text
        # Loopback only, unless --host says otherwise.
        listening = subprocess.run(
            ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
        )
        assert [line.split()[3] for line in listening.stdout.splitlines()] == [f"127.0.0.1:{port}"]
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=10)
    assert f"9 symbols on http://127.0.0.1:{port}/" in err


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
