"""Predict and Grad-CAM: overlays, where a CAM points, released hooks, uploads, checkpoints, the CLI and page."""

from __future__ import annotations

import io
import resource
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest
from torch import nn

from core.datasets.synthetic_cars import generate_synthetic_cars
from core.recipes.classify import predict
from core.recipes.runner import run_recipe

from .conftest import REPO, run_cli


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    """(runs folder, run id, dataset folder) of a tiny classify run trained for one epoch on CPU."""
    base = tmp_path_factory.mktemp("predict")
    data = generate_synthetic_cars(base / "data", n_makes=2, models_per_make=2, images_per_class=10, image_size=32)
    run_id = run_recipe("classify", ["dataset=imagefolder", f"data_root={data}", "epochs=1", "image_size=32",
                                     "batch_size=8", "backbone=resnet10t", "max_train_batches=2",
                                     "max_eval_batches=2", "heads=multi"],
                        runs_dir=base / "runs", echo=lambda line: None)
    return base / "runs", run_id, data


def _an_image(data: Path) -> Path:
    return sorted(data.rglob("*.png"))[0]


def test_overlay_has_the_input_size_and_differs_from_it(trained: tuple[Path, str, Path]) -> None:
    root, run_id, data = trained
    handle = predict.load_run_model(root / run_id, "best", torch.device("cpu"))
    image = predict.read_image(_an_image(data)).resize((50, 40))
    result = predict.explain(handle, image, method="gradcam++", opacity=0.6)
    assert result.overlay.size == image.size
    assert np.abs(np.asarray(result.overlay, float) - np.asarray(image, float)).mean() > 1.0
    assert len(result.prediction.models) == 4 and result.prediction.make_source == "make head"
    assert sum(p for _, p in result.prediction.models) == pytest.approx(1.0, abs=1e-4)
    assert result.layer == handle.layers[-1] == "layer3"  # at 32 px layer4 is 1x1: no map left to explain


class RedDetector(nn.Module):
    """Class 1's logit grows with the amount of red in the image, class 0's shrinks."""

    def __init__(self) -> None:
        super().__init__()
        conv = nn.Conv2d(3, 4, kernel_size=3, padding=1)
        self.features = nn.Sequential(conv, nn.ReLU())  # post-activation maps, as a backbone's last stage gives
        self.fc = nn.Linear(4, 2)
        with torch.no_grad():
            conv.weight.zero_()
            conv.bias.zero_()
            conv.weight[0, :, 1, 1] = torch.tensor([1.0, -1.0, -1.0])  # red minus green and blue
            self.fc.weight.zero_()
            self.fc.bias.zero_()
            self.fc.weight[1, 0], self.fc.weight[0, 0] = 5.0, -5.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).mean(dim=(2, 3)))  # (B, 4, H, W) -> (B, 4) -> (B, 2)


# EigenCAM is left out: it shows the feature map's first principal component, whatever the class.
@pytest.mark.parametrize("method", [m for m in predict.METHODS if m != "eigencam"])
def test_the_cam_points_at_the_region_the_prediction_depends_on(method: str) -> None:
    image = torch.full((1, 3, 64, 64), 0.5)
    image[0, :, 40:56, 8:24] = torch.tensor([1.0, 0.0, 0.0])[:, None, None]  # a red square, lower left
    model = RedDetector().eval()
    assert model(image).argmax().item() == 1
    cam = predict.class_activation(model, model.features, image, 1, method)
    inside = cam[40:56, 8:24].mean()
    outside = np.delete(cam.reshape(-1), (np.arange(40, 56)[:, None] * 64 + np.arange(8, 24)).reshape(-1)).mean()
    row, col = np.unravel_index(cam.argmax(), cam.shape)
    assert 38 <= row < 58 and 6 <= col < 26
    assert inside > 5 * outside


def test_hooks_are_released_and_memory_stays_flat_over_100_calls(trained: tuple[Path, str, Path]) -> None:
    root, run_id, data = trained
    handle = predict.load_run_model(root / run_id, "best", torch.device("cpu"))
    image = predict.read_image(_an_image(data))
    for _ in range(10):  # warm up allocators and caches
        predict.explain(handle, image)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for i in range(100):
        predict.explain(handle, image, method=("gradcam", "layercam")[i % 2])
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    hooks = sum(len(m._forward_hooks) + len(m._backward_hooks) + len(m._forward_pre_hooks)
                for m in handle.model.modules())
    assert hooks == 0
    assert grown_kib < 50 * 1024, f"peak memory grew by {grown_kib} KiB over 100 explanations"


def test_uploads_are_checked_in_memory() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), "red").save(buffer, format="PNG")
    assert predict.read_upload(buffer.getvalue(), "ok.png").size == (20, 10)
    with pytest.raises(predict.PredictError, match="not an image"):
        predict.read_upload(b"%PDF-1.4 not an image", "report.pdf")
    with pytest.raises(predict.PredictError, match="limit"):
        predict.read_upload(b"0" * 2048, "big.png", max_bytes=1024)
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    with pytest.raises(predict.PredictError, match="GIF"):
        predict.read_upload(gif.getvalue(), "anim.gif")


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((64, 64), 50).convert("RGB").save(buffer, format="PNG")  # noise: the data is most of it
    return buffer.getvalue()


