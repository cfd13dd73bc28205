from __future__ import annotations

import asyncio

from fastapi import APIRouter

from doctown.schemas import EstimateResponse, GenerateRequest
from doctown.server.deps import Authorized, State
from doctown.server.routes.generate import check_batch_size

router = APIRouter(tags=["generation"], dependencies=[Authorized])


@router.post("/estimate", response_model=EstimateResponse)
async def estimate(request: GenerateRequest, state: State) -> EstimateResponse:
    """Prompt tokens and a cost range for a request, counted exactly; no model is called."""
    check_batch_size(request, state.settings.max_batch_size)
    # Counting a large batch takes seconds of CPU: off the event loop, the worker keeps
    # answering meanwhile.
    return await asyncio.to_thread(state.engine.estimate, request.job_id, request.symbols)
