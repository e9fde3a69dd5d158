"""The Gallery's switches at 4,000 gallery images: the server work of a switch on the page (Streamlit's
AppTest, the script run a browser's click causes) once the rankings are computed ahead, against the same
page rerun with nothing changed (the floor of any click), and the cost of computing each ranking cold: ours
against the textbook peers (a per-query loop for AP, the common NumPy re-ranking), in one run.

    .venv/bin/python -m bench.bench_gallery --run runs/<a finished reid run> [--images 4000]

The run is copied to bench/out/gallery/ and its test embeddings replaced by ``--images`` ones made from its
own (each real test image's embedding several times, moved by a little noise: the structure a trained model
gives, at the size asked), with their real image files, so the page reads real thumbnails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.textbook_retrieval import average_precisions_loop, re_ranking  # noqa: E402
from core.evaluation.retrieval import pairwise_distances  # noqa: E402
from core.recipes.reid.embeddings import SavedEmbeddings, load_embeddings, save_embeddings  # noqa: E402
from core.views import gallery as galleryview  # noqa: E402

OUT = REPO / "bench" / "out" / "gallery"
SWITCH_KEYS = [f"gallery_{name}" for name in galleryview.SWITCHES]


def big_run(source: Path, n: int) -> tuple[Path, str]:
    """A copy of ``source`` whose test split holds ``n`` clustered embeddings; (runs root, run id)."""
    shutil.rmtree(OUT, ignore_errors=True)
    target = OUT / source.name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.lock", "checkpoints"))
    file = galleryview.split_file(target, "test")
    real = load_embeddings(file)
    rng = np.random.default_rng(0)
    pick = np.arange(n) % len(real.labels)  # each real image several times, moved a little: a trained model's
    noise = 0.02 * rng.normal(size=(n, real.embeddings.shape[1])).astype(np.float32)  # structure, n images
    emb, labels, paths = real.embeddings[pick] + noise, real.labels[pick], real.paths[pick]
    flipped = real.flipped[pick] + noise if real.flipped is not None else None
    save_embeddings(file, SavedEmbeddings(emb, flipped, labels, paths, real.identities))
    return OUT, source.name


def leave_one_out_aps(dist: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The textbook loop with each query left out of its own gallery (NaN for an identity with one image)."""
    aps = np.full(len(labels), np.nan)
    for i in range(len(labels)):
        keep = np.arange(len(labels)) != i
        aps[i] = average_precisions_loop(dist[i : i + 1, keep], labels[i : i + 1], labels[keep])[0]
    return aps


def cold_rows(gallery: galleryview.Gallery) -> list[str]:
    """Seconds to compute a ranking from nothing, ours and the textbook's, for plain and re-ranked."""
    rows = []
    for name, on in (("plain", {}), ("re-ranking", {"rerank": True})):
        t0 = time.perf_counter()
        ours = galleryview.rank(gallery, galleryview.refinements(gallery, on))
        t_ours = time.perf_counter() - t0
        emb = torch.nn.functional.normalize(torch.from_numpy(gallery.saved.embeddings), dim=1)
        t0 = time.perf_counter()
        dist = pairwise_distances(emb, emb).numpy()  # the distances ours ranks, so that the APs compare exactly
        if on:
            s = gallery.settings
            dist = re_ranking(dist, dist, dist, s.k1, min(s.k2, s.k1 + 1), s.lambda_value)  # the split as both sets
        peer = leave_one_out_aps(dist, gallery.saved.labels)
        t_peer = time.perf_counter() - t0
        diff = float(np.nanmax(np.abs(ours.aps - peer)))
        rows.append(f"| {name} ranking, cold | {t_ours:.2f} s | {t_peer:.2f} s | {t_peer / t_ours:.1f}x | {diff:.1e} |")
    return rows


def page_rows(root: Path, run_id: str, repeats: int) -> list[str]:
    """Median server seconds of a switch on the page, after the rankings were computed ahead, and of a rerun."""
    from streamlit.testing.v1 import AppTest

    from app_pages.lib import gallery_data

    os.environ["EXPLORER_RUNS_DIR"] = str(root)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
    at.run()
    at.switch_page("app_pages/6_Gallery.py").run()
    assert not at.exception, at.exception
    t0 = time.perf_counter()
    rankings = gallery_data._rankings(str(root), run_id, gallery_data._version(root, run_id))
    rankings.wait()
    ahead = time.perf_counter() - t0
    switch, rerun = [], []
    for _ in range(repeats):
        for key in SWITCH_KEYS:
            t0 = time.perf_counter()
            at.toggle(key=key).set_value(not at.toggle(key=key).value).run()
            switch.append(time.perf_counter() - t0)
            assert not at.exception, at.exception
        t0 = time.perf_counter()
        at.run()
        rerun.append(time.perf_counter() - t0)
    s, r = statistics.median(switch), statistics.median(rerun)
    return [f"| a switch on the page (median of {len(switch)}) | {s * 1e3:.0f} ms | {r * 1e3:.0f} ms (rerun, "
            f"nothing changed) | {s / r:.2f} | — |", f"| all 8 rankings computed ahead, in the background | "
            f"{ahead:.1f} s after the page was first shown | | | |"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="a finished reid run folder")
    parser.add_argument("--images", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    root, run_id = big_run(args.run, args.images)
    print(f"{args.images} gallery images, load average {os.getloadavg()[0]:.1f}")
    print("\n| what | ours | peer | peer / ours | max abs AP difference |\n|---|---:|---:|---:|---:|")
    for row in cold_rows(galleryview.load_gallery(root / run_id)):
        print(row, flush=True)
    for row in page_rows(root, run_id, args.repeats):
        print(row, flush=True)
    print(f"\nload average after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
