from __future__ import annotations

from fastapi import APIRouter, Response, status

from doctown.schemas import HealthResponse
from doctown.server.deps import State

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthResponse)
async def health(state: State, response: Response) -> HealthResponse:
    """Readiness without spending a token: configuration plus a free check, cached briefly."""
    result = await state.health()
    if not result.ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return result
