"""Dependency order: callees first, cycles in one wave, callers told what callees do."""

from __future__ import annotations

from pathlib import Path

from doctown.analysis import analyze_repository
from doctown.generation import build_engine
from doctown.generation.engine import DependencyOrder
from doctown.pipeline.selection import select
from doctown.pipeline.waves import dependency_order
from doctown.testing import FakeOpenAIServer, ok
from tests.conftest import openai_settings, symbol
from tests.pipeline.conftest import write_repo


def wave_of(order: DependencyOrder, name: str) -> int:
    return next(i for i, wave in enumerate(order.waves) if any(s.endswith(name) for s in wave))


def test_callees_come_before_their_callers(shop_repo: Path) -> None:
    result = analyze_repository(shop_repo, use_cache=False)
    ids = [result.symbols[i].id for i in select(result).indices]
    order = dependency_order(result, ids)
    assert sorted(s for wave in order.waves for s in wave) == sorted(ids)
    assert wave_of(order, "apply_discount") < wave_of(order, "Cart.checkout")
    assert wave_of(order, "Cart.checkout") < wave_of(order, "print_receipt")
    checkout = next(i for i in ids if i.endswith("Cart.checkout"))
    assert [name for name, _ in order.callees[checkout]] == [
        "shop.pricing.apply_discount",
        "shop.pricing.total",
    ]


def test_a_cycle_shares_one_wave(tmp_path: Path) -> None:
    repo = write_repo(
        tmp_path / "cycle",
        {
            "m.py": "def ping(n):\n    return pong(n - 1)\n\n\n"
            "def pong(n):\n    return ping(n) if n else leaf()\n\n\n"
            "def leaf():\n    return 0\n"
        },
    )
    result = analyze_repository(repo, use_cache=False)
    ids = [result.symbols[i].id for i in select(result).indices]
    order = dependency_order(result, ids)
    assert wave_of(order, "ping") == wave_of(order, "pong") > wave_of(order, "leaf")


async def test_callers_prompts_carry_their_callees_summaries(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.on("Symbol: leaf\n", ok("Returns zero, the base case."))
    engine = build_engine(openai_settings(fake_openai))
    symbols = [symbol("top", "top", calls=["pkg.leaf"]), symbol("leaf", "leaf", calls=[])]
    order = DependencyOrder(waves=[["leaf"], ["top"]], callees={"top": [("pkg.leaf", "leaf")]})
    try:
        result = await engine.generate("job", symbols, order=order)
    finally:
        await engine.backend.aclose()
    assert [d.symbol_id for d in result.documented_symbols] == ["top", "leaf"]  # request order
    first, second = (r["body"]["messages"][-1]["content"] for r in fake_openai.chat_requests())
    assert "Symbol: leaf" in first and "What its callees do" not in first
    assert "Symbol: top" in second
    assert (
        "<untrusted-callees>\n- pkg.leaf: Returns zero, the base case.\n</untrusted-callees>"
        in second
    )
