"""Small hand-made packs, and hostile variants of them, for the docpack and CLI tests.

`sample_content()` is a tiny shop: a cart module and a pricing module, with one symbol in
each documentation status. Hostile packs are made by rewriting the entries of a real pack
(`rezip`), never from hard-coded zip bytes.
"""

from __future__ import annotations

import hashlib
import json
import struct
import warnings
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from doctown.docpack import (
    Chunk,
    Cluster,
    Clusters,
    Documentation,
    Edge,
    Graph,
    GraphMetrics,
    Manifest,
    Nodes,
    PackContent,
    PromptMessage,
    Provenance,
    Source,
    SourceFile,
    SourceMap,
    Symbol,
    SymbolContextRecord,
    SymbolContexts,
    write_docpack,
)
from doctown.docpack.format import MANIFEST, content_digest
from doctown.docpack.overviews import (
    ClusterOverview,
    EntryPoint,
    ModuleOverview,
    Overviews,
    RepositoryOverview,
)
from doctown.docpack.overviews import ClusterRelation as OverviewRelation

CREATED_AT = datetime(2025, 3, 14, 15, 9, 26, tzinfo=UTC)
SOURCE = Source(repo_url="https://example.com/shop.git", git_ref="main", commit_hash="ab" * 20)
PROVENANCE = Provenance(
    backend="openai",
    model="gpt-5-mini",
    prompt_version="2",
    tokens=340,
    input_tokens=300,
    output_tokens=40,
    cost=0.000155,
)


def documented(summary: str) -> Documentation:
    return Documentation(summary=summary, provenance=PROVENANCE)


def symbol(
    qualified_name: str,
    *,
    file_path: str,
    lines: tuple[int, int],
    kind: str = "function",
    signature: str = "",
    documentation: Documentation | None = None,
    calls: Iterable[str] = (),
    cluster_id: str | None = "checkout",
) -> Symbol:
    """A Python symbol whose id is `py:<qualified name>` and whose bytes follow its lines."""
    first, last = lines
    return Symbol(
        id=f"py:{qualified_name}",
        name=qualified_name.rsplit(".", 1)[-1],
        qualified_name=qualified_name,
        kind=kind,
        language="python",
        file_path=file_path,
        byte_range=((first - 1) * 40, last * 40),
        line_range=lines,
        signature=signature,
        calls=[f"py:{callee}" for callee in calls],
        cluster_id=cluster_id,
        centrality=0.5,
        documentation=documentation or documented(f"Does what {qualified_name} says."),
    )


def content_for(
    symbols: list[Symbol],
    *,
    clusters: Iterable[Cluster] = (),
    contexts: bool = False,
) -> PackContent:
    """A consistent pack around `symbols`: called_by, the graph and the source map follow
    from each symbol's calls, file and byte range."""
    called_by: dict[str, list[str]] = defaultdict(list)
    for s in symbols:
        for callee in s.calls:
            called_by[callee].append(s.id)
    symbols = [s.model_copy(update={"called_by": called_by[s.id]}) for s in symbols]
    ids = {s.id for s in symbols}
    edges = [
        Edge(from_=s.id, to=callee, kind="calls")
        for s in symbols
        for callee in s.calls
        if callee in ids
    ]
    by_file: dict[str, list[Symbol]] = defaultdict(list)
    for s in symbols:
        by_file[s.file_path].append(s)
    files = [
        SourceFile(
            file_path=path,
            language="python",
            size=max(s.byte_range[1] for s in members),
            content_hash="sha256:" + hashlib.sha256(path.encode()).hexdigest(),
            chunks=[
                Chunk(chunk_id=f"chunk:{s.id}", byte_range=s.byte_range, symbol_ids=[s.id])
                for s in members
            ],
        )
        for path, members in by_file.items()
    ]
    symbol_contexts = None
    if contexts:
        symbol_contexts = SymbolContexts(
            contexts={
                s.id: SymbolContextRecord(
                    symbol_id=s.id,
                    name=s.name,
                    kind=s.kind,
                    language=s.language,
                    file_path=s.file_path,
                    signature=s.signature,
                    prompt_version="2",
                    messages=[PromptMessage(role="user", content=f"Symbol: {s.name}")],
                )
                for s in symbols
            }
        )
    return PackContent(
        nodes=Nodes(symbols=symbols),
        graph=Graph(
            nodes=[s.id for s in symbols],
            edges=edges,
            metrics=GraphMetrics.of(len(symbols), len(edges)),
        ),
        clusters=Clusters(clusters=list(clusters)),
        source_map=SourceMap(files=files),
        symbol_contexts=symbol_contexts,
    )


CART = "src/shop/cart.py"
PRICING = "src/shop/pricing.py"


