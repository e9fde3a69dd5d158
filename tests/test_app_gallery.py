"""The Gallery page through Streamlit's AppTest on a tiny real reid run: every query source, the switches
changing the mAP, two runs side by side, Grad-CAM and the embedding map, and clear messages for bad runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO
from tests.fixtures_reid import copy_run, train_tiny_reid


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_tiny_reid(tmp_path_factory.mktemp("reid"))


@pytest.fixture
def run_id(trained: Path, runs_root: Path) -> str:
    return copy_run(trained, runs_root, "spots A")


def _page() -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("app_pages/6_Gallery.py").run()
    assert not at.exception, at.exception
    return at


def _map(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == "mAP")


def _captions(at: AppTest) -> list[str]:
    return [img.caption for element in at.get("image") for img in element.proto.imgs]


def test_a_random_query_shows_its_matches_and_the_switches_change_the_map(run_id: str) -> None:
    at = _page()
    assert [m.label for m in at.metric] == ["mAP", "identity-balanced mAP", "rank-1", "rank-5"]
    captions = _captions(at)
    assert captions[0].startswith("query · ") and " · AP " in captions[0]
    matches = [c for c in captions[1:] if c[:2] in {f"{i} " for i in range(1, 11)} or c[:3] == "10 "]
    assert len(matches) == 10 and all(c.endswith(("✅", "❌")) for c in matches)
    assert any(md.value.startswith("**AP ") for md in at.markdown)
    plain = _map(at)
    at.toggle(key="gallery_rerank").set_value(True).run()
    assert not at.exception and _map(at) != plain
    assert next(m for m in at.metric if m.label == "mAP").delta
    for switch in ("gallery_flip", "gallery_qe"):
        at.toggle(key=switch).set_value(True).run()
        assert not at.exception
    at.button(key="gallery_shuffle").click().run()
    assert not at.exception


def test_worst_ap_and_by_identity_queries(run_id: str) -> None:
    at = _page()
    at.radio(key="gallery_source").set_value("worst AP").run()
    worst = at.selectbox(key="gallery_worst")
    aps = [float(label.split(" · ")[0].removeprefix("AP ")) for label in worst.options]
    shown = float(_captions(at)[0].rsplit("AP ", 1)[1])
    assert aps == sorted(aps) and abs(shown - aps[0]) <= 0.005  # the worst query is shown first
    at.radio(key="gallery_source").set_value("by identity").run()
    last = at.selectbox(key="gallery_identity").options[-1]
    at.selectbox(key="gallery_identity").set_value(last).run()
    assert not at.exception and _captions(at)[0].startswith(f"query · {last} · ")


def test_two_runs_side_by_side_and_a_smaller_top_k(run_id: str, trained: Path, runs_root: Path) -> None:
    other = copy_run(trained, runs_root, "spots B", suffix="d4e5f6")
    at = _page()
    at.selectbox(key="gallery_second").set_value(other).run()
    assert not at.exception
    titles = [h.value for h in at.subheader]
    assert len(titles) == 2 and titles[0].startswith("spots ") and titles[1].startswith("spots ")
    at.slider(key="gallery_k").set_value(3).run()
    assert not at.exception and sum(" · AP " in c for c in _captions(at)) == 2


def test_grad_cam_and_the_embedding_map_render(run_id: str) -> None:
    at = _page()
    assert at.selectbox(key="gallery_cam_method").value == "gradcam"
    assert any(c.startswith("query · gradcam · ") for c in _captions(at))
    at.selectbox(key="gallery_cam_method").set_value("eigencam").run()
    assert not at.exception and any(c.startswith("query · eigencam · ") for c in _captions(at))
    assert len(at.get("plotly_chart")) == 1


def test_an_upload_waits_for_a_file(run_id: str) -> None:
    at = _page()
    at.radio(key="gallery_source").set_value("upload").run()
    assert not at.exception and not at.error


def test_a_run_with_broken_embeddings_shows_one_message(run_id: str, runs_root: Path) -> None:
    (runs_root / run_id / "artifacts" / "embeddings" / "test.npz").write_bytes(b"broken")
    at = _page()
    assert len(at.error) == 1 and "cannot read embeddings" in at.error[0].value


def test_no_reid_run_says_how_to_get_one() -> None:
    at = _page()
    assert "No finished reid run" in at.info[0].value
