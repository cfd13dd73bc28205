"""The corpora an evaluation scores: read from a TOML file, fetched and unpacked on demand.

A corpus is a Python sdist (`pypi`), an npm tarball (`npm`), files of the running
interpreter's standard library (`stdlib`) or a local folder (`folder`). Archives are
downloaded once into a cache directory, checked against their pinned sha256, and unpacked with
the same checks as `doctown build` applies to any untrusted archive. Nothing is executed.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal, cast, get_args

from doctown.errors import InputError
from doctown.pipeline.sources import open_source

SourceKind = Literal["pypi", "npm", "stdlib", "folder"]
FETCH_TIMEOUT = 600
DEFAULT_LIMIT = 50
DEFAULT_SEED = 0


@dataclass(frozen=True)
class Corpus:
    """One body of real code with human-written docstrings.

    `package`, `version` and `sha256` pin a `pypi` or `npm` archive; `path` narrows the
    analysis to a folder inside it (or names the folder of a `folder` corpus, relative to the
    corpora file); `files` lists the standard-library files of a `stdlib` corpus.
    """

    name: str
    source: SourceKind
    package: str | None = None
    version: str | None = None
    sha256: str | None = None
    path: str = ""
    files: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The name with its version, as reports show it."""
        if self.source == "stdlib":
            return f"{self.name} (Python {sys.version_info.major}.{sys.version_info.minor})"
        return f"{self.name} {self.version}" if self.version else self.name


@dataclass(frozen=True)
class CorpusSet:
    """The corpora file: every corpus, the seed and the default sample size."""

    corpora: tuple[Corpus, ...]
    seed: int = DEFAULT_SEED
    limit: int = DEFAULT_LIMIT
    base: Path = Path()

    def select(self, names: list[str] | None) -> list[Corpus]:
        """The corpora named, in file order (all of them for None or an empty list)."""
        if not names:
            return list(self.corpora)
        known = {corpus.name for corpus in self.corpora}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise InputError(
                f"no corpus named {', '.join(unknown)}; the corpora file lists "
                f"{', '.join(sorted(known))}"
            )
        return [corpus for corpus in self.corpora if corpus.name in names]


