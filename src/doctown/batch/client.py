"""The Files and Batches routes of the OpenAI API, over the backend's own HTTP session."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from pydantic import BaseModel, Field

from doctown.backends.http import RawResponse
from doctown.backends.openai import OpenAIAPI
from doctown.batch.requests import ENDPOINT
from doctown.errors import JobAbortedError, TransientError
from doctown.redaction import redact

COMPLETION_WINDOW = "24h"
# Statuses after which a batch changes no more.
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
_LIST_PAGE = 100


class RequestCounts(BaseModel):
    total: int = 0
    completed: int = 0
    failed: int = 0


class BatchError(BaseModel):
    code: str | None = None
    message: str | None = None
    line: int | None = None


class BatchErrors(BaseModel):
    data: list[BatchError] = Field(default_factory=list)


class BatchInfo(BaseModel):
    """A batch as the API describes it (the fields doctown reads)."""

    id: str
    status: str
    input_file_id: str = ""
    output_file_id: str | None = None
    error_file_id: str | None = None
    request_counts: RequestCounts | None = None
    errors: BatchErrors | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def counts(self) -> RequestCounts:
        return self.request_counts or RequestCounts()

    def describe_errors(self) -> str:
        data = self.errors.data if self.errors else []
        described = "; ".join(f"{e.code}: {e.message}" for e in data[:3])
        return redact(described) if described else "no detail given"


class BatchClient:
    """Uploads request files, creates and polls batches, downloads their results."""

    def __init__(self, api: OpenAIAPI, *, model: str) -> None:
        self.api = api
        self.model = model

    async def upload(self, name: str, content: bytes) -> str:
        form = aiohttp.FormData()
        form.add_field("purpose", "batch")
        form.add_field("file", content, filename=name, content_type="application/jsonl")
        return str((await self._json("POST", "/files", form, content_type=None))["id"])

    async def create(self, input_file_id: str) -> BatchInfo:
        body = {
            "input_file_id": input_file_id,
            "endpoint": ENDPOINT,
            "completion_window": COMPLETION_WINDOW,
            "metadata": {"created_by": "doctown build"},
        }
        return BatchInfo.model_validate(
            await self._json("POST", "/batches", json.dumps(body).encode())
        )

    async def retrieve(self, batch_id: str) -> BatchInfo:
        response = await self.api.send("GET", f"/batches/{batch_id}")
        if response.status == 404:  # another key or organisation, or deleted: never answered
            error = BatchError(code="not_found", message=f"the API does not know {batch_id}")
            return BatchInfo(id=batch_id, status="failed", errors=BatchErrors(data=[error]))
        return BatchInfo.model_validate(self._read(response, "GET", f"/batches/{batch_id}"))

    async def find(self, input_file_id: str) -> BatchInfo | None:
        """The recent batch made from `input_file_id`, if one was created (a create call whose
        answer was lost when the build was killed)."""
        listing = await self._json("GET", f"/batches?limit={_LIST_PAGE}")
        for entry in listing.get("data", []):
            if entry.get("input_file_id") == input_file_id:
                return BatchInfo.model_validate(entry)
        return None

    async def content(self, file_id: str) -> bytes:
        response = await self.api.send("GET", f"/files/{file_id}/content")
        if response.status >= 300:
            raise self.api.failure(response, model=self.model)
        return response.body

    async def _json(
        self,
        method: str,
        path: str,
        body: bytes | aiohttp.FormData | None = None,
        *,
        content_type: str | None = "application/json",
    ) -> dict[str, Any]:
        return self._read(
            await self.api.send(method, path, body, content_type=content_type), method, path
        )

    def _read(self, response: RawResponse, method: str, path: str) -> dict[str, Any]:
        if response.status == 404 and not path.startswith("/batches/"):
            raise JobAbortedError(
                f"The server at {self.api.base_url} has no Batch API (404 for {method} {path}). "
                "--batch needs OpenAI's API; for a vLLM server, run the request files with "
                "`vllm run-batch`, or build without --batch."
            )
        if response.status >= 300:
            raise self.api.failure(response, model=self.model)
        try:
            data = json.loads(response.body)
        except ValueError:
            raise TransientError(f"the answer to {method} {path} is not JSON") from None
        if not isinstance(data, dict):
            raise TransientError(f"the answer to {method} {path} is not a JSON object")
        return data
