"""The vendored diagram renderer is the pinned release, with its licence beside it."""

from __future__ import annotations

import hashlib
from importlib import resources

MERMAID_VERSION = "11.12.1"
# sha256 of dist/mermaid.min.js in the mermaid 11.12.1 package, as published.
MERMAID_SHA256 = "198b19442f86f0b46a17e56d3abf744c3a28a3427e66fa8dada3b589a77babcc"


def test_the_renderer_is_the_pinned_mermaid_release_with_its_licence() -> None:
    static = resources.files("doctown.site").joinpath("static")
    renderer = static.joinpath("mermaid.min.js").read_bytes()
    assert hashlib.sha256(renderer).hexdigest() == MERMAID_SHA256
    assert f'"{MERMAID_VERSION}"'.encode() in renderer
    licence = static.joinpath("mermaid.LICENSE.txt").read_text()
    assert licence.startswith("The MIT License (MIT)") and "Knut Sveidqvist" in licence
