"""Each package exposes a small, sorted public surface (httpx's test_exported_members)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import bastion

PACKAGES = [
    *sorted(
        name
        for _, name, is_pkg in pkgutil.walk_packages(bastion.__path__, "bastion.")
        if is_pkg and not name.split(".")[-1].startswith("_")
    ),
    "bastion",
]


def _isort_key(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return (0, name)
    return (1, name) if name[:1].isupper() else (2, name)


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_resolves(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    if name.endswith((".cli", ".samples")):
        assert exported is None  # wiring-only packages export nothing
        return
    assert exported is not None, f"{name} has no __all__"
    assert list(exported) == sorted(exported, key=_isort_key), f"{name}.__all__ is not sorted"
    for member in exported:
        assert hasattr(module, member), f"{name}.__all__ names missing {member!r}"
