"""Pages to HTML: one Jinja2 environment, autoescaping everything, over the package templates.

Pack text reaches HTML only through the template engine, which escapes it; nothing here
concatenates pack text into markup. The Content-Security-Policy below keeps a missed escape
from running anyway: scripts, styles and images only from the site itself, no inline code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from jinja2 import BaseLoader, Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from doctown import __version__
from doctown.docpack import Symbol
from doctown.site.catalog import Catalog
from doctown.site.links import Links
from doctown.site.pages import Page
from doctown.site.search import location

# Sent as a header by `doctown view`; an export carries it in a <meta> tag, where
# frame-ancestors is not allowed (a browser would complain about it on every page).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'"
)
SERVER_ONLY_POLICY = "; frame-ancestors 'none'"
# Rendered list items kept for reuse: a symbol is listed on the pages of all its neighbours.
MAX_CACHED_ITEMS = 200_000

Mode = Literal["server", "static"]


@dataclass(frozen=True, slots=True)
class Up:
    """A link out of the pack's pages to the app that holds them (the worker's library)."""

    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Site:
    """What every page of one pack shows around its content."""

    name: str
    preview: bool
    catalog: Catalog
    mode: Mode
    version: str = __version__
    up: Up | None = None

    @property
    def created(self) -> str:
        """When the pack was written, as every footer shows it."""
        return _when(self.catalog.manifest.created_at)


def _thousands(value: int | float) -> str:
    return f"{value:,}"


def _dollars(value: float) -> str:
    return f"${value:.6f}".rstrip("0").rstrip(".") if value else "$0"


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _short(value: str | None, length: int = 12) -> str:
    if not value:
        return ""
    return value.removeprefix("sha256:")[:length]


def environment(loader: BaseLoader | None = None) -> Environment:
    """The templates (the site's, or those of `loader`), with autoescaping on for every one of
    them and the filters the pages use."""
    env = Environment(
        loader=loader or PackageLoader("doctown.site", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        thousands=_thousands, dollars=_dollars, when=_when, location=location, short=_short
    )
    return env


class Renderer:
    """Renders the pages of one pack."""

    def __init__(self, catalog: Catalog, *, mode: Mode, up: Up | None = None) -> None:
        self.site = Site(
            name=catalog.name, preview=catalog.preview, catalog=catalog, mode=mode, up=up
        )
        # Computed once: the footer of every page shows them.
        self.footer = {
            "created": self.site.created,
            "id": _short(catalog.manifest.docpack_id, 16),
        }
        self.env = environment()
        self.policy = CONTENT_SECURITY_POLICY
        self._items: dict[tuple[str, str, bool], Markup] = {}
        # Set before the macros load: a template sees the globals of the moment it loads.
        self.env.globals["item"] = self.item
        self.env.globals["site"] = self.site  # the macros mark freshness from the catalog
        macros = self.env.get_template("macros.html.jinja2").module
        self._item_macro = macros.symbol_item  # type: ignore[attr-defined]

    def item(self, symbol: Symbol, links: Links, show_file: bool = True) -> Markup:
        """A symbol as a list item (name, kind, place, status, summary), rendered once per
        kind of link and reused on every page that lists it."""
        key = (symbol.id, links.key, show_file)
        found = self._items.get(key)
        if found is None:
            if len(self._items) >= MAX_CACHED_ITEMS:
                self._items.clear()
            found = self._item_macro(symbol, links, show_file)
            # An autoescaping macro returns Markup: its pack text is already escaped.
            assert isinstance(found, Markup)
            self._items[key] = found
        return found

    def render(self, page: Page, links: Links) -> str:
        """The page as a complete HTML document."""
        template = self.env.get_template(page.template)
        return template.render(
            page=page,
            links=links,
            site=self.site,
            manifest=self.site.catalog.manifest,
            footer=self.footer,
            policy=self.policy if self.site.mode == "static" else None,
        )
