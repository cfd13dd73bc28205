"""Request dependencies: the worker state, the bearer-token check, and the readers' check."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from doctown.server.state import WorkerState
from doctown.server.viewpass import COOKIE_NAME

bearer_scheme = HTTPBearer(auto_error=False)

MISSING_KEY = "Missing or wrong bearer token: send 'Authorization: Bearer <WORKER_API_KEY>'."
MISSING_READER = (
    "Missing or wrong bearer token: send 'Authorization: Bearer <WORKER_API_KEY>', or follow "
    "the link from the web app (/) once it has been given the key."
)


def get_state(request: Request) -> WorkerState:
    state: WorkerState = request.app.state.worker
    return state


State = Annotated[WorkerState, Depends(get_state)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def key_matches(state: WorkerState, presented: str) -> bool:
    """Whether `presented` is WORKER_API_KEY (anything is, when none is set)."""
    expected = state.settings.worker_api_key
    if expected is None:
        return True
    return secrets.compare_digest(presented.encode(), expected.get_secret_value().encode())


def _bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    return credentials.credentials if credentials else ""


def require_api_key(state: State, credentials: Credentials) -> None:
    """When WORKER_API_KEY is set, demand `Authorization: Bearer <it>`."""
    if not key_matches(state, _bearer_token(credentials)):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail=MISSING_KEY,
            headers={"WWW-Authenticate": "Bearer"},
        )


def may_read(request: Request, state: WorkerState, credentials: Credentials) -> bool:
    """Whether the request may read pages and packs: no WORKER_API_KEY, the key as a bearer
    token, or a view pass the key bought (see server/viewpass.py)."""
    if key_matches(state, _bearer_token(credentials)):
        return True
    token = request.cookies.get(COOKIE_NAME)
    return state.view_pass is not None and token is not None and state.view_pass.admits(token)


def require_reader(request: Request, state: State, credentials: Credentials) -> None:
    """Like `require_api_key`, but a view pass will do: for what a browser navigates to."""
    if not may_read(request, state, credentials):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail=MISSING_READER,
            headers={"WWW-Authenticate": "Bearer"},
        )


Authorized = Depends(require_api_key)
Readable = Depends(require_reader)
