"""Module names, and what an import statement refers to, in each language's own terms.

A module key is `<family>:<name>`: a Python dotted module, a JavaScript/TypeScript file path
without its extension, a Go import path, a Rust module path inside its crate, a Java package.
Go and Java keys name packages, which several files share.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, assert_never

from doctown.analysis.facts import FileFacts, ImportFact
from doctown.analysis.languages import LANGUAGES, ModuleSystem
from doctown.analysis.parse import REQUIRE

JS_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
MAX_MANIFEST_BYTES = 256 * 1024
_GO_MODULE = re.compile(r"^\s*module\s+(\S+)", re.MULTILINE)
_CARGO_NAME = re.compile(r'^\s*name\s*=\s*"([^"]+)"', re.MULTILINE)


class ImportTarget(NamedTuple):
    """What an imported name is bound to.

    `kind` is `module` (the module `key`), `member` (the dotted `member` path inside module
    `key`), `star` (every public name of `key`), `require` (what CommonJS module `key`
    assigns to `module.exports`), `path` (a Rust path, resolved from module `key`) or
    `external` (outside the repository; `member` is its dotted name).
    """

    kind: str
    key: str
    member: str


class ImportedName(NamedTuple):
    """One name an import statement introduces, and its target."""

    name: str
    target: ImportTarget


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    """Where a file sits in its language's module system."""

    key: str
    qualified: str
    separator: str


