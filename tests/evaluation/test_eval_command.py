"""`doctown eval` end to end on a tiny local corpus, with the fake OpenAI server."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from doctown.cli import main
from doctown.testing import FakeOpenAIServer, malformed, ok
from tests.conftest import TEST_KEY
from tests.evaluation.test_embedding import have_extra

DOCSTRINGS = (
    "Reduce an amount by a percentage",
    "Add up the prices of all items",
    "Put one more item with the given price",
    "Total the cart and apply the customer's discount",
    "Items a customer intends to buy",
)


def run_eval(server: FakeOpenAIServer, *args: str) -> tuple[int, str, str]:
    """Exit code, stdout, and stdout with stderr."""
    env = {"OPENAI_API_KEY": TEST_KEY, "OPENAI_BASE_URL": server.base_url}
    result = CliRunner().invoke(main, ["eval", *args], env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.output


def test_scores_every_option_on_the_same_symbols(
    fake_openai: FakeOpenAIServer, corpora_file: Path, tmp_path: Path
) -> None:
    fake_openai.on("Symbol: total\n", ok("Adds the prices with `ghost_helper` and `total`."))
    fake_openai.on("Symbol: apply_discount\n", ok("This function reduces an amount."))
    fake_openai.on("Symbol: add\n", malformed())
    out = tmp_path / "results"
    agreement = [] if have_extra() else ["--no-agreement"]
    code, stdout, output = run_eval(
        fake_openai,
        "--corpora",
        str(corpora_file),
        "--limit",
        "8",
        "--options",
        "bare,excerpt",
        "--backend",
        "openai",
        "--output",
        str(out),
        "--json",
        *agreement,
    )
    assert code == 0, output
    report = json.loads(stdout)
    assert report == json.loads((out / "results.json").read_text())
    assert report["backend"] == "openai" and report["limit"] == 8 and report["seed"] == 7
    (corpus,) = report["corpora"]
    assert corpus["eligible"] == 8 and corpus["sampled"] == 8 and corpus["languages"] == ["python"]
    assert [(r["corpus"], r["option"]) for r in report["runs"]] == [
        ("shop", "bare"),
        ("shop", "excerpt"),
    ]
    for run in report["runs"]:
        scores = run["scores"]
        assert scores["coverage"] == {
            "symbols": 8,
            "documented": 7,
            "share": round(7 / 8, 4),
            "failures": {"invalid_output": 1},
        }
        assert scores["grounding"]["share_ungrounded"] == round(1 / 7, 4)
        assert scores["grounding"]["share_reasked"] == 0
        assert scores["grounding"]["worst"][0]["ungrounded"] == ["ghost_helper"]
        assert scores["form"] == {"share_good": round(6 / 7, 4), "issues": {"filler": 1}}
        assert scores["cost"]["input_tokens"] > 100 and scores["cost"]["dollars"] > 0
        if agreement:
            assert scores["agreement"]["position"] is None
        else:
            values = scores["agreement"]
            assert -1 < values["floor"] < 1 and -1 < values["chance"] < 1
            assert values["position"] is not None
    assert [entry["option"] for entry in report["overall"]] == ["bare", "excerpt"]
    lines = (out / "symbols.jsonl").read_text().splitlines()
    assert len(lines) == 16
    assert {json.loads(line)["name"] for line in lines} >= {"shop.cart.Cart.checkout"}

    # The model never saw a docstring; only the excerpt option showed code from the body.
    prompts = [
        request["body"]["messages"][-1]["content"] for request in fake_openai.chat_requests()
    ]
    assert not any(docstring in prompt for prompt in prompts for docstring in DOCSTRINGS)
    with_code = [p for p in prompts if "apply_discount(total(self.items), discount)" in p]
    assert len(with_code) >= 1 and all("<untrusted-source>" in prompt for prompt in with_code)
    assert sum("<untrusted-source>" in prompt for prompt in prompts) <= len(prompts) // 2


def test_prints_a_table_per_corpus_and_overall(
    fake_openai: FakeOpenAIServer, corpora_file: Path, tmp_path: Path
) -> None:
    code, stdout, output = run_eval(
        fake_openai,
        "--corpora",
        str(corpora_file),
        "--options",
        "excerpt",
        "--backend",
        "openai",
        "--output",
        str(tmp_path / "out"),
        "--no-agreement",
    )
    assert code == 0, output
    assert "shop: 4 symbols" in stdout and "overall" in stdout and "excerpt" in stdout
    assert "bare" not in stdout and "wrote" in output
    assert (tmp_path / "out" / "results.json").is_file()


def test_usage_errors_fail_with_a_message(corpora_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    bad_option = runner.invoke(main, ["eval", "--corpora", str(corpora_file), "--options", "x"])
    assert bad_option.exit_code == 2 and "choose from bare, excerpt, callees" in bad_option.output
    unknown = runner.invoke(
        main, ["eval", "--corpora", str(corpora_file), "--corpus", "numpy", "--no-agreement"]
    )
    assert unknown.exit_code == 1 and "no corpus named numpy" in unknown.output


def test_module_overviews_are_scored_with_every_docstring_hidden(
    fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    import ast
    import sysconfig

    files = ["base64.py", "colorsys.py", "reprlib.py"]
    corpora = tmp_path / "modules.toml"
    corpora.write_text(
        f'seed = 7\nlimit = 5\n[[corpus]]\nname = "std"\nsource = "stdlib"\nfiles = {files!r}\n'
    )
    out = tmp_path / "results"
    agreement = [] if have_extra() else ["--no-agreement"]
    code, stdout, output = run_eval(
        fake_openai, "--modules", "--corpora", str(corpora), "--backend", "openai",
        "--output", str(out), "--json", *agreement,
    )  # fmt: skip
    assert code == 0, output
    report = json.loads(stdout)
    assert report == json.loads((out / "results.json").read_text())
    overall = report["overall"]
    scored = overall["modules"]
    assert scored >= 2 and overall["documented"] == scored and overall["coverage"] == 1.0
    assert overall["ungrounded"] == 0.0 and overall["input_tokens"] > 0
    assert overall["dollars"] > 0 and report["corpora"][0]["children_cost"] > 0
    if have_extra():
        assert -1.0 <= overall["position"] <= 1.0 and overall["floor"] is not None
    # The module docstrings are the answers: no prompt ever showed one.
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    docstrings = [ast.get_docstring(ast.parse((stdlib / f).read_text())) or "" for f in files]
    firsts = [" ".join(d.split("\n\n")[0].split()[:6]) for d in docstrings]
    sent = [json.dumps(r["body"]["messages"]) for r in fake_openai.chat_requests()]
    overviews = [s for s in sent if "Overview of: Module" in s]
    assert len(overviews) == scored
    assert not any(first in " ".join(s.split()) for first in firsts for s in sent)
