"""Reading a pack's overviews: by reference, with every reference named, as plain text.

`doctown query PACK overview | module:PATH | cluster:ID` and the MCP `overview` tool print
what `OverviewIndex.text` writes; the caller makes it safe for its terminal or client.
"""

from __future__ import annotations

from doctown.docpack.format import PackContent, Provenance
from doctown.docpack.overviews import ClusterOverview, ModuleOverview, Overview, Overviews

MODULE_PREFIX = "module:"
CLUSTER_PREFIX = "cluster:"
REPOSITORY = "overview"


class OverviewIndex:
    """A pack's overviews by module path and cluster id, and the names of what they reference."""

    def __init__(self, content: PackContent) -> None:
        self.overviews = content.overviews or Overviews()
        self.present = content.overviews is not None
        self.repository = self.overviews.repository
        self.modules = {m.path: m for m in self.overviews.modules}
        self.clusters = {c.cluster_id: c for c in self.overviews.clusters}
        self.symbols = {s.id: s for s in content.nodes.symbols}
        self.labels = {c.cluster_id: c.label for c in content.clusters.clusters}
        self.files = {f.file_path for f in content.source_map.files}

    def exists(self, ref: str) -> bool:
        """True when the pack holds what `ref` names: a symbol, a module or a cluster."""
        if ref.startswith(MODULE_PREFIX):
            return ref.removeprefix(MODULE_PREFIX) in self.files
        if ref.startswith(CLUSTER_PREFIX):
            return ref.removeprefix(CLUSTER_PREFIX) in self.labels
        return ref in self.symbols

    def cluster_title(self, cluster_id: str) -> str:
        overview = self.clusters.get(cluster_id)
        if overview is not None and overview.title:
            return overview.title
        return self.labels.get(cluster_id, f"cluster {cluster_id}")

    def name(self, ref: str) -> str:
        """How a reference reads: a symbol's qualified name, a module's path, a cluster's title."""
        if ref.startswith(MODULE_PREFIX):
            return ref.removeprefix(MODULE_PREFIX)
        if ref.startswith(CLUSTER_PREFIX):
            return self.cluster_title(ref.removeprefix(CLUSTER_PREFIX))
        symbol = self.symbols.get(ref)
        return (symbol.qualified_name or symbol.name) if symbol is not None else ref

    def _reference(self, ref: str) -> str:
        mark = "" if self.exists(ref) else "  (not in this pack)"
        return f"  {ref}  {self.name(ref)}{mark}"

    def _body(self, overview: Overview, lines: list[str]) -> None:
        if overview.summary:
            lines.append(overview.summary)
        else:
            lines.append(
                f"{overview.status}: {overview.reason or ''} {overview.message or ''}".strip()
            )
        if overview.provenance is not None:
            lines.append(_provenance(overview.provenance, overview.groups))

    def text(self, ref: str) -> str | None:
        """The overview `ref` names (`overview`, `module:PATH`, `cluster:ID`) as text, or None
        when the pack has none for it."""
        if ref == REPOSITORY:
            return self._repository()
        if ref.startswith(MODULE_PREFIX):
            found = self.modules.get(ref.removeprefix(MODULE_PREFIX))
            return self._module(found) if found is not None else None
        if ref.startswith(CLUSTER_PREFIX):
            cluster = self.clusters.get(ref.removeprefix(CLUSTER_PREFIX))
            return self._cluster(cluster) if cluster is not None else None
        return None

    def _repository(self) -> str | None:
        overview = self.repository
        if overview is None:
            return None
        lines = ["repository overview"]
        self._body(overview, lines)
        if overview.main_parts:
            lines.append("main parts")
            lines += [self._reference(ref) for ref in overview.main_parts]
        if overview.start_reading:
            lines.append("start reading")
            lines += [self._reference(ref) for ref in overview.start_reading]
        if overview.entry_points:
            lines.append("entry points")
            lines += [
                f"  {e.kind.replace('_', ' ')}  {e.name}" + (f"  {e.ref}" if e.ref else "")
                for e in overview.entry_points
            ]
        lines.append(
            f"{len(self.modules)} module and {len(self.clusters)} cluster overviews: "
            "query module:PATH or cluster:ID"
        )
        return "\n".join(lines)

    def _module(self, overview: ModuleOverview) -> str:
        lines = [f"module:{overview.path}  module overview"]
        self._body(overview, lines)
        if overview.public_api:
            lines.append("public API")
            lines += [self._reference(ref) for ref in overview.public_api]
        lines.append("depends on: " + (", ".join(overview.depends_on) or "nothing in this pack"))
        lines.append("used by: " + (", ".join(overview.used_by) or "nothing in this pack"))
        return "\n".join(lines)

    def _cluster(self, overview: ClusterOverview) -> str:
        label = self.labels.get(overview.cluster_id, "")
        lines = [f"cluster:{overview.cluster_id}  {self.cluster_title(overview.cluster_id)}"]
        if label and label != overview.title:
            lines[0] += f"  (label: {label})"
        self._body(overview, lines)
        if overview.key_symbols:
            lines.append("key symbols")
            lines += [self._reference(ref) for ref in overview.key_symbols]
        if overview.relations:
            lines.append("neighbouring clusters")
            for relation in overview.relations:
                calls = f"calls it {relation.calls_out}x, called by it {relation.calls_in}x"
                lines.append(
                    f"  cluster:{relation.cluster_id}  {self.cluster_title(relation.cluster_id)}"
                    f"  ({calls})" + (f": {relation.description}" if relation.description else "")
                )
        return "\n".join(lines)


def _provenance(provenance: Provenance, groups: int) -> str:
    text = (
        f"by {provenance.backend} ({provenance.model}), {provenance.tokens} tokens, "
        f"${provenance.cost:.6f}"
    )
    if groups:
        text += f", from {groups} groups"
    if provenance.preview:
        text += ", offline preview: often vague or wrong"
    if provenance.ungrounded:
        text += f"; names things that do not exist: {', '.join(provenance.ungrounded)}"
    return text
