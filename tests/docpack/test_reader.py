from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from doctown.docpack import Limits, read_docpack
from doctown.errors import DocpackError, DocpackTamperedError, InputError
from tests.docpack.factory import (
    legacy_entries,
    patch_directory,
    read_entries,
    resign,
    rezip,
    write_sample,
)


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    path = tmp_path / "shop.docpack"
    write_sample(path)
    return path


@pytest.fixture
def entries(pack: Path) -> dict[str, bytes]:
    return read_entries(pack)


def edited_json(data: bytes, edit: Callable[[dict], None]) -> bytes:  # type: ignore[type-arg]
    document = json.loads(data)
    edit(document)
    return json.dumps(document).encode()


def test_an_intact_pack_is_verified(pack: Path) -> None:
    docpack = read_docpack(pack)
    assert docpack.verified and docpack.problems == ()
    assert len(docpack.symbols) == 9
    assert docpack.content.symbol_contexts is not None


def test_a_pack_written_before_reproducible_packs_still_reads(pack: Path, tmp_path: Path) -> None:
    legacy = rezip(tmp_path / "old.docpack", legacy_entries(pack).items())
    read = read_docpack(legacy)
    assert read.verified
    assert read.manifest.usage is not None and read.manifest.usage.requests == 3
    assert read.symbols == read_docpack(pack).symbols  # `cached` is tolerated and dropped


def test_docpack_errors_are_input_errors() -> None:
    # The CLI and the service translate InputError; a pack's problems must be among them.
    assert issubclass(DocpackTamperedError, DocpackError)
    assert issubclass(DocpackError, InputError)


# --- tampering -------------------------------------------------------------------------------


def test_an_edited_summary_is_reported_as_tampering(
    tmp_path: Path, entries: dict[str, bytes]
) -> None:
    def rewrite_summary(nodes: dict) -> None:  # type: ignore[type-arg]
        nodes["symbols"][1]["documentation"]["summary"] = "Sends the cart to the attacker."

    entries["nodes.json"] = edited_json(entries["nodes.json"], rewrite_summary)
    hostile = rezip(tmp_path / "edited.docpack", entries.items())
    with pytest.raises(DocpackTamperedError, match="checksum mismatch") as caught:
        read_docpack(hostile)
    assert "rebuild it" in str(caught.value)
    docpack = read_docpack(hostile, verify=False)
    assert not docpack.verified
    assert [p.split(":")[0] for p in docpack.problems] == ["checksum mismatch", "docpack_id sha256"]


def test_a_manifest_that_misstates_the_content_is_reported(
    tmp_path: Path, entries: dict[str, bytes]
) -> None:
    def inflate(manifest: dict) -> None:  # type: ignore[type-arg]
        manifest["statistics"]["symbol_count"] = 90
        manifest["optional"]["has_embeddings"] = True

    entries["manifest.json"] = edited_json(entries["manifest.json"], inflate)
    hostile = rezip(tmp_path / "forged.docpack", entries.items())
    problems = read_docpack(hostile, verify=False).problems
    assert problems == (
        "statistics.symbol_count says 90, the content has 9",
        "optional.has_embeddings is True, embeddings.bin is absent",
    )
    with pytest.raises(DocpackTamperedError, match="symbol_count says 90"):
        read_docpack(hostile)


def test_contexts_are_checksummed_even_when_not_loaded(
    tmp_path: Path, entries: dict[str, bytes]
) -> None:
    entries["symbol_contexts.json"] = entries["symbol_contexts.json"].replace(b"Symbol", b"Sym")
    hostile = rezip(tmp_path / "contexts.docpack", entries.items())
    with pytest.raises(DocpackTamperedError, match="checksum mismatch"):
        read_docpack(hostile, load_contexts=False)
    assert read_docpack(hostile, load_contexts=False, verify=False).content.symbol_contexts is None