class Layout:
    """The module structure of a repository, from its file list and a few manifests."""

    def __init__(self, root: Path, files: Mapping[str, FileFacts]) -> None:
        self.root = root
        self.files = files
        self.python_packages = {
            posixpath.dirname(path) for path in files if path.endswith("/__init__.py")
        }
        self.modules: dict[str, ModuleInfo] = {}
        self.keys: set[str] = set()
        self._manifests: dict[tuple[str, str], str | None] = {}
        for path, facts in files.items():
            info = self._module(path, facts)
            self.modules[path] = info
            self.keys.add(info.key)
        self._python_prefixes = {
            ".".join(key[7:].split(".")[:i])
            for key in self.keys
            if key.startswith("python:")
            for i in range(1, key.count(".") + 2)
        }
        # Submodules by name under their parents, for `package.module.name` and `a::b` paths.
        self.submodules: dict[str, dict[str, str]] = {}
        # The module key of each Rust crate's root, by the name other crates use for it.
        self.crates: dict[str, str] = {}
        self._link_submodules()

    def _link_submodules(self) -> None:
        seen: set[str] = set()
        # Path order, so that of two crates with one name the same one wins every time.
        for path in sorted(self.modules):
            info = self.modules[path]
            if info.key in seen:
                continue
            seen.add(info.key)
            system, _, name = info.key.partition(":")
            if system == "python":
                parts = name.split(".")
                for depth in range(1, len(parts)):
                    parent = "python:" + ".".join(parts[:depth])
                    self.submodules.setdefault(parent, {})[parts[depth]] = "python:" + ".".join(
                        parts[: depth + 1]
                    )
            elif system == "rust":
                crate, _, inner = name.partition(":")
                parts = inner.split("::")
                for depth in range(1, len(parts)):
                    parent = f"rust:{crate}:" + "::".join(parts[:depth])
                    self.submodules.setdefault(parent, {})[parts[depth]] = (
                        f"rust:{crate}:" + "::".join(parts[: depth + 1])
                    )
                if inner == "crate":
                    self.crates[info.qualified] = info.key

    # What each file is.

    def _module(self, path: str, facts: FileFacts) -> ModuleInfo:
        system = module_system(facts.language)
        match system:
            case "python":
                name = self.python_module(path)
                return ModuleInfo(f"python:{name}", name, ".")
            case "js":
                stem = _strip_extension(path)
                if posixpath.basename(stem) == "index":
                    stem = posixpath.dirname(stem) or stem
                return ModuleInfo(f"js:{stem}", stem, ".")
            case "go":
                package = self.go_import_path(posixpath.dirname(path))
                return ModuleInfo(f"go:{package}", package, ".")
            case "rust":
                crate, module = self.rust_module(path)
                crate_name = self._manifest_name(crate, "Cargo.toml", _CARGO_NAME) or "crate"
                shown = module.replace("crate", crate_name.replace("-", "_"), 1)
                return ModuleInfo(f"rust:{crate}:{module}", shown, "::")
            case "java":
                package = facts.package or posixpath.dirname(path).replace("/", ".")
                return ModuleInfo(f"java:{package}", package, ".")
            case _:
                assert_never(system)

    def python_module(self, path: str) -> str:
        """The dotted module a Python file defines: its package chain, else its stem."""
        parts = _strip_extension(path).split("/")
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        directory = posixpath.dirname(path)
        depth = 0
        while directory in self.python_packages:
            depth += 1
            directory = posixpath.dirname(directory)
        keep = depth if is_package else depth + 1
        return ".".join(parts[len(parts) - keep :]) or "__init__"

    def go_import_path(self, directory: str) -> str:
        """A Go package's import path: the nearest go.mod's module plus the directory."""
        probe = directory
        while True:
            module = self._manifest_name(probe, "go.mod", _GO_MODULE)
            if module:
                rest = directory[len(probe) :].lstrip("/")
                return f"{module}/{rest}" if rest else module
            if not probe:
                return directory or "."
            probe = posixpath.dirname(probe)

    def rust_module(self, path: str) -> tuple[str, str]:
        """(crate directory, `crate::a::b`) for a Rust file under a crate's `src/`."""
        parts = path.split("/")
        if "src" in parts:
            at = len(parts) - 1 - parts[::-1].index("src")
            crate = "/".join(parts[:at])
            inner = parts[at + 1 :]
        else:
            crate, inner = posixpath.dirname(path), [posixpath.basename(path)]
        inner[-1] = inner[-1][: -len(".rs")]
        if inner[-1] in ("lib", "main", "mod") and (len(inner) > 1 or inner[-1] != "mod"):
            inner.pop()
        return crate, "::".join(["crate", *inner])

    @staticmethod
    def crate_root(key: str) -> str:
        """The root module (`crate`) of the Rust crate module `key` belongs to."""
        crate = key[len("rust:") :].partition(":")[0]
        return f"rust:{crate}:crate"

    @staticmethod
    def parent_module(key: str) -> str:
        """The Rust module that declares module `key` (`super`); a crate's root is its own."""
        crate, _, module = key[len("rust:") :].partition(":")
        parent = module.rsplit("::", 1)[0] if "::" in module else module
        return f"rust:{crate}:{parent}"

    def _manifest_name(self, directory: str, manifest: str, pattern: re.Pattern[str]) -> str | None:
        cached = self._manifests.get((directory, manifest), "")
        if cached != "":
            return cached
        found: str | None = None
        path = self.root / directory / manifest
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as stream:
                text = stream.read(MAX_MANIFEST_BYTES).decode("utf-8", "replace")
            match = pattern.search(text)
            found = match.group(1) if match else None
        self._manifests[(directory, manifest)] = found
        return found

    # What an import refers to.

    def bindings(self, path: str, fact: ImportFact) -> list[ImportedName]:
        """The names one import fact binds in the importing file."""
        system = module_system(self.files[path].language)
        match system:
            case "python":
                return self._python(path, fact)
            case "js":
                return self._js(path, fact)
            case "go":
                return self._go(fact)
            case "rust":
                return self._rust(path, fact)
            case "java":
                return self._java(fact)
            case _:
                assert_never(system)

    def _python(self, path: str, fact: ImportFact) -> list[ImportedName]:
        module = fact.module
        if module.startswith("."):
            resolved = self._python_relative(path, module)
            if resolved is None:
                return []
            module = resolved
        if not fact.name:
            if fact.alias:
                return [ImportedName(fact.alias, self._python_module_target(module))]
            head = module.split(".")[0]
            return [ImportedName(head, self._python_module_target(head))]
        target = self._python_module_target(module)
        if target.kind == "external":
            bound = fact.alias or fact.name
            return [ImportedName(bound, ImportTarget("external", "", f"{module}.{fact.name}"))]
        if fact.name == "*":
            return [ImportedName("*", ImportTarget("star", target.key, ""))]
        return [
            ImportedName(fact.alias or fact.name, ImportTarget("member", target.key, fact.name))
        ]

    def _python_relative(self, path: str, module: str) -> str | None:
        dots = len(module) - len(module.lstrip("."))
        package = self.modules[path].qualified.split(".")
        if not path.endswith("__init__.py"):
            package = package[:-1]
        if dots - 1 > len(package):
            return None
        base = package[: len(package) - (dots - 1)]
        rest = module[dots:]
        return ".".join([*base, rest] if rest else base)

    def _python_module_target(self, module: str) -> ImportTarget:
        if module in self._python_prefixes:
            return ImportTarget("module", f"python:{module}", "")
        return ImportTarget("external", "", module)

    def _js(self, path: str, fact: ImportFact) -> list[ImportedName]:
        spec = fact.module
        bound = fact.alias or fact.name
        if not spec.startswith("."):
            return [ImportedName(bound, ImportTarget("external", "", f"{spec}.{fact.name or '*'}"))]
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), spec))
        key = self._js_key(joined)
        if key is None:
            return [ImportedName(bound, ImportTarget("external", "", f"{spec}.{fact.name or '*'}"))]
        if not fact.name:
            return [ImportedName(bound, ImportTarget("module", key, ""))]
        if fact.name == "*":
            return [ImportedName("*", ImportTarget("star", key, ""))]
        if fact.name == REQUIRE:
            return [ImportedName(bound, ImportTarget("require", key, ""))]
        return [ImportedName(bound, ImportTarget("member", key, fact.name))]

    def _js_key(self, joined: str) -> str | None:
        for candidate in (_strip_extension(joined), joined):
            if f"js:{candidate}" in self.keys:
                return f"js:{candidate}"
        return None

    def _go(self, fact: ImportFact) -> list[ImportedName]:
        key = f"go:{fact.module}"
        if fact.alias == "_":
            return []
        if key not in self.keys:
            name = fact.alias or _go_package_name(fact.module)
            return [ImportedName(name, ImportTarget("external", "", fact.module))]
        if fact.alias == ".":
            return [ImportedName("*", ImportTarget("star", key, ""))]
        name = fact.alias or self._go_declared_name(key) or _go_package_name(fact.module)
        return [ImportedName(name, ImportTarget("module", key, ""))]

    def _go_declared_name(self, key: str) -> str | None:
        for path, info in self.modules.items():
            if info.key == key and self.files[path].package:
                return self.files[path].package
        return None

    def _rust(self, path: str, fact: ImportFact) -> list[ImportedName]:
        here = self.modules[path].key
        found = []
        for segments, alias in expand_use_tree(fact.module):
            if not segments:
                continue
            if segments[-1] == "*":
                found.append(
                    ImportedName("*", ImportTarget("path", here, "::".join(segments[:-1])))
                )
                continue
            name = alias or (segments[-2] if segments[-1] == "self" else segments[-1])
            if segments[-1] == "self":
                segments = segments[:-1]
            if name != "_":
                found.append(ImportedName(name, ImportTarget("path", here, "::".join(segments))))
        return found

    def _java(self, fact: ImportFact) -> list[ImportedName]:
        parts = fact.module.split(".")
        if parts[-1] == "*" or fact.alias == "*":
            package = ".".join(p for p in parts if p != "*")
            key = f"java:{package}"
            if key in self.keys:
                return [ImportedName("*", ImportTarget("star", key, ""))]
            return []
        for split in range(len(parts) - 1, 0, -1):
            key = f"java:{'.'.join(parts[:split])}"
            if key in self.keys:
                member = ".".join(parts[split:])
                return [ImportedName(parts[-1], ImportTarget("member", key, member))]
        return [ImportedName(parts[-1], ImportTarget("external", "", fact.module))]


