"""Rasteriser: 3D landmarks + AUs + head pose + light -> RGB frame.

Two steps per frame:

1. Texture: the face is drawn frontally in canonical face coordinates (see
   :mod:`.face_model`) with Pillow ImageDraw filled regions: shirt, neck,
   ears, skin, hair, wrinkle cues of the active AUs, brows, eyes with irises,
   nose, lips, mouth cavity with teeth, glasses. Texture resolution is
   ``k`` pixels per face unit, extent ``TEX_U`` x ``TEX_V``.
2. Projection: each output pixel (supersampled ``aa`` x ``aa``) is mapped back
   to canonical (u, v) by inverting the weak-perspective head-pose projection
   over the depth profile (fixed-point iterations on the height field), the
   texture is sampled bilinearly and shaded Lambertian from the rotated
   surface normal, then composited over the background.

Frames are uint8 [S, S, 3] RGB; landmark pixel coordinates use the convention
that pixel (i, j) has its centre at x = j, y = i.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from PIL import Image, ImageDraw
from scipy.ndimage import gaussian_filter

from .action_units import AU_INDEX
from .face_model import Identity, depth_at, rotation

TEX_U = (-1.75, 1.75)
TEX_V = (-1.95, 2.25)
#: canonical point that lands at the frame centre (before jitter)
FACE_CENTRE = (0.0, -0.1)


@dataclasses.dataclass(frozen=True)
class Scene:
    """Per-video constants of the rendering.

    Attributes:
        size: output frame size S (pixels).
        aa: supersampling factor.
        background: float32 [S*aa, S*aa, 3] in [0, 1].
        light: (3,) unit vector toward the light, camera coordinates (x right, y down, z to camera).
        ambient: ambient light level.
        diffuse: directional light strength.
        noise: camera noise std, grey levels.
        blur: Gaussian blur sigma, output pixels.
    """

    size: int
    aa: int
    background: np.ndarray
    light: np.ndarray
    ambient: float
    diffuse: float
    noise: float
    blur: float


@dataclasses.dataclass(frozen=True)
class FramePose:
    """Head placement of one frame: angles in degrees, ``scale`` in output px per face unit,
    ``centre`` the output pixel (x, y) where the canonical origin lands."""

    yaw: float
    pitch: float
    roll: float
    scale: float
    centre: tuple[float, float]

    def matrix(self) -> np.ndarray:
        return rotation(self.yaw, self.pitch, self.roll)


def project(landmarks: np.ndarray, pose: FramePose) -> np.ndarray:
    """Posed landmarks in output pixels: [68, 3] (x, y, z toward the camera)."""
    cam = landmarks @ pose.matrix().T * pose.scale
    cam[:, 0] += pose.centre[0]
    cam[:, 1] += pose.centre[1]
    return cam


def make_background(rng: np.random.Generator, size: int, clutter: float) -> np.ndarray:
    """Background float32 [size, size, 3] in [0, 1]: gradient plus ``clutter``-many shapes."""
    top, bottom = rng.uniform(0.15, 0.9, 3), rng.uniform(0.1, 0.8, 3)
    ramp = np.linspace(0, 1, size)[:, None, None]
    bg = (top * (1 - ramp) + bottom * ramp) * np.ones((1, size, 1))
    img = Image.fromarray((bg * 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(int(round(clutter * 14))):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x0, y0 = rng.uniform(-0.2, 1.0, 2) * size
        w, h = rng.uniform(0.05, 0.5, 2) * size
        kind = rng.integers(3)
        if kind == 0:
            draw.rectangle([x0, y0, x0 + w, y0 + h], fill=colour)
        elif kind == 1:
            draw.ellipse([x0, y0, x0 + w, y0 + h], fill=colour)
        else:
            draw.line([x0, y0, x0 + w, y0 + h], fill=colour, width=max(1, int(size * 0.02)))
    out = np.asarray(img, dtype=np.float32) / 255.0
    return gaussian_filter(out, sigma=(size / 200, size / 200, 0))


def smooth_closed(pts: np.ndarray, per_segment: int = 4) -> np.ndarray:
    """Closed Catmull-Rom curve through ``pts`` [N, 2]: [N * per_segment, 2]."""
    p0, p1, p2, p3 = np.roll(pts, 1, 0), pts, np.roll(pts, -1, 0), np.roll(pts, -2, 0)
    t = (np.arange(per_segment) / per_segment)[:, None, None]
    out = 0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                 + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3)
    return out.transpose(1, 0, 2).reshape(-1, 2)


def _rgb(colour, factor: float = 1.0) -> tuple[int, int, int, int]:
    c = np.clip(np.asarray(colour) * factor, 0, 1) * 255
    return (int(c[0]), int(c[1]), int(c[2]), 255)


class FaceRenderer:
    """Renders one identity; build once per video, call :meth:`render` per frame."""

    def __init__(self, ident: Identity, size: int, aa: int) -> None:
        self.ident = ident
        self.size, self.aa = size, aa
        self.k = max(12.0, round(size * 0.3 * aa))  # texture px per face unit (sampling)
        self.kd = 2.0 * self.k  # texture is drawn at twice that, then box-filtered (anti-aliasing)
        self.tw = int((TEX_U[1] - TEX_U[0]) * self.k)
        self.th = int((TEX_V[1] - TEX_V[0]) * self.k)
        u = TEX_U[0] + (np.arange(self.tw) + 0.5) / self.k
        v = TEX_V[0] + (np.arange(self.th) + 0.5) / self.k
        self.uu, self.vv = np.meshgrid(u, v)
        self.depth = depth_at(ident, self.uu, self.vv).astype(np.float32)
        self.normals = self._normals(self.depth)
        cheeks = sum(
            np.exp(-((self.uu - sx * (ident.eye_spacing + 0.05)) / 0.2) ** 2
                   - ((self.vv - ident.eye_height - 0.32) / 0.14) ** 2) for sx in (-1, 1))
        self.cheeks = (0.07 * cheeks).astype(np.float32)
        n = size * aa
        grid = (np.arange(n) + 0.5) / aa - 0.5
        self.px, self.py = (g.astype(np.float32) for g in np.meshgrid(grid, grid))

    def _normals(self, depth: np.ndarray) -> np.ndarray:
        dzdv, dzdu = np.gradient(depth, 1.0 / self.k)
        dzdv, dzdu = np.clip(dzdv, -2.5, 2.5), np.clip(dzdu, -2.5, 2.5)  # no black rims at the head edge
        n = np.stack([-dzdu, -dzdv, np.ones_like(depth)], axis=-1)
        return (n / np.linalg.norm(n, axis=-1, keepdims=True)).astype(np.float32)

    # ------------------------------------------------------------------ texture
    def tex_xy(self, pts: np.ndarray) -> list[tuple[float, float]]:
        """Canonical (u, v) points [N, >=2] -> texture pixel tuples."""
        x = (pts[:, 0] - TEX_U[0]) * self.kd
        y = (pts[:, 1] - TEX_V[0]) * self.kd
        return list(zip(x.tolist(), y.tolist()))

    def texture(self, lm: np.ndarray, aus: np.ndarray) -> np.ndarray:
        """Frontal texture float32 [th, tw, 4] (premultiplied RGB, alpha) in [0, 1], drawn at 2x and box-filtered."""
        idt, k = self.ident, self.kd
        img = Image.new("RGBA", (2 * self.tw, 2 * self.th), (0, 0, 0, 0))
        d = ImageDraw.Draw(img)
        P = self.tex_xy
        skin, hair = np.asarray(idt.skin), np.asarray(idt.hair)
        fw = idt.face_width
        phi = np.linspace(0, np.pi, 24)

        def arc(rx: float, top: float, base: float = -0.2) -> np.ndarray:
            return np.stack([rx * np.cos(phi), base - top * np.sin(phi)], axis=1)

        # shirt, long hair behind, neck, ears
        d.polygon(P(np.array([[-0.5, 1.0], [0.5, 1.0], [1.75, 1.55], [1.75, 2.25], [-1.75, 2.25], [-1.75, 1.55]])),
                  fill=_rgb(idt.shirt))
        if idt.hair_style == "long":
            back = np.concatenate([arc(fw * 1.2, 1.35), [[fw * 1.28, 1.3], [-fw * 1.28, 1.3]]])
            d.polygon(P(back[np.r_[0:24, 24, 25]]), fill=_rgb(hair, 0.85))
        d.polygon(P(np.array([[-0.42, 0.3], [0.42, 0.3], [0.45, 1.3], [0.6, 1.5], [-0.6, 1.5], [-0.45, 1.3]])),
                  fill=_rgb(skin, 0.85))
        for sx in (-1, 1):
            c = P(np.array([[sx * fw * 1.0, -0.12]]))[0]
            d.ellipse([c[0] - 0.13 * k, c[1] - 0.22 * k, c[0] + 0.13 * k, c[1] + 0.22 * k], fill=_rgb(skin, 0.93))
        # skin: jaw + forehead
        face = np.concatenate([lm[0:17, :2], arc(fw, 1.22)[1:-1]])
        d.polygon(P(face), fill=_rgb(skin))
        self._wrinkles(d, lm, aus, skin)
        self._hair_cap(d, hair, skin)
        # brows
        for idx, t in ((np.arange(17, 22), np.linspace(0.6, 1.0, 5)), (np.arange(22, 27), np.linspace(1.0, 0.6, 5))):
            b = lm[idx, :2]
            th = idt.brow_thickness * t
            poly = np.concatenate([b - [0, 0.5] * th[:, None], (b + [0, 0.5] * th[:, None])[::-1]])
            d.polygon(P(poly), fill=_rgb(hair, 0.8))
        self._eyes(img, d, lm, k)
        # nose: wings and nostrils
        nose_dark = _rgb(skin, 0.6)
        for a, b in ((31, 32), (34, 35)):
            d.line(P(lm[[a, b], :2]), fill=_rgb(skin, 0.75), width=max(1, int(0.02 * k)))
        for i in (32, 34):
            c = P(lm[[i], :2])[0]
            d.ellipse([c[0] - 0.045 * k, c[1] - 0.025 * k, c[0] + 0.045 * k, c[1] + 0.02 * k], fill=nose_dark)
        self._mouth(img, d, lm, k)
        if idt.glasses:
            for sx in (-1, 1):
                c = P(np.array([[sx * idt.eye_spacing, idt.eye_height]]))[0]
                rx, ry = idt.eye_size * 1.65 * k, idt.eye_size * 1.2 * k
                d.ellipse([c[0] - rx, c[1] - ry, c[0] + rx, c[1] + ry], outline=(25, 25, 30, 255),
                          width=max(1, int(0.035 * k)))
            inner = idt.eye_spacing - idt.eye_size * 1.65
            d.line(P(np.array([[-inner, idt.eye_height - 0.03], [inner, idt.eye_height - 0.03]])),
                   fill=(25, 25, 30, 255), width=max(1, int(0.03 * k)))
        big = np.asarray(img, dtype=np.float32)
        return (big[0::2, 0::2] + big[0::2, 1::2] + big[1::2, 0::2] + big[1::2, 1::2]) * np.float32(1 / 1020.0)

    def _hair_cap(self, d: ImageDraw.ImageDraw, hair: np.ndarray, skin: np.ndarray) -> None:
        idt, P = self.ident, self.tex_xy
        fw, style = idt.face_width, idt.hair_style
        phi = np.linspace(0, np.pi, 24)
        outer = np.stack([fw * 1.1 * np.cos(phi), -0.25 - 1.36 * np.sin(phi)], axis=1)
        hairline_v = idt.eye_height - idt.brow_height - (0.2 if style == "fringe" else 0.5)
        s = np.sin(phi) ** (0.15 if style == "fringe" else 0.6)
        inner = np.stack([fw * 0.97 * np.cos(phi), -0.35 + (hairline_v + 0.35) * s], axis=1)
        colour = hair if style != "buzz" else 0.55 * hair + 0.45 * skin * 0.8
        d.polygon(P(np.concatenate([outer, inner[::-1]])), fill=_rgb(colour))
        if style == "bun":
            c = P(np.array([[0.0, -1.62]]))[0]
            r = 0.3 * self.kd
            d.ellipse([c[0] - r, c[1] - r, c[0] + r, c[1] + r], fill=_rgb(hair, 0.9))

    def _wrinkles(self, d: ImageDraw.ImageDraw, lm: np.ndarray, aus: np.ndarray, skin: np.ndarray) -> None:
        """Creases that AUs produce: forehead (1, 2), glabella (4), nose (9), nasolabial (12, 10, 9)."""
        idt, k, P = self.ident, self.kd, self.tex_xy
        w = max(1, int(round(0.022 * k)))
        a = lambda name: float(aus[AU_INDEX[name]])  # noqa: E731

        def crease(points: np.ndarray, strength: float) -> None:
            if strength > 0.05:
                d.line(P(points), fill=_rgb(skin, 1 - 0.5 * min(strength, 1.0)), width=w, joint="curve")

        brow_v = float(lm[17:27, 1].min())
        up = max(a("AU1"), a("AU2"))
        for j in range(3):
            v = brow_v - 0.13 - 0.1 * j
            xs = np.linspace(-0.45 + 0.08 * j, 0.45 - 0.08 * j, 7)
            crease(np.stack([xs, v + 0.03 * np.cos(xs * 3)], 1), up * (1 - 0.2 * j))
        inner_v = float(lm[[21, 22], 1].mean())
        for sx in (-1, 1):
            crease(np.array([[sx * 0.05, inner_v - 0.03], [sx * 0.07, inner_v + 0.12]]), a("AU4"))
            tip, corner = lm[31 if sx < 0 else 35, :2], lm[48 if sx < 0 else 54, :2]
            mid = (tip + corner) / 2 + [sx * 0.08, 0.0]
            fold = np.array([tip + [sx * 0.04, -0.02], mid, corner + [sx * 0.06, 0.06]])
            crease(fold, max(0.15, a("AU12"), 0.8 * a("AU10"), 0.7 * a("AU9")))
            crease(np.array([lm[36 if sx < 0 else 45, :2] + [sx * 0.04, 0.0],
                             lm[36 if sx < 0 else 45, :2] + [sx * 0.12, 0.06]]), a("AU6"))
        for j in range(3):
            v = idt.eye_height + 0.02 + 0.06 * j
            crease(np.array([[-0.08, v], [0.0, v + 0.015], [0.08, v]]), a("AU9"))
        corner = lm[54, :2]
        crease(np.array([corner + [0.03, -0.05], corner + [0.07, 0.0], corner + [0.04, 0.06]]), a("AU14R"))

    def _eyes(self, img: Image.Image, d: ImageDraw.ImageDraw, lm: np.ndarray, k: float) -> None:
        idt, P = self.ident, self.tex_xy
        for idx in (np.arange(36, 42), np.arange(42, 48)):
            raw = P(lm[idx, :2])
            pts = P(smooth_closed(lm[idx, :2], 3))
            xs, ys = [p[0] for p in raw], [p[1] for p in raw]
            x0, y0 = int(min(xs)) - 4, int(min(ys)) - 4
            x1, y1 = int(max(xs)) + 5, int(max(ys)) + 5
            mask = Image.new("L", (x1 - x0, y1 - y0), 0)
            ImageDraw.Draw(mask).polygon([(x - x0, y - y0) for x, y in pts], fill=255)
            layer = Image.new("RGBA", mask.size, (245, 243, 238, 255))
            ld = ImageDraw.Draw(layer)
            cx = (xs[0] + xs[3]) / 2 - x0
            cy = (ys[1] + ys[2] + ys[4] + ys[5]) / 4 - y0
            r = idt.eye_size * 0.55 * k
            ld.ellipse([cx - r, cy - r, cx + r, cy + r], fill=_rgb(idt.iris))
            ld.ellipse([cx - r * 0.45, cy - r * 0.45, cx + r * 0.45, cy + r * 0.45], fill=(10, 10, 10, 255))
            img.paste(layer, (x0, y0), mask)
            lid = pts[0:10]
            d.line(lid, fill=(35, 25, 20, 255), width=max(1, int(0.03 * k)), joint="curve")
            d.line(pts[9:] + pts[:1], fill=_rgb(idt.skin, 0.7), width=max(1, int(0.012 * k)))

    def _mouth(self, img: Image.Image, d: ImageDraw.ImageDraw, lm: np.ndarray, k: float) -> None:
        idt, P = self.ident, self.tex_xy
        d.polygon(P(smooth_closed(lm[48:60, :2])), fill=_rgb(idt.lips))
        inner = lm[60:68, :2]
        gap = float(np.max(inner[[7, 6, 5], 1] - inner[[1, 2, 3], 1]))
        if gap * k > 1.0:
            pts = P(smooth_closed(inner))
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            x0, y0 = int(min(xs)) - 4, int(min(ys)) - 4
            x1, y1 = int(max(xs)) + 5, int(max(ys)) + 5
            mask = Image.new("L", (x1 - x0, y1 - y0), 0)
            ImageDraw.Draw(mask).polygon([(x - x0, y - y0) for x, y in pts], fill=255)
            layer = Image.new("RGBA", mask.size, (70, 20, 22, 255))
            upper = inner[0:5] - [0, 0]
            teeth = np.concatenate([upper - [0, 0.02], (upper + [0, 0.075])[::-1]])
            ld = ImageDraw.Draw(layer)
            ld.polygon([(x - x0, y - y0) for x, y in P(teeth)], fill=(240, 236, 225, 255))
            lower = inner[[0, 7, 6, 5, 4]]
            teeth_low = np.concatenate([lower + [0, 0.02], (lower - [0, 0.05])[::-1]])
            ld.polygon([(x - x0, y - y0) for x, y in P(teeth_low)], fill=(225, 220, 210, 255))
            img.paste(layer, (x0, y0), mask)
        d.line(P(inner[[0, 1, 2, 3, 4]]), fill=_rgb(idt.lips, 0.55), width=max(1, int(0.02 * k)), joint="curve")

    # ------------------------------------------------------------------ projection
    def render(self, lm: np.ndarray, aus: np.ndarray, pose: FramePose, scene: Scene,
               rng: np.random.Generator) -> np.ndarray:
        """One frame, uint8 [S, S, 3], from canonical landmarks [68, 3] and AUs [NUM_AUS]."""
        tex = self.texture(lm, aus)
        a6 = float(aus[AU_INDEX["AU6"]])
        depth, normals = self.depth, self.normals
        if a6 > 0.02:
            depth = depth + a6 * self.cheeks
            normals = self._normals(depth)
        R = pose.matrix()
        A_inv = np.linalg.inv(R[:2, :2]).astype(np.float32)
        bz = R[:2, 2].astype(np.float32)
        qx = (self.px - np.float32(pose.centre[0])) / np.float32(pose.scale)
        qy = (self.py - np.float32(pose.centre[1])) / np.float32(pose.scale)
        flat_depth = depth.reshape(-1)
        k, u0, v0 = np.float32(self.k), np.float32(TEX_U[0]), np.float32(TEX_V[0])
        z = np.zeros_like(qx)
        for _ in range(3):
            rx, ry = qx - bz[0] * z, qy - bz[1] * z
            u = A_inv[0, 0] * rx + A_inv[0, 1] * ry
            v = A_inv[1, 0] * rx + A_inv[1, 1] * ry
            ti = np.clip(((v - v0) * k).astype(np.int32), 0, self.th - 1)
            tj = np.clip(((u - u0) * k).astype(np.int32), 0, self.tw - 1)
            z = 0.5 * z + 0.5 * flat_depth.take(ti * self.tw + tj)
        fx = (u - u0) * k - 0.5
        fy = (v - v0) * k - 0.5
        inside = (fx > -1) & (fx < self.tw) & (fy > -1) & (fy < self.th)
        x0 = np.floor(fx)
        y0 = np.floor(fy)
        wx, wy = (fx - x0)[..., None], (fy - y0)[..., None]
        x0 = x0.astype(np.int32)
        y0 = y0.astype(np.int32)
        x0c, x1c = np.clip(x0, 0, self.tw - 1), np.clip(x0 + 1, 0, self.tw - 1)
        y0c, y1c = np.clip(y0, 0, self.th - 1) * self.tw, np.clip(y0 + 1, 0, self.th - 1) * self.tw
        flat = tex.reshape(-1, 4)
        top = flat.take(y0c + x0c, axis=0) * (1 - wx) + flat.take(y0c + x1c, axis=0) * wx
        bot = flat.take(y1c + x0c, axis=0) * (1 - wx) + flat.take(y1c + x1c, axis=0) * wx
        col = (top * (1 - wy) + bot * wy) * inside[..., None]
        # n_cam . light = n_canonical . (R^T light): one 3-vector, no per-pixel matmul
        lit = (R.T @ scene.light).astype(np.float32)
        n = normals.reshape(-1, 3)
        cos = n[:, 0] * lit[0] + n[:, 1] * lit[1] + n[:, 2] * lit[2]
        shade = scene.ambient + scene.diffuse * np.clip(cos.take(ti * self.tw + tj), 0, None)
        alpha = col[..., 3:4]
        out = scene.background * (1 - alpha) + col[..., :3] * shade[..., None]
        if scene.aa > 1:
            a = scene.aa
            out = sum(out[i::a, j::a] for i in range(a) for j in range(a)) * np.float32(1.0 / (a * a))
        if scene.blur > 0.05:
            out = gaussian_filter(out, sigma=(scene.blur, scene.blur, 0))
        out = out * 255.0
        if scene.noise > 0:
            out = out + rng.normal(0.0, scene.noise, out.shape)
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)
