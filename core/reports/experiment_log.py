"""The experiment log our users write by hand, written for them (``shared/examples/car-classification-log.md``):
per run its name and date, Changes, Reason, Config, Metrics (one line per epoch with every logged metric, then
the end-of-run metrics and per-make accuracies, values as logged), Results (best values with their epoch, the
make/model gap, Wilson intervals, findings), Notes and Images (PNG files beside the markdown, linked relatively).
``core.imports`` reads the same format back, so an exported run imports to the same numbers."""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from core.imports.logformat import (
    EXPERIMENT_PREFIX,
    NO_EPOCHS,
    NOTHING_RECORDED,
    PER_MAKE_PREFIX,
    PER_MAKE_TABLE,
    SECTIONS,
    export_key,
    format_number,
)
from core.reports import figures
from core.reports.rundata import RunData, gather
from core.store import Store

TITLE = "# Experiment Log"
IMAGES_DIR = "plots"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
DRAWN = ("loss_curve", "accuracy_curve", "confusion_matrix", "sample_prediction")  # the images drawn, by name


@dataclass
class LogDocument:
    """An experiment log: its markdown and the images it links (relative name -> PNG bytes)."""

    markdown: str
    images: dict[str, bytes] = field(default_factory=dict)

    def write(self, path: Path) -> Path:
        """Write the markdown to ``path`` and the images beside it (plots/...); returns ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.markdown, encoding="utf-8")
        for name, data in self.images.items():
            (path.parent / name).parent.mkdir(parents=True, exist_ok=True)
            (path.parent / name).write_bytes(data)
        return path

    def zip_bytes(self, name: str = "experiment-log.md") -> bytes:
        """The markdown and its images as one zip (what the pages' download button gives)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(name, self.markdown)
            for image, data in sorted(self.images.items()):
                archive.writestr(image, data)
        return buffer.getvalue()


def experiment_log(store: Store, run_ids: list[str], *, images: bool = True) -> LogDocument:
    """The experiment log of ``run_ids`` (one section each, in the order given); ``images=False`` skips drawing."""
    doc = LogDocument("")
    parts = [TITLE, ""]
    for run_id in run_ids:
        data = gather(store, run_id)
        drawn = draw_images(data) if images else {}
        doc.images |= drawn
        parts += section(data, list(drawn))
    doc.markdown = "\n".join(parts).rstrip() + "\n"
    return doc


def section(data: RunData, image_names: list[str]) -> list[str]:
    """The lines of one run's ``## Experiment`` section."""
    rec = data.record
    lines = [f"## {EXPERIMENT_PREFIX} {rec['name']}", f"**Date:** {data.date()}  ",
             f"**Run:** `{rec['id']}` · status {rec['status']} · recipe {rec['recipe']}  "]  # fmt: skip
    lines += [f"**Group:** {rec['group']}  "] if rec["group"] else []
    lines += [f"**Tags:** {', '.join(rec['tags'])}  "] if len(rec["tags"]) else []
    lines += [f"**Links:** {' '.join(data.source['links'])}  "] if data.source.get("links") else []
    lines += ["", f"### {SECTIONS['changes']}", rec["changes"] or NOTHING_RECORDED, ""]
    lines += [f"### {SECTIONS['reason']}", rec["reason"] or NOTHING_RECORDED, ""]
    if rec["config"]:
        lines += [f"### {SECTIONS['config']}", "```json", json.dumps(rec["config"], indent=1, sort_keys=True),
                  "```", ""]  # fmt: skip
    lines += [f"### {SECTIONS['metrics']}", *metric_lines(data), "", f"### {SECTIONS['results']}"]
    lines += [*result_lines(data), "", f"### {SECTIONS['notes']}", rec["notes"] or "", ""]
    if image_names:
        lines += [f"### {SECTIONS['images']}", *(f"![{_caption(n)}]({n})" for n in image_names), ""]
    return [*lines, "---", ""]


def metric_lines(data: RunData) -> list[str]:
    """'- Epoch N: key=value, ...' with every metric logged per epoch, then end-of-run values and per-make rows."""
    by_step: dict[int, list[str]] = {}
    for name in data.epoch_metrics():
        for step, value in data.metrics[name]:
            by_step.setdefault(step, []).append(f"{export_key(name)}={_number(value)}")
    lines = [f"- Epoch {step}: {', '.join(values)}" for step, values in sorted(by_step.items())] or [NO_EPOCHS]
    lines += [f"- {export_key(n, end_of_run=True)}: {_number(data.last(n))}" for n in data.final_metrics()]
    for row in data.record["tables"].get(PER_MAKE_TABLE, []):
        counts = f" ({row['correct']}/{row['total']})" if row.get("correct") is not None and row.get("total") else ""
        lines.append(f"- {PER_MAKE_PREFIX}{row['make']}: {_number(row.get('accuracy'))}{counts}")
    return lines


def result_lines(data: RunData) -> list[str]:
    """Best values (by each metric's direction) with their epoch, end-of-run values, the gap, intervals, findings."""
    lines = []
    best = [(n, b) for n in data.epoch_metrics() if (b := data.best(n)) is not None]
    if best:
        lines.append("Best values (each by its own direction):")
        lines += [f"- Best {n} = {data.semantics[n].format(v)} (epoch {epoch})" for n, (v, epoch) in best]
    if data.final_metrics():
        lines.append("End of run:")
        lines += [f"- {n} = {data.semantics[n].format(data.last(n))}" for n in data.final_metrics()]
    gap = data.gap()
    if gap is not None:
        lines.append(f"- Make/model gap = {gap:.2f} points (make accuracy minus exact accuracy)")
    if data.intervals:
        lines.append("Wilson 95% intervals:")
        lines += [f"- 95% Wilson interval of {r['metric']}: {r['low'] * 100:.2f}% to {r['high'] * 100:.2f}% "
                  f"({r['correct']} of {r['n']})" for r in data.intervals]  # fmt: skip
    if any(s.get("kind") != "prose" for s in data.stated):
        lines.append("As the imported log states it:")
        lines += [_statement(s) for s in data.stated if s.get("kind") != "prose"]
    if data.findings:
        lines.append("Findings:")
        lines += [f"- {f.severity}: {f.message}" for f in data.findings]
    return lines or ["No results logged."]


def _statement(row: dict) -> str:
    """A stated value as the log wrote it: 'Best X = v (epoch n)', 'X = v' or an evaluation line 'X: v'."""
    value = f"{format_number(row['value'])}{'%' if row.get('percent') else ''}"
    if row.get("kind") == "evaluation":
        return f"- {row['label']}: {value}"
    label = row["label"]
    if row.get("kind") == "best" and not label.lower().startswith("best"):
        label = f"Best {label}"
    return f"- {label} = {value}" + (f" (epoch {row['epoch']})" if row.get("epoch") is not None else "")


def draw_images(data: RunData) -> dict[str, bytes]:
    """The run's images by relative name: curves, confusion matrix, a sample prediction, and images it saved."""
    stem = f"{IMAGES_DIR}/{_slug(data.record['name'])}_{data.record['id'][-6:]}"
    out: dict[str, bytes] = {}
    epochs = {n: data.metrics[n] for n in data.epoch_metrics() if len(data.metrics[n]) > 1}
    losses = {n: p for n, p in epochs.items() if "loss" in n.rsplit("/", 1)[-1]}
    shares = {n: p for n, p in epochs.items() if data.semantics[n].is_share and data.semantics[n].goal == "max"}
    if losses:
        out[f"{stem}_{DRAWN[0]}.png"] = figures.curves_png(losses, "Loss", "loss", data.semantics)
    if shares:
        out[f"{stem}_{DRAWN[1]}.png"] = figures.curves_png(shares, "Accuracy", "percent", data.semantics)
    cells, level = _confusion(data)
    if cells:
        out[f"{stem}_{DRAWN[2]}.png"] = figures.confusion_png(cells, f"Confusion matrix ({level} level)")
    sample = _sample(data)
    if sample is not None:
        out[f"{stem}_{DRAWN[3]}.png"] = sample
    drawn = [k for k in DRAWN if f"{stem}_{k}.png" in out]
    return out | _saved_images(data, stem, drawn)


def _confusion(data: RunData) -> tuple[list, str]:
    tables = data.record["tables"]
    model = tables.get("test/confusion_model") or []
    if model and len({c["truth"] for c in model}) <= 60:
        return model, "model"
    make = tables.get("test/confusion_make") or []
    return (make, "make") if make else (model, "model")


def _sample(data: RunData) -> bytes | None:
    """The first test prediction whose image is still on disk, captioned with truth and prediction."""
    for row in (data.record["tables"].get("test/predictions") or [])[:50]:
        image = Path(str(row.get("image", "")))
        if image.is_file():
            top = (row.get("top5") or [{}])[0]
            prob = f" ({top['prob']:.0%})" if isinstance(top.get("prob"), (int, float)) else ""
            return figures.sample_png(image, f"truth {row.get('truth')} · predicted {row.get('pred')}{prob}")
    return None


def _saved_images(data: RunData, stem: str, drawn: list[str]) -> dict[str, bytes]:
    """Images the run saved under artifacts/ (an imported log's plots), copied beside the log; a saved plot of a
    kind drawn afresh from the data (an exported log imported again) is left out."""
    out = {}
    for name in data.record["artifacts"]:
        path = data.root / data.record["id"] / name
        redrawn = any(path.name.endswith(f"_{kind}.png") for kind in drawn)
        if name.startswith("artifacts/") and path.suffix.lower() in IMAGE_SUFFIXES and path.is_file() and not redrawn:
            out[f"{stem}_{path.name}"] = path.read_bytes()
    return out


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")[:60] or "run"


def _caption(name: str) -> str:
    """'plots/baseline_3f2a1c_loss_curve.png' -> 'loss curve'; a saved image by its file name."""
    kind = next((k for k in DRAWN if name.endswith(f"_{k}.png")), None)
    return kind.replace("_", " ") if kind else Path(name).stem


def _number(value: float | None) -> str:
    return "nan" if value is None else format_number(float(value))