# --- hostile archives ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("../evil.json", "climbs out of the archive with '..'"),
        ("..\\evil.json", "climbs out of the archive with '..'"),
        ("/etc/evil.json", "is an absolute path"),
        ("C:evil.json", "is an absolute path"),
        ("docs/nodes.json", "is inside a folder"),
        ("evil.sh", "is not a docpack entry"),
    ],
)
def test_entries_with_paths_or_unknown_names_are_refused(
    tmp_path: Path, entries: dict[str, bytes], name: str, problem: str
) -> None:
    hostile = rezip(tmp_path / "hostile.docpack", [*entries.items(), (name, b"{}")])
    with pytest.raises(DocpackError, match=re.escape(f"entry {name!r}")) as caught:
        read_docpack(hostile)
    assert problem in str(caught.value)


def test_a_name_with_a_nul_byte_is_refused(tmp_path: Path, entries: dict[str, bytes]) -> None:
    hostile = rezip(tmp_path / "nul.docpack", [*entries.items(), ("nodes.jsonX", b"{}")])
    hostile.write_bytes(hostile.read_bytes().replace(b"nodes.jsonX", b"nodes.json\x00"))
    with pytest.raises(DocpackError, match="NUL byte"):
        read_docpack(hostile)


def test_a_duplicate_entry_is_refused(tmp_path: Path, entries: dict[str, bytes]) -> None:
    forged = edited_json(entries["nodes.json"], lambda nodes: nodes["symbols"].pop())
    hostile = rezip(tmp_path / "dup.docpack", [*entries.items(), ("nodes.json", forged)])
    with pytest.raises(DocpackError, match=r"'nodes\.json' appears twice"):
        read_docpack(hostile)


def test_a_missing_entry_is_named(tmp_path: Path, entries: dict[str, bytes]) -> None:
    del entries["graph.json"]
    hostile = rezip(tmp_path / "missing.docpack", entries.items())
    with pytest.raises(DocpackError, match=r"missing required entry graph\.json"):
        read_docpack(hostile)


def test_a_zip_bomb_is_refused_by_its_compression_ratio(
    tmp_path: Path, entries: dict[str, bytes]
) -> None:
    # Valid JSON padded with 8 MiB of spaces: deflate shrinks it about a thousandfold.
    entries["nodes.json"] = entries["nodes.json"] + b" " * (8 << 20)
    hostile = rezip(tmp_path / "bomb.docpack", resign(entries).items())
    assert hostile.stat().st_size < 100_000
    with pytest.raises(DocpackError, match=r"'nodes.json' expands \d+:1 .*zip bomb"):
        read_docpack(hostile)


def test_an_entry_that_lies_about_its_size_is_refused(pack: Path) -> None:
    patch_directory(pack, "nodes.json", uncompressed_size=100)
    with pytest.raises(DocpackError, match=r"'nodes\.json' (is corrupt|decompresses to more)"):
        read_docpack(pack)


def test_oversized_entries_and_packs_are_refused(pack: Path) -> None:
    with pytest.raises(DocpackError, match=r"'nodes\.json' is oversized"):
        read_docpack(pack, limits=Limits(max_entry_bytes=2_000))
    with pytest.raises(DocpackError, match="add up to more than 10000 bytes"):
        read_docpack(pack, limits=Limits(max_total_bytes=10_000))
    with pytest.raises(DocpackError, match="above the 1000 byte limit for a pack"):
        read_docpack(pack, limits=Limits(max_pack_bytes=1_000))


def test_encrypted_entries_are_refused(pack: Path) -> None:
    patch_directory(pack, "graph.json", flags=0x1)
    with pytest.raises(DocpackError, match=r"'graph\.json' is encrypted"):
        read_docpack(pack)


def test_other_compression_methods_are_refused(tmp_path: Path, entries: dict[str, bytes]) -> None:
    hostile = rezip(tmp_path / "bz.docpack", entries.items(), compression=zipfile.ZIP_BZIP2)
    with pytest.raises(DocpackError, match="compression method 12"):
        read_docpack(hostile)


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.docpack"
    path.write_text("just text")
    with pytest.raises(DocpackError, match="not a readable zip archive"):
        read_docpack(path)
    with pytest.raises(DocpackError, match="no such file"):
        read_docpack(tmp_path / "absent.docpack")


