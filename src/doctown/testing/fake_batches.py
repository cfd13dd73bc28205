"""The Files and Batches routes of the fake OpenAI server.

Uploads are kept in memory. A batch is validated when it is created (the input file exists,
every line is a request to the batch's endpoint with a unique `custom_id`, at most 50,000
lines and 200 MB), then answered line by line by the server's own rules, so scripted replies
and format refusals apply to batch lines exactly as to chat requests. It completes
`batch_seconds` after creation, its request counts growing in between, unless `hold` is set.
Scripted outcomes make the next batches fail validation or expire half-way.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

MAX_REQUESTS_PER_BATCH = 50_000
MAX_INPUT_FILE_BYTES = 200 * 1024 * 1024
BATCH_OUTCOMES = ("completed", "failed", "expired")

# (status, JSON body, headers, delay): how the server answers one chat request body.
Answer = tuple[int, dict[str, Any], dict[str, str], float]


@dataclass
class StoredFile:
    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: int

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
        }


@dataclass
class FakeBatch:
    id: str
    input_file_id: str
    endpoint: str
    completion_window: str
    metadata: dict[str, Any] | None
    created_at: float
    outcome: str
    lines: list[dict[str, Any]]
    status: str = "validating"
    errors: list[dict[str, Any]] = field(default_factory=list)
    output_file_id: str | None = None
    error_file_id: str | None = None
    completed: int = 0
    failed: int = 0
    finished_at: float | None = None

    def describe(self, batch_seconds: float) -> dict[str, Any]:
        total = len(self.lines) if self.status != "failed" else 0
        completed, failed = self.completed, self.failed
        if self.status == "in_progress" and batch_seconds > 0:
            share = min((time.time() - self.created_at) / batch_seconds, 1.0)
            completed = min(int(total * share), max(total - 1, 0))
        stamp = int(self.finished_at) if self.finished_at else None
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "errors": {"object": "list", "data": self.errors} if self.errors else None,
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": int(self.created_at),
            "in_progress_at": int(self.created_at) if self.status != "validating" else None,
            "expires_at": int(self.created_at) + 24 * 3600,
            "completed_at": stamp if self.status == "completed" else None,
            "failed_at": stamp if self.status == "failed" else None,
            "expired_at": stamp if self.status == "expired" else None,
            "request_counts": {"total": total, "completed": completed, "failed": failed},
            "metadata": self.metadata,
        }


class FakeBatches:
    """Files and batches, answered by `answer` (the fake server's rules for one chat body)."""

    def __init__(self, answer: Callable[[dict[str, Any]], Answer], *, batch_seconds: float) -> None:
        self.answer = answer
        self.batch_seconds = batch_seconds
        self.hold = False  # while set, batches stay in progress
        self.files: dict[str, StoredFile] = {}
        self.batches: dict[str, FakeBatch] = {}
        self._outcomes: deque[str] = deque()
        self._lock = threading.Lock()

    def script_outcomes(self, *outcomes: str) -> None:
        """The next batches end this way: completed, failed (validation) or expired."""
        unknown = set(outcomes) - set(BATCH_OUTCOMES)
        if unknown:
            raise ValueError(f"unknown batch outcomes {sorted(unknown)}; use {BATCH_OUTCOMES}")
        with self._lock:
            self._outcomes.extend(outcomes)

    # Routes --------------------------------------------------------------------------------

    async def upload(self, request: Request) -> Response:
        async with request.form() as form:  # closes the spooled upload afterwards
            upload, purpose = form.get("file"), form.get("purpose")
            if not isinstance(upload, UploadFile) or purpose != "batch":
                return _invalid("Expected a multipart 'file' and purpose 'batch'.")
            content = await upload.read()
            filename = upload.filename or "upload.jsonl"
        stored = StoredFile(
            id=f"file-{uuid.uuid4().hex[:24]}",
            filename=filename,
            purpose="batch",
            content=content,
            created_at=int(time.time()),
        )
        with self._lock:
            self.files[stored.id] = stored
        return JSONResponse(stored.describe())

    async def file(self, request: Request) -> Response:
        stored = self.files.get(request.path_params["file_id"])
        return JSONResponse(stored.describe()) if stored else _not_found("file")

    async def content(self, request: Request) -> Response:
        stored = self.files.get(request.path_params["file_id"])
        if stored is None:
            return _not_found("file")
        return Response(stored.content, media_type="application/jsonl")

    async def create(self, request: Request) -> Response:
        body = await request.json()
        stored = self.files.get(str(body.get("input_file_id")))
        if stored is None:
            return _not_found("file")
        if body.get("completion_window") != "24h":
            return _invalid("completion_window must be '24h'.")
        with self._lock:
            outcome = self._outcomes.popleft() if self._outcomes else "completed"
        batch = FakeBatch(
            id=f"batch_{uuid.uuid4().hex[:24]}",
            input_file_id=stored.id,
            endpoint=str(body.get("endpoint")),
            completion_window="24h",
            metadata=body.get("metadata"),
            created_at=time.time(),
            outcome=outcome,
            lines=[],
        )
        batch.errors = self._validate(stored, batch)
        if batch.errors or outcome == "failed":
            batch.errors = batch.errors or [
                {
                    "code": "token_limit_exceeded",
                    "message": "Enqueued token limit reached for this model. Please try again "
                    "once some in_progress batches have been completed.",
                    "param": None,
                    "line": None,
                }
            ]
            batch.status, batch.finished_at = "failed", time.time()
        with self._lock:
            self.batches[batch.id] = batch
        return JSONResponse(batch.describe(self.batch_seconds))

    async def listing(self, request: Request) -> Response:
        limit = int(request.query_params.get("limit", "20"))
        with self._lock:
            for batch in self.batches.values():
                self._advance(batch)
            newest = sorted(self.batches.values(), key=lambda b: b.created_at, reverse=True)
        data = [batch.describe(self.batch_seconds) for batch in newest[:limit]]
        return JSONResponse({"object": "list", "data": data, "has_more": len(newest) > limit})

    async def retrieve(self, request: Request) -> Response:
        batch = self.batches.get(request.path_params["batch_id"])
        if batch is None:
            return _not_found("batch")
        with self._lock:
            self._advance(batch)
        return JSONResponse(batch.describe(self.batch_seconds))

    # Processing ----------------------------------------------------------------------------

    def _validate(self, stored: StoredFile, batch: FakeBatch) -> list[dict[str, Any]]:
        if len(stored.content) > MAX_INPUT_FILE_BYTES:
            return [_line_error("file_too_large", "The input file is larger than 200 MB.", None)]
        seen: set[str] = set()
        for number, raw in enumerate(stored.content.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                return [_line_error("invalid_json_line", "This line is not valid JSON.", number)]
            custom_id = line.get("custom_id")
            if not custom_id or custom_id in seen:
                return [
                    _line_error("duplicate_custom_id", "custom_id is missing or repeated.", number)
                ]
            if line.get("method") != "POST" or line.get("url") != batch.endpoint:
                return [
                    _line_error(
                        "mismatched_endpoint", "The url differs from the batch's endpoint.", number
                    )
                ]
            seen.add(custom_id)
            batch.lines.append(line)
        if len(batch.lines) > MAX_REQUESTS_PER_BATCH:
            return [
                _line_error("too_many_requests", "A batch holds at most 50,000 requests.", None)
            ]
        if not batch.lines:
            return [_line_error("empty_file", "The input file has no requests.", None)]
        return []

    def _advance(self, batch: FakeBatch) -> None:
        if batch.status == "validating":
            batch.status = "in_progress"
        if batch.status != "in_progress" or self.hold:
            return
        if time.time() - batch.created_at < self.batch_seconds:
            return
        answered = batch.lines
        expired: list[dict[str, Any]] = []
        if batch.outcome == "expired":
            half = len(batch.lines) // 2
            answered, expired = batch.lines[:half], batch.lines[half:]
        outputs: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for line in answered:
            status, payload, _headers, _delay = self.answer(line["body"])
            entry = {
                "id": f"batch_req_{uuid.uuid4().hex[:24]}",
                "custom_id": line["custom_id"],
                "response": {
                    "status_code": status,
                    "request_id": uuid.uuid4().hex,
                    "body": payload,
                },
                "error": None,
            }
            (outputs if status == 200 else errors).append(entry)
        for line in expired:
            errors.append(
                {
                    "id": f"batch_req_{uuid.uuid4().hex[:24]}",
                    "custom_id": line["custom_id"],
                    "response": None,
                    "error": {
                        "code": "batch_expired",
                        "message": "This request could not be executed before the "
                        "completion window expired.",
                    },
                }
            )
        batch.completed, batch.failed = len(outputs), len(errors)
        batch.output_file_id = self._store_result(batch, "output", outputs)
        batch.error_file_id = self._store_result(batch, "error", errors)
        batch.status = "expired" if batch.outcome == "expired" else "completed"
        batch.finished_at = time.time()

    def _store_result(
        self, batch: FakeBatch, kind: str, entries: list[dict[str, Any]]
    ) -> str | None:
        if not entries:
            return None
        content = "".join(json.dumps(entry) + "\n" for entry in entries).encode()
        stored = StoredFile(
            id=f"file-{uuid.uuid4().hex[:24]}",
            filename=f"{batch.id}_{kind}.jsonl",
            purpose="batch_output",
            content=content,
            created_at=int(time.time()),
        )
        self.files[stored.id] = stored
        return stored.id


def _line_error(code: str, message: str, line: int | None) -> dict[str, Any]:
    return {"code": code, "message": message, "param": None, "line": line}


def _invalid(message: str) -> JSONResponse:
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": None}
    return JSONResponse({"error": error}, status_code=400)


def _not_found(what: str) -> JSONResponse:
    error = {
        "message": f"No such {what}.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    return JSONResponse({"error": error}, status_code=404)
