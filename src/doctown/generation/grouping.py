"""Several symbols of one file in one request, so that what they share is paid for once.

Every symbol still has its own prompt (`PromptBuilder.build`): it is what the symbol's summary
is cached under, what freshness compares, and what it is sent as when it is alone. Prompts of
the full template that share their head (the file) are combined into group requests of up to
`max_symbols` symbols and `max_prompt_tokens` tokens, in the order they come
(`Grouping.requests`): the system prompt and the head are sent once, each symbol's item under
its number. The answer maps each number to a summary; `split_answer` turns it back into one
answer per symbol:

- each summary is checked as a one-symbol answer would be; a number left out, or a summary
  that breaks the rules, is that symbol's failure (`invalid_output`), the others are kept;
- the request's usage is divided among its symbols, deterministically, so that the parts
  add up to what was billed: input (and cached input) tokens in proportion to each symbol's
  own prompt tokens, output (and reasoning) tokens in proportion to the length of each
  summary, the request itself to the first symbol (`divide`).

`GroupingBackend` does this for the prompts that reach it together (one event-loop turn,
which is every prompt a wave submits that the cache could not answer); the Batch API path
calls `Grouping.requests` and `split_answer` itself. When a group's request fails as a whole
in a way a smaller request may not (a refusal, `length`, an answer that cannot be read, a
rejected request), `GroupingBackend` asks its symbols again one per request, each carrying
its share of what the failed request cost; a batch fails each of them instead, and the next
run sends them again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import partial

from doctown.backends.base import Backend, Completion, validate_summary
from doctown.errors import (
    InvalidOutputError,
    JobAbortedError,
    RefusalError,
    RequestRejectedError,
    SymbolFailure,
    TruncatedOutputError,
)
from doctown.generation.answered import Answer
from doctown.generation.wrapper import WrapperBackend
from doctown.prompts import Prompt, group_labels, group_prompt
from doctown.schemas import DocumentationOutput, GroupOutput
from doctown.tokens import TokenCounter
from doctown.usage import Usage

DEFAULT_GROUP_SIZE = 8
MAX_GROUP_PROMPT_TOKENS = 4_000
# What a group adds to its members' items: its system prompt, head, numbers and message
# overhead, counted generously so that the exact count of a group rarely passes the limit.
_GROUP_OVERHEAD_TOKENS = 150
_LABEL_TOKENS = 4
# Failures of a whole group's request that asking one symbol at a time may avoid.
_RETRY_ALONE = (RefusalError, TruncatedOutputError, InvalidOutputError, RequestRejectedError)


@dataclass(frozen=True)
class Request:
    """One request: the prompt sent and the one-symbol prompts it answers, in number order.

    A symbol alone is sent its own prompt.
    """

    prompt: Prompt
    members: tuple[Prompt, ...]


def divide(total: int, weights: Sequence[int]) -> list[int]:
    """`total` in parts proportional to `weights` that add up to it exactly.

    Largest remainders, ties to the earlier part; equal parts when every weight is zero. A
    part is never more than its weight's exact share rounded up, so dividing a smaller total
    by the parts of a larger one (cached input by input) keeps each part within the other.
    """
    if not weights:
        return []
    if not any(weights):
        weights = [1] * len(weights)
    whole = sum(weights)
    parts = [total * weight // whole for weight in weights]
    remainders = [total * weight % whole for weight in weights]
    left = total - sum(parts)
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        parts[index] += 1
    return parts


def share(usage: Usage, weights: Sequence[int], output_weights: Sequence[int]) -> list[Usage]:
    """Each member's part of a request's `usage`: input and cached input tokens by `weights`
    (each member's own prompt tokens), output and reasoning tokens by `output_weights` (the
    length of each summary), the request to the first member."""
    inputs = divide(usage.input_tokens, weights)
    outputs = divide(usage.output_tokens, output_weights)
    cached = divide(usage.cached_tokens, inputs)
    reasoning = divide(usage.reasoning_tokens, outputs)
    requests = divide(usage.requests, [1] * len(weights))
    return [
        Usage(inputs[i], cached[i], outputs[i], reasoning[i], requests[i])
        for i in range(len(weights))
    ]


def split_answer(completion: Completion, weights: Sequence[int]) -> list[Answer]:
    """One answer per member of a group's request, from its answer (GroupOutput);
    `weights` are the members' own prompt tokens, in number order."""
    if not isinstance(completion.output, GroupOutput):
        raise TypeError("a group's request was answered with one summary")
    summaries = completion.output.summaries
    texts = [(summaries.get(label) or "").strip() for label in group_labels(len(weights))]
    usages = share(completion.usage, weights, [len(text) for text in texts])
    answers: list[Answer] = []
    for number, (text, usage) in enumerate(zip(texts, usages, strict=True), 1):
        output = DocumentationOutput(summary=text)
        problem = (
            f"the answer about {len(weights)} symbols has no summary under [{number}]"
            if not text
            else validate_summary(output)
        )
        if problem:
            failure = InvalidOutputError(problem, usage=usage, attempts=completion.attempts)
            failure.batch = completion.batch
            answers.append(failure)
        else:
            answers.append(replace(completion, output=output, usage=usage))
    return answers


def split_failure(failure: SymbolFailure, weights: Sequence[int]) -> list[SymbolFailure]:
    """The failure of a whole group's request, one per member: its reason, each its share."""
    failures = []
    for usage in share(failure.usage, weights, [0] * len(weights)):
        own = SymbolFailure(str(failure), usage=usage, attempts=failure.attempts)
        own.reason = failure.reason
        own.batch = failure.batch
        failures.append(own)
    return failures