def _gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(buffer, format="GIF")
    return buffer.getvalue()


@pytest.mark.parametrize(("data", "name", "said"), [
    (b"\x00\xff\x10\x80" * 8, "fake.png", "fake.png is not an image: its contents are not JPEG, PNG, BMP or WEBP "
                                         "(the name says .png, the bytes are not an image format); upload a real PNG "
                                         "or JPEG"),
    (b"\x25\x50\x44\x46\xe2\xe3\xcf\xd3", "report.pdf", "report.pdf is not an image: its contents are not JPEG, "
                                                      "PNG, BMP or WEBP; upload a real PNG or JPEG"),
    (b"hello, I am text", "fake.png", "fake.png is not an image: its content is text ('hello, I am text'...), "
                                      "whatever its name says; upload a real PNG or JPEG"),
    (b"", "empty.png", "empty.png is empty (0 bytes); upload it again"),
    (_png()[:400], "cut.png", "cut.png is cut off (the file ends before the image does); upload it again"),
    (_png()[:30], "head.png", "head.png starts like a PNG file but its header is cut off or damaged; upload it again"),
    (_gif(), "anim.gif", "anim.gif is a GIF file; upload an image in one of: JPEG, PNG, BMP, WEBP"),
])  # fmt: skip
def test_an_upload_that_cannot_be_read_is_said_so_in_words(data: bytes, name: str, said: str) -> None:
    with pytest.raises(predict.PredictError) as raised:
        predict.read_upload(data, name)
    message = str(raised.value)
    assert message == said
    assert "<_io" not in message and "object at 0x" not in message and "BytesIO" not in message


def test_a_damaged_image_says_what_the_decoder_found() -> None:
    broken = bytearray(_png())
    broken[100:140] = bytes(40)  # zeros inside the compressed pixel data
    with pytest.raises(predict.PredictError, match=r"^broken.png is damaged: its image data cannot be decoded \("):
        predict.read_upload(bytes(broken), "broken.png")


def test_an_image_file_that_cannot_be_read_is_said_so_in_words(tmp_path: Path) -> None:
    (tmp_path / "fake.png").write_bytes(b"not an image")
    (tmp_path / "cut.png").write_bytes(_png()[:300])
    with pytest.raises(predict.PredictError, match=r"fake.png is not an image: its content is text \('not an image'"):
        predict.read_image(tmp_path / "fake.png")
    with pytest.raises(predict.PredictError, match=r"cut.png is cut off \(the file ends before the image does\)"):
        predict.read_image(tmp_path / "cut.png")
    with pytest.raises(predict.PredictError, match=r"^cannot read image .*missing.png: No such file or directory; "):
        predict.read_image(tmp_path / "missing.png")
    assert predict.read_image(_written(tmp_path / "ok.bmp")).size == (6, 3)


def _written(path: Path) -> Path:
    Image.new("L", (6, 3)).save(path)
    return path


def test_missing_or_foreign_checkpoints_give_a_clear_message(trained: tuple[Path, str, Path], tmp_path: Path) -> None:
    root, run_id, _ = trained
    with pytest.raises(predict.PredictError, match="no best checkpoint"):
        predict.load_run_model(tmp_path, "best")
    checkpoint = torch.load(root / run_id / "checkpoints" / "best.pt", weights_only=True)
    checkpoint["recipe_version"] = 99
    fake = tmp_path / "other" / "checkpoints"
    fake.mkdir(parents=True)
    torch.save(checkpoint, fake / "best.pt")
    with pytest.raises(predict.PredictError, match="version 99"):
        predict.load_run_model(tmp_path / "other", "best")


def test_explain_cli_prints_top5_and_writes_the_overlay(trained: tuple[Path, str, Path], tmp_path: Path) -> None:
    root, run_id, data = trained
    out = tmp_path / "cam.png"
    done = run_cli("explain", run_id, str(_an_image(data)), "--out", str(out), "--method", "eigencam",
                   env={"EXPLORER_RUNS_DIR": str(root)})
    assert done.returncode == 0, done.stderr
    assert "top-5 models" in done.stdout and "top-5 makes (make head)" in done.stdout
    assert Image.open(out).size == Image.open(_an_image(data)).size
    missing = run_cli("explain", run_id, str(tmp_path / "nope.png"), "--out", str(out),
                      env={"EXPLORER_RUNS_DIR": str(root)})
    assert missing.returncode == 1 and missing.stderr.startswith("error: cannot read image")


def test_predict_page_shows_predictions_and_an_overlay(trained: tuple[Path, str, Path],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    root, run_id, _ = trained
    monkeypatch.setenv("EXPLORER_RUNS_DIR", str(root))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/5_Predict.py").run()
    assert not at.exception, at.exception
    assert any("Truth:" in m.value for m in at.markdown)
    at.radio(key="predict_source").set_value("random").run()
    at.selectbox(key="predict_method").set_value("eigencam").run()
    assert not at.exception
    at.selectbox(key="predict_second").set_value(run_id).run()
    assert not at.exception
    assert sum("Truth:" in m.value for m in at.markdown) == 2
