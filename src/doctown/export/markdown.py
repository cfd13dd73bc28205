"""`doctown export --format markdown`: one page per module and an index, in plain Markdown.

Pages mirror the source tree (`src/app.py` becomes `src/app.py.md`) and link to each other
with relative links, so the folder works in a repository's `docs/`, on a forge, or in MkDocs.

Every string from the pack is escaped for Markdown: text gets backslashes before the
characters that open emphasis, code, links and table cells, and before a line start that
would begin a heading, list or quote, and entities for `<`, `>` and `&`, so no summary can
open a link, an image, an HTML tag or a heading. Code goes in spans and fences longer than
any backtick run it holds. The rest of the punctuation stays as written, for people and
agents reading the files raw.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from doctown.docpack import Related, Symbol
from doctown.export.folder import ExportFolder, export_folder
from doctown.site.catalog import Catalog
from doctown.site.links import StaticPaths
from doctown.site.search import location

INDEX = "index.md"
PREVIEW_NOTE = (
    "> **Offline preview.** The summaries were written by the small embedded model: they are "
    "often vague or wrong. Signatures and relations come from static analysis."
)
_INLINE = re.compile(r"([\\`*_\[\]|~])")
_LINE_START = re.compile(r"^([#+=-])")
_NUMBERED = re.compile(r"^(\d+)([.)])")
_BACKTICKS = re.compile(r"`+")
_LANGUAGE = re.compile(r"[^a-z0-9+#-]")


def text(value: str) -> str:
    """Pack text as inert Markdown on one line."""
    flat = " ".join(value.split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    flat = _LINE_START.sub(r"\\\1", _INLINE.sub(r"\\\1", flat))
    return _NUMBERED.sub(r"\1\\\2", flat)


def code(value: str) -> str:
    """An inline code span that no backtick in `value` can close."""
    flat = " ".join(value.split())
    ticks = "`" * (max((len(run) for run in _BACKTICKS.findall(flat)), default=0) + 1)
    return (
        f"{ticks} {flat} {ticks}"
        if flat.startswith("`") or flat.endswith("`")
        else (f"{ticks}{flat}{ticks}")
    )


def fence(value: str, language: str = "") -> str:
    """A fenced block that no line of `value` can close."""
    ticks = "`" * max(3, max((len(run) for run in _BACKTICKS.findall(value)), default=0) + 1)
    return f"{ticks}{_LANGUAGE.sub('', language.lower())}\n{value.rstrip()}\n{ticks}"


class MarkdownPages:
    """The Markdown of one pack: module pages and the index."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.paths = StaticPaths((), [*catalog.file_by_path, *catalog.by_file], ())

    def modules(self) -> list[str]:
        """The file paths that get a page, sorted."""
        return sorted({*self.catalog.file_by_path, *self.catalog.by_file})

    def page(self, path: str) -> str:
        """Where a module's page lives, relative to the export's root."""
        return f"{self.paths.file_stem(path)}.md"

    def link_from(self, page: str) -> Callable[[Symbol], str]:
        """Relative links from `page` to the anchor of each symbol."""
        up = "../" * page.count("/")

        def link(symbol: Symbol) -> str:
            target = f"{up}{self.page(symbol.file_path)}"
            # A module is its page; every other symbol has a section on it.
            return target if symbol.kind == "module" else f"{target}#{anchors[symbol.id]}"

        anchors = self.catalog.anchors
        return link

    def module(self, path: str, *, linked: bool = True, level: int = 1) -> str:
        """A module's page: its summary, an index of its symbols, then each symbol.

        Without `linked`, relations are names rather than links (for one-file output);
        `level` is the depth of the module's heading.
        """
        catalog = self.catalog
        symbols = catalog.by_file.get(path, [])
        link = self.link_from(self.page(path)) if linked else None
        lines = [f"{'#' * level} {code(path)}", ""]
        if catalog.preview:
            lines += [PREVIEW_NOTE, ""]
        modules = [s for s in symbols if s.kind == "module"]
        if modules and modules[0].documentation.summary:
            lines += [text(modules[0].documentation.summary), ""]
        members = [s for s in symbols if s.kind != "module"]
        if members:
            lines += ["| symbol | kind | line | summary |", "| --- | --- | --- | --- |"]
            for s in members:
                name = f"[{code(s.name)}](#{catalog.anchors[s.id]})" if linked else code(s.name)
                line = str(s.line_range[0]) if s.line_range else ""
                lines.append(f"| {name} | {text(s.kind)} | {line} | {_summary(s)} |")
            lines.append("")
        for symbol in members:
            lines += self._symbol(symbol, link, "#" * (level + 1))
        return "\n".join(lines).rstrip() + "\n"

    def _symbol(
        self, symbol: Symbol, link: Callable[[Symbol], str] | None, hashes: str
    ) -> list[str]:
        catalog = self.catalog
        anchor = f'<a id="{catalog.anchors[symbol.id]}"></a>\n\n' if link else ""
        heading = f"{anchor}{hashes} {code(symbol.qualified_name or symbol.name)}"
        facts = [text(symbol.kind), code(location(symbol)), text(symbol.documentation.status)]
        if symbol.test:
            facts.append("test code")
        lines = [heading, "", " · ".join(facts), ""]
        if symbol.signature:
            lines += [fence(symbol.signature, symbol.language), ""]
        lines += [_summary(symbol), ""]
        index = catalog.index
        for title, related in (
            ("Calls", index.callees(symbol)),
            ("Called by", index.callers(symbol)),
            ("Tested by", index.testers(symbol)),
        ):
            if related:
                names = ", ".join(_reference(item, link) for item in related)
                lines += [f"**{title}:** {names}", ""]
        return lines

    def module_list(self) -> list[str]:
        """A link to every module page, with the module's summary when it has one."""
        lines = []
        for path in self.modules():
            symbols = self.catalog.by_file.get(path, [])
            module = next((s for s in symbols if s.kind == "module"), None)
            summary = module.documentation.summary if module else None
            entry = f"- [{text(path)}]({self.page(path)})"
            lines.append(entry + (f": {text(summary)}" if summary else ""))
        return lines

    def index(self) -> str:
        """The landing page: where the pack came from, its numbers, modules and clusters."""
        catalog = self.catalog
        manifest = catalog.manifest
        source = manifest.source
        stats = catalog.statistics
        lines = [f"# {text(catalog.name)}", ""]
        if catalog.preview:
            lines += [PREVIEW_NOTE, ""]
        where = source.repo_url or source.path or ""
        lines += [
            f"- Source: {code(where)}" + (f" @ {code(source.git_ref)}" if source.git_ref else ""),
            *([f"- Commit: {code(source.commit_hash)}"] if source.commit_hash else []),
            f"- Created: {manifest.created_at.strftime('%Y-%m-%d %H:%M UTC')}",
            f"- Generator: {text(manifest.generator.name)} {text(manifest.generator.version)}",
            f"- Model: {text(catalog.authorship.label)}",
            f"- Symbols: {stats.symbols:,} ({stats.documented:,} documented, {stats.reused:,} "
            f"from docstrings, {stats.failed:,} failed, {stats.skipped:,} skipped)",
            "",
            "## Modules",
            "",
        ]
        lines += self.module_list()
        if catalog.clusters:
            lines += ["", "## Clusters", ""]
            link = self.link_from(INDEX)
            for cluster in catalog.clusters:
                leaders = catalog.members.get(cluster.cluster_id, [])[:5]
                names = ", ".join(
                    f"[{code(s.qualified_name or s.name)}]({link(s)})" for s in leaders
                )
                lines.append(f"- **{text(cluster.label)}** ({cluster.member_count:,}): {names}")
        return "\n".join(lines).rstrip() + "\n"


def _summary(symbol: Symbol) -> str:
    doc = symbol.documentation
    if doc.summary:
        return text(doc.summary)
    if doc.status == "failed":
        return f"*Not documented: {text(doc.message or doc.reason or 'failed')}*"
    return f"*Not documented ({text(doc.reason or doc.status)}).*"


def _reference(related: Related, link: Callable[[Symbol], str] | None) -> str:
    if related.symbol is None:
        return f"{code(related.id)} (not in this pack)"
    name = code(related.symbol.qualified_name or related.symbol.name)
    return f"[{name}]({link(related.symbol)})" if link else name


def write_modules(pages: MarkdownPages, folder: ExportFolder) -> None:
    """Every module page, into `folder`."""
    for path in pages.modules():
        folder.write(pages.page(path), pages.module(path))


def export_markdown(catalog: Catalog, destination: Path) -> ExportFolder:
    """Write the index and one page per module under `destination`."""
    pages = MarkdownPages(catalog)
    with export_folder(destination, "markdown") as folder:
        folder.write(INDEX, pages.index())
        write_modules(pages, folder)
    return folder
