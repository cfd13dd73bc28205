"""The MCP server answers from the same packs as the viewer."""

from tests.site.conftest import hostile, hostile_pack, real, real_pack, shop, shop_pack

__all__ = ["hostile", "hostile_pack", "real", "real_pack", "shop", "shop_pack"]
