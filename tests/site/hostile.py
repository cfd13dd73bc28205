"""A pack whose every string tries to become markup, a script or a link when shown in a page.

Summaries come from a model and everything else from an untrusted repository: names, paths,
signatures, docstrings and cluster labels all carry a payload here. A payload that runs sets
`window.pwned` or asks for `/pwned`; a page shows every one of them as text.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from doctown.docpack import Cluster, Documentation, Manifest, Source, write_docpack
from doctown.docpack.overviews import (
    ClusterOverview,
    EntryPoint,
    ModuleOverview,
    Overviews,
    RepositoryOverview,
)
from tests.docpack.factory import CREATED_AT, content_for, documented, symbol

SCRIPT = "<script>window.pwned=1</script>"
IMAGE = '"><img src=/pwned onerror="window.pwned=1">'
LINK = "javascript:window.pwned=1"
PAYLOADS = (SCRIPT, IMAGE, LINK)

HOSTILE_FILE = f"src/{LINK}/<b>bold</b>.py"
OTHER_FILE = "src/ok.py"


def write_hostile_pack(path: Path) -> Manifest:
    """Write the hostile pack to `path`: three symbols that call each other, one cluster."""
    symbols = [
        symbol(
            f"evil.{SCRIPT}",
            file_path=HOSTILE_FILE,
            lines=(1, 10),
            kind="class",
            signature=f"class X({IMAGE})",
            documentation=documented(f"Summary {SCRIPT} {IMAGE} [click]({LINK})"),
            calls=[f"evil.{LINK}"],
            cluster_id=LINK,
        ).model_copy(update={"docstring": f"Docstring {SCRIPT}\n{IMAGE}"}),
        symbol(
            f"evil.{LINK}",
            file_path=HOSTILE_FILE,
            lines=(12, 20),
            signature=f"def f(x='{SCRIPT}')",
            documentation=Documentation(
                status="failed", reason="refusal", message=f"refused {IMAGE}"
            ),
            cluster_id=LINK,
        ),
        symbol(
            f"fine.{IMAGE}",
            file_path=OTHER_FILE,
            lines=(1, 4),
            documentation=documented(f"**bold** <em>{LINK}</em> ``` {SCRIPT}"),
            calls=[f"evil.{SCRIPT}"],
            cluster_id=LINK,
        ),
    ]
    clusters = [
        Cluster(cluster_id=LINK, label=f"{SCRIPT} {IMAGE}", member_count=3),
    ]
    # Overviews whose prose, titles, references and diagram carry the payloads too.
    overviews = Overviews(
        repository=RepositoryOverview(
            summary=f"Repository {SCRIPT} {IMAGE}",
            main_parts=[f"cluster:{LINK}", LINK],
            start_reading=[f"evil.{SCRIPT}", f"module:{HOSTILE_FILE}"],
            entry_points=[EntryPoint(kind=SCRIPT, name=IMAGE, ref=LINK)],
        ),
        modules=[ModuleOverview(path=HOSTILE_FILE, summary=SCRIPT, public_api=[LINK, IMAGE])],
        clusters=[ClusterOverview(cluster_id=LINK, title=IMAGE, summary=SCRIPT)],
        diagram=f'flowchart LR\n  a["{SCRIPT}"]\n  click a href "{LINK}"\n',
    )
    return write_docpack(
        path,
        replace(content_for(symbols, clusters=clusters), overviews=overviews),
        source=Source(repo_url=f"https://example.com/{SCRIPT}.git", git_ref=IMAGE),
        created_at=CREATED_AT,
    )
