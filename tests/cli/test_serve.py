"""`doctown serve` as a process: it says which backend runs, answers on PORT, and times out
requests that never finish arriving."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2

from doctown.testing import FakeOpenAIServer
from tests.cli.test_generate import openai_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(server: FakeOpenAIServer, **settings: str) -> Iterator[tuple[int, list[str]]]:
    """`doctown serve` on a free port until the block ends; yields the port and, after the
    block, its standard error in the list."""
    port = free_port()
    env = {**os.environ, **openai_env(server), "PORT": str(port), **settings}
    process = subprocess.Popen(
        [sys.executable, "-m", "doctown", "serve"], env=env, stderr=subprocess.PIPE, text=True
    )
    stderr: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx2.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx2.TransportError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
        yield port, stderr
    finally:
        process.terminate()
        stderr.append(process.communicate(timeout=30)[1])


def test_serve_listens_on_port_and_names_its_backend(fake_openai: FakeOpenAIServer) -> None:
    with serving(fake_openai) as (port, stderr):
        health = httpx2.get(f"http://127.0.0.1:{port}/health", timeout=2)
        assert health.json() == {
            "status": "healthy",
            "model": "gpt-5-nano",
            "ready": True,
            "backend": "openai",
            "detail": None,
        }
    assert f"backend=openai on http://127.0.0.1:{port}" in stderr[0]
    assert "sk-test" not in stderr[0]


def test_requests_that_never_finish_arriving_are_timed_out(fake_openai: FakeOpenAIServer) -> None:
    limits = {"REQUEST_HEAD_TIMEOUT": "1", "REQUEST_BODY_TIMEOUT": "1"}
    with serving(fake_openai, **limits) as (port, _):
        slow_loris = [
            b"",  # connects and says nothing
            b"POST /generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty",  # headers never end
            b"POST /generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"job_id":',  # a body that stops
        ]
        sockets = []
        for opening in slow_loris:
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(opening)
            sockets.append(sock)
        started = time.monotonic()
        answers = []
        for sock in sockets:
            with sock:
                received = b""
                while chunk := sock.recv(4096):  # until the server closes the connection
                    received += chunk
                answers.append(received)
        elapsed = time.monotonic() - started
        assert elapsed < 8  # closed by the server, not by our timeout
        silent, headers, body = answers
        assert silent.startswith(b"HTTP/1.1 408") and b"REQUEST_HEAD_TIMEOUT" in silent
        assert headers.startswith(b"HTTP/1.1 408") and b"REQUEST_HEAD_TIMEOUT" in headers
        assert body.startswith(b"HTTP/1.1 408") and b"REQUEST_BODY_TIMEOUT" in body
        # A client that takes its time but finishes is served, and so is the next one.
        assert httpx2.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200


def test_serve_refuses_to_listen_beyond_loopback_without_a_key(
    fake_openai: FakeOpenAIServer,
) -> None:
    env = {**os.environ, **openai_env(fake_openai), "PORT": str(free_port())}
    refused = subprocess.run(
        [sys.executable, "-m", "doctown", "serve", "--host", "0.0.0.0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "no WORKER_API_KEY" in refused.stderr and "DOCTOWN_OPEN_SERVER=1" in refused.stderr
    # With a key it serves on every interface (and asks for the key).
    with serving(fake_openai, HOST="0.0.0.0", WORKER_API_KEY="k-0123456789") as (port, _):
        assert (
            httpx2.post(f"http://127.0.0.1:{port}/estimate", json={}, timeout=5).status_code == 401
        )
