"""How runs are named: the name alone where it is unique, with the end of the id where names repeat."""

from __future__ import annotations

from core.views.labels import distinct_labels, run_label


def test_a_repeated_name_gets_the_end_of_its_id_and_a_unique_one_does_not() -> None:
    names = {"20250101-aaaaaa": "vit", "20250102-bbbbbb": "vit", "20250103-cccccc": "resnet", "20250104-dddddd": ""}
    assert distinct_labels(names) == {"20250101-aaaaaa": "vit (aaaaaa)", "20250102-bbbbbb": "vit (bbbbbb)",
                                      "20250103-cccccc": "resnet", "20250104-dddddd": "dddddd"}  # fmt: skip
    assert run_label("vit", "20250101-aaaaaa") == "vit (aaaaaa)"
    assert distinct_labels({}) == {}
