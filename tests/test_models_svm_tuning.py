"""CV tuning picks what a plain GridSearchCV picks; R²SVM depth from its layer scores."""

import pytest
from sklearn.datasets import load_wine
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC

from structlearn.data.tabular import make_multiplexer
from structlearn.models.svm_tuning import fit_tuned, tune


def test_linear_and_rbf_choices_equal_grid_search():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    cv = StratifiedKFold(3, shuffle=True, random_state=4)
    Cs = [0.01, 0.1, 1.0, 10.0]
    ours = tune("linear", X, y, [{"C": c} for c in Cs], n_folds=3, seed=4)
    ref = GridSearchCV(LinearSVC(random_state=4), {"C": Cs}, cv=cv).fit(X, y)
    assert ours["C"] == ref.best_params_["C"]
    assert ours["cv_accuracy"] == pytest.approx(ref.best_score_)
    gamma = 1.0 / (X.shape[1] * X.var())
    grid = [{"C": c, "gamma_factor": g} for c in Cs for g in (0.5, 2.0)]
    ours = tune("rbf", X, y, grid, n_folds=3, seed=4)
    ref = GridSearchCV(SVC(), {"C": Cs, "gamma": [0.5 * gamma, 2.0 * gamma]}, cv=cv).fit(X, y)
    assert ours["C"] == ref.best_params_["C"]
    assert ours["gamma_factor"] * gamma == pytest.approx(ref.best_params_["gamma"])


def test_r2svm_depth_is_the_best_cv_layer_and_fit_tuned_uses_it():
    X, y = make_multiplexer(3, 600, random_state=0)
    X = StandardScaler().fit_transform(X)
    best = tune("r2svm", X, y, [{"C": 1.0, "beta": 0.5, "n_layers": 4}], n_folds=3, seed=0)
    assert 1 <= best["n_layers"] <= 4
    clf = fit_tuned("r2svm", best, X, y, seed=0)
    assert clf.n_layers_ == best["n_layers"]
    with pytest.raises(ValueError, match="grid"):
        tune("linear", X, y, [])
    with pytest.raises(ValueError, match="kind"):
        tune("poly", X, y, [{"C": 1.0}])
