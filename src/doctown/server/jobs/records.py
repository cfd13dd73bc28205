"""What a job is: the request that starts it, the record kept of it, and what the API shows."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_validator

from doctown.errors import InputError
from doctown.pipeline.git import MAX_URL_CHARS, check_ref
from doctown.pipeline.selection import DocstringMode
from doctown.schemas import JobError, UsageReport

JobState = Literal[
    "queued", "running", "succeeded", "partial", "failed", "interrupted", "cancelled"
]
MAX_PATH_CHARS = 4_096  # PATH_MAX
MAX_NAME_CHARS = 255  # NAME_MAX, for each part of a path
ACTIVE_STATES: frozenset[JobState] = frozenset({"queued", "running"})
# A pack is written whenever generation ran to its end, even if some symbols failed.
PACKED_STATES: frozenset[JobState] = frozenset({"succeeded", "partial"})

Dollars = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


def utc_now() -> datetime:
    return datetime.now(UTC)


class JobOptions(BaseModel):
    """What to document and how much to spend: the choices `doctown build` offers."""

    model_config = ConfigDict(extra="forbid")

    include_private: bool = False
    include_tests: bool = Field(default=False, description="Document test code too")
    docstrings: DocstringMode | None = Field(
        default=None,
        description="context or reuse; unset: as `doctown build` (reuse with the embedded "
        "preview model, context otherwise)",
    )
    limit: int | None = Field(default=None, ge=0, description="Only the N most central symbols")
    max_cost: Dollars | None = Field(default=None, ge=0, description="Hard cap in US dollars")
    ref: str | None = Field(default=None, description="Branch, tag or commit (git URLs only)")
    distributed: bool = Field(
        default=False, description="Send the requests in shards to `doctown worker` processes"
    )
    overviews: bool = Field(
        default=True, description="Write module, cluster and repository overviews too"
    )

    @field_validator("ref")
    @classmethod
    def _ref_is_a_name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return check_ref(value)
        except InputError as exc:
            raise ValueError(str(exc)) from None


class JobCreate(JobOptions):
    """A JSON request: a server-side `path` or a git `url`, plus the options."""

    path: str | None = Field(default=None, max_length=MAX_PATH_CHARS)
    url: str | None = Field(default=None, max_length=MAX_URL_CHARS)

    @field_validator("path")
    @classmethod
    def _path_the_system_can_open(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if "\0" in value:
            raise ValueError("a path cannot contain a NUL character")
        if any(len(part.encode()) > MAX_NAME_CHARS for part in value.split("/")):
            raise ValueError(f"each part of a path is at most {MAX_NAME_CHARS} bytes long")
        return value

    @field_validator("url")
    @classmethod
    def _url_on_one_line(cls, value: str | None) -> str | None:
        if value is not None and any(ord(char) < 0x21 or ord(char) == 0x7F for char in value):
            raise ValueError("a URL cannot contain spaces or control characters")
        return value


class JobSource(BaseModel):
    kind: Literal["upload", "path", "git"]
    name: str = Field(description="The uploaded file's name, the path or the URL as given")


class JobCounts(BaseModel):
    """Where the selected symbols stand: symbols = reused + documented + failed + remaining."""

    symbols: int = 0
    documented: int = Field(default=0, description="Summarised, cache hits included")
    cached: int = Field(default=0, description="Of the documented, found in the summary cache")
    reused: int = Field(default=0, description="Taken from existing docstrings, no call")
    failed: int = 0
    remaining: int = Field(default=0, description="Not attempted yet, or stopped by a cap")


class Job(BaseModel):
    """The record kept of one job, as stored."""

    id: str
    state: JobState = "queued"
    source: JobSource
    options: JobOptions = Field(default_factory=JobOptions)
    counts: JobCounts = Field(default_factory=JobCounts)
    usage: UsageReport = Field(default_factory=UsageReport)
    error: JobError | None = None
    docpack_id: str | None = None
    created_at: datetime = Field(default_factory=utc_now)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class JobLinks(BaseModel):
    job: str
    events: str
    docpack: str


class JobPublic(Job):
    """A job as the API shows it: the record and where to follow it."""

    links: JobLinks

    @classmethod
    def of(cls, job: Job) -> JobPublic:
        base = f"/jobs/{job.id}"
        links = JobLinks(job=base, events=f"{base}/events", docpack=f"{base}/docpack")
        return cls(**dict(job), links=links)


class JobPage(BaseModel):
    """One page of jobs, newest first, and the URL of the next page (None on the last)."""

    jobs: list[JobPublic]
    next: str | None = Field(description="GET this for older jobs; null when there are none")
