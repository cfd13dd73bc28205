"""Running git on repositories we do not trust, and the checks on what we pass it.

git reads configuration from the system, the user and the repository, and several settings
name programs it will run (`core.fsmonitor`, `core.sshCommand`, `gpg.program`, filters,
hooks, ...). doctown runs git only to clone and check out, always on a repository it has just
created, with the system and user configuration ignored, every `GIT_*` variable that could
point it elsewhere removed, and explicit overrides for the settings that run programs. The
commit of a folder the user points at is read without git at all (see `commit.py`).
"""

from __future__ import annotations

import os
import re
import subprocess

from doctown.errors import InputError

GIT_TIMEOUT = 600
MAX_REF_CHARS = 255
MAX_URL_CHARS = 2_048
# Overrides for everything that could make git run a program or reach past the repository.
SAFE_GIT_CONFIG = (
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "core.pager=cat",
    "credential.helper=",
    "log.showSignature=false",
    "protocol.ext.allow=never",
    "submodule.recurse=false",
)
# The caller's own transport settings are kept; everything else git would read from the
# environment (another repository, extra configuration, alternate object stores) is not.
_KEPT_GIT_VARIABLES = frozenset(
    {"GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSH_VARIANT", "GIT_SSL_CAINFO", "GIT_SSL_CAPATH"}
)
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")


def git_environment() -> dict[str, str]:
    """The environment git runs in: no system or user configuration, never a prompt."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("GIT_") or name in _KEPT_GIT_VARIABLES
    }
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_SYSTEM=os.devnull,
    )
    return env


def run_git(*args: str, cwd: str | os.PathLike[str] | None = None) -> str:
    """Run `git ARGS` with the safe configuration; its output, or InputError with its message."""
    overrides = [item for setting in SAFE_GIT_CONFIG for item in ("-c", setting)]
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            ["git", *overrides, *args],  # noqa: S607 - the system git, by design
            cwd=cwd,
            env=git_environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise InputError(
            "git is not installed; install it to build from a repository URL"
        ) from None
    except subprocess.TimeoutExpired:
        raise InputError(f"git {args[0]} took longer than {GIT_TIMEOUT} s") from None
    if done.returncode != 0:
        raise InputError(f"git {args[0]} failed: {done.stderr.strip()[-500:]}")
    return done.stdout.strip()


def check_ref(ref: str) -> str:
    """`ref` when it can only be read as a branch, tag or commit name, never as an option."""
    if not ref or len(ref) > MAX_REF_CHARS:
        raise InputError(f"ref must be 1 to {MAX_REF_CHARS} characters long")
    if ref.startswith(("-", "/", ".")) or ref.endswith(("/", ".", ".lock")):
        raise InputError(
            f"ref {ref[:80]!r} is not a branch, tag or commit name (it may not start with '-', "
            "'/' or '.', nor end with '/', '.' or '.lock')"
        )
    if _REF_FORBIDDEN.search(ref):
        raise InputError(
            f"ref {ref[:80]!r} is not a branch, tag or commit name: it contains a space, a "
            "control character, '..', '@{', '//' or one of ~ ^ : ? * [ \\"
        )
    return ref


def check_revision(revision: str) -> str:
    """`revision` when git can only read it as a revision of a local checkout (`main`,
    `v1.2`, `HEAD~1`, a hash), never as an option."""
    if not revision or len(revision) > MAX_REF_CHARS:
        raise InputError(f"ref must be 1 to {MAX_REF_CHARS} characters long")
    if revision.startswith("-") or any(ord(char) <= 0x20 or char == "\x7f" for char in revision):
        raise InputError(
            f"ref {revision[:80]!r} is not a revision: it may not start with '-' nor contain a "
            "space or a control character"
        )
    return revision


def _split_userinfo(url: str) -> tuple[str, str]:
    """(`url` without its user name and password, the user name and password) of a URL."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url, ""  # scp-like `user@host:path` carries no password
    end = min((rest.find(mark) for mark in "/?#" if mark in rest), default=len(rest))
    userinfo, at, host = rest[:end].rpartition("@")
    if not at:
        return url, ""
    return f"{scheme}://{host}{rest[end:]}", userinfo


def public_url(url: str) -> str:
    """`url` without its user name and password, for everything that is kept or shown."""
    return _split_userinfo(url)[0]


def without_credentials(text: str, url: str) -> str:
    """`text` (git's own messages) with the user name and password of `url` taken out."""
    public, userinfo = _split_userinfo(url)
    if not userinfo:
        return text
    text = text.replace(url, public)
    user, _, password = userinfo.partition(":")
    # A token is often passed as the user name alone; a plain user name next to a password
    # is not secret, and replacing a short one would garble the message.
    for secret in (userinfo, password or user):
        if secret:
            text = text.replace(secret, "***")
    return text
