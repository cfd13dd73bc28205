from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from doctown.errors import BatchTooLargeError
from doctown.schemas import GenerateRequest, GenerateResponse
from doctown.server.deps import Authorized, State
from doctown.server.errors import abort_status

router = APIRouter(tags=["generation"], dependencies=[Authorized])


def check_batch_size(request: GenerateRequest, limit: int) -> None:
    if len(request.symbols) > limit:
        raise BatchTooLargeError(len(request.symbols), limit)


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
        return JSONResponse(
            result.model_dump(mode="json"), status_code=abort_status(result.error.type)
        )
    return result
