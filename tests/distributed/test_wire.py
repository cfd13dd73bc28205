"""The JSON between coordinator and workers: every outcome comes back as what it was."""

from __future__ import annotations

import pytest

from doctown.backends.base import Completion
from doctown.backends.formats import OutputFormat
from doctown.distributed.wire import (
    Outcome,
    ShardRequest,
    aborted,
    completion_of,
    documented,
    failed,
    from_wire,
    to_wire,
    transient,
)
from doctown.errors import (
    InsufficientQuotaError,
    JobAbortedError,
    NotAttemptedError,
    RefusalError,
    SymbolFailure,
    TransientError,
)
from doctown.prompts import Prompt
from doctown.schemas import DocumentationOutput, GroupOutput
from doctown.usage import Usage


def through_json(outcome: Outcome) -> Outcome:
    return Outcome.model_validate_json(outcome.model_dump_json())


def test_a_prompt_travels_whole_and_keeps_its_cache_key() -> None:
    prompt = Prompt(
        messages=[{"role": "system", "content": "s"}, {"role": "user", "content": "Symbol: x"}],
        prompt_tokens=12,
        truncated=False,
    )
    request = ShardRequest(build_id="b", backend="openai", model="m", prompts=[to_wire(prompt)])
    arrived = from_wire(ShardRequest.model_validate_json(request.model_dump_json()).prompts[0])
    assert arrived.key == prompt.key and arrived.prompt_tokens == 12


def test_outcomes_become_the_same_completions_and_errors_again() -> None:
    completion = Completion(DocumentationOutput(summary="Adds."), Usage(10, 2, 5, 1, 1), attempts=2)
    assert completion_of(through_json(documented(completion))) == completion
    with pytest.raises(SymbolFailure) as refused:
        completion_of(through_json(failed(RefusalError("no", usage=Usage(3, 0, 1, 0, 1)))))
    assert refused.value.reason == "refusal" and refused.value.usage == Usage(3, 0, 1, 0, 1)
    with pytest.raises(SymbolFailure) as skipped:
        completion_of(through_json(failed(NotAttemptedError(InsufficientQuotaError()))))
    assert skipped.value.reason == "not_attempted" and skipped.value.attempts == 0
    with pytest.raises(JobAbortedError) as stopped:
        completion_of(through_json(aborted(InsufficientQuotaError())))
    assert stopped.value.reason == "insufficient_quota" and "credit" in str(stopped.value)
    with pytest.raises(TransientError):
        completion_of(through_json(transient("the shard ran out of time")))


def test_malformed_shards_are_refused() -> None:
    with pytest.raises(ValueError, match="build_id"):
        ShardRequest.model_validate({"build_id": "", "backend": "o", "model": "m", "prompts": []})
    with pytest.raises(ValueError, match="prompt_tokens"):
        ShardRequest.model_validate(
            {"build_id": "b", "backend": "o", "model": "m", "prompts": [{"messages": []}]}
        )


def test_a_group_request_and_its_answer_travel_whole() -> None:
    prompt = Prompt(
        messages=[{"role": "user", "content": "[1]\nSymbol: a\n[2]\nSymbol: b"}],
        prompt_tokens=20,
        truncated=False,
        symbols=2,
    )
    request = ShardRequest(build_id="b", backend="openai", model="m", prompts=[to_wire(prompt)])
    arrived = from_wire(ShardRequest.model_validate_json(request.model_dump_json()).prompts[0])
    assert arrived.symbols == 2 and arrived.key == prompt.key
    answer = Completion(GroupOutput(summaries={"1": "Adds.", "2": "Subtracts."}), Usage(20, 0, 9))
    assert completion_of(through_json(documented(answer)), symbols=2) == answer


def test_an_overview_travels_with_its_schema_and_comes_back_whole() -> None:
    from doctown.overviews.schemas import ClusterOverviewOutput, ClusterRelation

    prompt = Prompt(
        messages=[{"role": "user", "content": "Overview of: Cluster c [cluster:1]"}],
        prompt_tokens=9,
        truncated=False,
        output=ClusterOverviewOutput,
    )
    request = ShardRequest(build_id="b", backend="openai", model="m", prompts=[to_wire(prompt)])
    arrived = from_wire(ShardRequest.model_validate_json(request.model_dump_json()).prompts[0])
    assert arrived.output is ClusterOverviewOutput and arrived.key == prompt.key
    answer = ClusterOverviewOutput(
        title="Parsing",
        summary="Reads the input.",
        key_symbols=["a.py::parse"],
        relations=[ClusterRelation(cluster="cluster:2", description="Feeds it.")],
    )
    completion = Completion(answer, Usage(40, 0, 30, 0, 1))
    assert completion_of(through_json(documented(completion)), ClusterOverviewOutput) == completion
    broken = through_json(documented(completion)).model_copy(update={"answer": {"summary": "x"}})
    with pytest.raises(SymbolFailure, match="does not fit the ClusterOverview schema"):
        completion_of(broken, ClusterOverviewOutput)
    with pytest.raises(ValueError, match="unknown output schema"):
        ShardRequest.model_validate(
            {
                "build_id": "b",
                "backend": "o",
                "model": "m",
                "prompts": [{"messages": [], "prompt_tokens": 1, "output": "Evil"}],
            }
        )


def test_a_group_answer_must_be_what_was_asked_and_only_summaries_form_groups() -> None:
    group = documented(Completion(GroupOutput(summaries={"1": "Adds."}), Usage(20, 0, 9)))
    one = documented(Completion(DocumentationOutput(summary="Adds."), Usage(20, 0, 9)))
    with pytest.raises(SymbolFailure, match="does not hold the 1 summaries"):
        completion_of(through_json(group))
    with pytest.raises(SymbolFailure, match="does not hold the 2 summaries"):
        completion_of(through_json(one), symbols=2)
    with pytest.raises(ValueError, match="only symbol summaries"):
        ShardRequest.model_validate(
            {
                "build_id": "b",
                "backend": "o",
                "model": "m",
                "prompts": [
                    {"messages": [], "prompt_tokens": 1, "output": "ModuleOverview", "symbols": 2}
                ],
            }
        )


def test_an_answer_s_provenance_travels_with_it() -> None:
    # Found in the workers' cache, read as bare text, made through a batch: all three come back.
    found = Completion(
        DocumentationOutput(summary="Adds."),
        Usage(),
        attempts=0,
        cached=True,
        original_usage=Usage(10, 2, 5, 1, 1),
        output_format=OutputFormat.TEXT,
        batch=True,
    )
    assert completion_of(through_json(documented(found))) == found
    group = Completion(
        GroupOutput(summaries={"1": "Adds.", "2": "Subtracts."}),
        Usage(20, 0, 9),
        output_format=OutputFormat.JSON_OBJECT,
    )
    assert completion_of(through_json(documented(group)), symbols=2) == group
