"""overviews.json (docpack/1.1): the module, cluster and repository overviews of a pack.

An optional entry, so a pack without overviews (`--no-overviews`, or written by an earlier
doctown) still reads. References are symbol ids, `module:PATH` and `cluster:ID`; each one was
checked against the pack when it was written, and any that was not found is listed in its
overview's `provenance.ungrounded`. `diagram` is a Mermaid graph computed from the call graph.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, NonNegativeInt, model_validator

from doctown.docpack.format import Fingerprint, Provenance, _Entry

OverviewStatus = Literal["documented", "failed", "skipped"]


class Overview(_Entry):
    """What every overview holds: its prose, or the reason it has none, and its provenance."""

    summary: str | None = None
    status: OverviewStatus = "documented"
    reason: str | None = Field(default=None, description="A stable code when failed or skipped")
    message: str | None = None
    provenance: Provenance | None = None
    fingerprint: Fingerprint | None = Field(
        default=None,
        description="The prompt it was written from: `build --update` reuses it when unchanged",
    )
    groups: NonNegativeInt = Field(
        default=0, description="Parts summarised first when its children did not fit one prompt"
    )

    @model_validator(mode="after")
    def _status_agrees(self) -> Self:
        if self.status == "documented" and not self.summary:
            raise ValueError("status 'documented' needs a summary")
        if self.status != "documented" and self.summary is not None:
            raise ValueError(f"status {self.status!r} carries no summary: text is never invented")
        if self.status == "failed" and not self.reason:
            raise ValueError("status 'failed' needs a reason")
        return self


class ModuleOverview(Overview):
    """A module (file): its purpose, its public API ranked, and its computed dependencies."""

    path: str
    public_api: list[str] = Field(default_factory=list, description="Symbol ids, ranked")
    depends_on: list[str] = Field(default_factory=list, description="Module paths it uses")
    used_by: list[str] = Field(default_factory=list, description="Module paths that use it")


class ClusterRelation(_Entry):
    """A neighbouring cluster: the call edges each way (computed) and how they relate (written)."""

    cluster_id: str
    calls_out: NonNegativeInt = 0
    calls_in: NonNegativeInt = 0
    description: str | None = None


class ClusterOverview(Overview):
    """A cluster: a title, what it does, its key symbols and its neighbours."""

    cluster_id: str
    title: str | None = None
    key_symbols: list[str] = Field(default_factory=list, description="Symbol ids, ranked")
    relations: list[ClusterRelation] = Field(default_factory=list)


class EntryPoint(_Entry):
    """A way into the code, found by analysis."""

    kind: str = Field(description="console_script, main_module, http_route or package")
    name: str
    ref: str | None = None


class RepositoryOverview(Overview):
    """What the project is, its main parts, its entry points and where to start reading."""

    main_parts: list[str] = Field(default_factory=list, description="Cluster references")
    start_reading: list[str] = Field(default_factory=list, description="References, in order")
    entry_points: list[EntryPoint] = Field(default_factory=list)


class Overviews(_Entry):
    """overviews.json."""

    repository: RepositoryOverview | None = None
    modules: list[ModuleOverview] = Field(default_factory=list)
    clusters: list[ClusterOverview] = Field(default_factory=list)
    diagram: str = Field(default="", description="A Mermaid graph of the clusters and their calls")