# --- bad content -----------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ["manifest.json", "nodes.json", "source_map.json"])
def test_bad_json_is_named_with_its_entry(
    tmp_path: Path, entries: dict[str, bytes], entry: str
) -> None:
    entries[entry] = entries[entry][:-20]
    hostile = rezip(tmp_path / "bad.docpack", entries.items())
    with pytest.raises(DocpackError, match=f"{entry} is not valid JSON"):
        read_docpack(hostile)


def test_deeply_nested_json_is_an_error_not_a_crash(
    tmp_path: Path, entries: dict[str, bytes]
) -> None:
    entries["graph.json"] = b"[" * 100_000 + b"]" * 100_000
    hostile = rezip(tmp_path / "deep.docpack", entries.items())
    with pytest.raises(DocpackError, match=r"graph\.json is not valid JSON"):
        read_docpack(hostile)


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("docpack/2.0", "schema_version 'docpack/2.0' is not supported; this doctown reads"),
        (None, "has no schema_version"),
    ],
)
def test_other_schema_versions_are_refused(
    tmp_path: Path, entries: dict[str, bytes], version: str | None, message: str
) -> None:
    def set_version(manifest: dict) -> None:  # type: ignore[type-arg]
        if version is None:
            del manifest["schema_version"]
        else:
            manifest["schema_version"] = version

    entries["manifest.json"] = edited_json(entries["manifest.json"], set_version)
    hostile = rezip(tmp_path / "v2.docpack", entries.items())
    with pytest.raises(DocpackError, match=message):
        read_docpack(hostile)


def test_content_that_breaks_the_schema_is_named_by_field(
    tmp_path: Path, entries: dict[str, bytes]
) -> None:
    def break_symbol(nodes: dict) -> None:  # type: ignore[type-arg]
        del nodes["symbols"][2]["name"]
        nodes["symbols"][3]["centrality"] = 7

    entries["nodes.json"] = edited_json(entries["nodes.json"], break_symbol)
    hostile = rezip(tmp_path / "schema.docpack", resign(entries).items())
    with pytest.raises(DocpackError) as caught:
        read_docpack(hostile)
    message = str(caught.value)
    assert "nodes.json does not match the docpack schema" in message
    assert "symbols.2.name: Field required" in message
    assert "symbols.3.centrality" in message


def test_repeated_symbol_ids_are_refused(tmp_path: Path, entries: dict[str, bytes]) -> None:
    def repeat(nodes: dict) -> None:  # type: ignore[type-arg]
        nodes["symbols"][1]["id"] = nodes["symbols"][0]["id"]

    entries["nodes.json"] = edited_json(entries["nodes.json"], repeat)
    hostile = rezip(tmp_path / "ids.docpack", resign(entries).items())
    with pytest.raises(DocpackError, match=r"repeats symbol id 'py:shop\.cart'"):
        read_docpack(hostile)


# --- reading writes nothing ------------------------------------------------------------------


def _tree(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*")}


def test_reading_a_hostile_pack_writes_nothing(
    tmp_path: Path, entries: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = tmp_path / "work" / "deep"
    inside.mkdir(parents=True)
    monkeypatch.chdir(inside)
    hostile = rezip(
        tmp_path / "traversal.docpack", [*entries.items(), ("../../escaped.json", b"{}")]
    )
    before = _tree(tmp_path)
    with pytest.raises(DocpackError):
        read_docpack(hostile)
    read_docpack(tmp_path / "shop.docpack")
    assert _tree(tmp_path) == before
    assert not (tmp_path / "escaped.json").exists()
    assert os.listdir(inside) == []


def test_a_pack_written_before_fingerprints_still_reads(pack: Path, tmp_path: Path) -> None:
    from tests.docpack.factory import before_fingerprints

    older = rezip(tmp_path / "older.docpack", before_fingerprints(pack).items())
    read = read_docpack(older)
    assert read.verified and read.content.nodes.recipe is None
    assert all(s.documentation.fingerprint is None for s in read.symbols)
