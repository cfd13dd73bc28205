"""When something made for a previous pack may stand in for what a new build would make.

The rule is the same for every artefact with a fingerprint (a symbol's summary, an overview):
reuse it when the prompt it was made from is exactly the prompt that would be sent now, and
it was made by the backend and model in use, or the user accepts another's (`reuse_foreign`).
"""

from __future__ import annotations

from dataclasses import dataclass

from doctown.docpack import Fingerprint, Provenance


@dataclass(frozen=True)
class ReuseRule:
    """The backend and model a build runs with, and whether other makers' work is accepted."""

    backend: str
    model: str
    reuse_foreign: bool = False

    def made_here(self, provenance: Provenance | None) -> bool:
        """Whether `provenance` names this rule's backend and model."""
        return provenance is not None and (provenance.backend, provenance.model) == (
            self.backend,
            self.model,
        )

    def allows(
        self, previous: Fingerprint, provenance: Provenance | None, current: Fingerprint
    ) -> bool:
        """Whether an artefact made from `previous`, by `provenance`, may stand for a new one.

        `current` is the fingerprint of the prompt that would be sent now, written with the
        template `previous.prompt_version` names (for another maker's work, that template; when
        it no longer exists nothing made with it is reusable).
        """
        if previous.digest != current.digest:
            return False
        return self.reuse_foreign or self.made_here(provenance)
