from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import JSONResponse

from doctown.errors import InsufficientQuotaError, JobAbortedError
from doctown.schemas import GenerateRequest, GenerateResponse
from doctown.server.deps import Authorized, State

router = APIRouter(tags=["generation"], dependencies=[Authorized])


def check_batch_size(request: GenerateRequest, limit: int) -> None:
    if len(request.symbols) > limit:
        raise HTTPException(
            status_code=status.HTTP_413_CONTENT_TOO_LARGE,
            detail=f"The batch has {len(request.symbols)} symbols; MAX_BATCH_SIZE is {limit}. "
            "Split it into smaller requests.",
        )


@router.post("/generate", response_model=GenerateResponse)
async def generate(request: GenerateRequest, state: State) -> GenerateResponse | JSONResponse:
    """Document a batch of symbols. Failures are listed in `failed_symbols`, never invented.

    A job-level failure (402 out of quota, 503 bad key or unknown model) still returns every
    summary already generated, in the same body shape.
    """
    check_batch_size(request, state.settings.max_batch_size)
    result = await state.engine.generate(
        request.job_id, request.symbols, subscribers=state.subscribers
    )
    if result.error is not None:
        quota = result.error.type == InsufficientQuotaError.reason
        code = InsufficientQuotaError.http_status if quota else JobAbortedError.http_status
        return JSONResponse(result.model_dump(mode="json"), status_code=code)
    return result
