"""Fingerprints: what each summary was made from, computed from exactly what the prompt says.

A summary depends on its prompt and nothing else, so its fingerprint is the prompt's digest
(the template version and the exact messages). A context change that leaves the prompt as it
was (a caller beyond the listed ones, a body line past the excerpt) keeps the fingerprint; one
that changes the prompt changes it. Each part of the context the prompt shows is hashed on its
own as well, so a changed fingerprint can say what changed.
"""

from __future__ import annotations

import hashlib

from doctown.docpack import Fingerprint
from doctown.prompts import DOCSTRING, PARTS, Prompt

# Named when the prompt changed but none of the context's parts did: the template's own words,
# its version, or how much of the context fit the token budget.
PROMPT = "prompt"
_PART_DIGITS = 16


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _part_digest(text: str) -> str:
    return _sha256(text)[:_PART_DIGITS]


def of_prompt(prompt: Prompt) -> Fingerprint:
    """The fingerprint of a summary written from `prompt`."""
    return Fingerprint(
        prompt_version=prompt.version,
        digest=f"sha256:{prompt.key}",
        parts={name: _part_digest(text) for name, text in sorted(prompt.parts.items())},
    )


def digest_of(prompt: Prompt) -> Fingerprint:
    """`of_prompt` without the parts: enough to tell whether two prompts are the same."""
    return Fingerprint.model_construct(
        prompt_version=prompt.version, digest=f"sha256:{prompt.key}", parts={}
    )


def of_docstring(sentence: str) -> Fingerprint:
    """The fingerprint of a summary taken from a docstring: the sentence taken, no prompt."""
    taken = "docstring\n" + sentence
    return Fingerprint(
        prompt_version=None,
        digest=f"sha256:{_sha256(taken)}",
        parts={DOCSTRING: _part_digest(sentence)},
    )


def changed_parts(previous: Fingerprint, current: Fingerprint) -> list[str]:
    """What differs between two fingerprints, in the order of `prompts.PARTS`; empty when equal.

    Parts written by different templates are not comparable: the answer is then `prompt`. A
    docstring reused on one side and not on the other means the docstring changed.
    """
    if previous.digest == current.digest:
        return []
    if previous.prompt_version is None or current.prompt_version is None:
        return [DOCSTRING]
    if previous.prompt_version != current.prompt_version:
        return [PROMPT]
    names = set(previous.parts) | set(current.parts)
    ordered = [name for name in PARTS if name in names] + sorted(names - set(PARTS))
    changed = [name for name in ordered if previous.parts.get(name) != current.parts.get(name)]
    return changed or [PROMPT]
