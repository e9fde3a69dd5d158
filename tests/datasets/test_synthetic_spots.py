"""The built-in synthetic-spots set for re-ID, generated at a tiny size: deterministic, laid out as the image
folders read it, imbalanced, with every individual a query in val and test, and coats that tell them apart."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.datasets import DatasetError, ensure_synthetic_spots, generate_synthetic_spots, load_dataset
from core.datasets import synthetic_spots as module
from core.datasets.synthetic_spots import FOLDER_NAME, image_counts
from core.datasets.synthetic_spots_draw import SPECIES, draw_texture, make_coat

TINY = {"n_individuals": 6, "min_images": 6, "max_images": 14, "image_size": 32}


def file_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_synthetic_spots(tmp_path_factory.mktemp("spots") / "spots", seed=0, **TINY)


def test_same_seed_gives_identical_bytes_and_another_seed_other_images(tiny: Path, tmp_path: Path) -> None:
    reference = file_bytes(tiny)
    assert len(reference) > 40
    assert file_bytes(generate_synthetic_spots(tmp_path / "again", seed=0, **TINY)) == reference
    other = file_bytes(generate_synthetic_spots(tmp_path / "other", seed=1, **TINY))
    same = sum(other.get(name) == content for name, content in reference.items() if name.endswith(".png"))
    assert same == 0


def test_layout_loads_through_the_registry_with_species_as_makes(tiny: Path) -> None:
    data = load_dataset("synthetic-spots", str(tiny))
    assert data.name == "synthetic-spots" and data.skipped == 0 and len(data.classes) == 6
    assert data.makes == sorted(SPECIES)
    for split, samples in data.splits.items():
        per_identity = Counter(s.label for s in samples)
        assert set(per_identity) == set(range(6)), f"an individual is missing from {split}"
        if split != "train":
            assert min(per_identity.values()) >= 2, "every individual must be a query (two images) in val and test"
        for s in samples:
            name = Path(s.path).parent.name
            assert name == data.classes[s.label] and data.makes[data.class_to_make[s.label]] == name.split("_")[0]
    with Image.open(data.splits["train"][0].path) as image:
        assert image.size == (32, 32) and image.mode == "RGB"


def test_default_counts_are_the_jaguar_sets_range_and_imbalanced() -> None:
    counts = image_counts(31, 13, 183, {"val": 0.15, "test": 0.15}, seed=0)
    totals = [sum(c.values()) for c in counts]
    assert (min(totals), max(totals), len(totals)) == (13, 183, 31)
    assert sum(t < 40 for t in totals) > sum(t > 100 for t in totals)  # many with few images, few with many
    assert all(c["val"] >= 2 and c["test"] >= 2 and c["train"] >= 1 for c in counts)
    with pytest.raises(DatasetError, match="min_images"):
        image_counts(5, 3, 10, {"val": 0.15, "test": 0.15}, seed=0)


def test_coats_are_unique_and_stable() -> None:
    coats = [make_coat(0, i, SPECIES[i % 3]) for i in range(12)]
    layouts = {tuple((round(s.x), round(s.y)) for s in coat.spots) for coat in coats}
    assert len(layouts) == 12 and all(len(coat.spots) >= 8 for coat in coats)
    assert make_coat(0, 3, "jaguar") == make_coat(0, 3, "jaguar")
    textures = [np.asarray(draw_texture(coat), dtype=np.float32) for coat in coats[:3]]
    assert np.abs(textures[0] - textures[1]).mean() > 5  # two individuals' flanks differ visibly


def test_ensure_generates_once_and_refuses_a_partial_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def small(out_dir: Path, seed: int = 0, **kwargs: object) -> Path:
        calls.append(out_dir)
        return generate_synthetic_spots(out_dir, seed, **TINY)

    monkeypatch.setattr(module, "generate_synthetic_spots", small)
    folder = ensure_synthetic_spots(tmp_path / "data")
    assert folder == tmp_path / "data" / FOLDER_NAME and (folder / "manifest.json").is_file()
    assert load_dataset("synthetic-spots", data_dir=str(tmp_path / "data")).root == str(folder) and len(calls) == 1
    (tmp_path / "other" / FOLDER_NAME).mkdir(parents=True)
    with pytest.raises(DatasetError, match=r"no manifest\.json"):
        ensure_synthetic_spots(tmp_path / "other")
    with pytest.raises(FileExistsError):
        generate_synthetic_spots(folder, **TINY)