def expand_use_tree(text: str) -> list[tuple[list[str], str]]:
    """`a::{b, c::d as e}` as ([a, b], ""), ([a, c, d], "e"): each path a Rust `use` names."""
    found: list[tuple[list[str], str]] = []

    def walk(prefix: list[str], tree: str) -> None:
        tree = tree.strip()
        if not tree:
            return
        brace = tree.find("{")
        if brace != -1 and tree.endswith("}"):
            head = [part for part in tree[:brace].split("::") if part]
            for part in _split_top_level(tree[brace + 1 : -1]):
                walk(prefix + head, part)
            return
        path, _, alias = tree.partition(" as ")
        found.append((prefix + [part for part in path.strip().split("::") if part], alias.strip()))

    walk([], text.removeprefix("::"))
    return found


def _split_top_level(text: str) -> Iterable[str]:
    depth = 0
    start = 0
    for index, char in enumerate(text):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            yield text[start:index]
            start = index + 1
    yield text[start:]


def module_system(language: str) -> ModuleSystem:
    """The module system of a language."""
    return LANGUAGES[language].module_system


def _strip_extension(path: str) -> str:
    # JavaScript's first, in that order: `.d.ts` must not be cut to `.d`.
    for extension in JS_EXTENSIONS:
        if path.endswith(extension):
            return path[: -len(extension)]
    for language in LANGUAGES.values():
        for extension in language.extensions:
            if path.endswith(extension):
                return path[: -len(extension)]
    return path


def _go_package_name(import_path: str) -> str:
    last = import_path.rstrip("/").split("/")[-1]
    last = re.sub(r"\.v\d+$", "", last)
    return last.removeprefix("go-").replace("-", "_")