def sample_symbols() -> list[Symbol]:
    """Nine symbols: every status, two functions named `load`, a call chain across files."""
    return [
        symbol(
            "shop.cart",
            kind="module",
            file_path=CART,
            lines=(1, 60),
            documentation=documented("Shopping cart: the items a customer is about to buy."),
        ),
        symbol(
            "shop.cart.Cart",
            kind="class",
            file_path=CART,
            lines=(5, 40),
            signature="class Cart",
            documentation=documented("Holds the items of one order and computes what it costs."),
        ),
        symbol(
            "shop.cart.Cart.add_item",
            kind="method",
            file_path=CART,
            lines=(10, 20),
            signature="def add_item(self, sku: str, quantity: int = 1) -> None",
            calls=["shop.pricing.unit_price"],
            documentation=documented("Adds a quantity of one product to the cart."),
        ),
        symbol(
            "shop.cart.Cart.total",
            kind="method",
            file_path=CART,
            lines=(22, 38),
            signature="def total(self) -> Decimal",
            calls=["shop.pricing.unit_price", "shop.pricing.compute_discount", "decimal.Decimal"],
            documentation=documented("Sums the prices of the items, less any discount."),
        ),
        symbol(
            "shop.cart.load",
            file_path=CART,
            lines=(42, 50),
            signature="def load(data: bytes) -> Cart",
            documentation=Documentation(
                status="reused",
                summary="Rebuilds a cart saved with dump.",
                provenance=Provenance(backend="docstring"),
            ),
        ),
        symbol(
            "shop.pricing.compute_discount",
            file_path=PRICING,
            lines=(3, 15),
            signature="def compute_discount(subtotal: Decimal, coupon: str | None) -> Decimal",
            cluster_id="pricing",
            documentation=documented(
                "Works out the refund a coupon grants on a subtotal, capped at the subtotal."
            ),
        ),
        symbol(
            "shop.pricing.unit_price",
            file_path=PRICING,
            lines=(17, 30),
            signature="def unit_price(sku: str) -> Decimal",
            cluster_id="pricing",
            documentation=Documentation(
                status="failed",
                reason="refusal",
                message="the model refused",
                provenance=PROVENANCE,
            ),
        ),
        symbol(
            "shop.pricing.load",
            file_path=PRICING,
            lines=(32, 40),
            signature="def load(path: Path) -> PriceList",
            cluster_id="pricing",
            documentation=documented("Reads the price list from a CSV file."),
        ),
        symbol(
            "shop.pricing._round",
            file_path=PRICING,
            lines=(42, 44),
            signature="def _round(value: Decimal) -> Decimal",
            cluster_id="pricing",
            documentation=Documentation(status="skipped", reason="private"),
        ),
    ]


SAMPLE_CLUSTERS = (
    Cluster(
        cluster_id="checkout",
        label="checkout",
        member_count=5,
        representative_symbol="py:shop.cart.Cart",
    ),
    Cluster(
        cluster_id="pricing",
        label="pricing",
        member_count=4,
        representative_symbol="py:shop.pricing.compute_discount",
    ),
)


def sample_content(*, contexts: bool = True) -> PackContent:
    """The shop pack's content."""
    return content_for(sample_symbols(), clusters=SAMPLE_CLUSTERS, contexts=contexts)


def write_sample(path: Path, *, contexts: bool = True) -> Manifest:
    """Write the shop pack to `path`."""
    return write_docpack(
        path, sample_content(contexts=contexts), source=SOURCE, created_at=CREATED_AT
    )


