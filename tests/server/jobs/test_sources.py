"""What a job may build from: paths under JOBS_ALLOWED_ROOTS, allowed git URLs, archives."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from doctown.errors import InputError, SourceNotAllowedError
from doctown.server.jobs.sources import check_git_url, check_path, save_upload


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path]:
    allowed, elsewhere = tmp_path / "allowed", tmp_path / "elsewhere"
    (allowed / "repo").mkdir(parents=True)
    (elsewhere / "secret").mkdir(parents=True)
    return allowed.resolve(), elsewhere.resolve()


def test_a_path_under_an_allowed_root_comes_back_resolved(roots: tuple[Path, Path]) -> None:
    allowed, _ = roots
    assert check_path(f"{allowed}/repo/../repo", [allowed]) == allowed / "repo"


@pytest.mark.parametrize("escape", ["{elsewhere}/secret", "{allowed}/../elsewhere/secret"])
def test_a_path_outside_the_roots_is_refused_naming_the_setting(
    roots: tuple[Path, Path], escape: str
) -> None:
    allowed, elsewhere = roots
    with pytest.raises(SourceNotAllowedError, match="JOBS_ALLOWED_ROOTS"):
        check_path(escape.format(allowed=allowed, elsewhere=elsewhere), [allowed])


def test_a_link_inside_a_root_cannot_lead_out_of_it(roots: tuple[Path, Path]) -> None:
    allowed, elsewhere = roots
    (allowed / "link").symlink_to(elsewhere / "secret")
    with pytest.raises(SourceNotAllowedError, match="outside"):
        check_path(str(allowed / "link"), [allowed])


def test_paths_are_off_without_roots_and_must_be_absolute_and_exist(
    roots: tuple[Path, Path],
) -> None:
    allowed, _ = roots
    with pytest.raises(SourceNotAllowedError, match="set JOBS_ALLOWED_ROOTS"):
        check_path(str(allowed / "repo"), [])
    with pytest.raises(InputError, match="must be absolute"):
        check_path("repo", [allowed])
    with pytest.raises(InputError, match="no such folder"):
        check_path(str(allowed / "missing"), [allowed])


def test_git_urls_need_the_setting_and_a_remote_scheme() -> None:
    with pytest.raises(SourceNotAllowedError, match="JOBS_ALLOW_GIT_URLS=true"):
        check_git_url("https://example.com/repo.git", allowed=False)
    assert check_git_url("git@example.com:team/repo.git", allowed=True)
    for url in ("file:///srv/repo.git", "/srv/repo.git", "--upload-pack=evil"):
        with pytest.raises(InputError, match="remote git repository"):
            check_git_url(url, allowed=True)


def test_only_zip_and_tar_uploads_are_kept(tmp_path: Path) -> None:
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as bundle:
        bundle.writestr("repo/main.py", "print('hi')\n")
    save_upload(io.BytesIO(packed.getvalue()), tmp_path / "good")
    assert (tmp_path / "good").read_bytes() == packed.getvalue()
    with pytest.raises(InputError, match=r"neither a \.zip nor a \.tar\.gz"):
        save_upload(io.BytesIO(b"just some text, not an archive"), tmp_path / "bad")
    assert not (tmp_path / "bad").exists()
