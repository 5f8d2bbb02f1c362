"""R²SVM (Vinyals et al. 2012): one layer is a linear SVM, depth helps where a linear SVM cannot
separate, the recursion is the paper's formula, and bad input is refused by name."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from structlearn.models.blocks import r2svm_next_input
from structlearn.models.r2svm import R2SVMClassifier


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _xor_blobs(n_per_blob=60, seed=0):
    """Three classes: two XOR diagonals (+-2, +-2) and a centre blob; no line separates them."""
    rng = np.random.default_rng(seed)
    centres = 2.0 * np.array([[1, 1], [-1, -1], [1, -1], [-1, 1], [0, 0]])
    blob = np.repeat(np.arange(5), n_per_blob)
    y = np.array([0, 0, 1, 1, 2])[blob]
    return centres[blob] + 0.5 * rng.standard_normal((blob.size, 2)), y


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X[:600]), y[:600]


def test_one_layer_equals_linear_svc(digits):
    X, y = digits
    ours = R2SVMClassifier(n_layers=1, C=0.5, random_state=0).fit(X, y)
    ref = LinearSVC(C=0.5).fit(X, y)
    assert np.array_equal(ours.predict(X), ref.predict(X))
    assert np.allclose(ours.decision_function(X), ref.decision_function(X), atol=1e-6)
    assert np.array_equal(ours.transform(X), X)


def test_depth_raises_training_accuracy_on_xor_blobs():
    X, y = _xor_blobs()
    linear = LinearSVC(C=10.0).fit(X, y).score(X, y)
    deep = [
        R2SVMClassifier(n_layers=10, beta=2.0, C=10.0, random_state=s).fit(X, y).train_scores_
        for s in range(3)
    ]
    assert linear < 0.45  # measured 0.41: a linear SVM cannot separate XOR
    assert all(scores[0] == pytest.approx(linear) for scores in deep)
    # measured: 10 layers reach 0.60, 0.62, 0.69 (mean +0.23 over the linear SVM)
    assert np.mean([scores[-1] for scores in deep]) >= linear + 0.15


def test_recursion_is_the_papers_formula(digits):
    X, y = digits
    clf = R2SVMClassifier(n_layers=3, beta=0.3, random_state=1).fit(X, y)
    o1 = clf.svms_[0].decision_function(X)
    x2 = 1 / (1 + np.exp(-(X + 0.3 * o1 @ clf.projections_[0].T)))
    o2 = clf.svms_[1].decision_function(x2)
    x3 = 1 / (1 + np.exp(-(X + 0.3 * np.hstack([o1, o2]) @ clf.projections_[1].T)))
    assert np.allclose(clf.transform(X), x3, atol=1e-12)
    assert clf.projections_[1].shape == (64, 20)  # W_3 acts on [o_1; o_2], 10 scores each
    assert np.array_equal(clf.layer_scores(X, y), clf.train_scores_)


def test_binary_scores_are_one_column():
    X, y = _xor_blobs()
    keep = y < 2
    clf = R2SVMClassifier(n_layers=2, random_state=0).fit(X[keep], y[keep])
    assert clf.projections_[0].shape == (2, 1)
    assert clf.decision_function(X[keep]).shape == (int(keep.sum()),)


def test_sigmoid_recursion_is_stable_for_large_inputs():
    X1 = np.array([[800.0, -800.0]])
    out = r2svm_next_input(X1, np.zeros((1, 1)), np.zeros((2, 1)), beta=1.0)
    assert np.array_equal(out, [[1.0, 0.0]])


def test_early_stopping_keeps_the_best_validated_depth(digits):
    X, y = digits
    clf = R2SVMClassifier(n_layers=8, beta=0.5, early_stopping=True, random_state=0).fit(X, y)
    val = clf.validation_scores_
    assert clf.n_layers_ == int(np.argmax(val)) + 1
    assert len(clf.svms_) == clf.n_layers_ and len(clf.projections_) == clf.n_layers_ - 1
    if len(val) < 8:  # stopped: the last layer did not improve on the best before it
        assert val[-1] <= val[:-1].max()
    assert np.all(np.diff(val[:-1]) > 0)


def test_seed_fixes_everything(digits):
    X, y = digits
    a = R2SVMClassifier(n_layers=3, random_state=3).fit(X, y)
    b = R2SVMClassifier(n_layers=3, random_state=3).fit(X, y)
    c = R2SVMClassifier(n_layers=3, random_state=4).fit(X, y)
    assert np.array_equal(a.transform(X), b.transform(X))
    assert not np.allclose(a.projections_[0], c.projections_[0])


def test_string_labels_round_trip():
    X, y = _xor_blobs()
    names = np.array(["a", "b", "c"])[y]
    clf = R2SVMClassifier(n_layers=2, random_state=0).fit(X, names)
    ref = R2SVMClassifier(n_layers=2, random_state=0).fit(X, y)
    assert np.array_equal(clf.predict(X), np.array(["a", "b", "c"])[ref.predict(X)])


def test_bad_input_is_refused_by_name():
    X, y = _xor_blobs(n_per_blob=10)
    with pytest.raises(NotFittedError):
        R2SVMClassifier().predict(X)
    clf = R2SVMClassifier(n_layers=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but R2SVMClassifier is expecting 2"):
        clf.predict(np.hstack([X, X[:, :1]]))
    with pytest.raises(ValueError, match="y: expected at least 2 classes"):
        R2SVMClassifier().fit(X, np.ones(len(X), dtype=int))
    with pytest.raises(ValueError, match="y: Unknown label type"):
        R2SVMClassifier().fit(X, y + 0.5)
    for beta in (0.0, -1.0):
        with pytest.raises(ValueError, match="beta"):
            R2SVMClassifier(beta=beta).fit(X, y)
    with pytest.raises(ValueError, match="C: expected a value > 0"):
        R2SVMClassifier(C=0.0).fit(X, y)
    with pytest.raises(ValueError, match="validation_fraction"):
        R2SVMClassifier(early_stopping=True, validation_fraction=1.0).fit(X, y)
    with pytest.raises(TypeError, match="n_layers"):
        R2SVMClassifier(n_layers=2.5).fit(X, y)
