"""Build jobs over HTTP: submit, list, read, cancel, follow the events (Server-Sent Events),
download."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from doctown.errors import InputError, NoDocpackError, UnknownJobError, UnsupportedMediaTypeError
from doctown.server.deps import Authorized, Readable, State
from doctown.server.jobs.records import (
    PACKED_STATES,
    Job,
    JobCreate,
    JobPage,
    JobPublic,
    JobSource,
)
from doctown.server.jobs.service import JobService, Upload

router = APIRouter(prefix="/jobs", tags=["jobs"], dependencies=[Authorized])
# A pack download is a link the web app's pages offer: a view pass opens it as well as the key.
downloads = APIRouter(prefix="/jobs", tags=["jobs"], dependencies=[Readable])

MAX_FORM_FIELDS = 20
MAX_INTEGER_DIGITS = 30
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
KEEP_ALIVE = b": keep-alive\n\n"
_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip", ".git")

# The request body is read by hand (multipart or JSON), so its two shapes are declared here.
_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["archive"],
                    "properties": {
                        "archive": {"type": "string", "format": "binary"},
                        **{
                            name: {"type": "string"}
                            for name in (
                                "include_private",
                                "include_tests",
                                "docstrings",
                                "limit",
                                "max_cost",
                                "ref",
                                "distributed",
                                "overviews",
                            )
                        },
                    },
                }
            },
            "application/json": {"schema": JobCreate.model_json_schema()},
        },
    }
}


def get_jobs(state: State) -> JobService:
    return state.jobs


Jobs = Annotated[JobService, Depends(get_jobs)]


def get_job(job_id: str, jobs: Jobs) -> Job:
    job = jobs.get(job_id)
    if job is None:
        raise UnknownJobError(job_id)
    return job


KnownJob = Annotated[Job, Depends(get_job)]


class _HugeNumber:
    """A JSON integer too long to be any option's value; validation names its field."""

    def __repr__(self) -> str:
        return "a number too long to read"


def _integer(digits: str) -> int | _HugeNumber:
    return _HugeNumber() if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS else int(digits)


def _json_body(body: bytes) -> object:
    """The JSON of a request body, or an InputError that says what is wrong with it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"The body is not UTF-8 (byte {exc.start} cannot be decoded); send JSON as UTF-8."
        ) from None
    try:
        return json.loads(text, parse_int=_integer)
    except json.JSONDecodeError as exc:
        raise InputError(f"The body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InputError(
            "The JSON body is nested too deeply; send one flat object with 'path' or 'url' "
            "and the options."
        ) from None


def _parse(fields: object) -> JobCreate:
    try:
        return JobCreate.model_validate(fields)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors) from None


async def _submit(request: Request, jobs: JobService) -> Job:
    jobs.check_capacity()  # before the body is read: a full queue takes no more uploads
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=MAX_FORM_FIELDS) as form:
            archive = form.get("archive")
            fields = {key: value for key, value in form.items() if key != "archive"}
            upload = None
            if isinstance(archive, UploadFile):
                upload = Upload(name=archive.filename or "archive", content=archive.file)
            return await jobs.submit(_parse(fields), upload)
    if content_type.startswith("application/json"):
        return await jobs.submit(_parse(_json_body(await request.body())))
    raise UnsupportedMediaTypeError(
        "Send multipart/form-data with the repository archive in the field 'archive', or "
        "application/json with a 'path' or a 'url'.",
    )


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobPublic,
    openapi_extra=_REQUEST_BODY,
)
async def create_job(request: Request, response: Response, jobs: Jobs) -> JobPublic:
    """Start a build from an uploaded archive, a server-side path or a git URL.

    Answers at once with the queued job; the build runs in the background whether or not the
    client stays. A source the configuration refuses gets 403, a malformed one 422.
    """
    job = await _submit(request, jobs)
    public = JobPublic.of(job)
    response.headers["Location"] = public.links.job
    return public


@router.get("", response_model=JobPage)
async def list_jobs(
    jobs: Jobs,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    before: Annotated[str | None, Query(max_length=64)] = None,
) -> JobPage:
    """The worker's jobs, newest first, `limit` at a time; `next` fetches the older ones."""
    page, last = jobs.page(limit=limit, before=before)
    following = f"/jobs?limit={limit}&before={last}" if last else None
    return JobPage(jobs=[JobPublic.of(job) for job in page], next=following)


@router.get("/{job_id}", response_model=JobPublic)
async def read_job(job: KnownJob) -> JobPublic:
    """State, counts, usage, error and timestamps; live while the job runs."""
    return JobPublic.of(job)


@router.delete("/{job_id}", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic)
async def cancel_job(job_id: str, jobs: Jobs) -> JobPublic:
    """Cancel a queued or running job; 409 once it has ended.

    A queued job is `cancelled` at once. A running one sends no new request; those in
    flight finish and their summaries are cached (nothing paid for is lost), then it
    becomes `cancelled`. Follow its events, or read it, to see that happen.
    """
    job = await jobs.cancel(job_id)
    if job is None:
        raise UnknownJobError(job_id)
    return JobPublic.of(job)


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "v1 events"}},
)
async def follow_job(
    job: KnownJob,
    jobs: Jobs,
    last_event_id: Annotated[int | None, Header(ge=0)] = None,
) -> StreamingResponse:
    """Server-Sent Events: the job's v1 events from the start (or after `Last-Event-ID`),
    then live until `job.completed.v1`. Each event's `id` is its sequence."""

    async def stream() -> AsyncIterator[bytes]:
        async for batch in jobs.events(job.id, after=last_event_id or 0):
            if batch:
                yield "".join(f"id: {e.sequence}\ndata: {e.json}\n\n" for e in batch).encode()
            else:
                yield KEEP_ALIVE

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        # Proxies must pass each event on as it comes, not buffer or cache the stream.
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@downloads.get("/{job_id}/docpack", response_class=FileResponse)
async def download_docpack(job: KnownJob, jobs: Jobs) -> FileResponse:
    """The finished .docpack; 409 while the job runs or when it ended without one."""
    if job.state not in PACKED_STATES:
        if job.error is not None:
            detail = f"Job {job.id} {job.state} without a docpack: {job.error.message}"
        else:
            detail = (
                f"Job {job.id} is {job.state}; its docpack is ready once it finishes. Follow "
                f"/jobs/{job.id}/events or poll /jobs/{job.id}."
            )
        raise NoDocpackError(detail)
    return FileResponse(
        jobs.docpack(job), media_type="application/zip", filename=_download_name(job.source)
    )


def _download_name(source: JobSource) -> str:
    """`NAME.docpack`, NAME taken from the archive, folder or repository the job built."""
    stem = re.split(r"[/:\\]", source.name.rstrip("/\\"))[-1]
    for suffix in _ARCHIVE_SUFFIXES:
        stem = stem.removesuffix(suffix)
    return (re.sub(r"[^A-Za-z0-9._-]", "_", stem) or "repository") + ".docpack"
