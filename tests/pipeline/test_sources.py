"""Opening sources: folders, archives (untrusted) and git repositories (a local bare one)."""

from __future__ import annotations

import io
import subprocess
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from doctown.docpack import read_docpack
from doctown.errors import InputError
from doctown.pipeline import archives
from doctown.pipeline.sources import open_source
from doctown.testing import FakeOpenAIServer
from tests.cli.test_generate import doctown, openai_env
from tests.pipeline.conftest import COMMIT_TIME, git
from tests.server.routes.test_jobs import Worker


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


def small_members_zip(path: Path) -> Path:
    """100 MiB of zeros in 100 members of 1 MiB each: each member alone looks harmless."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for index in range(100):
            bundle.writestr(f"pkg/part{index}.py", b"0" * 2**20)
    return path


def zeros_tar_gz(path: Path) -> Path:
    """One member of 100 MiB of zeros, gzipped to about 100 KB."""
    with tarfile.open(path, "w:gz") as bundle:
        info = tarfile.TarInfo("pkg/zeros.py")
        info.size = 100 * 2**20
        bundle.addfile(info, io.BytesIO(b"\0" * info.size))
    return path


@pytest.mark.parametrize("make", [small_members_zip, zeros_tar_gz])
def test_archive_bombs_are_refused_as_a_whole_while_unpacking(
    tmp_path: Path, make: Callable[[Path], Path]
) -> None:
    archive = make(tmp_path / "bomb.bin")
    assert archive.stat().st_size < 400_000
    with pytest.raises(InputError, match=r"expands more than 200:1 .* archive bomb"):
        open_source(str(archive), ref=None, workdir=tmp_path / "w")
    written = sum(p.stat().st_size for p in (tmp_path / "w").rglob("*") if p.is_file())
    assert written <= archives.RATIO_FREE_BYTES + archives.CHUNK_BYTES


def test_archives_are_bounded_in_files_and_need_honest_sizes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    many = tmp_path / "many.tar"
    with tarfile.open(many, "w") as bundle:
        for index in range(11):
            info = tarfile.TarInfo(f"pkg/m{index}.py")
            bundle.addfile(info, io.BytesIO(b""))
    monkeypatch.setattr(archives, "MAX_ARCHIVE_MEMBERS", 10)
    with pytest.raises(InputError, match="more than 10 files"):
        open_source(str(many), ref=None, workdir=tmp_path / "w")

    lying = tmp_path / "lying.zip"
    with zipfile.ZipFile(lying, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("pkg/big.py", b"x = 1\n" * 1000)
    data = bytearray(lying.read_bytes())
    # Shrink the size the central directory declares (offset 24 of its entry).
    directory = data.rindex(b"PK\x01\x02")
    data[directory + 24 : directory + 28] = (10).to_bytes(4, "little")
    lying.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"Bad CRC|larger than it says"):
        open_source(str(lying), ref=None, workdir=tmp_path / "w2")


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


# Each setting names a program that git runs in some command; none may ever run.
HOSTILE_CONFIG = """
[log]
    showSignature = true
[gpg]
    program = {bin}/gpg
[gpg "ssh"]
    program = {bin}/gpg-ssh
[gpg "x509"]
    program = {bin}/gpg-x509
[core]
    pager = {bin}/pager
    fsmonitor = {bin}/fsmonitor
    sshCommand = {bin}/ssh
    hooksPath = {bin}/hooks
[diff]
    external = {bin}/diff
[filter "evil"]
    clean = {bin}/clean
    smudge = {bin}/smudge
    process = {bin}/process
