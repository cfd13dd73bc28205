"""The overview levels through the engine and the fake server over HTTP, in-process builds."""

from __future__ import annotations

import json
from pathlib import Path

from doctown.docpack.overview_text import OverviewIndex
from doctown.overviews.prompts import OVERVIEW_PROMPT_VERSION
from doctown.testing import FakeOpenAIServer, text
from tests.overviews.conftest import build_in_process, write_files

SOURCE_LINES = ("self.items.append(price)", "return apply_discount(total(self.items), discount)")


def _schema(request: dict[str, object]) -> str:
    body = request["body"]
    assert isinstance(body, dict)
    return str(body["response_format"]["json_schema"]["name"])


def _user(request: dict[str, object]) -> str:
    body = request["body"]
    assert isinstance(body, dict)
    return str(body["messages"][1]["content"])


def test_every_level_is_written_from_the_summaries_below_it(
    shop: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    built = build_in_process(shop, tmp_path / "shop.docpack", fake_openai)
    overviews = built.pack.content.overviews
    assert overviews is not None and built.pack.manifest.schema_version == "docpack/1.1"
    assert {m.path for m in overviews.modules} == {
        "shop/cart.py",
        "shop/pricing.py",
        "shop/receipt.py",
    }
    asked = {_schema(r): 0 for r in built.overview_requests}
    for request in built.overview_requests:
        asked[_schema(request)] += 1
    # cart.py and receipt.py hold one documented top-level symbol each: no call for them.
    assert asked == {
        "ModuleOverview": 1,
        "ClusterOverview": len(overviews.clusters),
        "RepositoryOverview": 1,
    }
    pricing = next(r for r in built.overview_requests if "Module shop/pricing.py" in _user(r))
    prompt = _user(pricing)
    # The children's summaries, never their source; the module's symbols by their local name.
    assert "- [apply_discount] function: " in prompt and "[total]" in prompt
    assert "shop/pricing.py::" not in prompt
    assert not any(line in prompt for line in SOURCE_LINES)
    assert "Depends on: none" in prompt and "Used by: shop/cart.py" in prompt
    # Clusters are written from the module overviews, the repository from the clusters.
    cluster_prompts = [_user(r) for r in built.overview_requests if _schema(r) == "ClusterOverview"]
    assert any("Gives an overview of the Module shop/pricing.py." in p for p in cluster_prompts)
    assert any("Its one documented class, `Cart`: " in p for p in cluster_prompts)
    repository = _user(
        next(r for r in built.overview_requests if _schema(r) == "RepositoryOverview")
    )
    assert "Gives an overview of the Cluster" in repository
    assert "<untrusted-readme>\n# Shop\n\nA tiny shop." in repository
    # Every reference kept is one the pack holds (local names resolved to ids); provenance
    # says who wrote it and its cost.
    index = OverviewIndex(built.pack.content)
    written = index.modules["shop/pricing.py"]
    assert written.public_api and all(
        ref.startswith("shop/pricing.py::") for ref in written.public_api
    )
    assert all(index.exists(ref) for ref in written.public_api)
    assert written.provenance is not None and written.provenance.cost > 0
    assert written.provenance.prompt_version == OVERVIEW_PROMPT_VERSION
    assert written.fingerprint is not None
    # A module of one symbol: its overview from the summaries, marked as not model-written.
    cart = index.modules["shop/cart.py"]
    cart_symbol = next(s for s in built.pack.content.nodes.symbols if s.id == "shop/cart.py::Cart")
    assert cart.status == "documented" and cart.public_api == ["shop/cart.py::Cart"]
    assert cart.summary is not None and cart_symbol.documentation is not None
    assert f"`Cart`: {cart_symbol.documentation.summary}" in cart.summary
    assert cart.provenance is not None
    assert (cart.provenance.backend, cart.provenance.model) == ("facts", "")
    assert (cart.provenance.prompt_version, cart.provenance.cost) == (None, 0.0)
    assert cart.fingerprint is None
    assert cart.depends_on == ["shop/pricing.py"] and cart.used_by == ["shop/receipt.py"]
    # A cluster's key symbols are its most central documented members: computed, not asked.
    asks = [r for r in built.overview_requests if _schema(r) == "ClusterOverview"]
    assert asks and all("key_symbols" not in json.dumps(r["body"]) for r in asks)
    nodes = built.pack.content.nodes.symbols
    for cluster in overviews.clusters:
        members = [
            s
            for s in nodes
            if s.cluster_id == cluster.cluster_id
            and s.kind != "module"
            and s.documentation is not None
            and s.documentation.summary is not None
        ]
        central = sorted(members, key=lambda s: (-(s.centrality or 0.0), s.id))
        assert cluster.key_symbols == [s.id for s in central][:5]
    assert overviews.repository is not None and overviews.repository.status == "documented"
    assert all(index.exists(ref) for ref in overviews.repository.main_parts)
    assert overviews.diagram.startswith("flowchart LR\n")


def test_a_module_with_hundreds_of_symbols_is_summarised_in_groups_first(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    functions = "\n\n".join(f"def step_{i}(x: int) -> int:\n    return x + {i}" for i in range(300))
    repo = write_files(tmp_path / "big", {"big.py": functions + "\n"})
    built = build_in_process(repo, tmp_path / "big.docpack", fake_openai)
    groups = [r for r in built.overview_requests if _schema(r) == "GroupOverview"]
    assert len(groups) >= 2
    budget = built.plan.overviews.builder.max_prompt_tokens if built.plan.overviews else 0
    assert all(r["body"]["messages"] and len(_user(r)) > 0 for r in groups)
    assert built.plan.overviews is not None
    counter = built.plan.overviews.builder.counter
    assert all(counter.count_messages(r["body"]["messages"]) <= budget for r in groups)
    # Consecutive, in source order (the module's own summary first), each item in one group.
    listed = [line for r in groups for line in _user(r).splitlines() if line.startswith("- [")]
    # The module's symbols are listed by their local names (`step_0` for `big.py::step_0`).
    expected = ["- [module:big.py", *(f"- [step_{i}" for i in range(300))]
    assert [line.split("]")[0] for line in listed] == expected
    module = next(r for r in built.overview_requests if _schema(r) == "ModuleOverview")
    assert f"group part 1 of {len(groups)}" in _user(module)
    packed = built.pack.content.overviews
    assert packed is not None and packed.modules[0].groups == len(groups)
    # The same repository gives the same groups: a second build asks nothing.
    again = build_in_process(repo, tmp_path / "again.docpack", fake_openai)
    assert again.overview_requests == []


def test_a_reference_that_does_not_exist_is_asked_again_then_marked(
    shop: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    ghost = json.dumps({"summary": "Prices things.", "public_api": ["shop/pricing.py::ghost"]})
    fake_openai.on(lambda t: "Module shop/pricing.py" in t, text(ghost), times=1)
    fixed = build_in_process(shop, tmp_path / "fixed.docpack", fake_openai)
    asked = [_user(r) for r in fixed.overview_requests if "Module shop/pricing.py" in _user(r)]
    assert len(asked) == 2  # the answer, then the re-ask
    last = fixed.overview_requests[-1]["body"]["messages"]
    reask = next(
        r["body"]["messages"][-1]["content"]
        for r in fixed.overview_requests
        if len(r["body"]["messages"]) > 2
    )
    assert "`shop/pricing.py::ghost`" in reask and last
    pricing = OverviewIndex(fixed.pack.content).modules["shop/pricing.py"]
    assert pricing.provenance is not None and pricing.provenance.reasked
    assert pricing.provenance.ungrounded == []

    fake_openai.on(lambda t: "Module shop/pricing.py" in t or "pricing.py::ghost" in t, text(ghost))
    marked = build_in_process(shop, tmp_path / "marked.docpack", fake_openai, cache=tmp_path / "2")
    pricing = OverviewIndex(marked.pack.content).modules["shop/pricing.py"]
    assert pricing.status == "documented" and pricing.provenance is not None
    assert pricing.provenance.ungrounded == ["shop/pricing.py::ghost"]
    strict = build_in_process(
        shop, tmp_path / "strict.docpack", fake_openai, cache=tmp_path / "3", strict_grounding=True
    )
    pricing = OverviewIndex(strict.pack.content).modules["shop/pricing.py"]
    assert (pricing.status, pricing.reason, pricing.summary) == ("failed", "ungrounded", None)


def test_a_cluster_of_one_and_a_repository_without_readme(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    repo = write_files(
        tmp_path / "tiny",
        {
            "app/core.py": "def run(x: int) -> int:\n    return helper(x)\n\n\n"
            "def helper(x: int) -> int:\n    return x * 2\n",
            "app/alone.py": "def lonely(name: str) -> str:\n    return name.upper()\n",
        },
    )
    built = build_in_process(repo, tmp_path / "tiny.docpack", fake_openai)
    overviews = built.pack.content.overviews
    assert overviews is not None
    index = OverviewIndex(built.pack.content)
    alone = next(
        c for c in overviews.clusters if c.key_symbols and c.key_symbols[0].endswith("lonely")
    )
    assert alone.status == "documented" and alone.relations == []
    cluster_prompt = next(
        _user(r)
        for r in built.overview_requests
        if _schema(r) == "ClusterOverview" and "lonely" in _user(r)
    )
    assert "Neighbouring clusters" not in cluster_prompt
    assert all(index.exists(ref) for ref in alone.key_symbols)
    repository = _user(
        next(r for r in built.overview_requests if _schema(r) == "RepositoryOverview")
    )
    assert "README" not in repository
    assert overviews.repository is not None and overviews.repository.status == "documented"


def test_the_facts_backend_writes_every_overview_without_a_call(
    shop: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    built = build_in_process(
        shop, tmp_path / "facts.docpack", fake_openai, settings={"doctown_backend": "facts"}
    )
    assert fake_openai.chat_requests() == []
    overviews = built.pack.content.overviews
    assert overviews is not None and overviews.repository is not None
    index = OverviewIndex(built.pack.content)
    cart = index.modules["shop/cart.py"]
    assert cart.summary == (
        "Module `shop/cart.py` holds 1 class, among them `Cart`. It depends on "
        "`shop/pricing.py`. It is used by `shop/receipt.py`."
    )
    assert cart.provenance is not None and cart.provenance.backend == "facts"
    assert cart.provenance.ungrounded == [] and cart.public_api == ["shop/cart.py::Cart"]
    every = [*overviews.modules, *overviews.clusters, overviews.repository]
    assert all(
        o.status == "documented" and o.provenance and not o.provenance.ungrounded for o in every
    )
