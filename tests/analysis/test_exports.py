"""The public names of doctown.analysis: complete, and each one really exported.

Their order is checked by the linter (RUF022).
"""

from __future__ import annotations

import types

import doctown.analysis


def test_all_lists_every_public_name() -> None:
    public = {
        name
        for name, value in vars(doctown.analysis).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name != "annotations"
    }
    assert set(doctown.analysis.__all__) == public
    assert len(doctown.analysis.__all__) == len(set(doctown.analysis.__all__))
