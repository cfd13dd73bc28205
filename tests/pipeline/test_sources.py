"""Opening sources: folders, archives (untrusted) and git repositories (a local bare one)."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from doctown.errors import InputError
from doctown.pipeline.sources import open_source
from tests.pipeline.conftest import COMMIT_TIME, git


def test_a_git_work_tree_gives_its_commit(shop_repo: Path, tmp_path: Path) -> None:
    tree = open_source(str(shop_repo), ref=None, workdir=tmp_path)
    assert tree.root == shop_repo.resolve()
    assert tree.commit == git(shop_repo, "rev-parse", "HEAD")
    assert tree.commit_time is not None and tree.commit_time.isoformat() == COMMIT_TIME


def test_zip_and_tar_archives_unpack_to_the_same_tree(shop_repo: Path, tmp_path: Path) -> None:
    zipped = tmp_path / "shop.zip"
    with zipfile.ZipFile(zipped, "w") as bundle:
        for path in (shop_repo / "shop").rglob("*.py"):
            bundle.write(path, f"shop-1.0/{path.relative_to(shop_repo)}")
    tarred = tmp_path / "shop.tar.gz"
    with tarfile.open(tarred, "w:gz") as bundle:
        bundle.add(shop_repo / "shop", "shop-1.0/shop")
    for archive, work in ((zipped, tmp_path / "z"), (tarred, tmp_path / "t")):
        work.mkdir()
        tree = open_source(str(archive), ref=None, workdir=work)
        assert tree.root.name == "shop-1.0"  # a single top folder becomes the root
        assert sorted(p.name for p in (tree.root / "shop").iterdir()) == [
            "__init__.py",
            "cart.py",
            "pricing.py",
            "receipt.py",
        ]


@pytest.mark.parametrize("name", ["../evil.py", "/etc/evil.py", "a/../../evil.py"])
def test_zip_members_cannot_escape(tmp_path: Path, name: str) -> None:
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(name, "x = 1\n")
    with pytest.raises(InputError, match="unsafe member name"):
        open_source(str(archive), ref=None, workdir=tmp_path / "w")
    assert not (tmp_path / "evil.py").exists()


def test_zip_bombs_are_refused(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("big.py", b"0" * (64 * 2**20))
    with pytest.raises(InputError, match="compressed more than"):
        open_source(str(archive), ref=None, workdir=tmp_path / "w")


def test_tar_links_are_skipped(tmp_path: Path) -> None:
    archive = tmp_path / "links.tar"
    with tarfile.open(archive, "w") as bundle:
        data = b"def f():\n    return 1\n"
        info = tarfile.TarInfo("pkg/mod.py")
        info.size = len(data)
        bundle.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("pkg/passwd")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        bundle.addfile(link)
    tree = open_source(str(archive), ref=None, workdir=tmp_path / "w")
    assert (tree.root / "mod.py").is_file() and not (tree.root / "passwd").exists()


def test_git_urls_clone_at_a_branch_tag_or_commit(shop_repo: Path, tmp_path: Path) -> None:
    first = git(shop_repo, "rev-parse", "HEAD")
    git(shop_repo, "tag", "v1")
    (shop_repo / "shop" / "extra.py").write_text("def extra():\n    return 2\n")
    git(shop_repo, "add", ".")
    git(shop_repo, "commit", "-q", "-m", "extra")
    bare = tmp_path / "shop.git"
    git(tmp_path, "clone", "-q", "--bare", str(shop_repo), str(bare))
    url = f"file://{bare}"
    for ref, expect_extra in ((None, True), ("main", True), ("v1", False), (first, False)):
        work = tmp_path / f"w-{ref}"
        work.mkdir()
        tree = open_source(url, ref=ref, workdir=work)
        assert tree.repo_url == url and tree.ref == ref and tree.commit is not None
        assert (tree.root / "shop" / "extra.py").exists() is expect_extra
    assert open_source(url, ref=first, workdir=tmp_path / "w-again").commit == first


def test_unknown_sources_and_refs_are_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such folder"):
        open_source(str(tmp_path / "missing"), ref=None, workdir=tmp_path)
    with pytest.raises(InputError, match="--ref applies to git URLs and git checkouts"):
        open_source(str(tmp_path), ref="main", workdir=tmp_path / "w")
    with pytest.raises(InputError, match="git clone failed"):
        open_source(f"file://{tmp_path}/nothing.git", ref=None, workdir=tmp_path)


def test_a_ref_of_a_local_checkout_is_exported_without_touching_it(
    shop_repo: Path, tmp_path: Path
) -> None:
    first = git(shop_repo, "rev-parse", "HEAD")
    (shop_repo / "shop" / "extra.py").write_text("def extra():\n    return 2\n")
    git(shop_repo, "add", ".")
    git(shop_repo, "commit", "-q", "-m", "extra")
    (tmp_path / "w").mkdir()
    tree = open_source(str(shop_repo), ref="HEAD~1", workdir=tmp_path / "w")
    assert tree.commit == first and tree.ref == "HEAD~1" and tree.path == str(shop_repo)
    assert (tree.root / "shop" / "cart.py").exists() and not (
        tree.root / "shop" / "extra.py"
    ).exists()
    assert (shop_repo / "shop" / "extra.py").exists() and git(
        shop_repo, "status", "--porcelain"
    ) == ""
    (tmp_path / "sub").mkdir()
    part = open_source(str(shop_repo / "shop"), ref="HEAD", workdir=tmp_path / "sub")
    assert (part.root / "extra.py").exists()  # a folder inside the repository: only its files
