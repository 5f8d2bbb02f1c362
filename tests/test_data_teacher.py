"""Teacher networks: strength decay on fan-out columns, forward pass against numpy, seeded data."""

import numpy as np
import pytest
import torch

from structlearn.data import make_teacher, sample_teacher_data
from structlearn.data.teacher import strength_decay


def _weights(t):
    return [layer.weight.detach().numpy().astype(np.float64) for layer in t.layers]


def test_strength_decay_multiplies_fan_out_columns_of_every_later_layer():
    plain = make_teacher(30, (8, 6, 4), output_decay=0.0, random_state=7)
    decayed = make_teacher(30, (8, 6, 4), output_decay=1.5, random_state=7)
    w0, w1 = _weights(plain), _weights(decayed)
    np.testing.assert_array_equal(w1[0], w0[0])  # first layer has no hidden units below it
    for layer, width in ((1, 8), (2, 6)):
        ratio = w1[layer] / w0[layer]
        expected_cols = np.arange(1, width + 1) ** -1.5
        # every row of the ratio is the same: the scale varies along columns (fan-out of unit k)
        np.testing.assert_allclose(ratio, np.broadcast_to(expected_cols, ratio.shape), rtol=1e-6)
        assert not np.allclose(ratio, ratio[:, :1])  # and not along rows
    for a, b in zip(plain.layers, decayed.layers):
        np.testing.assert_array_equal(a.bias.numpy(), b.bias.numpy())


def test_fan_out_weights_are_next_layer_columns_and_are_the_output_gradient():
    t = make_teacher(5, (7, 3), output_decay=1.0, random_state=1)
    fan = t.fan_out_weights(0)
    assert tuple(fan.shape) == (7, 3)
    for k in range(7):
        np.testing.assert_array_equal(fan[k].numpy(), t.layers[1].weight[:, k].numpy())
    # d output_j / d h_k = fan[k, j]: perturbing hidden unit k moves the output along its fan-out
    h = torch.rand(1, 7)
    for k in range(7):
        dh = torch.zeros(1, 7)
        dh[0, k] = 1.0
        delta = t.layers[1](h + dh) - t.layers[1](h)
        np.testing.assert_allclose(delta[0].numpy(), fan[k].numpy(), atol=1e-6)
    norms = t.fan_out_norms(0).numpy()
    np.testing.assert_allclose(norms, np.linalg.norm(t.layers[1].weight.numpy(), axis=0), rtol=1e-6)
    with pytest.raises(ValueError, match="layer"):
        t.fan_out_weights(1)


def test_forward_and_hidden_activations_equal_a_numpy_reference():
    t = make_teacher(6, (9, 5, 2), random_state=3)
    X, Y = sample_teacher_data(t, 50, random_state=4)
    x = X.numpy().astype(np.float64)
    params = [
        (lay.weight.numpy().astype(float), lay.bias.numpy().astype(float)) for lay in t.layers
    ]
    h1 = np.maximum(x @ params[0][0].T + params[0][1], 0)
    h2 = np.maximum(h1 @ params[1][0].T + params[1][1], 0)
    out = h2 @ params[2][0].T + params[2][1]
    hidden = t.hidden_activations(X)
    np.testing.assert_allclose(hidden[0].numpy(), h1, atol=1e-5)
    np.testing.assert_allclose(hidden[1].numpy(), h2, atol=1e-5)
    np.testing.assert_allclose(Y.numpy(), out, atol=1e-5)
    assert not Y.requires_grad


def test_weight_scale_sets_the_weight_standard_deviation():
    t = make_teacher(400, (300, 1), weight_scale=2.0, random_state=0)
    w = t.layers[0].weight.numpy()
    assert abs(w.std() - 2.0 / np.sqrt(400)) < 0.002  # 120,000 draws: relative error ~0.2%
    assert abs(w.mean()) < 0.001


def test_gaussian_inputs_and_half_active_units_without_bias():
    t = make_teacher(10, (40, 1), bias=False, random_state=2)
    assert all(layer.bias is None for layer in t.layers)
    X, _ = sample_teacher_data(t, 20000, random_state=0)
    x = X.numpy()
    assert abs(x.mean()) < 0.01
    assert abs(x.var() - 1.0) < 0.01
    # without bias, P(w.x > 0) = 1/2 for symmetric x
    active = (t.hidden_activations(X)[0] > 0).float().mean().item()
    assert abs(active - 0.5) < 0.01


def test_seeds_fix_teacher_and_data():
    a = make_teacher(4, (5, 2), random_state=9)
    b = make_teacher(4, (5, 2), random_state=9)
    c = make_teacher(4, (5, 2), random_state=10)
    for la, lb in zip(a.layers, b.layers):
        assert torch.equal(la.weight, lb.weight)
    assert not torch.equal(a.layers[0].weight, c.layers[0].weight)
    X1, Y1 = sample_teacher_data(a, 30, random_state=1)
    X2, Y2 = sample_teacher_data(a, 30, random_state=1)
    X3, _ = sample_teacher_data(a, 30, random_state=2)
    assert torch.equal(X1, X2)
    assert torch.equal(Y1, Y2)
    assert not torch.equal(X1, X3)


