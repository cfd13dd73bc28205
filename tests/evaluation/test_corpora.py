import hashlib
import io
import sysconfig
import tarfile
from pathlib import Path

import pytest

from doctown.errors import InputError
from doctown.evaluation.corpora import Corpus, SourceKind, load_corpora, materialise

REPOSITORY = Path(__file__).parents[2]


def test_the_committed_corpora_pin_three_packages_the_stdlib_and_another_language() -> None:
    corpora = load_corpora(REPOSITORY / "eval" / "corpora.toml")
    pypi = [c for c in corpora.corpora if c.source == "pypi"]
    assert len(pypi) >= 3 and all(c.version and len(c.sha256 or "") == 64 for c in pypi)
    assert [c.source for c in corpora.corpora].count("stdlib") == 1
    assert any(c.source == "npm" and c.sha256 for c in corpora.corpora)
    library = Path(sysconfig.get_paths()["stdlib"])
    (stdlib,) = [c for c in corpora.corpora if c.source == "stdlib"]
    assert all((library / name).is_file() for name in stdlib.files)
    assert corpora.limit > 0 and isinstance(corpora.seed, int)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("seed = 1", "no [[corpus]]"),
        ('[[corpus]]\nname = "a"\nsource = "cpan"', "use one of pypi, npm, stdlib, folder"),
        ('[[corpus]]\nname = "a"\nsource = "pypi"\npackage = "a"', "needs version, sha256"),
        ('[[corpus]]\nname = "a"\nsource = "folder"\npath = "../up"', "keep it relative"),
        (
            '[[corpus]]\nname = "a"\nsource = "folder"\npath = "x"\n'
            '[[corpus]]\nname = "a"\nsource = "folder"\npath = "y"',
            "unique",
        ),
        ('limit = 0\n[[corpus]]\nname = "a"\nsource = "folder"\npath = "x"', "positive"),
        ("[[corpus]", "not valid TOML"),
    ],
)
def test_a_bad_corpora_file_is_refused_with_the_reason(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "corpora.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message.replace("[", r"\[")):
        load_corpora(path)


def test_a_missing_file_and_an_unknown_corpus_say_what_to_do(corpora_file: Path) -> None:
    with pytest.raises(InputError, match="--corpora FILE"):
        load_corpora(corpora_file.with_name("nowhere.toml"))
    with pytest.raises(InputError, match="no corpus named numpy; the corpora file lists shop"):
        load_corpora(corpora_file).select(["numpy"])
    assert [c.name for c in load_corpora(corpora_file).select([])] == ["shop"]


def test_folder_and_stdlib_corpora_are_local(corpora_file: Path, tmp_path: Path) -> None:
    corpora = load_corpora(corpora_file)
    folder = materialise(
        corpora.corpora[0], base=corpora.base, cache_dir=tmp_path, workdir=tmp_path
    )
    assert (folder / "shop" / "cart.py").is_file()
    stdlib = Corpus(name="std", source="stdlib", files=("textwrap.py", "shlex.py"))
    root = materialise(stdlib, base=tmp_path, cache_dir=tmp_path, workdir=tmp_path / "work")
    assert sorted(p.name for p in root.iterdir()) == ["shlex.py", "textwrap.py"]
    with pytest.raises(InputError, match=r"has no nothing\.py"):
        materialise(
            Corpus(name="x", source="stdlib", files=("nothing.py",)),
            base=tmp_path,
            cache_dir=tmp_path,
            workdir=tmp_path / "other",
        )


def archive(path: Path, top: str) -> str:
    """A .tar.gz holding `top/pkg/__init__.py`; returns its sha256."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = b'"""A package."""\n'
        info = tarfile.TarInfo(f"{top}/pkg/__init__.py")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return hashlib.sha256(buffer.getvalue()).hexdigest()


@pytest.mark.parametrize(
    ("source", "file"), [("pypi", "pypi/pkg-1.0/pkg-1.0.tar.gz"), ("npm", "npm/pkg-1.0/pkg.tgz")]
)
def test_a_cached_archive_is_checked_against_its_pin_then_unpacked(
    tmp_path: Path, source: SourceKind, file: str
) -> None:
    cache = tmp_path / "cache"
    digest = archive(cache / file, "package" if source == "npm" else "pkg-1.0")
    corpus = Corpus(
        name="pkg", source=source, package="pkg", version="1.0", sha256=digest, path="pkg"
    )
    root = materialise(corpus, base=tmp_path, cache_dir=cache, workdir=tmp_path / "a")
    assert (root / "__init__.py").read_text() == '"""A package."""\n'
    tampered = Corpus(name="pkg", source=source, package="pkg", version="1.0", sha256="0" * 64)
    with pytest.raises(InputError, match="the corpora file pins 0000"):
        materialise(tampered, base=tmp_path, cache_dir=cache, workdir=tmp_path / "b")


def test_a_pinned_sdist_is_downloaded_once_then_read_from_the_cache(tmp_path: Path) -> None:
    corpora = load_corpora(REPOSITORY / "eval" / "corpora.toml")
    (itsdangerous,) = corpora.select(["itsdangerous"])
    cache = tmp_path / "cache"
    root = materialise(itsdangerous, base=corpora.base, cache_dir=cache, workdir=tmp_path / "a")
    assert (root / "itsdangerous" / "signer.py").is_file()
    (archive,) = (cache / "pypi" / "itsdangerous-2.2.0").glob("*.tar.gz")
    archive.write_bytes(archive.read_bytes() + b"\0")  # the cached copy is checked every time
    with pytest.raises(InputError, match="delete the file to fetch it again"):
        materialise(itsdangerous, base=corpora.base, cache_dir=cache, workdir=tmp_path / "b")
