"""A tiny corpus with human docstrings, and a corpora file naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

FILES = {
    "shop/__init__.py": '"""A tiny shop that keeps carts, prices and receipts together."""\n',
    "shop/pricing.py": '''"""Prices, discounts and the rounding rules for money."""


def apply_discount(amount: float, percent: float) -> float:
    """Reduce an amount by a percentage, never going below zero.

    The percentage is taken of the original amount.
    """
    return max(amount - amount * percent / 100, 0.0)


def total(items: list[float]) -> float:
    """Add up the prices of all items in the list."""
    return sum(items)


def _round_cents(value: float) -> float:
    """Round a value of money to whole cents for display."""
    return round(value, 2)


def tax(amount: float) -> float:
    """Tax."""
    return amount * 0.2
''',
    "shop/cart.py": '''"""The shopping cart a customer fills before paying."""

from shop.pricing import apply_discount, total


class Cart:
    """Items a customer intends to buy, with their prices."""

    def __init__(self) -> None:
        self.items: list[float] = []

    def add(self, price: float) -> None:
        """Put one more item with the given price in the cart."""
        self.items.append(price)

    def checkout(self, discount: float = 0.0) -> float:
        """
        Total the cart and apply the customer's discount.
        """
        return apply_discount(total(self.items), discount)
''',
}

CORPORA = """
seed = 7
limit = 4

[[corpus]]
name = "shop"
source = "folder"
path = "shop-repo"
"""


def write_shop(root: Path) -> Path:
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return write_shop(tmp_path / "shop-repo")


@pytest.fixture
def corpora_file(shop: Path) -> Path:
    path = shop.parent / "corpora.toml"
    path.write_text(CORPORA)
    return path
