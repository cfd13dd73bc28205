from doctown import model_catalog


def test_lookup_prefers_the_longest_family_prefix() -> None:
    assert model_catalog.lookup("gpt-5-mini-2025-08-07").name == "gpt-5-mini"  # type: ignore[union-attr]
    assert model_catalog.lookup("gpt-5").name == "gpt-5"  # type: ignore[union-attr]
    assert model_catalog.lookup("gpt-4o-mini").name == "gpt-4o-mini"  # type: ignore[union-attr]
    assert model_catalog.lookup("llama3.1:8b") is None


def test_reasoning_families() -> None:
    assert model_catalog.is_reasoning_model("gpt-5-nano")
    assert model_catalog.is_reasoning_model("o4-mini")
    assert not model_catalog.is_reasoning_model("gpt-4o-mini")
    assert not model_catalog.is_reasoning_model("gpt-5-chat-latest")
    assert not model_catalog.is_reasoning_model("qwen2.5-coder")


def test_gpt5_nano_retirement_is_recorded() -> None:
    info = model_catalog.lookup("gpt-5-nano")
    assert (
        info is not None and info.retires is not None and info.retires.isoformat() == "2026-12-11"
    )
