"""The generic ``core.registry.Registry``: registering, listing, lookups, duplicates and unknown names."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.registry import Registry


@dataclass(frozen=True)
class Thing:
    name: str
    size: int = 0


class ThingNotFoundError(LookupError):
    pass


def make(*names: str) -> Registry[Thing]:
    registry: Registry[Thing] = Registry("thing", ThingNotFoundError)
    for name in names:
        registry.register(Thing(name))
    return registry


def test_entries_are_listed_sorted_and_found_by_name() -> None:
    registry = make("zeta", "alpha", "mid")
    assert registry.names() == ["alpha", "mid", "zeta"]
    assert [e.name for e in registry.entries()] == ["alpha", "mid", "zeta"]
    assert [e.name for e in registry] == ["alpha", "mid", "zeta"]
    assert len(registry) == 3 and "mid" in registry and "nope" not in registry
    assert registry.get("mid") == Thing("mid")


def test_register_returns_the_entry() -> None:
    registry = make()
    entry = Thing("a")
    assert registry.register(entry) is entry


def test_a_duplicate_warns_and_the_later_entry_wins() -> None:
    registry = make("a")
    later = Thing("a", size=2)
    with pytest.warns(UserWarning, match=r"thing 'a' is registered twice"):
        registry.register(later)
    assert registry.get("a") is later and len(registry) == 1


def test_an_unknown_name_raises_the_registry_error_listing_the_known_names() -> None:
    registry = make("classify", "detect")
    with pytest.raises(ThingNotFoundError) as info:
        registry.get("clasify")
    assert str(info.value) == "unknown thing 'clasify'; did you mean 'classify'?; known things: classify, detect"
    with pytest.raises(ThingNotFoundError, match=r"^unknown thing 'xyz'; known things: classify, detect$"):
        registry.get("xyz")  # nothing close: no did-you-mean


def test_an_empty_registry_says_so() -> None:
    with pytest.raises(ThingNotFoundError, match=r"\(none registered\)"):
        make().get("a")


def test_the_default_error_is_a_lookup_error() -> None:
    with pytest.raises(LookupError, match="unknown verb"):
        Registry[Thing]("verb").get("x")


@given(st.lists(st.tuples(st.text(min_size=1, max_size=8), st.integers(0, 9)), max_size=12))
def test_names_are_the_distinct_names_and_each_keeps_its_last_entry(pairs: list[tuple[str, int]]) -> None:
    registry = make()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name, size in pairs:
            registry.register(Thing(name, size))
    last = dict(pairs)
    assert len(caught) == len(pairs) - len(last)  # one warning per repeated name
    assert registry.names() == sorted(last)
    assert all(registry.get(name) == Thing(name, size) for name, size in last.items())
