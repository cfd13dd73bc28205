"""Summaries from the analysis alone: every word true, no model, no cost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from doctown.backends.facts import FactsBackend, facts_summary, parameters, returns
from doctown.errors import InvalidOutputError
from doctown.generation.grounding import KnownNames, ungrounded
from doctown.prompts import Prompt
from tests.cli.test_generate import EXAMPLES, doctown
from tests.conftest import symbol


@pytest.mark.parametrize(
    ("language", "signature", "names"),
    [
        (
            "python",
            "def load(self, path: Path, *, strict: bool = False) -> Config",
            ["path", "strict"],
        ),
        ("python", "def merge(*args: dict[str, int], **kwargs: Any)", ["args", "kwargs"]),
        ("javascript", "function chunk(array, size = 1)", ["array", "size"]),
        ("go", "func (c *Client) Do(req *Request, retries int) error", ["req", "retries"]),
        ("java", "public int add(final int a, List<String> names)", ["a", "names"]),
        ("rust", "fn parse(input: &str, limit: usize) -> Result<Ast, Error>", ["input", "limit"]),
        ("python", "class Cart", []),
        ("python", "def broken(a, b", []),
    ],
)
def test_parameters_are_read_from_signatures(
    language: str, signature: str, names: list[str]
) -> None:
    assert parameters(signature, language) == names


def test_return_types_are_read_when_declared() -> None:
    assert returns("def load(path: Path) -> Config:") == "Config"
    assert returns("def close(self) -> None") is None
    assert returns("function chunk(array)") is None


def test_the_summary_states_the_facts_and_names_only_what_exists() -> None:
    context = symbol(
        "s1",
        "load_config",
        signature="def load_config(path: Path) -> Config",
        calls=["app.io.read_text", "app.config.Config.parse"],
        called_by=["app.main.main"],
    ).context
    summary = facts_summary(context)
    assert summary == (
        "Function `load_config`, taking `path`, returning `Config`; "
        "it calls `read_text` and `parse` and is called by `main`."
    )
    table = KnownNames.of(["app.io.read_text", "app.config.Config.parse", "app.main.main"])
    assert ungrounded(summary, context, table) == []


def test_long_relation_lists_are_counted_not_listed() -> None:
    context = symbol("s1", "f", calls=[f"m.c{i}" for i in range(7)], called_by=[]).context
    assert "calls `c0`, `c1` and `c2` and 4 more." in facts_summary(context)


async def test_the_backend_answers_from_the_prompt_context_for_free() -> None:
    backend = FactsBackend()
    context = symbol("s1", "f").context
    completion = await backend.complete(
        Prompt(messages=[], prompt_tokens=0, truncated=False, context=context)
    )
    assert completion.output.summary == facts_summary(context)
    assert completion.usage.total_tokens == 0 and not backend.preview
    with pytest.raises(InvalidOutputError, match="no analysed facts"):
        await backend.complete(Prompt(messages=[], prompt_tokens=0, truncated=False))


def test_generate_with_the_facts_backend_documents_every_example(tmp_path: Path) -> None:
    out = tmp_path / "facts.json"
    result = doctown(
        "generate", str(EXAMPLES), "-o", str(out), "--quiet", env={"DOCTOWN_BACKEND": "facts"}
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(out.read_text())
    assert body["backend"] == "facts" and body["preview"] is False
    assert len(body["documented_symbols"]) == len(json.loads(EXAMPLES.read_text())["symbols"])
    assert body["total_cost"] == 0
