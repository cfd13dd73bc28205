"""A pack as pages people read: one renderer for `doctown view` and the HTML export.

Catalog      a pack read once and indexed (catalog.py)
pages        one model per page kind (pages.py), laid out by templates/*.html.jinja2
Renderer     Jinja2 with autoescaping, the frame every page shares (render.py)
links        server URLs or relative file paths (links.py)
create_site_app   the read-only web app, mountable under any prefix (app.py)
"""

from doctown.site.app import create_site_app
from doctown.site.catalog import Catalog
from doctown.site.render import CONTENT_SECURITY_POLICY, Renderer, Up

__all__ = ["CONTENT_SECURITY_POLICY", "Catalog", "Renderer", "Up", "create_site_app"]
