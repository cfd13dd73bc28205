"""Token counting with tiktoken, offline.

tiktoken downloads its BPE files on first use. doctown ships the two encodings OpenAI's chat
models use (gzipped package data) and seeds tiktoken's cache with them before first use, after
checking each against the sha256 that tiktoken itself pins, so no network is ever touched.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from doctown import model_catalog
from doctown.errors import ConfigurationError


@dataclass(frozen=True)
class _Bundled:
    url: str  # tiktoken names its cache file by the sha1 of this address
    sha256: str  # the hash tiktoken pins for the file


_BUNDLED = {
    "o200k_base": _Bundled(
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
    "cl100k_base": _Bundled(
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
}

# Per-message overhead of the chat format (role and separators), as OpenAI documents it.
_TOKENS_PER_MESSAGE = 3
_TOKENS_PER_REPLY = 3

_lock = threading.Lock()
# Distinct recurring texts (roles, system prompts, few-shot turns) remembered per counter.
RECURRING_TEXTS = 64


def _cache_dir() -> Path:
    configured = os.environ.get("TIKTOKEN_CACHE_DIR")
    if configured:
        return Path(configured)
    from doctown.config import cache_dir

    path = cache_dir() / "tiktoken"
    os.environ["TIKTOKEN_CACHE_DIR"] = str(path)
    return path


def _seed_cache(name: str) -> None:
    bundled = _BUNDLED[name]
    target = _cache_dir() / hashlib.sha1(bundled.url.encode(), usedforsecurity=False).hexdigest()
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == bundled.sha256:
        return
    data = gzip.decompress(
        resources.files("doctown.data").joinpath(f"{name}.tiktoken.gz").read_bytes()
    )
    if hashlib.sha256(data).hexdigest() != bundled.sha256:
        raise ConfigurationError(
            f"The bundled {name} encoding is corrupt (sha256 mismatch). Reinstall doctown."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(data)
    partial.replace(target)


@cache
def encoding(name: str) -> Any:
    """The tiktoken `Encoding` called `name`, loaded from the bundled file."""
    if name not in _BUNDLED:
        raise ConfigurationError(
            f"Encoding {name!r} is not bundled; use one of {sorted(_BUNDLED)}."
        )
    import tiktoken

    with _lock:
        _seed_cache(name)
        return tiktoken.get_encoding(name)


class TokenCounter:
    """Counts tokens the way `model` would see them."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.encoding_name = model_catalog.encoding_for(model)
        self._encoding = encoding(self.encoding_name)
        # Roles and system prompts recur in every prompt: each is encoded once.
        self._count_recurring = functools.lru_cache(maxsize=RECURRING_TEXTS)(self.count)

    def count(self, text: str) -> int:
        return len(self._encoding.encode(text, disallowed_special=()))

    def count_messages(self, messages: list[dict[str, str]]) -> int:
        """Prompt tokens of a chat request, including the chat format's overhead."""
        last = len(messages) - 1
        return _TOKENS_PER_REPLY + sum(
            _TOKENS_PER_MESSAGE
            + (self.count if index == last else self._count_recurring)(m["content"])
            + self._count_recurring(m["role"])
            for index, m in enumerate(messages)
        )

    def truncate(self, text: str, max_tokens: int) -> str:
        """The longest prefix of `text` within `max_tokens` tokens."""
        ids = self._encoding.encode(text, disallowed_special=())
        if len(ids) <= max_tokens:
            return text
        return str(self._encoding.decode(ids[: max(max_tokens, 0)]))
