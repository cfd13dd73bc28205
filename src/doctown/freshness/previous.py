"""A previous pack as a read-only source of settled summaries, for `build --update`.

The engine asks it first, ahead of grounding and the summary cache: a summary (or a module,
cluster or repository overview) whose fingerprint matches the prompt about to be sent comes
back as a cache hit, with what it cost when it was made, and nothing is asked. Its answers
are final (grounding was checked when they were written), so they are not checked again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from doctown.backends.base import Completion
from doctown.backends.formats import OutputFormat
from doctown.docpack import Docpack, Documentation, Provenance, Recipe
from doctown.docpack.overviews import Overview
from doctown.freshness import fingerprint
from doctown.freshness.reuse import ReuseRule
from doctown.overviews.packing import written_output
from doctown.prompts import TEMPLATES, Prompt, PromptBuilder
from doctown.schemas import DocumentationOutput, SymbolContext
from doctown.tokens import TokenCounter
from doctown.usage import Usage


@dataclass(frozen=True)
class Maker:
    """Who wrote a group of summaries: backend, model and prompt version."""

    backend: str
    model: str
    prompt_version: str


class PreviousPack:
    """The summaries of an earlier pack, served for prompts whose fingerprint is unchanged."""

    def __init__(self, pack: Docpack, rule: ReuseRule) -> None:
        self.path = pack.path
        self.rule = rule
        self.recipe: Recipe | None = pack.content.nodes.recipe
        self.summaries: dict[str, Documentation] = {}
        self.makers: Counter[Maker] = Counter()
        for symbol in pack.symbols:
            doc = symbol.documentation
            if doc.status != "documented" or doc.fingerprint is None or doc.provenance is None:
                continue
            if doc.fingerprint.prompt_version is None:
                continue
            self.summaries.setdefault(doc.fingerprint.digest, doc)
            provenance = doc.provenance
            self.makers[
                Maker(provenance.backend, provenance.model, doc.fingerprint.prompt_version)
            ] += 1
        # Overviews by the digest of the prompt they were written from.
        self.overviews: dict[str, Overview] = {}
        written = pack.content.overviews
        if written is not None:
            entries: list[Overview] = [*written.modules, *written.clusters]
            if written.repository is not None:
                entries.append(written.repository)
            for entry in entries:
                if entry.fingerprint is not None and entry.summary is not None:
                    self.overviews.setdefault(entry.fingerprint.digest, entry)
        # Prompt key of each prompt answered from the pack -> the summary that answered it.
        self.served: dict[str, Documentation] = {}
        self._builders: dict[str, PromptBuilder] = {}

    @property
    def foreign(self) -> int:
        """Summaries written by another backend or model than the build's."""
        return sum(
            count
            for maker, count in self.makers.items()
            if (maker.backend, maker.model) != (self.rule.backend, self.rule.model)
        )

    def lookup(self, prompt: Prompt) -> Documentation | None:
        """The previous summary that may answer `prompt`, or None."""
        found = self.summaries.get(f"sha256:{prompt.key}")
        if found is not None and self._allows(found, prompt):
            return found
        if not self.rule.reuse_foreign or not isinstance(prompt.context, SymbolContext):
            return None
        # Written with another template: would that template write the same prompt today?
        for builder in self._other_templates(prompt.version):
            again = builder.build(prompt.context)
            found = self.summaries.get(f"sha256:{again.key}")
            if found is not None and self._allows(found, again):
                return found
        return None

    def find(self, prompt: Prompt) -> Completion | None:
        """`lookup` as a settled answer that costs nothing now, remembered in `served`."""
        if prompt.output is not DocumentationOutput:
            return self._overview(prompt)
        found = self.lookup(prompt)
        if found is None or found.summary is None or found.provenance is None:
            return None
        self.served[prompt.key] = found
        # Read and checked when the pack was read; packed as it was (see `carried`).
        return _settled(
            DocumentationOutput.model_construct(summary=found.summary), found.provenance
        )

    def _overview(self, prompt: Prompt) -> Completion | None:
        """The overview written from exactly `prompt`, by a maker the rule accepts."""
        found = self.overviews.get(f"sha256:{prompt.key}")
        if found is None or found.fingerprint is None:
            return None
        if not self.rule.allows(found.fingerprint, found.provenance, fingerprint.digest_of(prompt)):
            return None
        output = written_output(found)
        if output is None or not isinstance(output, prompt.output) or found.provenance is None:
            return None
        made = found.provenance
        return replace(
            _settled(output, made),
            output_format=OutputFormat(made.output_format or OutputFormat.JSON_SCHEMA),
            batch=made.batch,
        )

    def _allows(self, found: Documentation, prompt: Prompt) -> bool:
        assert found.fingerprint is not None
        return self.rule.allows(found.fingerprint, found.provenance, fingerprint.digest_of(prompt))

    def _other_templates(self, version: str) -> list[PromptBuilder]:
        if self.recipe is None:  # an older pack does not say how its prompts were written
            return []
        versions = {maker.prompt_version for maker in self.makers} - {version}
        builders = []
        for other in sorted(versions & set(TEMPLATES)):
            if other not in self._builders:
                self._builders[other] = PromptBuilder.for_version(
                    other,
                    TokenCounter(self.recipe.model),
                    max_prompt_tokens=self.recipe.max_prompt_tokens,
                )
            builders.append(self._builders[other])
        return builders


def _settled(output: DocumentationOutput, made: Provenance) -> Completion:
    """An answer made earlier: a cache hit costing nothing now, with what it cost then."""
    return Completion(
        output,
        Usage(),
        attempts=0,
        cached=True,
        original_usage=Usage(
            input_tokens=made.input_tokens, output_tokens=made.output_tokens, requests=1
        ),
        reasked=made.reasked,
        ungrounded=tuple(made.ungrounded),
    )
