"""`POST /session` and `DELETE /session`: the worker's key exchanged for a view pass, and back.

The app's script sends the key as a bearer header and gets 204 with the pass cookie; a page
without script posts the key as a form field and is sent on to where it was going (303).
A wrong key gets 401: as JSON for the script, as the key page again for the form. The key
travels only in a header or a request body, never in a URL, and is never written anywhere.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse, RedirectResponse

from doctown.server.deps import Credentials, State, key_matches
from doctown.server.viewpass import COOKIE_NAME
from doctown.server.web.render import key_page

router = APIRouter(include_in_schema=False)

MAX_FORM_FIELDS = 4
MAX_NEXT_CHARS = 2_000
WRONG_KEY = "That is not this worker's key (WORKER_API_KEY); check it and try again."


def local_path(value: str) -> str:
    """`value` if it is a path on this worker (`/library`), else `/`: a form cannot be used
    to send the reader to another site (`//evil.example`, `https://...`, `/\\evil`)."""
    if (
        not value.startswith("/")
        or value.startswith(("//", "/\\"))
        or len(value) > MAX_NEXT_CHARS
        or any(ord(char) < 0x20 or ord(char) == 0x7F for char in value)
    ):
        return "/"
    return value


async def _form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return {}
    async with request.form(max_files=0, max_fields=MAX_FORM_FIELDS) as form:
        return {name: value for name, value in form.items() if isinstance(value, str)}


@router.post("/session")
async def open_session(
    request: Request,
    state: State,
    credentials: Credentials,
) -> Response:
    """Check the key (bearer header, or the form field `key`) and hand out a view pass."""
    fields = await _form(request)
    presented = credentials.credentials if credentials else fields.get("key", "")
    from_form = credentials is None
    next_url = local_path(fields.get("next", "/"))
    if not key_matches(state, presented):
        if from_form:
            return key_page(request, next_url=next_url, problem=WRONG_KEY)
        return JSONResponse(
            {"detail": WRONG_KEY},
            status_code=status.HTTP_401_UNAUTHORIZED,
            headers={"WWW-Authenticate": "Bearer"},
        )
    response: Response = (
        RedirectResponse(next_url, status_code=status.HTTP_303_SEE_OTHER)
        if from_form
        else Response(status_code=status.HTTP_204_NO_CONTENT)
    )
    if state.view_pass is not None:
        response.set_cookie(
            COOKIE_NAME,
            state.view_pass.issue(),
            # No max-age: the browser drops it when the session ends; the pass expires anyway.
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
    return response


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
async def close_session() -> Response:
    """Drop this browser's view pass (the app's "Forget the key")."""
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
    return response