"""
HOOKS = ("post-checkout", "post-merge", "pre-commit", "post-index-change", "reference-transaction")
SIGNATURE = (
    "-----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEEAAAAAAAAAAAAAAAAAAAAAAAAAAAF\n"
    " =AAAA\n -----END PGP SIGNATURE-----"
)


def plant_hostile_git(repo: Path, bin_dir: Path, markers: Path) -> str:
    """Make `repo`'s HEAD a signed commit and point every program setting at a marker script.

    Returns the signed commit's hash. Each script leaves a file in `markers` when it runs.
    """
    names = ["gpg", "gpg-ssh", "gpg-x509", "pager", "fsmonitor", "ssh", "diff", "clean"]
    names += ["smudge", "process", *(f"hooks/{hook}" for hook in HOOKS)]
    for name in names:
        script = bin_dir / name
        script.parent.mkdir(parents=True, exist_ok=True)
        marker = markers / name.replace("/", "-")
        script.write_text(f"#!/bin/sh\ntouch {marker}\nexit 0\n")
        script.chmod(0o755)
    for hook in HOOKS:
        (repo / ".git" / "hooks" / hook).write_text((bin_dir / "hooks" / hook).read_text())
        (repo / ".git" / "hooks" / hook).chmod(0o755)
    (repo / ".gitattributes").write_text("* filter=evil diff=evil\n")
    git(repo, "add", ".gitattributes")
    tree = git(repo, "write-tree")
    parent = git(repo, "rev-parse", "HEAD")
    stamp = "t <t@example.invalid> 1748779200 +0000"
    body = (
        f"tree {tree}\nparent {parent}\nauthor {stamp}\ncommitter {stamp}\n"
        f"gpgsig {SIGNATURE}\n\nsigned\n"
    )
    signed = subprocess.run(
        ["git", "hash-object", "-t", "commit", "-w", "--stdin"],
        cwd=repo,
        input=body,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    git(repo, "update-ref", "refs/heads/main", signed)
    with (repo / ".git" / "config").open("a") as config:
        config.write(HOSTILE_CONFIG.format(bin=bin_dir))
    markers.mkdir(exist_ok=True)
    return signed


def test_a_repositorys_git_configuration_never_runs_a_program(
    shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    markers = tmp_path / "markers"
    signed = plant_hostile_git(shop_repo, tmp_path / "bin", markers)
    # The vectors are live: git itself, run in the repository, runs them.
    for command in (["log", "-1"], ["status"]):
        subprocess.run(
            ["git", *command], cwd=shop_repo, stdin=subprocess.DEVNULL, capture_output=True
        )
    assert {"fsmonitor", "gpg"} <= {marker.name for marker in markers.iterdir()}
    for marker in markers.iterdir():
        marker.unlink()

    env = openai_env(fake_openai, DOCTOWN_CACHE_DIR=str(tmp_path / "cache"))
    out = tmp_path / "shop.docpack"
    dry = doctown("build", str(shop_repo), "-o", str(out), "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert list(markers.iterdir()) == [], "doctown build --dry-run ran a program"
    built = doctown("build", str(shop_repo), "-o", str(out), "--yes", "--quiet", env=env)
    assert built.returncode == 0, built.stderr
    assert list(markers.iterdir()) == [], "doctown build ran a program"
    assert read_docpack(out).manifest.source.commit_hash == signed

    worker = Worker(
        fake_openai, jobs_allowed_roots=str(shop_repo.parent), jobs_dir=str(tmp_path / "jobs")
    )
    try:
        accepted = worker.submit(json={"path": str(shop_repo), "limit": 1})
        job = worker.wait(accepted["id"], "succeeded", "partial", "failed")
    finally:
        worker.stop()
    assert job["state"] == "succeeded", job["error"]
    assert list(markers.iterdir()) == [], "a POST /jobs path job ran a program"


@pytest.mark.parametrize("ref", ["-x", "--upload-pack=touch /tmp/x", "a b", "a..b", "x@{1}", ""])
def test_refs_that_could_read_as_options_or_ranges_are_refused(
    shop_repo: Path, tmp_path: Path, ref: str
) -> None:
    bare = tmp_path / "shop.git"
    git(tmp_path, "clone", "-q", "--bare", str(shop_repo), str(bare))
    with pytest.raises(InputError, match=r"^ref .*(not a branch, tag or commit name|characters)"):
        open_source(f"file://{bare}", ref=ref, workdir=tmp_path / "w")


def test_a_failed_clone_never_shows_the_urls_credentials(tmp_path: Path) -> None:
    url = "http://builder:S3CRET-PASS@127.0.0.1:9/team/repo.git"  # nothing listens on port 9
    with pytest.raises(InputError, match="git clone failed") as raised:
        open_source(url, ref=None, workdir=tmp_path)
    assert "S3CRET" not in str(raised.value)


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


def test_exporting_a_ref_of_a_hostile_checkout_runs_none_of_its_programs(
    shop_repo: Path, tmp_path: Path
) -> None:
    markers = tmp_path / "markers"
    signed = plant_hostile_git(shop_repo, tmp_path / "bin", markers)
    (tmp_path / "w").mkdir()
    tree = open_source(str(shop_repo), ref="main", workdir=tmp_path / "w")
    assert tree.commit == signed and (tree.root / "shop" / "cart.py").exists()
    assert list(markers.iterdir()) == [], "exporting a ref ran a program"
    with pytest.raises(InputError, match="not a revision"):
        open_source(str(shop_repo), ref="--output=/tmp/x", workdir=tmp_path / "w")
