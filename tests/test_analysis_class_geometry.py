"""Class-subspace geometry against known subspaces: principal angles, overlap, effective rank."""

import numpy as np
import pytest

from structlearn.analysis.class_geometry import class_geometry, effective_rank


def _plane_samples(basis: np.ndarray, n: int, rng) -> np.ndarray:
    """n points spread over the span of basis (d, r), full rank r."""
    return rng.standard_normal((n, basis.shape[1])) @ basis.T


def test_known_angle_between_two_lines():
    # class 0 on e1, class 1 on (cos t) e1 + (sin t) e2: largest cosine = overlap = cos t
    t = 0.7
    rng = np.random.default_rng(0)
    a = np.array([1.0, 0, 0])
    b = np.array([np.cos(t), np.sin(t), 0])
    Z = np.vstack([np.outer(rng.normal(size=20), a), np.outer(rng.normal(size=20), b)])
    g = class_geometry(Z, np.repeat([0, 1], 20), n_components=1)
    assert g.mean_cosine == pytest.approx(np.cos(t), abs=1e-10)
    assert g.mean_overlap == pytest.approx(np.cos(t) ** 2, abs=1e-10)
    assert g.effective_ranks == pytest.approx([1.0, 1.0], abs=1e-8)


def test_planes_sharing_one_direction_top_cosine_one_overlap_half():
    # span{e1,e2} and span{e2,e3}: principal cosines (1, 0): top = 1, mean cos² = 1/2
    rng = np.random.default_rng(1)
    E = np.eye(4)
    Z = np.vstack([_plane_samples(E[:, :2], 50, rng), _plane_samples(E[:, 1:3], 50, rng)])
    y = np.repeat([0, 1], 50)
    g = class_geometry(Z, y, n_components=2)
    assert g.mean_cosine == pytest.approx(1.0, abs=1e-10)
    assert g.mean_overlap == pytest.approx(0.5, abs=1e-10)
    # a random rotation of the whole space changes no angle
    Q = np.linalg.qr(rng.standard_normal((4, 4)))[0]
    g2 = class_geometry(Z @ Q, y, n_components=2)
    assert g2.cosines == pytest.approx(g.cosines, abs=1e-10)
    assert g2.mean_effective_rank == pytest.approx(g.mean_effective_rank, rel=1e-10)


def test_orthogonal_classes_and_shuffled_labels():
    rng = np.random.default_rng(2)
    E = np.eye(6)
    Z = np.vstack([_plane_samples(E[:, 2 * j : 2 * j + 2], 60, rng) for j in range(3)])
    y = np.repeat([0, 1, 2], 60)
    g = class_geometry(Z, y, n_components=2)
    assert g.max_cosine == pytest.approx(0.0, abs=1e-10)
    assert g.cosines.shape == (3, 3) and np.allclose(np.diag(g.cosines), 1.0)
    # shuffled labels: every "class" spans the whole 6-D space, its top 2-D subspaces overlap
    shuffled = class_geometry(Z, rng.permutation(y), n_components=2)
    assert shuffled.mean_cosine > 0.2
    assert shuffled.mean_effective_rank > 4.0 > g.mean_effective_rank


def test_effective_rank_closed_forms():
    # singular values (3, 1): p = (3/4, 1/4), exp H = 4 / 3^(3/4)
    Z = np.diag([3.0, 1.0])
    assert effective_rank(Z) == pytest.approx(4 / 3**0.75, rel=1e-12)
    assert effective_rank(np.eye(5)) == pytest.approx(5.0, rel=1e-12)
    assert effective_rank(np.zeros((3, 2))) == 0.0


def test_bad_input_names_the_argument():
    Z = np.eye(4)
    with pytest.raises(ValueError, match="y"):
        class_geometry(Z, np.zeros(4, dtype=int))  # one class: no pair to compare
    with pytest.raises(ValueError, match="n_components"):
        class_geometry(Z, np.array([0, 0, 1, 1]), n_components=0)
    with pytest.raises(ValueError, match="Z"):
        class_geometry(np.array([[np.nan, 1.0], [0, 1]]), np.array([0, 1]))
