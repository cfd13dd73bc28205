"""The MCP server through the SDK's own client: in-process, over stdio and over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from doctown.agents.server import build_server
from doctown.site import Catalog

TOOLS = {"search", "symbol", "callers", "callees", "file_outline", "cluster", "overview"}


def text(result: object) -> str:
    return "\n".join(part.text for part in result.content)  # type: ignore[attr-defined]


async def test_every_tool_answers_in_process(real: Catalog) -> None:
    async with Client(build_server([real])) as client:
        listed = await client.list_tools()
        assert {tool.name for tool in listed.tools} == TOOLS
        assert all(tool.description for tool in listed.tools)

        found = text(await client.call_tool("search", {"query": "parse manifest", "limit": 3}))
        assert found.startswith("1. ") and "id=src/doctown/docpack/reader.py::" in found

        search_id = "src/doctown/docpack/search.py::SearchIndex.search"
        symbol = text(await client.call_tool("symbol", {"name_or_id": search_id}))
        assert "signature: def search(self, query: str" in symbol
        assert "summary: Documents the method search." in symbol
        tested = symbol.split("tested by (")[1]
        assert "tests/docpack/test_search.py::" in tested
        called = symbol.split("called by (")[1].split("tested by (")[0]
        assert "tests/docpack" not in called

        deep = text(await client.call_tool("callees", {"name_or_id": "read_docpack", "depth": 2}))
        assert "distance 1" in deep and "distance 2" in deep and "_read_entries" in deep
        up = text(await client.call_tool("callers", {"name_or_id": "_read_entry"}))
        assert "_read_entries" in up

        outline = text(
            await client.call_tool("file_outline", {"path": "src/doctown/docpack/query.py"})
        )
        lines = outline.splitlines()
        assert lines[0].startswith("src/doctown/docpack/query.py: ")
        assert any(line.startswith("  ") and "SymbolIndex.lookup" in line for line in lines)

        cluster_id = real.clusters[0].cluster_id
        members = text(await client.call_tool("cluster", {"name_or_id": cluster_id}))
        assert members.startswith(f"cluster {real.clusters[0].label} (id={cluster_id})")
        unknown = text(await client.call_tool("cluster", {"name_or_id": "no such cluster"}))
        assert "The clusters, largest first" in unknown

        overview = text(await client.call_tool("overview", {}))
        assert "symbols in" in overview and "most central symbols:" in overview
        # The pack was built with overviews: the repository's leads, then its architecture.
        assert overview.startswith("repository overview\n")
        assert "architecture (Mermaid; call sites on the arrows):\nflowchart LR" in overview
        module = text(
            await client.call_tool("overview", {"of": "module:src/doctown/docpack/reader.py"})
        )
        assert module.startswith("module:src/doctown/docpack/reader.py  module overview")
        assert "public API\n  src/doctown/docpack/reader.py::" in module
        first = real.overviews.overviews.clusters[0].cluster_id
        cluster = text(await client.call_tool("overview", {"of": f"cluster:{first}"}))
        assert cluster.startswith(f"cluster:{first}  ")
        unknown = text(await client.call_tool("overview", {"of": "module:nowhere.py"}))
        assert unknown.startswith("No overview 'module:nowhere.py'. Pass module:PATH")


async def test_names_that_miss_or_match_several_say_what_to_do(shop: Catalog) -> None:
    async with Client(build_server([shop])) as client:
        several = text(await client.call_tool("symbol", {"name_or_id": "load"}))
        assert several.startswith("2 symbols match 'load'; pass one id:")
        assert "id=py:shop.cart.load" in several and "id=py:shop.pricing.load" in several
        missing = text(await client.call_tool("callers", {"name_or_id": "nothing_like_it"}))
        assert "search tool" in missing
        failed = text(await client.call_tool("symbol", {"name_or_id": "unit_price"}))
        assert "summary: (not documented: refusal)" in failed
        wrong = await client.call_tool("search", {"query": "x", "pack": "other"})
        assert wrong.is_error and "the packs are: shop" in text(wrong)


async def test_several_packs_answer_by_name(shop: Catalog, real: Catalog) -> None:
    async with Client(build_server([shop, real])) as client:
        both = text(await client.call_tool("search", {"query": "load"}))
        assert "[pack shop]" in both and "[pack doctown]" in both
        one = text(await client.call_tool("symbol", {"name_or_id": "Cart.total", "pack": "shop"}))
        assert one.startswith("shop.cart.Cart.total [method]")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "DOCTOWN_DEBUG"}


async def test_over_stdio_as_an_mcp_client_starts_it(real_pack: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "doctown", "mcp", str(real_pack)], env=_env()
    )
    async with Client(params) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == TOOLS
        answer = text(await client.call_tool("symbol", {"name_or_id": "read_docpack"}))
        assert answer.startswith("doctown.docpack.reader.read_docpack [function]")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mcp_over_http(shop_pack: Path) -> Iterator[str]:
    """`doctown mcp --http` in a subprocess; yields its URL once it listens."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "doctown", "mcp", str(shop_pack), "--http", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.communicate(timeout=10)


async def test_over_streamable_http_on_loopback(mcp_over_http: str) -> None:
    async with Client(mcp_over_http) as client:
        answer = text(await client.call_tool("search", {"query": "coupon"}))
        assert "shop.pricing.compute_discount" in answer


def test_a_tampered_pack_is_refused(tmp_path: Path) -> None:
    from tests.cli.process import doctown
    from tests.cli.test_view_command import tampered

    result = doctown("mcp", str(tampered(tmp_path)))
    assert result.returncode == 1 and "modified after it was written" in result.stderr
