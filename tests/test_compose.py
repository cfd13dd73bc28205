"""The compose files and the Dockerfile name only commands, options and settings that exist.

Docker cannot run on the machines these tests run on; this checks what can be checked
without it.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import click
import yaml

from doctown.cli import COMMANDS
from doctown.config import Settings

ROOT = Path(__file__).parents[1]


def compose(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / name).read_text())
    return loaded


def command(argv: list[str]) -> click.Command:
    """The click command `argv` runs, after checking each of its options exists."""
    assert argv[0] == "doctown" and argv[1] in COMMANDS, argv
    module, attribute = COMMANDS[argv[1]].split(":")
    found: click.Command = getattr(importlib.import_module(module), attribute)
    known = {option for param in found.params for option in getattr(param, "opts", [])}
    for word in argv[2:]:
        assert not word.startswith("-") or word in known, (argv, word)
    return found


def test_redis_two_workers_and_the_server() -> None:
    services = compose("docker-compose.distributed.yml")["services"]
    assert services["redis"]["image"].startswith("redis:")
    worker = services["worker"]
    assert command(worker["command"]).name == "worker"
    assert worker["deploy"]["replicas"] == 2
    server = services["server"]
    assert command(server["command"]).name == "serve"
    assert server["ports"] == ["127.0.0.1:8003:8003"]
    assert server["environment"]["DOCTOWN_OPEN_SERVER"] == "true"
    for service in (worker, server):
        environment = service["environment"]
        assert environment["DOCTOWN_REDIS_URL"] == "redis://redis:6379/0"
        assert service["depends_on"] == ["redis"] and service["build"] == "."
        for name in environment:
            assert name.lower() in Settings.model_fields, name
    root = server["environment"]["JOBS_ALLOWED_ROOTS"]
    assert any(volume.split(":")[1] == root for volume in server["volumes"])


def test_the_single_worker_file_still_serves_alone() -> None:
    (service,) = compose("docker-compose.yml")["services"].values()
    assert service["build"] == "." and service["environment"]["PORT"] == "8003"
    # Open without WORKER_API_KEY only because it is published on the host's loopback.
    assert service["ports"] == ["127.0.0.1:${PORT:-8003}:8003"]
    assert service["environment"]["DOCTOWN_OPEN_SERVER"] == "true"
    assert Path(ROOT / service["env_file"]).with_suffix(".example").exists()


def test_the_image_installs_the_distributed_extra_and_runs_a_command() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert '".[local,distributed]"' in dockerfile
    volume = compose("docker-compose.distributed.yml")["services"]["server"]["volumes"][1]
    assert f"mkdir -p {volume.split(':')[1]}" in dockerfile
    last = dockerfile.strip().splitlines()[-1]
    assert last.startswith("CMD ")
    command(yaml.safe_load(last.removeprefix("CMD ")))
    for copied in ("pyproject.toml", "README.md", "src"):
        assert (ROOT / copied).exists()
