"""Entry points are found by analysis: console scripts, `__main__`, HTTP routes, packages."""

from __future__ import annotations

from pathlib import Path

from doctown.analysis import analyze_repository
from doctown.overviews.structure import entry_points


def test_entry_points_come_from_the_manifest_main_modules_and_route_decorators(
    tmp_path: Path,
) -> None:
    root = tmp_path / "app"
    (root / "shop").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "shop"\n[project.scripts]\nshop = "shop.cli:main"\n'
        'missing = "shop.nowhere:run"\n'
    )
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "__main__.py").write_text("from shop.cli import main\n\nmain()\n")
    (root / "shop" / "cli.py").write_text("def main() -> int:\n    return 0\n")
    (root / "shop" / "web.py").write_text(
        "from flask import Flask\n\napp = Flask(__name__)\n\n\n"
        '@app.get("/items")\ndef items():\n    return []\n\n\n'
        '@app.route("/health")\ndef health():\n    return "ok"\n\n\n'
        "def helper():\n    return 1\n"
    )
    analysis = analyze_repository(root)
    ids = {symbol.qualified_name: symbol.id for symbol in analysis.symbols}
    found = {(e.kind, e.name): e.ref for e in entry_points(analysis, root)}
    assert found[("console_script", "shop")] == ids["shop.cli.main"]
    assert found[("console_script", "missing")] is None  # named, but not in the code
    assert found[("main_module", "shop/__main__.py")] == "module:shop/__main__.py"
    assert found[("http_route", "GET /items")] == ids["shop.web.items"]
    assert found[("http_route", "ROUTE /health")] == ids["shop.web.health"]
    assert found[("package", "shop")] == "module:shop/__init__.py"
    assert not any(ref == ids["shop.web.helper"] for ref in found.values())
