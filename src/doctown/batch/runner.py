"""`doctown build --batch`: the prompts a build must send, answered through the Batch API.

The runner writes the requests as JSONL (split to 50,000 requests / 200 MB per file),
uploads each file, creates a batch for it with a 24-hour window, and polls until every batch
has ended, announcing progress as events. Before submitting anything it resumes the batches an
earlier run of the same build left unfinished (they are recorded in the summary cache file),
so a killed build never pays twice. Only the batches that ask some of this build's prompts are
resumed and waited for: the cache file is shared, and another build's batches (another
repository, other prompts) are left to that build. A summary another build stored meanwhile is
kept, never overwritten. Several symbols of a file share a request, as they do
synchronously (`Grouping`); the symbols behind each such request are recorded with the batch.
Results are matched by `custom_id`, a group's answer is split among its symbols, every
summary is stored in the summary cache under its own symbol's key, and the answers come back
keyed by prompt for the engine, which reports each symbol, documented or failed, exactly as a
synchronous run does. A group's request that failed as a whole fails each of its symbols
(with its share of the cost); the next run sends them again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TypeVar

from doctown import events
from doctown.backends.base import Completion, stored_text
from doctown.backends.formats import OutputFormat
from doctown.backends.openai import OpenAIBackend
from doctown.batch.client import BatchClient, BatchInfo
from doctown.batch.requests import (
    MAX_BYTES_PER_FILE,
    MAX_REQUESTS_PER_FILE,
    RequestFile,
    request_line,
    split,
    write_files,
)
from doctown.batch.results import read_results
from doctown.batch.store import COLLECTED, BatchRecord, BatchStore
from doctown.errors import BatchFailedError, SymbolFailure, TransientError
from doctown.generation.answered import Answer
from doctown.generation.cache import SummaryCache
from doctown.generation.grouping import Grouping, Request, split_answer, split_failure
from doctown.prompts import Prompt
from doctown.schemas import DocumentationOutput

SOURCE = "doctown.batch"
logger = logging.getLogger("doctown.batch")
T = TypeVar("T")
# Control calls (upload, create, poll) that meet a transient fault are tried this many times.
CONTROL_ATTEMPTS = 5


class BatchRunner:
    """Runs one build's requests through the Batch API; see the module's docstring."""

    def __init__(
        self,
        backend: OpenAIBackend,
        cache: SummaryCache,
        *,
        emitter: events.EventEmitter,
        poll_seconds: float,
        grouping: Grouping | None = None,
        workdir: Path | None = None,
        max_requests: int = MAX_REQUESTS_PER_FILE,
        max_bytes: int = MAX_BYTES_PER_FILE,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.backend = backend
        self.cache = cache
        self.store = BatchStore(cache.path)
        self.client = BatchClient(backend.api, model=backend.model)
        self.emitter = emitter
        self.poll_seconds = poll_seconds
        self.grouping = grouping
        self.workdir = workdir or cache.path.parent / "batches"
        self.max_requests = max_requests
        self.max_bytes = max_bytes
        self._sleep = sleep

    # Requests ------------------------------------------------------------------------------

    def requests(self, prompts: Mapping[str, Prompt]) -> list[Request]:
        """The requests that ask `prompts` (prompt key -> prompt): grouped as synchronously
        (only symbol summaries are ever grouped)."""
        if self.grouping is None:
            return [Request(prompt, (prompt,)) for prompt in prompts.values()]
        return self.grouping.requests(prompts.values())

    def write_requests(self, requests: Sequence[Request]) -> list[RequestFile]:
        """The request files for `requests`, written to the work dir."""
        rung = self.backend.ladder.rung
        lines = [
            (
                request.prompt.key,
                request_line(
                    request.prompt.key,
                    {
                        **self.backend.request_fields(
                            rung, request.prompt.output, request.prompt.symbols
                        ),
                        "messages": request.prompt.messages,
                    },
                ),
            )
            for request in requests
        ]
        parts = split(lines, max_requests=self.max_requests, max_bytes=self.max_bytes)
        return write_files(self.workdir, parts)

    # The run -------------------------------------------------------------------------------

    async def run(self, prompts: Mapping[str, Prompt]) -> dict[str, Answer]:
        """Answers for `prompts`, by prompt key: resumed batches first, new ones for the rest."""
        records = self.resumable(prompts)
        covered = {key for record in records for key in record.covers()}
        missing = {key: prompt for key, prompt in prompts.items() if key not in covered}
        if missing:
            requests = self.requests(missing)
            groups = {
                request.prompt.key: [member.key for member in request.members]
                for request in requests
                if len(request.members) > 1
            }
            for request_file in self.write_requests(requests):
                records.append(await self._upload(request_file, groups))
        infos = {}
        for record in records:
            infos[record.input_file_id] = await self._started(record)
        infos = await self._poll(records, infos)
        answers: dict[str, Answer] = {}
        for record in records:
            answers.update(await self._collect(record, infos[record.input_file_id], prompts))
        return {key: answers[key] for key in prompts if key in answers}

    def resumable(self, prompts: Mapping[str, Prompt]) -> list[BatchRecord]:
        """The open batches that ask some of `prompts`: those this build waits for. The others
        belong to other builds sharing the cache file, which collect them when they run."""
        open_batches = self.store.open(base_url=self.backend.base_url, model=self.backend.model)
        ours = [record for record in open_batches if not record.covers().isdisjoint(prompts)]
        if len(ours) < len(open_batches):
            logger.info(
                "%d open batches ask none of this build's prompts; left to their builds",
                len(open_batches) - len(ours),
            )
        return ours

    async def _upload(self, request_file: RequestFile, groups: dict[str, list[str]]) -> BatchRecord:
        content = request_file.path.read_bytes()
        file_id = await self._control(partial(self.client.upload, request_file.path.name, content))
        return self.store.uploaded(
            file_id,
            base_url=self.backend.base_url,
            model=self.backend.model,
            output_format=self.backend.ladder.rung.value,
            keys=request_file.keys,
            groups={key: groups[key] for key in request_file.keys if key in groups},
        )

    async def _started(self, record: BatchRecord) -> BatchInfo:
        """The batch of `record`, created now unless it was (or its creation went through)."""
        if record.batch_id is not None:
            return await self._control(partial(self.client.retrieve, record.batch_id))
        found = await self._control(partial(self.client.find, record.input_file_id))
        info: BatchInfo = (
            found
            if found is not None
            else await self._control(partial(self.client.create, record.input_file_id))
        )
        self.store.update(record.input_file_id, status=info.status, batch_id=info.id)
        self.emitter.emit(
            events.GENERATION_BATCH_SUBMITTED,
            {"batch_id": info.id, "requests": len(record.keys), "resumed": found is not None},
            source=SOURCE,
        )
        return info

    async def _poll(
        self, records: list[BatchRecord], infos: dict[str, BatchInfo]
    ) -> dict[str, BatchInfo]:
        last: dict[str, tuple[str, int, int]] = {}
        while True:
            for record in records:
                info = infos[record.input_file_id]
                counts = info.counts
                seen = (info.status, counts.completed, counts.failed)
                if last.get(info.id) != seen:
                    last[info.id] = seen
                    self.store.update(record.input_file_id, status=info.status)
                    self.emitter.emit(
                        events.GENERATION_BATCH_PROGRESS,
                        {
                            "batch_id": info.id,
                            "status": info.status,
                            "total": counts.total or len(record.keys),
                            "completed": counts.completed,
                            "failed": counts.failed,
                        },
                        source=SOURCE,
                    )
            if all(info.terminal for info in infos.values()):
                return infos
            await self._sleep(self.poll_seconds)
            for record in records:
                info = infos[record.input_file_id]
                if not info.terminal:
                    infos[record.input_file_id] = await self._control(
                        partial(self.client.retrieve, info.id)
                    )

    async def _collect(
        self, record: BatchRecord, info: BatchInfo, prompts: Mapping[str, Prompt]
    ) -> dict[str, Answer]:
        """Every answer of an ended batch, per symbol, stored in the summary cache, then the
        batch marked collected. Each prompt's answer is read as the kind it asked for (a
        summary when this run did not plan it)."""
        outputs: dict[str, type[DocumentationOutput]] = {
            key: prompt.output for key, prompt in prompts.items()
        }
        received: dict[str, Answer] = {}
        for file_id in (info.output_file_id, info.error_file_id):
            if file_id:
                content = await self._control(partial(self.client.content, file_id))
                received.update(
                    read_results(
                        content,
                        api=self.backend.api,
                        model=self.backend.model,
                        output_format=OutputFormat(record.output_format),
                        completion_cap=self.backend.max_completion_tokens,
                        outputs=outputs,
                        symbols={key: len(members) for key, members in record.groups.items()},
                    )
                )
        unanswered = BatchFailedError(
            f"the batch {info.id} ended {info.status} without answering it "
            f"({info.describe_errors()}); run the build again to send it in a new batch"
        )
        unanswered.batch = True
        for key in record.keys:
            received.setdefault(key, unanswered)
        answers: dict[str, Answer] = {}
        for key, answer in received.items():
            members = record.groups.get(key)
            if members is None:
                answers[key] = answer
                continue
            # A member this run did not plan (its symbol changed since) weighs nothing.
            weights = [
                prompts[member].prompt_tokens if member in prompts else 0 for member in members
            ]
            answers.update(zip(members, self._split(answer, weights), strict=True))
        for key, answer in answers.items():
            if isinstance(answer, Completion):
                self.cache.put(
                    SummaryCache.key_for(self.backend.name, self.backend.model, key),
                    backend=self.backend.name,
                    model=self.backend.model,
                    summary=stored_text(answer.single_output),
                    usage=answer.usage,
                    output_format=answer.output_format,
                    batch=answer.batch,
                    overwrite=False,
                )
        self.store.update(record.input_file_id, status=COLLECTED)
        counts = info.counts
        self.emitter.emit(
            events.GENERATION_BATCH_COMPLETED,
            {
                "batch_id": info.id,
                "status": info.status,
                "completed": counts.completed,
                "failed": counts.failed,
            },
            source=SOURCE,
        )
        return answers

    @staticmethod
    def _split(answer: Answer, weights: list[int]) -> Sequence[Answer]:
        """One answer per symbol of a group's request."""
        if isinstance(answer, SymbolFailure):
            return split_failure(answer, weights)
        return split_answer(answer, weights)

    async def _control(self, call: Callable[[], Awaitable[T]]) -> T:
        """A control call, tried again after the poll interval when it meets a transient fault."""
        for attempt in range(1, CONTROL_ATTEMPTS + 1):
            try:
                return await call()
            except TransientError:
                if attempt == CONTROL_ATTEMPTS:
                    raise
                await self._sleep(self.poll_seconds)
        raise AssertionError("unreachable: the loop returns or raises")

    def close(self) -> None:
        self.store.close()
