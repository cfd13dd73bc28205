"""Request dependencies: the worker state and the optional bearer-token check."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from doctown.server.state import WorkerState

_bearer = HTTPBearer(auto_error=False)


def get_state(request: Request) -> WorkerState:
    state: WorkerState = request.app.state.worker
    return state


State = Annotated[WorkerState, Depends(get_state)]


def require_api_key(
    state: State, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """When WORKER_API_KEY is set, demand `Authorization: Bearer <it>`."""
    expected = state.settings.worker_api_key
    if expected is None:
        return
    presented = credentials.credentials if credentials else ""
    if not secrets.compare_digest(presented.encode(), expected.get_secret_value().encode()):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Missing or wrong bearer token: send 'Authorization: Bearer <WORKER_API_KEY>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )


Authorized = Depends(require_api_key)
