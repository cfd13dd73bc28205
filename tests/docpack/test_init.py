from __future__ import annotations

import types

import doctown.docpack


def test_all_lists_every_public_name_once() -> None:
    exported = doctown.docpack.__all__
    public = {
        name
        for name, value in vars(doctown.docpack).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert len(exported) == len(set(exported))
    assert set(exported) == public
