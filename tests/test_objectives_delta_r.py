"""delta_R_nats: the numpy face of rate_reduction (shared by ReduNet and the studies)."""

import numpy as np
import pytest

from structlearn.models.redunet import ReduNet
from structlearn.objectives.coding_rate import delta_R_nats


def test_delta_r_closed_form_of_two_orthogonal_classes_and_sphere():
    # Z^T Z = 2I on the sphere: R = log 2; each class rank one: Rc = 1/2 log 3 (eps = 1)
    Z = np.array([[3.0, 0.0], [1.0, 0.0], [0.0, 2.0], [0.0, 5.0]])
    y = np.array([0, 0, 1, 1])
    expected = np.log(2) - 0.5 * np.log(3)
    assert delta_R_nats(Z, y, 1.0, normalize=True) == pytest.approx(expected)
    assert delta_R_nats(Z / np.linalg.norm(Z, axis=1, keepdims=True), y, 1.0) == pytest.approx(
        expected
    )
    # one class compresses nothing
    assert delta_R_nats(Z, np.zeros(4, int), 1.0) == pytest.approx(0.0, abs=1e-12)


def test_reduNet_records_delta_r_of_its_layers():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 4)), np.repeat([0, 1], 20)
    net = ReduNet(n_layers=2, eps=0.5).fit(X, y)
    Zs = net.transform_all(X)
    assert net.delta_R_ == pytest.approx([delta_R_nats(Z, y, 0.5) for Z in Zs])
