from __future__ import annotations

import dataclasses
import json
import random
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from doctown import __version__
from doctown.docpack import (
    Clusters,
    Graph,
    GraphMetrics,
    Nodes,
    PackContent,
    SourceMap,
    read_docpack,
    write_docpack,
)
from doctown.docpack import writer as writer_module
from doctown.docpack.format import ENTRY_ORDER
from doctown.docpack.writer import ZIP_DATE_TIME, canonical
from tests.docpack.factory import (
    CREATED_AT,
    SOURCE,
    read_entries,
    sample_content,
    write_sample,
)


def test_round_trip_gives_back_the_content_in_canonical_order(tmp_path: Path) -> None:
    content = sample_content()
    manifest = write_sample(tmp_path / "shop.docpack")
    pack = read_docpack(tmp_path / "shop.docpack")
    assert pack.verified
    assert pack.manifest == manifest
    assert pack.content == canonical(content)
    assert pack.manifest.source == SOURCE
    assert pack.manifest.usage is None  # what a run spent is never part of the pack
    assert b'"usage"' not in read_entries(tmp_path / "shop.docpack")["manifest.json"]
    assert pack.manifest.created_at == CREATED_AT
    assert (pack.manifest.generator.name, pack.manifest.generator.version) == (
        "doctown",
        __version__,
    )
    assert pack.manifest.docpack_id == f"sha256:{pack.manifest.checksum.value}"
    assert pack.manifest.optional.has_symbol_contexts
    assert not pack.manifest.optional.has_embeddings


def test_the_same_content_gives_a_byte_identical_file(tmp_path: Path) -> None:
    write_sample(tmp_path / "one.docpack")
    write_sample(tmp_path / "two.docpack")
    assert (tmp_path / "one.docpack").read_bytes() == (tmp_path / "two.docpack").read_bytes()


def test_the_order_symbols_arrive_in_does_not_change_the_bytes(tmp_path: Path) -> None:
    content = sample_content()
    shuffled = content.nodes.symbols[:]
    random.Random(7).shuffle(shuffled)
    assert shuffled != content.nodes.symbols
    reordered = dataclasses.replace(
        content,
        nodes=Nodes(symbols=shuffled),
        graph=content.graph.model_copy(update={"edges": content.graph.edges[::-1]}),
        source_map=content.source_map.model_copy(update={"files": content.source_map.files[::-1]}),
    )
    for name, each in (("a.docpack", content), ("b.docpack", reordered)):
        write_docpack(tmp_path / name, each, source=SOURCE, created_at=CREATED_AT)
    assert (tmp_path / "a.docpack").read_bytes() == (tmp_path / "b.docpack").read_bytes()


def test_created_at_changes_the_file_but_not_the_docpack_id(tmp_path: Path) -> None:
    first = write_sample(tmp_path / "a.docpack")
    later = write_docpack(
        tmp_path / "b.docpack",
        sample_content(),
        source=SOURCE,
        created_at=CREATED_AT + timedelta(days=1),
    )
    assert (tmp_path / "a.docpack").read_bytes() != (tmp_path / "b.docpack").read_bytes()
    assert first.docpack_id == later.docpack_id


def test_a_summary_change_changes_the_docpack_id(tmp_path: Path) -> None:
    content = sample_content()
    first = content.nodes.symbols[0]
    changed = first.model_copy(
        update={"documentation": first.documentation.model_copy(update={"summary": "Other."})}
    )
    edited = dataclasses.replace(
        content, nodes=Nodes(symbols=[changed, *content.nodes.symbols[1:]])
    )
    a = write_docpack(tmp_path / "a.docpack", content, source=SOURCE, created_at=CREATED_AT)
    b = write_docpack(tmp_path / "b.docpack", edited, source=SOURCE, created_at=CREATED_AT)
    assert a.docpack_id != b.docpack_id


def test_created_at_is_stored_in_utc(tmp_path: Path) -> None:
    paris = datetime(2025, 3, 14, 16, 9, 26, tzinfo=timezone(timedelta(hours=1)))
    write_docpack(tmp_path / "p.docpack", sample_content(), source=SOURCE, created_at=paris)
    with zipfile.ZipFile(tmp_path / "p.docpack") as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["created_at"] == "2025-03-14T15:09:26Z"


