"""Call-graph accuracy against a hand-checked gold set, and against jedi on the same package.

    python bench/callgraph_accuracy.py                 # every gold set in eval/gold
    python bench/callgraph_accuracy.py --json          # machine-readable

Each gold set names a package and version; its source distribution is downloaded with
`pip download --no-deps --no-binary :all:` (or `npm pack` for an npm package) into a cache
directory, never committed, and analysed without executing anything. Precision and recall
count edges between symbols of the package, at function granularity: the confident edges
doctown shows the model, then every edge including the low-confidence guesses. For Python,
jedi's go-to-definition on every call site of the same package gives a second opinion,
scored against the same gold set.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from doctown.analysis import CONFIDENT, analyze_repository

ROOT = Path(__file__).resolve().parent.parent
GOLD_DIR = ROOT / "eval" / "gold"
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "doctown-eval"
_SUFFIX = re.compile(r"#\d+$")

Edge = tuple[str, str]


@dataclass(frozen=True)
class Score:
    found: int
    correct: int
    gold: int

    @property
    def precision(self) -> float:
        return self.correct / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "edges": self.found,
            "correct": self.correct,
            "gold": self.gold,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
        }


def score(found: set[Edge], gold: set[Edge]) -> Score:
    return Score(len(found), len(found & gold), len(gold))


def fetch_npm(package: str, version: str, cache: Path) -> Path:
    """The unpacked npm tarball, fetched once into `cache` with `npm pack`."""
    target = cache / f"npm-{package}-{version}"
    if target.is_dir():
        return target
    target.mkdir(parents=True)
    subprocess.run(
        ["npm", "pack", "--silent", f"{package}@{version}"],
        cwd=target,
        check=True,
        capture_output=True,
    )
    with tarfile.open(next(target.glob("*.tgz"))) as tar:
        tar.extractall(target, filter="data")
    return target


def fetch_sdist(package: str, version: str, cache: Path) -> Path:
    """The unpacked source distribution, downloaded once into `cache`."""
    target = cache / f"{package}-{version}"
    if target.is_dir():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--quiet",
            "--dest",
            str(cache),
            f"{package}=={version}",
        ],
        check=True,
    )
    archive = next(cache.glob(f"{package}-{version}.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(cache, filter="data")
    return target


def normalise(symbol_id: str) -> str:
    """Several definitions of one name (overloads) count as that name."""
    return _SUFFIX.sub("", symbol_id)


def doctown_edges(source: Path) -> tuple[set[Edge], set[Edge], float]:
    """(confident edges, all edges, seconds) between symbols of the package."""
    started = time.perf_counter()
    result = analyze_repository(source, use_cache=False, workers=1)
    seconds = time.perf_counter() - started
    confident, every = set(), set()
    for edge in result.edges:
        if edge.kind != "calls":
            continue
        pair = (normalise(edge.source), normalise(edge.target))
        every.add(pair)
        if edge.confidence >= CONFIDENT:
            confident.add(pair)
    return confident, every, seconds


class _Calls(ast.NodeVisitor):
    """Call sites with the id of their enclosing definition and the callee name's position."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.stack: list[str] = []
        self.sites: list[tuple[str, int, int]] = []

    def _define(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self.stack.append(node.name)
        for child in node.body:
            self.visit(child)
        self.stack.pop()

    visit_FunctionDef = _define
    visit_AsyncFunctionDef = _define
    visit_ClassDef = _define

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.end_lineno is not None:
            position = (func.end_lineno, (func.end_col_offset or 0) - 1)
        elif isinstance(func, ast.Name):
            position = (func.lineno, func.col_offset)
        else:
            position = None
        if position is not None:
            caller = f"{self.path}::{'.'.join(self.stack)}" if self.stack else self.path
            self.sites.append((caller, *position))
        self.generic_visit(node)


def jedi_edges(source: Path) -> tuple[set[Edge], float]:
    """Edges from jedi's go-to-definition on every call site; (edges, seconds)."""
    import jedi

    files = sorted(source.rglob("*.py"))
    definitions: dict[tuple[str, int, str], str] = {}
    for file in files:
        relative = file.relative_to(source).as_posix()
        tree = ast.parse(file.read_text("utf-8"))
        stack: list[tuple[ast.AST, str]] = [(tree, "")]
        while stack:
            node, prefix = stack.pop()
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    name = f"{prefix}.{child.name}" if prefix else child.name
                    definitions[(relative, child.lineno, child.name)] = f"{relative}::{name}"
                    stack.append((child, name))
                else:
                    stack.append((child, prefix))
    project = jedi.Project(source)
    started = time.perf_counter()
    found: set[Edge] = set()
    for file in files:
        relative = file.relative_to(source).as_posix()
        code = file.read_text("utf-8")
        visitor = _Calls(relative)
        visitor.visit(ast.parse(code))
        script = jedi.Script(code, path=file, project=project)
        for caller, line, column in visitor.sites:
            for name in script.goto(line, column, follow_imports=True):
                if name.module_path is None or name.line is None:
                    continue
                try:
                    target_path = Path(name.module_path).relative_to(source).as_posix()
                except ValueError:
                    continue
                target = definitions.get((target_path, name.line, name.name))
                if target is not None:
                    found.add((caller, target))
    return found, time.perf_counter() - started


def evaluate(gold_file: Path, cache: Path, *, with_jedi: bool) -> dict[str, Any]:
    gold_data = json.loads(gold_file.read_text("utf-8"))
    package, version = gold_data["package"], gold_data["version"]
    fetch = fetch_npm if gold_data.get("registry") == "npm" else fetch_sdist
    source = fetch(package, version, cache) / gold_data.get("source_root", "")
    gold = {(caller, callee) for caller, callee in gold_data["edges"]}
    confident, every, seconds = doctown_edges(source)
    # A gold set may cover only some files: edges from elsewhere are neither right nor wrong.
    scope = tuple(gold_data.get("caller_scope", ("",)))
    confident = {edge for edge in confident if edge[0].startswith(scope)}
    every = {edge for edge in every if edge[0].startswith(scope)}
    report: dict[str, Any] = {
        "package": f"{package}=={version}",
        "language": gold_data["language"],
        "gold_edges": len(gold),
        "doctown_confident": score(confident, gold).as_dict(),
        "doctown_all": score(every, gold).as_dict(),
        "doctown_seconds": round(seconds, 3),
        "missed": sorted(map(list, gold - confident)),
        "wrong": sorted(map(list, confident - gold)),
    }
    if with_jedi and gold_data["language"] == "python":
        edges, jedi_seconds = jedi_edges(source)
        report["jedi"] = score(edges, gold).as_dict()
        report["jedi_seconds"] = round(jedi_seconds, 3)
        report["agreement_with_jedi"] = score(confident, edges).as_dict()
    return report


def compare_with_jedi(source: Path) -> dict[str, Any]:
    """Without a gold set: how doctown's confident edges and jedi's agree on a Python tree."""
    confident, _every, seconds = doctown_edges(source)
    edges, jedi_seconds = jedi_edges(source)
    return {
        "source": str(source),
        "doctown_edges": len(confident),
        "jedi_edges": len(edges),
        "both": len(confident & edges),
        "doctown_only": sorted(map(list, confident - edges)),
        "share_of_doctown_jedi_confirms": round(len(confident & edges) / max(len(confident), 1), 4),
        "share_of_jedi_doctown_finds": round(len(confident & edges) / max(len(edges), 1), 4),
        "doctown_seconds": round(seconds, 3),
        "jedi_seconds": round(jedi_seconds, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("gold", nargs="*", type=Path, help="gold files (default: eval/gold/*)")
    parser.add_argument(
        "--against-jedi", type=Path, help="a Python tree to compare with jedi, without gold"
    )
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="download directory")
    parser.add_argument("--no-jedi", action="store_true", help="skip the jedi comparison")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    if args.against_jedi:
        print(json.dumps(compare_with_jedi(args.against_jedi), indent=2))
        return
    files = args.gold or sorted(GOLD_DIR.glob("*-calls.json"))
    reports = [evaluate(file, args.cache, with_jedi=not args.no_jedi) for file in files]
    if args.json:
        print(json.dumps(reports, indent=2))
        return
    for report in reports:
        print(f"{report['package']} ({report['language']}), {report['gold_edges']} gold edges")
        for key in ("doctown_confident", "doctown_all", "jedi"):
            if key in report:
                s = report[key]
                print(
                    f"  {key:18} precision {s['precision']:.3f}  recall {s['recall']:.3f}"
                    f"  ({s['correct']}/{s['edges']} found, {s['gold']} gold)"
                )
        for label in ("missed", "wrong"):
            for caller, callee in report[label]:
                print(f"  {label}: {caller} -> {callee}")


if __name__ == "__main__":
    main()