def load_corpora(path: Path) -> CorpusSet:
    """Read and check a corpora file (see eval/corpora.toml)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"no corpora file at {path}; run from the doctown repository (eval/corpora.toml) "
            "or pass --corpora FILE"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    entries = data.get("corpus", [])
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{path}: no [[corpus]] entries")
    corpora = tuple(_corpus(path, entry) for entry in entries)
    names = [corpus.name for corpus in corpora]
    if len(set(names)) != len(names):
        raise InputError(f"{path}: corpus names must be unique")
    seed, limit = data.get("seed", DEFAULT_SEED), data.get("limit", DEFAULT_LIMIT)
    if not isinstance(seed, int) or not isinstance(limit, int) or limit < 1:
        raise InputError(f"{path}: `seed` must be an integer and `limit` a positive integer")
    return CorpusSet(corpora=corpora, seed=seed, limit=limit, base=path.parent)


def _corpus(path: Path, entry: Any) -> Corpus:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise InputError(f"{path}: every [[corpus]] needs a `name`")
    name = entry["name"]
    source = entry.get("source")
    if not isinstance(source, str) or source not in get_args(SourceKind):
        raise InputError(
            f"{path}: corpus {name!r} has source {source!r}; use one of "
            f"{', '.join(get_args(SourceKind))}"
        )
    needed = {
        "pypi": ("package", "version", "sha256"),
        "npm": ("package", "version", "sha256"),
        "stdlib": ("files",),
        "folder": ("path",),
    }[source]
    missing = [key for key in needed if not entry.get(key)]
    if missing:
        raise InputError(f"{path}: corpus {name!r} ({source}) needs {', '.join(missing)}")
    relative = str(entry.get("path", ""))
    if PurePosixPath(relative).is_absolute() or ".." in PurePosixPath(relative).parts:
        raise InputError(f"{path}: corpus {name!r} has path {relative!r}; keep it relative")
    return Corpus(
        name=name,
        source=cast(SourceKind, source),
        package=entry.get("package"),
        version=entry.get("version"),
        sha256=entry.get("sha256"),
        path=relative,
        files=tuple(entry.get("files", ())),
    )


def materialise(corpus: Corpus, *, base: Path, cache_dir: Path, workdir: Path) -> Path:
    """A local folder holding the corpus' source: fetched, verified and unpacked as needed.

    `base` is the corpora file's folder (for `folder` corpora); archives are cached in
    `cache_dir`; unpacked trees and copied files go under `workdir`.
    """
    target = workdir / corpus.name
    if corpus.source == "folder":
        return (base / corpus.path).resolve()
    if corpus.source == "stdlib":
        return _copy_stdlib(corpus.files, target)
    archive = (
        _fetch_pypi(corpus, cache_dir) if corpus.source == "pypi" else _fetch_npm(corpus, cache_dir)
    )
    tree = open_source(str(archive), ref=None, workdir=target)
    root = tree.root / corpus.path
    if not root.is_dir():
        raise InputError(f"corpus {corpus.name!r}: {corpus.path!r} is not a folder of the archive")
    return root


def _copy_stdlib(files: tuple[str, ...], target: Path) -> Path:
    library = Path(sysconfig.get_paths()["stdlib"])
    target.mkdir(parents=True, exist_ok=True)
    for name in files:
        source = library / name
        if not source.is_file():
            raise InputError(f"the standard library of this Python has no {name}")
        shutil.copyfile(source, target / name)
    return target


def _verified(archive: Path, corpus: Corpus) -> Path:
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if digest != corpus.sha256:
        raise InputError(
            f"corpus {corpus.name!r}: {archive} has sha256 {digest}, the corpora file pins "
            f"{corpus.sha256}; delete the file to fetch it again, or fix the pin"
        )
    return archive


def _fetch_pypi(corpus: Corpus, cache_dir: Path) -> Path:
    folder = cache_dir / "pypi" / f"{corpus.package}-{corpus.version}"
    found = sorted(folder.glob("*.tar.gz")) + sorted(folder.glob("*.zip"))
    if found:
        return _verified(found[0], corpus)
    folder.mkdir(parents=True, exist_ok=True)
    # A hash-pinned requirement: pip refuses any other file.
    requirement = folder / "requirement.txt"
    requirement.write_text(
        f"{corpus.package}=={corpus.version} --hash=sha256:{corpus.sha256}\n", encoding="utf-8"
    )
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--require-hashes",
            "--dest",
            str(folder),
            "-r",
            str(requirement),
        ],
        corpus,
        cwd=folder,
        tool="pip",
    )
    found = sorted(folder.glob("*.tar.gz")) + sorted(folder.glob("*.zip"))
    if not found:
        raise InputError(f"corpus {corpus.name!r}: pip downloaded no source distribution")
    return _verified(found[0], corpus)


def _fetch_npm(corpus: Corpus, cache_dir: Path) -> Path:
    folder = cache_dir / "npm" / f"{corpus.package}-{corpus.version}"
    found = sorted(folder.glob("*.tgz"))
    if found:
        return _verified(found[0], corpus)
    if shutil.which("npm") is None:
        raise InputError(
            f"corpus {corpus.name!r} comes from npm, which is not installed; install Node.js "
            "or choose other corpora with --corpus"
        )
    folder.mkdir(parents=True, exist_ok=True)
    _run(
        ["npm", "pack", "--silent", "--ignore-scripts", f"{corpus.package}@{corpus.version}"],
        corpus,
        cwd=folder,
        tool="npm",
    )
    found = sorted(folder.glob("*.tgz"))
    if not found:
        raise InputError(f"corpus {corpus.name!r}: npm pack wrote no tarball")
    return _verified(found[0], corpus)


def _run(argv: list[str], corpus: Corpus, *, cwd: Path, tool: str) -> None:
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            argv, cwd=cwd, capture_output=True, text=True, timeout=FETCH_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise InputError(f"corpus {corpus.name!r}: fetching took over {FETCH_TIMEOUT} s") from None
    if done.returncode != 0:
        raise InputError(f"corpus {corpus.name!r}: {tool} failed: {done.stderr.strip()[-500:]}")