def synthetic_content(count: int) -> PackContent:
    """`count` functions across 50 files with varied names and summaries, for scale."""
    verbs = ["parse", "load", "render", "fetch", "validate", "merge", "encode", "resolve"]
    nouns = ["config", "token", "request", "graph", "cluster", "symbol", "record", "schema"]
    symbols = []
    for i in range(count):
        verb, noun = verbs[i % len(verbs)], nouns[(i // len(verbs)) % len(nouns)]
        module = f"pkg.module{i % 50}"
        name = f"{verb}_{noun}_{i}"
        symbols.append(
            symbol(
                f"{module}.{name}",
                file_path=f"src/pkg/module{i % 50}.py",
                lines=(i + 1, i + 2),
                signature=f"def {name}(value: {noun.title()}, *, strict: bool = False) -> None",
                calls=[f"{module}.{verbs[(i + 1) % 8]}_{noun}_{i + 1}"] if i + 1 < count else [],
                documentation=documented(
                    f"Takes a {noun} number {i}, checks it and returns the {verb}d result "
                    f"for the {nouns[i % 8]} stage."
                ),
                cluster_id=f"c{i % 20}",
            )
        )
    clusters = [
        Cluster(cluster_id=f"c{k}", label=f"cluster {k}", member_count=count // 20)
        for k in range(20)
    ]
    return content_for(symbols, clusters=clusters)


# --- hostile packs ---------------------------------------------------------------------------


def read_entries(path: Path) -> dict[str, bytes]:
    """The entries of an archive, in order."""
    with zipfile.ZipFile(path) as archive:
        return {info.orig_filename: archive.read(info) for info in archive.infolist()}


def resign(entries: Mapping[str, bytes]) -> dict[str, bytes]:
    """`entries` with the manifest's checksum and id recomputed, as a careful forger would."""
    manifest: dict[str, Any] = json.loads(entries[MANIFEST])
    digest = content_digest(entries)
    manifest["checksum"]["value"] = digest
    manifest["docpack_id"] = f"sha256:{digest}"
    return {**entries, MANIFEST: json.dumps(manifest).encode()}


def rezip(
    target: Path,
    entries: Iterable[tuple[str, bytes]],
    *,
    compression: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """Write `entries` (names as given, duplicates kept) as a zip at `target`."""
    with warnings.catch_warnings():
        # zipfile warns about duplicate names, which are exactly what some tests need.
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(target, "w") as archive:
            for name, data in entries:
                info = zipfile.ZipInfo(name)
                info.compress_type = compression
                archive.writestr(info, data)
    return target


_CENTRAL_HEADER = b"PK\x01\x02"
# Offsets inside a central directory record (APPNOTE 4.3.12).
_DIRECTORY_FIELDS = {"flags": (8, "<H"), "uncompressed_size": (24, "<I")}


def patch_directory(path: Path, name: str, **values: int) -> None:
    """Overwrite fields (`flags`, `uncompressed_size`) of the central directory record of
    `name`, as a hand-crafted archive could: the zip then lies about that entry."""
    data = bytearray(path.read_bytes())
    position = data.find(_CENTRAL_HEADER)
    while position != -1:
        (name_length,) = struct.unpack_from("<H", data, position + 28)
        if data[position + 46 : position + 46 + name_length] == name.encode():
            for field, value in values.items():
                offset, layout = _DIRECTORY_FIELDS[field]
                struct.pack_into(layout, data, position + offset, value)
            path.write_bytes(bytes(data))
            return
        position = data.find(_CENTRAL_HEADER, position + 4)
    raise KeyError(name)


def legacy_entries(path: Path) -> dict[str, bytes]:
    """The pack at `path` as doctown 0.1.0 wrote it: the run's `usage` in the manifest and
    `cached` in each provenance, sealed with a correct checksum."""
    entries = read_entries(path)
    nodes: dict[str, Any] = json.loads(entries["nodes.json"])
    for each in nodes["symbols"]:
        if each["documentation"].get("provenance"):
            each["documentation"]["provenance"]["cached"] = True
    entries["nodes.json"] = json.dumps(nodes).encode()
    manifest: dict[str, Any] = json.loads(entries[MANIFEST])
    manifest["usage"] = {
        "backend": "openai",
        "model": "gpt-5-mini",
        "input_tokens": 900,
        "cached_tokens": 100,
        "output_tokens": 120,
        "reasoning_tokens": 0,
        "requests": 3,
        "cost": 0.000465,
    }
    return resign({**entries, MANIFEST: json.dumps(manifest).encode()})


def before_fingerprints(path: Path) -> dict[str, bytes]:
    """The pack at `path` as doctown wrote it before fingerprints: no `recipe` in nodes.json,
    no `fingerprint` in any documentation, sealed with a correct checksum."""
    entries = read_entries(path)
    nodes: dict[str, Any] = json.loads(entries["nodes.json"])
    nodes.pop("recipe", None)
    for each in nodes["symbols"]:
        each["documentation"].pop("fingerprint", None)
    return resign({**entries, "nodes.json": json.dumps(nodes).encode()})


def sample_overviews() -> Overviews:
    """Overviews of the shop pack: its two modules, two clusters and the repository."""
    provenance = PROVENANCE.model_copy(update={"prompt_version": "overview-1"})
    return Overviews(
        repository=RepositoryOverview(
            summary="A small shop: carts that total their items and prices with discounts.",
            provenance=provenance,
            main_parts=["cluster:checkout", "cluster:pricing"],
            start_reading=["py:shop.cart.Cart", "module:src/shop/pricing.py"],
            entry_points=[EntryPoint(kind="package", name="shop", ref="module:src/shop/cart.py")],
        ),
        modules=[
            ModuleOverview(
                path=CART,
                summary="Holds the cart a customer fills and totals.",
                provenance=provenance,
                public_api=["py:shop.cart.Cart", "py:shop.cart.Cart.total"],
                depends_on=[PRICING],
            ),
            ModuleOverview(path=PRICING, status="failed", reason="refusal", message="refused"),
        ],
        clusters=[
            ClusterOverview(
                cluster_id="checkout",
                title="Checkout",
                summary="Totals a cart and applies discounts.",
                provenance=provenance,
                key_symbols=["py:shop.cart.Cart.total"],
                relations=[
                    OverviewRelation(cluster_id="pricing", calls_out=2, description="Asks it.")
                ],
            )
        ],
        diagram='flowchart LR\n  cluster_checkout["checkout (5)"]\n',
    )


def write_sample_with_overviews(path: Path) -> Manifest:
    """The shop pack with its overviews (docpack/1.1)."""
    content = replace(sample_content(), overviews=sample_overviews())
    return write_docpack(path, content, source=SOURCE, created_at=CREATED_AT)
