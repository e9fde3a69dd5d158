"""The drawing of synthetic-spots: each individual's coat (`make_coat`) and one photo of it (`render_image`).

A coat is the identity: a unique random layout of spots or rosettes on the flank, with the species setting
their kind (jaguar: rosettes with a central dot; leopard: open rosettes; cheetah: solid spots), and each
individual its own density and spot size. A photo shows the animal in a random pose (head, legs and tail
move; the body is rotated, squashed by the viewpoint, mirrored, scaled and may leave the frame) over a
random background, with grass in front and random lighting. Every random choice comes from a generator
seeded by the image's own arguments, so an image depends on nothing else. Bump `synthetic_spots.VERSION`
when the drawing changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from core.datasets.registry import SPLITS

Colour = tuple[int, int, int]
SPECIES = ("jaguar", "leopard", "cheetah")
# ground colours shared by all species: colour alone never tells an individual
GROUNDS: tuple[Colour, ...] = ((214, 160, 72), (196, 140, 64), (226, 182, 104), (182, 128, 70))
TEXTURE = (200, 100)  # the flank, in texture pixels (width, height): the body's ellipse is drawn over it
FRAME = (300, 210)  # the animal's own frame, before it is posed in the scene
TORSO = (50, 50, 250, 150)  # where the flank texture sits in the frame (same size as TEXTURE)
INK = (34, 24, 18)


@dataclass(frozen=True)
class Spot:
    """One mark on the flank, in texture pixels."""

    x: float
    y: float
    r: float
    aspect: float  # height / width of the mark
    kind: str  # solid | rosette | dotted (a rosette with a central dot)


@dataclass(frozen=True)
class Coat:
    """What makes an individual: species, ground colour and the layout of its marks."""

    species: str
    ground: Colour
    spots: tuple[Spot, ...]


def make_coat(seed: int, individual: int, species: str) -> Coat:
    """The coat of one individual: its own density, mark size and a Poisson-disc layout of its marks."""
    rng = np.random.default_rng([seed, individual, 1009])
    kind, (lo, hi), size = {
        "jaguar": ("dotted", (8, 12), (10.0, 13.0)),
        "leopard": ("rosette", (10, 15), (8.0, 11.0)),
        "cheetah": ("solid", (14, 21), (5.5, 8.0)),
    }[species]
    n, scale = int(rng.integers(lo, hi + 1)), rng.uniform(*size)
    spots: list[Spot] = []
    for _ in range(60 * n):  # dart throwing: marks keep a distance, so each layout stays readable
        if len(spots) == n:
            break
        x, y = rng.uniform(0.04, 0.96) * TEXTURE[0], rng.uniform(0.08, 0.92) * TEXTURE[1]
        r = scale * rng.uniform(0.6, 1.4)
        if all((x - s.x) ** 2 + (y - s.y) ** 2 > (1.15 * (r + s.r)) ** 2 for s in spots):
            spots.append(Spot(x, y, r, rng.uniform(0.6, 1.3), kind if rng.random() < 0.85 else "solid"))
    ground = np.array(GROUNDS[rng.integers(len(GROUNDS))]) + rng.integers(-12, 13, 3)
    return Coat(species, tuple(int(c) for c in np.clip(ground, 0, 255)), tuple(spots))


def draw_texture(coat: Coat) -> Image.Image:
    """The flank of ``coat`` as an RGB image of TEXTURE size."""
    image = Image.new("RGB", TEXTURE, coat.ground)
    draw = ImageDraw.Draw(image)
    centre = tuple(int(c * 0.78) for c in coat.ground)  # the darker inside of a rosette
    for s in coat.spots:
        w, h = s.r, s.r * s.aspect
        if s.kind == "solid":
            draw.ellipse((s.x - w, s.y - h, s.x + w, s.y + h), fill=INK)
            continue
        draw.ellipse((s.x - w, s.y - h, s.x + w, s.y + h), fill=centre)
        n = 5 if s.r > 6 else 4
        for k in range(n):  # the broken ring of a rosette
            a = 2 * np.pi * k / n + s.x  # the ring's rotation is fixed by the mark's position
            bx, by, br = s.x + w * np.cos(a), s.y + h * np.sin(a), max(1.5, 0.42 * s.r)
            draw.ellipse((bx - br, by - br * 0.8, bx + br, by + br * 0.8), fill=INK)
        if s.kind == "dotted":
            d = max(1.2, 0.25 * s.r)
            draw.ellipse((s.x - d, s.y - d, s.x + d, s.y + d), fill=INK)
    return image


def _limb(draw: ImageDraw.ImageDraw, start: tuple[float, float], angle: float, length: float, width: float,
          fill: Colour) -> None:  # fmt: skip
    """A leg (or any straight limb) as a rotated rectangle from ``start``, ``angle`` radians from straight down."""
    dx, dy = np.sin(angle) * length, np.cos(angle) * length
    nx, ny = np.cos(angle) * width / 2, -np.sin(angle) * width / 2
    x, y = start
    draw.polygon([(x - nx, y - ny), (x + nx, y + ny), (x + dx + nx, y + dy + ny), (x + dx - nx, y + dy - ny)],
                 fill=fill)  # fmt: skip


def draw_animal(coat: Coat, flank: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The animal in its own frame (RGBA, transparent around it), legs, tail and head in a random pose."""
    layer = Image.new("RGBA", FRAME, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    dark = tuple(int(c * 0.85) for c in coat.ground)
    x0, y0, x1, y1 = TORSO
    for u in (0.12, 0.3, 0.72, 0.88):  # legs behind the body
        _limb(draw, (x0 + u * (x1 - x0), y1 - 14), rng.uniform(-0.45, 0.45), rng.uniform(45, 60), 17, dark)
    tail = [(x0 + 6, y0 + 30)]
    bend = rng.uniform(-1.2, 1.2)
    for k in range(1, 6):
        tail.append((x0 + 6 - 11 * k, y0 + 30 + 14 * k * np.sin(bend + 0.3 * k)))
    draw.line(tail, fill=coat.ground, width=9, joint="curve")
    draw.line(tail[-2:], fill=INK, width=9)
    torso = Image.new("L", FRAME, 0)
    ImageDraw.Draw(torso).ellipse(TORSO, fill=255)
    placed = Image.new("RGBA", FRAME)
    placed.paste(flank, TORSO[:2])
    layer.paste(placed, (0, 0), torso)
    hx, hy = x1 + rng.uniform(-8, 4), y0 + 18 + rng.uniform(-22, 18)  # the head moves up and down
    draw.ellipse((hx - 30, hy - 26, hx + 30, hy + 24), fill=coat.ground)
    draw.polygon([(hx - 22, hy - 18), (hx - 14, hy - 38), (hx - 4, hy - 22)], fill=dark)  # ear
    draw.ellipse((hx + 4, hy - 10, hx + 11, hy - 3), fill=INK)  # eye
    draw.ellipse((hx + 22, hy + 2, hx + 32, hy + 10), fill=INK)  # nose
    return layer


def pose(animal: Image.Image, canvas: int, rng: np.random.Generator) -> tuple[Image.Image, tuple[int, int]]:
    """The animal scaled, squashed by the viewpoint, mirrored and rotated; and where its corner goes."""
    share = rng.uniform(0.9, 1.25) if rng.random() < 0.15 else rng.uniform(0.5, 0.9)  # some close-ups, cut off
    scale = share * canvas / (TORSO[2] - TORSO[0])  # the body's share of the frame width
    squash = rng.uniform(0.8, 1.0)  # a flank seen at an angle is narrower
    size = (max(8, int(FRAME[0] * scale * squash)), max(8, int(FRAME[1] * scale)))
    posed = animal.resize(size, Image.Resampling.BILINEAR)
    if rng.random() < 0.5:
        posed = posed.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    posed = posed.rotate(rng.uniform(-20, 20), resample=Image.Resampling.BILINEAR, expand=True)
    cx, cy = rng.uniform(0.3, 0.7, 2) * canvas
    return posed, (int(cx - posed.width / 2), int(cy - posed.height / 2))


EARTH: tuple[Colour, ...] = (
    (96, 128, 60),
    (140, 150, 80),
    (120, 100, 70),
    (170, 150, 110),
    (70, 95, 60),
    (150, 120, 80),
    (110, 130, 110),
)  # foliage, grass, soil, rock


def draw_background(rng: np.random.Generator, size: int) -> Image.Image:
    """A natural-looking scene: a gradient between two earth colours mixed with coarse blotches of others."""
    pick = lambda: np.array(EARTH[rng.integers(len(EARTH))]) + rng.integers(-20, 21, 3)  # noqa: E731
    t = np.linspace(0.0, 1.0, size, dtype=np.float32)[:, None, None]
    pixels = pick() * (1 - t) + pick() * t
    cells = int(rng.integers(3, 8))
    blotches = np.stack([pick() for _ in range(cells * cells)]).reshape(cells, cells, 3).astype(np.uint8)
    coarse = np.asarray(Image.fromarray(blotches).resize((size, size), Image.Resampling.BICUBIC), dtype=np.float32)
    mix = rng.uniform(0.2, 0.6)
    return Image.fromarray(np.clip((1 - mix) * pixels + mix * coarse, 0, 255).astype(np.uint8))


def draw_grass(image: Image.Image, rng: np.random.Generator) -> None:
    """Blades of grass in front of the animal: occlusions the model has to see through."""
    draw = ImageDraw.Draw(image)
    size = image.width
    for _ in range(int(rng.integers(0, 8))):
        x, top = rng.uniform(0, size), rng.uniform(0.35, 0.95) * size
        colour = tuple(int(c) for c in rng.integers((40, 90, 20), (120, 170, 70)))
        draw.line((x, size, x + rng.uniform(-0.12, 0.12) * size, top), fill=colour, width=int(rng.integers(2, 6)))


def light(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Random exposure, colour cast, a light gradient across the frame, sensor noise and sometimes blur."""
    size = image.width
    if rng.random() < 0.3:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.0)))
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * np.linspace(-1, 1, size)[None, :] + np.sin(angle) * np.linspace(-1, 1, size)[:, None]
    gain = rng.uniform(0.75, 1.25) * (1 + rng.uniform(0.0, 0.25) * ramp)[..., None] * rng.uniform(0.9, 1.1, 3)
    pixels = np.asarray(image, dtype=np.float32) * gain + rng.normal(0.0, rng.uniform(1, 8), (size, size, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def render_image(seed: int, coat: Coat, flank: Image.Image, individual: int, split: str, n: int,
                 size: int) -> Image.Image:  # fmt: skip
    """Photo ``n`` of ``individual`` in ``split``; it depends only on these arguments (same args, same pixels).

    Args:
        coat, flank: the individual's coat and its texture (from `make_coat` and `draw_texture`).
    """
    rng = np.random.default_rng([seed, individual, SPLITS.index(split), n])
    canvas = draw_background(rng, 2 * size).convert("RGBA")  # drawn at 2x, then downsampled for anti-aliasing
    posed, corner = pose(draw_animal(coat, flank, rng), 2 * size, rng)
    canvas.paste(posed, corner, posed)  # the alpha is the mask; parts outside the frame are cut off
    scene = canvas.convert("RGB")
    draw_grass(scene, rng)
    return light(scene.resize((size, size), Image.Resampling.LANCZOS), rng)
