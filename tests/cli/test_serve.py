"""`doctown serve` as a process: it says which backend runs and answers on PORT."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx2

from doctown.testing import FakeOpenAIServer
from tests.cli.test_generate import openai_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_listens_on_port_and_names_its_backend(fake_openai: FakeOpenAIServer) -> None:
    port = free_port()
    env = {**os.environ, **openai_env(fake_openai), "PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "doctown", "serve"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx2.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx2.TransportError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
        assert health.json() == {
            "status": "healthy",
            "model": "gpt-5-nano",
            "ready": True,
            "backend": "openai",
            "detail": None,
        }
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert f"backend=openai on http://127.0.0.1:{port}" in stderr
    assert "sk-test" not in stderr