def test_a_time_without_a_zone_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="time zone"):
        write_docpack(
            tmp_path / "p.docpack", sample_content(), source=SOURCE, created_at=datetime(2025, 1, 1)
        )
    assert list(tmp_path.iterdir()) == []


def test_entries_are_flat_in_a_fixed_order_with_fixed_timestamps(tmp_path: Path) -> None:
    write_sample(tmp_path / "shop.docpack")
    with zipfile.ZipFile(tmp_path / "shop.docpack") as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == [name for name in ENTRY_ORDER if name in names]
    assert names[0] == "manifest.json"
    assert all("/" not in name for name in names)
    assert {info.date_time for info in infos} == {ZIP_DATE_TIME}
    assert {info.compress_type for info in infos} == {zipfile.ZIP_DEFLATED}


def test_without_contexts_the_entry_and_its_flag_are_absent(tmp_path: Path) -> None:
    manifest = write_sample(tmp_path / "shop.docpack", contexts=False)
    with zipfile.ZipFile(tmp_path / "shop.docpack") as archive:
        assert "symbol_contexts.json" not in archive.namelist()
    assert not manifest.optional.has_symbol_contexts


def test_embeddings_are_stored_as_given_and_flagged(tmp_path: Path) -> None:
    vectors = bytes(range(256)) * 4
    content = dataclasses.replace(sample_content(), embeddings=vectors)
    manifest = write_docpack(tmp_path / "e.docpack", content, source=SOURCE, created_at=CREATED_AT)
    assert manifest.optional.has_embeddings
    assert read_docpack(tmp_path / "e.docpack").content.embeddings == vectors


def test_a_failed_write_leaves_neither_a_pack_nor_a_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "shop.docpack"
    write_sample(target)
    before = target.read_bytes()

    def disk_full(stream: object, entries: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer_module, "_write_zip", disk_full)
    with pytest.raises(OSError, match="No space"):
        write_docpack(target, sample_content(), source=SOURCE, created_at=CREATED_AT)
    # The previous pack is untouched and nothing is left beside it.
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["shop.docpack"]


def test_an_empty_pack_is_valid(tmp_path: Path) -> None:
    empty = PackContent(
        nodes=Nodes(symbols=[]),
        graph=Graph(nodes=[], edges=[], metrics=GraphMetrics.of(0, 0)),
        clusters=Clusters(clusters=[]),
        source_map=SourceMap(files=[]),
    )
    manifest = write_docpack(tmp_path / "e.docpack", empty, source=SOURCE, created_at=CREATED_AT)
    assert manifest.statistics.symbol_count == 0
    assert read_docpack(tmp_path / "e.docpack").symbols == []


def test_fingerprints_and_the_recipe_round_trip(tmp_path: Path) -> None:
    from doctown.docpack import Fingerprint, Recipe

    content = sample_content()
    first = content.nodes.symbols[0]
    marked = first.model_copy(
        update={
            "documentation": first.documentation.model_copy(
                update={
                    "fingerprint": Fingerprint(
                        prompt_version="2", digest="sha256:" + "e" * 64, parts={"body": "0" * 16}
                    )
                }
            )
        }
    )
    recipe = Recipe(
        backend="openai", model="gpt-5-mini", prompt_version="2", max_prompt_tokens=2000
    )
    nodes = Nodes(symbols=[marked, *content.nodes.symbols[1:]], recipe=recipe)
    write_docpack(
        tmp_path / "shop.docpack",
        dataclasses.replace(content, nodes=nodes),
        source=SOURCE,
        created_at=CREATED_AT,
    )
    read = read_docpack(tmp_path / "shop.docpack")
    assert read.content.nodes.recipe == recipe  # kept in order with the symbols sorted
    found = next(s for s in read.symbols if s.id == first.id)
    assert found.documentation.fingerprint == marked.documentation.fingerprint
