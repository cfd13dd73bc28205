"""What an overview prompt is built from, and the structured answers each level must give.

References are strings the pack resolves: a symbol's id as it stands (`cli.py::main`), a
module as `module:PATH` and a cluster as `cluster:ID`. Every reference an answer makes is
checked against the pack before it is kept (see `doctown.generation.grounding`).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from doctown.schemas import DocumentationOutput

MODULE_PREFIX = "module:"
CLUSTER_PREFIX = "cluster:"
GROUP_PREFIX = "group:"
REPOSITORY = "repository"

Level = Literal["module", "cluster", "repository", "group"]


def module_ref(path: str) -> str:
    """The reference of the module (file) at `path`: `module:PATH`."""
    return f"{MODULE_PREFIX}{path}"


def cluster_ref(cluster_id: str | int) -> str:
    """The reference of a cluster: `cluster:ID`."""
    return f"{CLUSTER_PREFIX}{cluster_id}"


class OverviewItem(BaseModel):
    """One thing an overview is made of: a symbol, a module, a cluster or a group of them."""

    model_config = ConfigDict(extra="ignore")

    ref: str
    name: str
    kind: str
    summary: str | None = None
    detail: str = ""  # what the analysis adds: member names, call counts
    # How the prompt writes the reference when shorter than `ref`: a module's own symbols by
    # their name in the file (`Cart.total` for `core.py::Cart.total`). Answers may use it; it
    # is turned back into `ref` before anything is kept (`OverviewContext.resolve`).
    alias: str = ""

    @property
    def shown(self) -> str:
        """The reference as the prompt writes it."""
        return self.alias or self.ref


class OverviewContext(BaseModel):
    """What analysis computed about one module, cluster, repository or group of children.

    `items` are the children whose summaries the prompt carries (never source code). A
    `group` is a slice of a level too large for one prompt, summarised first (map-reduce).
    """

    model_config = ConfigDict(extra="ignore")

    level: Level
    subject: str  # the reference of what is described
    title: str
    language: str = ""
    items: list[OverviewItem] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list)  # module paths it uses
    used_by: list[str] = Field(default_factory=list)  # module paths that use it
    neighbours: list[OverviewItem] = Field(
        default_factory=list
    )  # clusters it calls or is called by
    entry_points: list[str] = Field(default_factory=list)
    readme: str | None = None  # the repository's README, untrusted
    part: str = ""  # for a group: "part 2 of 5 of <title>"

    def refs(self) -> set[str]:
        """Every reference the prompt showed, and the ids its aliases stand for."""
        items = [*self.items, *self.neighbours]
        return {item.ref for item in items} | {item.alias for item in items if item.alias}

    def resolve(self, refs: list[str]) -> list[str]:
        """`refs` from an answer with every alias the prompt used turned back into its id."""
        ids = {item.alias: item.ref for item in [*self.items, *self.neighbours] if item.alias}
        return [ids.get(ref, ref) for ref in refs]


_REFS = "references exactly as listed in the facts (e.g. `cli.py::main`, `module:cli.py`)"


class GroupOverviewOutput(DocumentationOutput):
    """A part of a module, cluster or repository, summarised before the whole."""

    schema_name: ClassVar[str] = "GroupOverview"
    max_summary_chars: ClassVar[int] = 1_200

    summary: str = Field(description="2-3 sentences on what these items do together. No code.")
    key_symbols: list[str] = Field(
        description=f"The most important items, most important first: {_REFS}."
    )


class ModuleOverviewOutput(DocumentationOutput):
    """A module's purpose and its public API, ranked."""

    schema_name: ClassVar[str] = "ModuleOverview"
    max_summary_chars: ClassVar[int] = 1_200

    summary: str = Field(description="2-4 sentences on what the module is for. No code.")
    public_api: list[str] = Field(description=f"Its public symbols, most important first: {_REFS}.")


class ClusterRelation(BaseModel):
    cluster: str = Field(description="A neighbouring cluster's reference, e.g. `cluster:3`.")
    description: str = Field(description="One sentence on how this part uses or serves it.")


class ClusterOverviewOutput(DocumentationOutput):
    """A cluster's title, purpose and relations to its neighbours. (Its key symbols are not
    asked: they are its most central members, computed.)"""

    schema_name: ClassVar[str] = "ClusterOverview"
    max_summary_chars: ClassVar[int] = 1_200

    title: str = Field(description="A short title for this part of the code (2-6 words).")
    summary: str = Field(description="2-4 sentences on what this part of the code does. No code.")
    relations: list[ClusterRelation] = Field(
        description="How it relates to each neighbouring cluster listed in the facts."
    )


class RepositoryOverviewOutput(DocumentationOutput):
    """What the project is, its main parts, and where to start reading."""

    schema_name: ClassVar[str] = "RepositoryOverview"
    max_summary_chars: ClassVar[int] = 1_600

    summary: str = Field(description="2-4 sentences on what the project is and does. No code.")
    main_parts: list[str] = Field(
        description="Its main parts, most important first: cluster references (`cluster:3`)."
    )
    start_reading: list[str] = Field(
        description=f"Where a newcomer should start reading, in order: {_REFS}."
    )


OUTPUT_OF_LEVEL: dict[Level, type[DocumentationOutput]] = {
    "group": GroupOverviewOutput,
    "module": ModuleOverviewOutput,
    "cluster": ClusterOverviewOutput,
    "repository": RepositoryOverviewOutput,
}

# Every kind of answer by the name its schema is sent under: what travels between processes.
OUTPUT_TYPES: dict[str, type[DocumentationOutput]] = {
    DocumentationOutput.schema_name: DocumentationOutput,
    **{output.schema_name: output for output in OUTPUT_OF_LEVEL.values()},
}


def referenced(output: DocumentationOutput) -> list[str]:
    """The references an answer makes in its structured fields, in order."""
    refs: list[str] = []
    if isinstance(output, GroupOverviewOutput):
        refs += output.key_symbols
    if isinstance(output, ModuleOverviewOutput):
        refs += output.public_api
    if isinstance(output, ClusterOverviewOutput):
        refs += [relation.cluster for relation in output.relations]
    if isinstance(output, RepositoryOverviewOutput):
        refs += output.main_parts + output.start_reading
    return refs