def test_strength_decay_closed_form():
    np.testing.assert_allclose(strength_decay(5, 2.0), [1, 1 / 4, 1 / 9, 1 / 16, 1 / 25])


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(input_dim=0, widths=(3, 1)), "input_dim"),
        (dict(input_dim=3, widths=(3,)), "widths"),
        (dict(input_dim=3, widths=(3, 0, 1)), "widths"),
        (dict(input_dim=3, widths=5), "widths"),
        (dict(input_dim=3, widths=(3, 1), output_decay=-0.5), "output_decay"),
        (dict(input_dim=3, widths=(3, 1), weight_scale=0.0), "weight_scale"),
    ],
)
def test_bad_teacher_arguments_raise_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_teacher(**kwargs)


def test_bad_sample_count_raises():
    with pytest.raises(ValueError, match="n_samples"):
        sample_teacher_data(make_teacher(3, (2, 1)), 0)


def test_code_teacher_has_distinct_unit_norm_codes_decay_and_biases():
    from structlearn.data.teacher import CODE_CHOICES, make_code_teacher, strength_decay

    t = make_code_teacher(30, (10, 50), output_decay=1.0, bias=-0.1, random_state=3)
    w1, w2 = t.layers[0].weight.numpy(), t.layers[1].weight.numpy()
    assert np.allclose(np.linalg.norm(w1, axis=1), 1.0, atol=1e-6)
    assert len({tuple(r) for r in np.round(w1, 6)}) == 10  # distinct codes
    undone = w2 / strength_decay(10, 1.0)[None, :]  # column k divided by (k+1)^-1
    assert np.allclose(undone, np.round(undone * 4) / 4, atol=1e-5)  # quarter-step levels
    assert set(np.round(undone, 4).ravel()) <= set(CODE_CHOICES)
    assert np.all(t.layers[0].bias.numpy() == np.float32(-0.1))
    with pytest.raises(ValueError, match="widths"):
        make_code_teacher(1, (10, 2), choices=(0.0, 1.0))  # only one non-zero code of length 1


def test_input_std_scales_the_inputs_and_the_labels_follow():
    from structlearn.data.teacher import make_teacher, sample_teacher_data

    t = make_teacher(5, (4, 2), random_state=0)
    X1, _ = sample_teacher_data(t, 2000, random_state=1)
    X2, Y2 = sample_teacher_data(t, 2000, input_std=1.5, random_state=1)
    assert torch.allclose(X2, 1.5 * X1, atol=1e-6)
    assert torch.allclose(Y2, t(X2))
    with pytest.raises(ValueError, match="input_std"):
        sample_teacher_data(t, 10, input_std=0.0)


def test_input_pool_draws_disjoint_standardised_rows_of_the_file_labelled_by_the_teacher():
    from structlearn.data.teacher import InputPool

    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 2.0, size=(50, 4)) * [1.0, 10.0, 0.1, 1.0]
    X[:, 3] = 7.0  # a constant feature becomes 0, not NaN
    pool = InputPool(X, input_std=1.5)
    z = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0) * 1.5
    np.testing.assert_allclose(pool.X, z, rtol=1e-6, atol=1e-6)
    assert pool.X[:, :3].std(0) == pytest.approx([1.5] * 3, rel=1e-5)
    teacher = make_teacher(4, (3, 2), random_state=1)
    (Xa, Ya), (Xt, Yt) = pool.draw(teacher, 30, 15, random_state=5)
    train, test = pool.rows(30, 15, random_state=5)
    assert not set(train) & set(test) and len(set(train)) == 30 and len(set(test)) == 15
    np.testing.assert_array_equal(Xa.numpy(), pool.X[train])  # rows of the file, in that order
    np.testing.assert_array_equal(Xt.numpy(), pool.X[test])
    with torch.no_grad():
        torch.testing.assert_close(Ya, teacher(Xa))
        torch.testing.assert_close(Yt, teacher(Xt))
    small, same_test = pool.rows(10, 15, random_state=5)  # nested: one seed, a smaller n_train
    np.testing.assert_array_equal(small, train[:10])
    np.testing.assert_array_equal(same_test, test)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_train": 40, "n_test": 11}, r"n_train \+ n_test: expected at most the pool's 50 rows"),
        ({"n_train": 0, "n_test": 5}, "n_train"),
    ],
)
def test_input_pool_refuses_more_rows_than_it_has(kwargs, message):
    from structlearn.data.teacher import InputPool

    pool = InputPool(np.random.default_rng(0).normal(size=(50, 3)))
    with pytest.raises(ValueError, match=message):
        pool.rows(**kwargs)
    with pytest.raises(ValueError, match="teacher: expected input_dim 3"):
        pool.draw(make_teacher(4, (2, 1)), 5, 5)
