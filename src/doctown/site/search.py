"""Search for the pages: one result's JSON, and the index an exported site ships as a script.

`doctown view` answers each query on the server with the pack's BM25F search. An exported
site has no server, so it carries the same fields in `static/search-index.js`, loaded by a
<script> tag (which works from file://, where fetching a JSON file does not) the first time
the reader focuses the search box.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from doctown.docpack import Symbol

MAX_QUERY_CHARS = 200
# Enough of a summary and a signature to rank and show; the page has the rest.
INDEX_SUMMARY_CHARS = 160
INDEX_SIGNATURE_CHARS = 120


def location(symbol: Symbol) -> str:
    """`file:line` when the pack knows the line, else the file."""
    if symbol.line_range is not None:
        return f"{symbol.file_path}:{symbol.line_range[0]}"
    return symbol.file_path


def result_json(symbol: Symbol, url: str) -> dict[str, Any]:
    """One search result as the page script shows it."""
    return {
        "name": symbol.qualified_name or symbol.name,
        "kind": symbol.kind,
        "location": location(symbol),
        "summary": symbol.documentation.summary or f"({symbol.documentation.status})",
        "url": url,
    }


def index_script(symbols: Sequence[Symbol], url: Callable[[Symbol], str]) -> bytes:
    """`static/search-index.js`: every symbol as one row of
    [name, qualified name, kind, location, summary, signature, url].

    `url` gives each page's path relative to the site's root. The JSON is escaped for a
    script: `<`, `>` and `&` are written as \\u escapes, so no text can close the script.
    """
    rows = [
        [
            symbol.name,
            symbol.qualified_name or "",
            symbol.kind,
            location(symbol),
            (symbol.documentation.summary or f"({symbol.documentation.status})")[
                :INDEX_SUMMARY_CHARS
            ],
            symbol.signature[:INDEX_SIGNATURE_CHARS],
            url(symbol),
        ]
        for symbol in symbols
    ]
    data = json.dumps({"symbols": rows}, ensure_ascii=False, separators=(",", ":"))
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    # U+2028 and U+2029 end a line in older JavaScript parsers.
    data = data.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f"window.doctownSearchIndex = {data};\n".encode()
