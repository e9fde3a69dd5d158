"""Typed recipe configs: round trips for every registered recipe, precise errors, override parsing.

Parametrised over the recipe registry, so a recipe added later is exercised without touching this file.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.recipes import (
    ConfigError,
    RecipeNotFoundError,
    describe,
    diff,
    from_dict,
    get_recipe,
    list_recipes,
    option,
    parse_overrides,
    to_dict,
)
from core.recipes.classify import ClassifyConfig
from core.recipes.config import SECTIONS, RecipeConfig
from core.recipes.registry import RecipeEntry, register_recipe

RECIPES = [entry.name for entry in list_recipes()]


@dataclasses.dataclass(frozen=True)
class Demo(RecipeConfig):
    """One field of each supported kind, independent of any recipe."""

    count: int = option(3, section="run", help="a count", min=1, max=10)
    rate: float = option(0.5, section="run", help="a rate", min=0.0, max=1.0)
    flag: bool = option(False, section="run", help="a flag")
    mode: str = option("a", section="run", help="a mode", choices=("a", "b"))
    folder: str | None = option(None, section="run", help="a folder or none")
    weights: bool | str = option(False, section="run", help="false, true or a path")


def test_the_builtin_recipes_are_registered() -> None:
    assert "classify" in RECIPES
    with pytest.raises(RecipeNotFoundError, match=r"known recipes: .*classify"):
        get_recipe("clasify")


def test_a_duplicate_registration_warns() -> None:
    entry = get_recipe("classify")
    with pytest.warns(UserWarning, match="registered twice"):
        register_recipe(entry)


@pytest.mark.parametrize("name", RECIPES)
def test_defaults_round_trip_through_json(name: str) -> None:
    cls = get_recipe(name).config_cls
    cfg = cls()
    again = from_dict(cls, json.loads(json.dumps(to_dict(cfg))))
    assert again == cfg and to_dict(again) == to_dict(cfg)


@pytest.mark.parametrize("name", RECIPES)
def test_every_field_is_described_for_the_launch_form(name: str) -> None:
    cls = get_recipe(name).config_cls
    specs = describe(cls)
    assert [s.name for s in specs] == list(to_dict(cls()))
    for spec in specs:
        assert spec.help, f"{name}.{spec.name} has no help text"
        if spec.choices is not None:
            assert spec.default in spec.choices
        if spec.type in ("int", "float"):
            assert spec.min is not None, f"{name}.{spec.name} has no minimum"


@pytest.mark.parametrize("name", RECIPES)
def test_every_field_is_in_one_of_the_launch_form_sections(name: str) -> None:
    specs = describe(get_recipe(name).config_cls)
    assert {s.name: s.section for s in specs if s.section not in SECTIONS} == {}
    assert SECTIONS == ("model", "data", "optimisation", "schedule", "regularisation", "run")


def test_a_field_without_a_known_section_is_refused_where_it_is_written() -> None:
    with pytest.raises(TypeError, match="not a launch form section; use one of: model, data, optimisation"):
        option(1, section="hardware", help="a count")

    @dataclasses.dataclass(frozen=True)
    class Bare:
        count: int = 3  # not made by option(): no section, no help

    with pytest.raises(TypeError, match=r"Bare.count has no launch form section; make it with option\(.*section="):
        describe(Bare)


@pytest.mark.parametrize("name", RECIPES)
def test_non_default_values_round_trip(name: str) -> None:
    """Each field set to another allowed value survives to_dict -> JSON -> from_dict."""
    cls = get_recipe(name).config_cls
    base = to_dict(cls())
    for spec in describe(cls):
        other = _another_value(spec)
        if other is None:
            continue
        try:
            cfg = from_dict(cls, {**base, spec.name: other})
        except ConfigError as exc:  # a rule between fields (e.g. consistency needs multi): named in the message
            assert spec.name in str(exc) or "needs" in str(exc)
            continue
        assert from_dict(cls, json.loads(json.dumps(to_dict(cfg)))) == cfg


def _another_value(spec: object) -> object:
    if spec.choices:
        return next((c for c in spec.choices if c != spec.default), None)
    if spec.type == "bool":
        return not spec.default
    if spec.type == "int":
        return int(spec.min) + 1 if spec.max is None or spec.min + 1 <= spec.max else None
    if spec.type == "float":
        return (spec.min + (spec.max if spec.max is not None else spec.min + 2)) / 2
    return None


def test_unknown_key_names_it_and_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as info:
        from_dict(ClassifyConfig, {"lrr": 0.1})
    message = str(info.value)
    assert "'lrr'" in message and "did you mean 'lr'" in message and "valid keys:" in message and "epochs" in message


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("epochs", "ten", ["epochs", "whole number"]),
        ("epochs", 2.5, ["epochs", "whole number"]),
        ("lr", "fast", ["lr", "number"]),
        ("channels_last", 1, ["channels_last", "true or false"]),
        ("epochs", 0, ["epochs", "minimum"]),
        ("label_smoothing", 1.0, ["label_smoothing", "maximum"]),
        ("lr", float("nan"), ["lr", "finite"]),
        ("optimizer", "lion", ["optimizer", "adamw", "sgd"]),
        ("augment", "extreme", ["augment", "none", "light", "strong"]),
        ("device", "tpu", ["device", "cuda:N"]),
    ],
)
def test_bad_values_name_the_key_and_what_is_allowed(key: str, value: object, words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        from_dict(ClassifyConfig, {key: value})
    for word in words:
        assert word in str(info.value)


def test_rules_between_fields() -> None:
    with pytest.raises(ConfigError, match="heads=multi"):
        ClassifyConfig(consistency_weight=0.5)
    with pytest.raises(ConfigError, match="freeze=backbone"):
        ClassifyConfig(unfreeze_epoch=2)
    assert ClassifyConfig(heads="multi", consistency_weight=0.5).consistency_weight == 0.5


def test_a_float_field_takes_an_int_and_an_int_field_a_whole_float() -> None:
    cfg = from_dict(ClassifyConfig, {"lr": 1, "epochs": 3.0})
    assert cfg.lr == 1.0 and isinstance(cfg.lr, float) and cfg.epochs == 3 and isinstance(cfg.epochs, int)


@pytest.mark.parametrize(
    ("override", "field", "expected"),
    [
        ("count=7", "count", 7),
        ("rate=1e-1", "rate", 0.1),
        ("rate=1", "rate", 1.0),
        ("flag=true", "flag", True),
        ("flag=YES", "flag", True),
        ("flag=0", "flag", False),
        ("flag=off", "flag", False),
        ("mode=b", "mode", "b"),
        ("folder=/data/cars", "folder", "/data/cars"),
        ("folder=none", "folder", None),
        ("folder=", "folder", None),
        ("weights=true", "weights", True),
        ("weights=False", "weights", False),
        ("weights=/w/resnet.pth", "weights", "/w/resnet.pth"),
        (" count = 4 ", "count", 4),
    ],
)
def test_parse_overrides_by_type(override: str, field: str, expected: object) -> None:
    cfg = parse_overrides(Demo, [override])
    assert getattr(cfg, field) == expected and type(getattr(cfg, field)) is type(expected)


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("count", ["key=value"]),
        ("=3", ["key=value"]),
        ("cuont=3", ["'cuont'", "did you mean 'count'"]),
        ("count=3.5", ["count", "whole number"]),
        ("count=11", ["count", "maximum"]),
        ("flag=maybe", ["flag", "true or false"]),
        ("mode=c", ["mode", "a, b"]),
        ("rate=inf", ["rate", "finite"]),
    ],
)
def test_bad_overrides_say_what_is_wrong(override: str, words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        parse_overrides(Demo, [override])
    for word in words:
        assert word in str(info.value)


def test_a_key_given_twice_is_an_error_and_base_values_are_kept() -> None:
    with pytest.raises(ConfigError, match="given twice"):
        parse_overrides(Demo, ["count=2", "count=3"])
    cfg = parse_overrides(Demo, ["rate=0.25"], base={"count": 9, "mode": "b"})
    assert (cfg.count, cfg.rate, cfg.mode) == (9, 0.25, "b")


def test_pretrained_written_as_text_means_the_flag() -> None:
    assert from_dict(ClassifyConfig, {"pretrained": "True"}).pretrained is True
    assert parse_overrides(ClassifyConfig, ["pretrained=/w/r18.safetensors"]).pretrained == "/w/r18.safetensors"


def test_dataset_choices_come_from_the_dataset_registry() -> None:
    spec = next(s for s in describe(ClassifyConfig) if s.name == "dataset")
    assert {"synthetic-cars", "imagefolder", "stanford-cars"} <= set(spec.choices)
    with pytest.raises(ConfigError, match="synthetic-cars"):
        parse_overrides(ClassifyConfig, ["dataset=cifar"])


def test_diff_reports_only_what_differs() -> None:
    a, b = Demo(), Demo(count=5, mode="b")
    assert diff(a, b) == {"count": (3, 5), "mode": ("a", "b")}
    assert diff(a, a) == {}
    assert diff({"x": 1}, {"x": 1, "y": 2}) == {"y": (None, 2)}


def test_the_registry_entry_is_frozen() -> None:
    entry = get_recipe("classify")
    assert isinstance(entry, RecipeEntry)
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.name = "other"  # type: ignore[misc]


KEYS = [s.name for s in describe(ClassifyConfig)]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.builds(lambda k, v: f"{k}={v}", st.sampled_from(KEYS), st.text(max_size=12)),
            st.builds(
                lambda k, v: f"{k}={v}",
                st.sampled_from(KEYS),
                st.one_of(
                    st.integers(-5, 10**6).map(str),
                    st.floats(allow_nan=True).map(str),
                    st.sampled_from(["true", "no", "none", "", "multi", "cuda:1", "sampler"]),
                ),
            ),
            st.text(max_size=20),
        ),
        max_size=4,
    )
)
def test_any_override_text_gives_a_config_or_a_config_error(overrides: list[str]) -> None:
    try:
        cfg = parse_overrides(ClassifyConfig, overrides)
    except ConfigError:
        return
    assert from_dict(ClassifyConfig, json.loads(json.dumps(to_dict(cfg)))) == cfg
