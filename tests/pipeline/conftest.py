"""A small repository to build: real files, a real git history with a fixed commit time."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

FILES = {
    "shop/__init__.py": '"""A tiny shop: carts, prices and receipts."""\n',
    "shop/pricing.py": '''"""Prices and discounts."""


def apply_discount(amount: float, percent: float) -> float:
    """Reduce an amount by a percentage, never below zero."""
    return max(amount - amount * percent / 100, 0.0)


def total(items: list[float]) -> float:
    return sum(items)


def _round_cents(value: float) -> float:
    return round(value, 2)
''',
    "shop/cart.py": '''"""The shopping cart."""

from shop.pricing import apply_discount, total


class Cart:
    """Items a customer intends to buy."""

    def __init__(self) -> None:
        self.items: list[float] = []

    def add(self, price: float) -> None:
        self.items.append(price)

    def checkout(self, discount: float = 0.0) -> float:
        """Total the cart and apply a discount."""
        return apply_discount(total(self.items), discount)
''',
    "shop/receipt.py": """from shop.cart import Cart


def print_receipt(cart: Cart) -> str:
    amount = cart.checkout()
    return f"Total: {amount:.2f}"
""",
}

COMMIT_TIME = "2025-06-01T12:00:00+00:00"


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_AUTHOR_DATE": COMMIT_TIME,
        "GIT_COMMITTER_DATE": COMMIT_TIME,
    }
    return subprocess.run(
        ["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def write_repo(root: Path, files: dict[str, str] = FILES) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "shop")
    return root


@pytest.fixture
def shop_repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "shop-repo")
