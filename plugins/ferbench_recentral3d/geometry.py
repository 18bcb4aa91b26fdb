"""3D face re-centralization (Sec. 3.2, Eq. 1) and shading generation (Sec. 3.3, Eq. 2).

Coordinate convention everywhere in this plugin: x to the image right, y down,
z toward the camera (a right-handed frame seen from behind the camera is
x right, y down, z *away*; here z points at the viewer, so larger z = nearer).
Posed points are in the units of their source (pixels for SynthFER and the
face mesh); the frontal reference template is in "face units" (face width ~2).

Pipeline of one frame (:func:`recentralize`):

1. Procrustes (Eq. 1): similarity ``s R (P - mean P) + mean P*`` that maps the
   68 posed landmarks P onto the frontal template P* (R orthogonal,
   reflection-corrected, by SVD).
2. Densify: the aligned landmarks are a sparse height field z(u, v); a thin-plate
   spline through them gives z at every pixel centre of the 100x100 render
   grid inside the landmarks' hull (a dense surface point cloud).
3. Mask hidden points: the dense points are mapped back into the original view;
   a point is hidden there (and discarded, not hallucinated) when it faces
   away from the camera or when another surface point in the same image bin
   lies clearly in front of it (z-buffer, the paper's "keep the outer-most").
4. Normals: plane fit (smallest principal axis) to the n = 10 nearest visible
   neighbours, oriented toward the viewer.
5. Relight with the fixed frontal light L = (0, 0, 1) (the paper's [1, 0, 0]
   written with depth first): shading = max(N . L, 0); hidden / empty pixels = 0.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
from scipy.interpolate import RBFInterpolator
from scipy.spatial import ConvexHull, cKDTree

from ferbench.errors import FerbenchError

NOSE_TIP = 30  # 0-based index of the nose tip in the 68-point (iBUG/dlib) layout
NUM_LANDMARKS = 68
NUM_DISTANCES = NUM_LANDMARKS * (NUM_LANDMARKS - 1) // 2  # 2278
FRONTAL_LIGHT = np.array([0.0, 0.0, 1.0])
MIN_CORRESPONDENCES = 6

#: render window in template units: centre (u, v) and half side
WINDOW_CENTRE = (0.0, 0.28)
WINDOW_HALF = 1.05


@functools.lru_cache(maxsize=1)
def frontal_template() -> np.ndarray:
    """Frontal reference landmarks P*: float64 [68, 3] in face units (x right, y down, z to camera).

    The mean neutral face of 64 identities drawn from SynthFER's face model
    (a generic mean shape, like the 300W-LP mean face a 3DMM fitter uses);
    deterministic.
    """
    from ferbench.datasets.synthetic import mean_neutral_face

    return np.array(mean_neutral_face(identities=64, seed=0))


# --------------------------------------------------------------------------- Eq. 1


@dataclasses.dataclass(frozen=True)
class Similarity:
    """``apply(P) = scale * (P - src_mean) @ R.T + dst_mean``; R [3, 3] is a proper rotation."""

    rotation: np.ndarray
    scale: float
    src_mean: np.ndarray
    dst_mean: np.ndarray

    def apply(self, points: np.ndarray) -> np.ndarray:
        return self.scale * (points - self.src_mean) @ self.rotation.T + self.dst_mean

    def inverse(self, points: np.ndarray) -> np.ndarray:
        return (points - self.dst_mean) @ self.rotation / self.scale + self.src_mean


def procrustes(src: np.ndarray, dst: np.ndarray, *, with_scale: bool = True) -> Similarity:
    """Orthogonal Procrustes (Eq. 1): R = argmin ||R P - P*|| over rotations, by SVD of P* P^T.

    Args:
        src: [K, 3] posed points P (K >= 6; NaN rows are ignored).
        dst: [K, 3] reference points P* (same order).
        with_scale: also fit the isotropic scale (units differ between P and P*).

    Returns:
        the :class:`Similarity` mapping ``src`` onto ``dst``; det(R) = +1
        (a reflection solution is corrected by flipping the last singular vector).
    """
    ok = np.isfinite(src).all(1) & np.isfinite(dst).all(1)
    if ok.sum() < MIN_CORRESPONDENCES:
        raise FerbenchError(f"re-centralization needs >= {MIN_CORRESPONDENCES} point pairs, got {int(ok.sum())}")
    p, q = src[ok].astype(np.float64), dst[ok].astype(np.float64)
    mp_, mq = p.mean(0), q.mean(0)
    pc, qc = p - mp_, q - mq
    u, sv, vt = np.linalg.svd(qc.T @ pc)  # P* P^T (points as columns)
    d = np.sign(np.linalg.det(u @ vt)) or 1.0
    fix = np.diag([1.0, 1.0, d])
    r = u @ fix @ vt
    scale = float((sv * np.diag(fix)).sum() / (pc**2).sum()) if with_scale else 1.0
    return Similarity(r, scale, mp_, mq)


def rotation_angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Geodesic angle between two rotation matrices, degrees."""
    c = (np.trace(a.T @ b) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


def euler_matrix(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Rotation [3, 3] for head pose in degrees, SynthFER's convention (Rz @ Rx @ Ry)."""
    y, p, r = np.deg2rad([yaw, pitch, roll])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), np.sin(p)], [0, -np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ rx @ ry


# --------------------------------------------------------------------------- normals


def plane_normals(points: np.ndarray, n_neighbours: int = 10, towards: np.ndarray = FRONTAL_LIGHT) -> np.ndarray:
    """Normal of the least-squares plane through each point's ``n`` nearest neighbours.

    Args:
        points: [M, 3] point cloud (M >= n_neighbours).
        n_neighbours: n (the point itself counts as one of them); the paper uses 10.
        towards: normals are flipped to have a non-negative dot product with this.

    Returns:
        float64 [M, 3] unit normals (smallest principal axis of each neighbourhood).
    """
    m = points.shape[0]
    k = min(n_neighbours, m)
    if k < 3:
        raise FerbenchError(f"plane fitting needs >= 3 points, got {m}")
    _, idx = cKDTree(points).query(points, k=k)
    nb = points[idx]  # [M, k, 3]
    nb = nb - nb.mean(1, keepdims=True)
    cov = np.einsum("mki,mkj->mij", nb, nb)
    _, vecs = np.linalg.eigh(cov)  # ascending eigenvalues
    normals = vecs[:, :, 0]
    flip = normals @ towards < 0
    normals[flip] *= -1
    return normals


# --------------------------------------------------------------------------- landmark features (Eq. 3-4)


_IU, _JU = np.triu_indices(NUM_LANDMARKS, k=1)


def landmark_distances(points_2d: np.ndarray) -> np.ndarray:
    """Eq. 3-4: all pairwise distances of the 68 min-max-normalised 2D landmarks.

    Args:
        points_2d: [..., 68, 2] landmark coordinates (any unit).

    Returns:
        float32 [..., 2278]: d_{i,j} for i < j in row-major order (d_{1,2}, d_{1,3}, ..., d_{67,68})
        after translating the nose tip (landmark 31, index 30) to the origin and
        dividing each axis by its max - min range over the 68 points.
    """
    p = np.asarray(points_2d, dtype=np.float64)
    if p.shape[-2:] != (NUM_LANDMARKS, 2):
        raise FerbenchError(f"landmark distances need [..., 68, 2] points, got {p.shape}")
    span = p.max(-2, keepdims=True) - p.min(-2, keepdims=True)
    q = (p - p[..., NOSE_TIP : NOSE_TIP + 1, :]) / np.maximum(span, 1e-9)
    d = np.linalg.norm(q[..., _IU, :] - q[..., _JU, :], axis=-1)
    return d.astype(np.float32)


# --------------------------------------------------------------------------- shading (Eq. 2)


@dataclasses.dataclass(frozen=True)
class Recentralized:
    """One re-centralized frame.

    Attributes:
        shading: float32 [S, S] in [0, 1], N . L at each pixel; 0 = hidden or off-face.
        visible: bool [S, S], pixels carrying a visible surface point.
        on_face: bool [S, S], pixels inside the densified surface (visible or hidden).
        transform: the Procrustes similarity (posed -> template frame).
        aligned: float64 [K, 3] the landmarks in the template frame.
    """

    shading: np.ndarray
    visible: np.ndarray
    on_face: np.ndarray
    transform: Similarity
    aligned: np.ndarray


def inside_hull(points: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """bool [Q]: which 2D ``queries`` [Q, 2] lie inside the convex hull of ``points`` [K, 2]."""
    eq = ConvexHull(points).equations  # [F, 3]: normal . p + offset <= 0 inside
    return (queries @ eq[:, :2].T + eq[:, 2] <= 1e-9).all(1)


@functools.lru_cache(maxsize=8)
def _render_grid(size: int) -> np.ndarray:
    """Pixel centres of the size x size render in template units: [size*size, 2] (u, v)."""
    step = 2 * WINDOW_HALF / size
    c = (np.arange(size) + 0.5) * step - WINDOW_HALF
    u, v = np.meshgrid(c + WINDOW_CENTRE[0], c + WINDOW_CENTRE[1])
    return np.stack([u.ravel(), v.ravel()], 1)


def template_to_pixels(points: np.ndarray, size: int) -> np.ndarray:
    """Template (u, v) -> render pixel (x, y) coordinates (pixel centres at integers)."""
    step = 2 * WINDOW_HALF / size
    xy = (points[..., :2] - np.array(WINDOW_CENTRE) + WINDOW_HALF) / step - 0.5
    return xy


def _hidden_in_view(posed: np.ndarray, normals_posed: np.ndarray, bin_size: float, step: float) -> np.ndarray:
    """bool [M]: points the original camera cannot see.

    A point is hidden when it faces away from the camera (normal z < 0) or when
    the front-most point of its image bin (side ``bin_size``) is nearer than
    the point's own tangent plane can explain (slope * 2 bins + 3 grid steps):
    the outer-most surface is kept, what lies behind it is masked.
    """
    back = normals_posed[:, 2] < 0.0
    cells = np.floor(posed[:, :2] / bin_size).astype(np.int64)
    cells -= cells.min(0)
    key = cells[:, 0] * (cells[:, 1].max() + 1) + cells[:, 1]
    zmax = np.full(key.max() + 1, -np.inf)
    np.maximum.at(zmax, key, posed[:, 2])
    slope = np.linalg.norm(normals_posed[:, :2], axis=1) / np.maximum(normals_posed[:, 2], 0.1)
    tol = 2.0 * bin_size * slope + 3.0 * step
    behind = posed[:, 2] < zmax[key] - tol
    return back | behind


def recentralize(
    points: np.ndarray,
    *,
    size: int = 100,
    n_neighbours: int = 10,
    template: np.ndarray | None = None,
    correspondences: np.ndarray | None = None,
    light: np.ndarray = FRONTAL_LIGHT,
    mask_hidden: bool = True,
) -> Recentralized:
    """Re-centralize one face and render its 100x100 shading map (Sec. 3.2-3.3).

    Args:
        points: [K, 3] posed 3D face points (x right, y down, z toward the camera), K >= 6.
        size: side of the shading image, pixels (the paper: 100).
        n_neighbours: neighbours of the normal plane fit (the paper: 10).
        template: [68, 3] frontal reference P*; default :func:`frontal_template`.
        correspondences: indices into ``points`` of the template's landmarks
            (default: ``points`` are the 68 landmarks themselves).
        light: light direction L (unit, template frame).
        mask_hidden: discard surface points hidden in the original view.

    Returns:
        :class:`Recentralized`.
    """
    points = np.asarray(points, dtype=np.float64)
    tpl = frontal_template() if template is None else np.asarray(template, dtype=np.float64)
    lm = points if correspondences is None else points[correspondences]
    transform = procrustes(lm, tpl)
    aligned = transform.apply(points)

    grid = _render_grid(size)
    inside = inside_hull(aligned[:, :2], grid)
    on_face = np.zeros(size * size, bool)
    visible = np.zeros(size * size, bool)
    shading = np.zeros(size * size, np.float32)
    if inside.sum() >= n_neighbours:
        uv = grid[inside]
        z = RBFInterpolator(aligned[:, :2], aligned[:, 2], kernel="thin_plate_spline", degree=1, smoothing=1e-4)(uv)
        dense = np.concatenate([uv, z[:, None]], 1)
        keep = np.ones(len(dense), bool)
        if mask_hidden:
            normals_all = plane_normals(dense, n_neighbours)
            posed = transform.inverse(dense)
            step = 2 * WINDOW_HALF / size / transform.scale  # grid step in posed units
            keep = ~_hidden_in_view(posed, normals_all @ transform.rotation, 2.0 * step, step)
        on_face[inside] = True
        if keep.sum() >= n_neighbours:
            vis = dense[keep]
            normals = plane_normals(vis, n_neighbours)
            where = np.flatnonzero(inside)[keep]
            visible[where] = True
            shading[where] = np.clip(normals @ np.asarray(light, dtype=np.float64), 0.0, 1.0)
    return Recentralized(shading.reshape(size, size), visible.reshape(size, size),
                         on_face.reshape(size, size), transform, aligned)