@dataclass(frozen=True)
class Grouping:
    """How one-symbol prompts are combined into requests."""

    counter: TokenCounter
    max_symbols: int = DEFAULT_GROUP_SIZE
    max_prompt_tokens: int = MAX_GROUP_PROMPT_TOKENS

    def requests(self, prompts: Iterable[Prompt]) -> list[Request]:
        """The requests that ask `prompts`: those sharing a head together, in order of
        arrival, each group closed when it is full; any other prompt alone."""
        pending: dict[tuple[str, str], list[Prompt]] = {}
        order: list[tuple[str, str] | Prompt] = []
        for prompt in prompts:
            # Only symbol summaries are grouped: an overview (or a re-ask) goes alone.
            if prompt.part is None or prompt.output is not DocumentationOutput:
                order.append(prompt)
                continue
            head = (prompt.version, prompt.part.head)
            if head not in pending:
                pending[head] = []
                order.append(head)
            pending[head].append(prompt)
        requests: list[Request] = []
        for entry in order:
            if isinstance(entry, Prompt):
                requests.append(Request(entry, (entry,)))
            else:
                requests.extend(self._chunks(pending[entry]))
        return requests

    def _chunks(self, prompts: list[Prompt]) -> list[Request]:
        chunks: list[list[Prompt]] = []
        tokens = 0
        for prompt in prompts:
            assert prompt.part is not None
            size = prompt.part.item_tokens + _LABEL_TOKENS
            current = chunks[-1] if chunks else None
            if (
                current is None
                or len(current) >= self.max_symbols
                or tokens + size > self.max_prompt_tokens
            ):
                chunks.append([prompt])
                tokens = _GROUP_OVERHEAD_TOKENS + size
            else:
                current.append(prompt)
                tokens += size
        return [
            Request(chunk[0], (chunk[0],))
            if len(chunk) == 1
            else Request(group_prompt(chunk, self.counter), tuple(chunk))
            for chunk in chunks
        ]


class GroupingBackend(WrapperBackend):
    """Sends the one-symbol prompts that reach it in the same event-loop turn as group
    requests (see the module's docstring). Prompts that cannot join a group (a grounding
    re-ask, the compact template's, an overview) go through as they are."""

    def __init__(self, wrapped: Backend, grouping: Grouping) -> None:
        super().__init__(wrapped)
        self.grouping = grouping
        self._waiting: list[tuple[Prompt, asyncio.Future[Completion]]] = []
        self._asking: set[asyncio.Task[None]] = set()

    async def complete(self, prompt: Prompt) -> Completion:
        if prompt.part is None or prompt.output is not DocumentationOutput:
            return await self.wrapped.complete(prompt)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Completion] = loop.create_future()
        if not self._waiting:
            # Runs after every task already scheduled has taken its first step: all the
            # prompts submitted together are waiting by then.
            loop.call_soon(self._send)
        self._waiting.append((prompt, future))
        return await future

    def _send(self) -> None:
        waiting, self._waiting = self._waiting, []
        futures = {id(prompt): future for prompt, future in waiting}
        for request in self.grouping.requests(prompt for prompt, _ in waiting):
            members = [futures[id(member)] for member in request.members]
            task = asyncio.create_task(self._answer(request, members))
            self._asking.add(task)
            task.add_done_callback(self._asking.discard)
            for future in members:
                future.add_done_callback(partial(_abandoned, task, members))

    async def _answer(self, request: Request, futures: list[asyncio.Future[Completion]]) -> None:
        try:
            answers = await self._ask(request)
        except BaseException as error:  # every member hears of it, whatever it is
            answers = [error] * len(futures)
        for future, answer in zip(futures, answers, strict=True):
            if future.done():  # its symbol was cancelled
                continue
            if isinstance(answer, BaseException):
                future.set_exception(answer)
            else:
                future.set_result(answer)

    async def _ask(self, request: Request) -> Sequence[Completion | BaseException]:
        members = request.members
        try:
            completion = await self.wrapped.complete(request.prompt)
        except JobAbortedError as stop:
            return [stop] * len(members)
        except SymbolFailure as failure:
            if len(members) == 1:
                return [failure]
            shares = split_failure(failure, [member.prompt_tokens for member in members])
            if not isinstance(failure, _RETRY_ALONE):
                return shares
            return await asyncio.gather(
                *(
                    self._alone(member, own.usage, failure.attempts)
                    for member, own in zip(members, shares, strict=True)
                )
            )
        if len(members) == 1:
            return [completion]
        return split_answer(completion, [member.prompt_tokens for member in members])

    async def _alone(
        self, prompt: Prompt, spent: Usage, attempts: int
    ) -> Completion | BaseException:
        """`prompt` asked on its own after its group's request failed, which cost `spent`."""
        try:
            completion = await self.wrapped.complete(prompt)
        except SymbolFailure as failure:
            failure.usage = failure.usage + spent
            failure.attempts += attempts
            return failure
        except JobAbortedError as stop:
            return stop
        return replace(
            completion, usage=completion.usage + spent, attempts=completion.attempts + attempts
        )


def _abandoned(
    task: asyncio.Task[None], members: list[asyncio.Future[Completion]], _: object
) -> None:
    """Cancel a request nobody waits for any more (every member's caller was cancelled, as
    when a job is stopped), as a one-symbol request is cancelled with its caller."""
    if not task.done() and all(future.cancelled() for future in members):
        task.cancel()
