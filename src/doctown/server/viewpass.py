"""The view pass: what a browser that showed WORKER_API_KEY keeps so that links work.

The web app sends the key itself as a bearer header on every fetch, but a page the browser
navigates to (a link, the back button, a pack download) carries no header. Showing the key
to `POST /session` therefore buys a pass: a cookie holding an expiry time and an HMAC of it,
signed with a secret derived from the key. It opens pages and pack downloads (GET) and
nothing else: submitting and cancelling still need the key, so a pass cannot spend money.
It is HttpOnly (no script reads it) and SameSite=Strict (no other site's page sends it);
changing the key voids every pass. The key never travels in a URL or a cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import time

COOKIE_NAME = "doctown_pass"
# A working day: long enough to read a pack, short enough that a lost cookie soon expires.
# The app renews the pass whenever one of its pages loads with the key at hand.
PASS_SECONDS = 12 * 3600
_PURPOSE = b"doctown view pass v1"
_MAX_TOKEN_CHARS = 128


class ViewPass:
    """Issues and checks passes for one key."""

    def __init__(self, key: str, *, seconds: int = PASS_SECONDS) -> None:
        # Derived, not the key itself: a leaked pass says nothing about the key.
        self._secret = hmac.new(key.encode(), _PURPOSE, hashlib.sha256).digest()
        self.seconds = seconds

    def issue(self, now: float | None = None) -> str:
        """A pass valid for `seconds` from `now`: `<expiry>.<signature>`."""
        expires = int(now if now is not None else time.time()) + self.seconds
        return f"{expires}.{self._sign(expires)}"

    def admits(self, token: str, now: float | None = None) -> bool:
        """Whether `token` is a pass this key issued that has not expired."""
        if len(token) > _MAX_TOKEN_CHARS:
            return False
        expires, _, signature = token.partition(".")
        if not expires.isdigit() or not hmac.compare_digest(
            signature.encode(), self._sign(int(expires)).encode()
        ):
            return False
        return int(expires) > (now if now is not None else time.time())

    def _sign(self, expires: int) -> str:
        return hmac.new(self._secret, str(expires).encode(), hashlib.sha256).hexdigest()
