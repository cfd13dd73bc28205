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
from doctown.docpack.overviews import Overview
from doctown.export.folder import ExportFolder, export_folder
from doctown.site.catalog import Catalog
from doctown.site.links import StaticPaths
from doctown.site.search import location

INDEX = "index.md"
_UNSAFE_ANCHOR = re.compile(r"[^A-Za-z0-9_-]+")
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

    def __init__(self, catalog: Catalog, *, clusters_at: str = INDEX) -> None:
        self.catalog = catalog
        self.clusters_at = clusters_at  # the page that lists the clusters, with anchors
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
        lines += self.module_overview(path, linked=linked)
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

    def reference(self, ref: str, page: str | None) -> str:
        """A reference an overview makes, as a link from `page` (a name when None)."""
        overviews = self.catalog.overviews
        name = code(overviews.name(ref))
        if not overviews.exists(ref):
            return f"{name} (not in this pack)"
        if page is None:
            return name
        up = "../" * page.count("/")
        if ref.startswith("module:"):
            return f"[{name}]({up}{self.page(ref.removeprefix('module:'))})"
        if ref.startswith("cluster:"):
            anchor = _anchor(ref.removeprefix("cluster:"))
            return f"[{name}]({up}{self.clusters_at}#cluster-{anchor})"
        found = self.catalog.index.get(ref)
        return f"[{name}]({self.link_from(page)(found)})" if found is not None else name

    def _references(self, title: str, refs: list[str], page: str | None) -> list[str]:
        if not refs:
            return []
        return [f"**{title}:** " + ", ".join(self.reference(r, page) for r in refs), ""]

    def module_overview(self, path: str, *, linked: bool = True) -> list[str]:
        """The module's overview, when the pack has one: prose, ranked API, dependencies."""
        found = self.catalog.overviews.modules.get(path)
        if found is None:
            return []
        page = self.page(path) if linked else None
        lines = ["**Overview.** " + _overview_text(found), ""]
        lines += self._references("Public API", found.public_api, page)
        for title, paths in (("Depends on", found.depends_on), ("Used by", found.used_by)):
            lines += self._references(title, [f"module:{p}" for p in paths], page)
        return lines

    def repository_overview(self, *, linked: bool = True) -> list[str]:
        """What the project is, its main parts, entry points, where to start, and the
        architecture diagram as a Mermaid block."""
        overviews = self.catalog.overviews
        found = overviews.repository
        page = self.clusters_at if linked else None
        lines: list[str] = []
        if found is not None:
            lines += ["## Overview", "", _overview_text(found), ""]
            lines += self._references("Main parts", found.main_parts, page)
            lines += self._references("Start reading", found.start_reading, page)
            entries = [
                f"{text(e.kind.replace('_', ' '))} "
                + (self.reference(e.ref, page) if e.ref else code(e.name))
                for e in found.entry_points
            ]
            if entries:
                lines += ["**Entry points:** " + "; ".join(entries), ""]
        if overviews.present and self.catalog.diagram:
            lines += ["## Architecture", "", fence(self.catalog.diagram, "mermaid"), ""]
        return lines

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
        ]
        lines += self.repository_overview()
        lines += ["## Modules", ""]
        lines += self.module_list()
        if catalog.clusters:
            lines += ["", "## Clusters", ""]
            lines += self.cluster_list(INDEX)
        return "\n".join(lines).rstrip() + "\n"

    def cluster_list(self, page: str | None) -> list[str]:
        """Every cluster with its overview (title, prose) when it has one and its leaders."""
        catalog = self.catalog
        lines = []
        for cluster in catalog.clusters:
            found = catalog.overviews.clusters.get(cluster.cluster_id)
            title = found.title if found is not None and found.title else cluster.label
            anchor = f'<a id="cluster-{_anchor(cluster.cluster_id)}"></a>' if page else ""
            leaders = [s.id for s in catalog.members.get(cluster.cluster_id, [])[:5]]
            if found is not None and found.key_symbols:
                leaders = found.key_symbols[:5]
            names = ", ".join(self.reference(ref, page) for ref in leaders)
            entry = f"- {anchor}**{text(title)}** ({cluster.member_count:,}): {names}"
            if found is not None:
                entry += f"  \n  {_overview_text(found)}"
            lines.append(entry)
        return lines


def _anchor(cluster_id: str) -> str:
    return _UNSAFE_ANCHOR.sub("-", cluster_id)


def _overview_text(overview: Overview) -> str:
    if overview.summary:
        marks = []
        provenance = overview.provenance
        if provenance is not None and provenance.preview:
            marks.append("offline preview")
        if provenance is not None and provenance.ungrounded:
            marks.append("ungrounded: names " + ", ".join(provenance.ungrounded))
        return text(overview.summary) + (f" *({'; '.join(marks)})*" if marks else "")
    return f"*No overview ({text(overview.reason or overview.status)}).*"


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
