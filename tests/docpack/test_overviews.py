"""overviews.json: written and read back, covered by the checksum, refused in a 1.0 pack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from doctown.docpack import read_docpack
from doctown.docpack.overview_text import OverviewIndex
from doctown.errors import DocpackError, DocpackTamperedError
from tests.docpack.factory import (
    read_entries,
    resign,
    rezip,
    write_sample,
    write_sample_with_overviews,
)


def test_overviews_are_written_as_docpack_1_1_and_read_back(tmp_path: Path) -> None:
    manifest = write_sample_with_overviews(tmp_path / "shop.docpack")
    assert manifest.schema_version == "docpack/1.1" and manifest.optional.has_overviews
    pack = read_docpack(tmp_path / "shop.docpack")
    overviews = pack.content.overviews
    assert overviews is not None and overviews.repository is not None
    assert [m.path for m in overviews.modules] == ["src/shop/cart.py", "src/shop/pricing.py"]
    assert list(read_entries(tmp_path / "shop.docpack"))[-1] == "overviews.json"
    index = OverviewIndex(pack.content)
    assert index.name("cluster:checkout") == "Checkout"
    assert index.name("py:shop.cart.Cart") == "shop.cart.Cart"
    assert index.exists("module:src/shop/pricing.py") and not index.exists("module:nowhere.py")
    text = index.text("module:src/shop/cart.py")
    assert text is not None and "public API\n  py:shop.cart.Cart  shop.cart.Cart" in text
    # The same content gives the same bytes, whatever order the overviews came in.
    again = tmp_path / "again.docpack"
    write_sample_with_overviews(again)
    assert again.read_bytes() == (tmp_path / "shop.docpack").read_bytes()


def test_the_checksum_covers_the_overviews(tmp_path: Path) -> None:
    write_sample_with_overviews(tmp_path / "shop.docpack")
    entries = read_entries(tmp_path / "shop.docpack")
    edited = json.loads(entries["overviews.json"])
    edited["repository"]["summary"] = "Something else entirely."
    entries["overviews.json"] = json.dumps(edited).encode()
    with pytest.raises(DocpackTamperedError, match="checksum mismatch"):
        read_docpack(rezip(tmp_path / "edited.docpack", entries.items()))
    dropped = {name: data for name, data in read_entries(tmp_path / "shop.docpack").items()}
    del dropped["overviews.json"]
    with pytest.raises(DocpackTamperedError, match="has_overviews is True"):
        read_docpack(rezip(tmp_path / "dropped.docpack", resign(dropped).items()))


def test_readers_accept_1_0_packs_and_refuse_overviews_in_them(tmp_path: Path) -> None:
    write_sample(tmp_path / "plain.docpack")
    entries = read_entries(tmp_path / "plain.docpack")
    manifest = json.loads(entries["manifest.json"])
    manifest["schema_version"] = "docpack/1.0"
    del manifest["optional"]["has_overviews"]
    legacy = {**entries, "manifest.json": json.dumps(manifest).encode()}
    pack = read_docpack(rezip(tmp_path / "legacy.docpack", legacy.items()))
    assert pack.manifest.schema_version == "docpack/1.0" and pack.content.overviews is None
    write_sample_with_overviews(tmp_path / "new.docpack")
    with_overviews = read_entries(tmp_path / "new.docpack")
    sneaked = resign({**legacy, "overviews.json": with_overviews["overviews.json"]})
    with pytest.raises(DocpackError, match=r"'overviews\.json' is not part of docpack/1\.0"):
        read_docpack(rezip(tmp_path / "sneaked.docpack", sneaked.items()))
