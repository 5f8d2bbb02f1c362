"""The Information Bottleneck curve of a discrete joint distribution (nats).

Tishby, Pereira & Bialek (1999), *The information bottleneck method* (arXiv:physics/0004057): the
encoders :math:`p(t\\mid x)` minimising :math:`I(X;T) - \\beta I(T;Y)` satisfy the self-consistent
equations

.. math:: p(t\\mid x) = \\frac{p(t)}{Z(x,\\beta)} e^{-\\beta D_{KL}[p(y\\mid x)\\Vert p(y\\mid t)]},\\quad
          p(t) = \\sum_x p(x)p(t\\mid x),\\quad
          p(y\\mid t) = \\frac{1}{p(t)}\\sum_x p(y\\mid x)p(t\\mid x)p(x),

iterated Blahut--Arimoto style. Over increasing :math:`\\beta` we anneal (Slonim, 2002, *The
information bottleneck: theory and applications*, ch. 3 "deterministic annealing"): each cluster
is split in two slightly perturbed copies, the equations are iterated to convergence, and copies
that did not separate are merged again, so the number of active clusters follows the phase
transitions instead of the cardinality bound ``n_t``. Inputs with identical :math:`p(y\\mid x)`
are merged first: every optimal encoder is constant on them (averaging an encoder over them keeps
:math:`I(T;Y)` and, by convexity, cannot raise :math:`I(X;T)`), so the curve is exact and the
work scales with the number of distinct :math:`p(y\\mid x)`, not of inputs.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np

from structlearn.estimators._common import ConvergenceWarning
from structlearn.estimators.discrete import (
    _entropy_terms,
    check_joint,
    mutual_information_of_joint,
)
from structlearn.results import AnalysisResult, new_axes
from structlearn.utils.validation import check_array, check_random_state, check_scalar

__all__ = ["IBCheck", "IBCurve", "ib_check", "ib_curve", "ib_self_consistency", "tishby_joint"]

_TINY = 1e-300
_DEAD = 1e-12


@dataclasses.dataclass
class IBCurve(AnalysisResult):
    """One IB curve: a point (I(X;T), I(T;Y)) in nats per value of beta (ascending)."""

    betas: np.ndarray
    I_XT: np.ndarray
    I_TY: np.ndarray
    n_clusters: np.ndarray
    n_iter: np.ndarray
    I_XY: float
    H_X: float
    encoders: list[np.ndarray] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; information keys end in ``_nats``; encoders are left out."""
        return {
            "betas": self.betas.tolist(),
            "I_XT_nats": self.I_XT.tolist(),
            "I_TY_nats": self.I_TY.tolist(),
            "n_clusters": self.n_clusters.tolist(),
            "n_iter": self.n_iter.tolist(),
            "I_XY_nats": float(self.I_XY),
            "H_X_nats": float(self.H_X),
        }

    def plot(self, ax: Any = None) -> Any:
        """The curve in the information plane, with the bound I(T;Y) <= I(X;Y)."""
        ax = new_axes(ax)
        ax.plot(self.I_XT, self.I_TY, "-o", ms=3, label="IB curve")
        ax.axhline(self.I_XY, ls="--", c="grey", lw=1, label="I(X;Y)")
        ax.set_xlabel("I(X;T) [nats]")
        ax.set_ylabel("I(T;Y) [nats]")
        ax.legend(frameon=False)
        return ax


@dataclasses.dataclass
class _Problem:
    px: np.ndarray  # (n_groups,) p of each group of equivalent inputs
    pyx: np.ndarray  # (n_groups, n_y) p(y|x)
    neg_h: np.ndarray  # (n_groups,) sum_y p(y|x) log p(y|x)
    py: np.ndarray  # (n_y,)
    group: np.ndarray  # (n_x,) group index of each original input


def _problem(p: np.ndarray, merge_equivalent: bool) -> _Problem:
    px = p.sum(axis=1)
    pyx = np.where(px[:, None] > 0, p / np.where(px > 0, px, 1.0)[:, None], 1.0 / p.shape[1])
    if merge_equivalent:
        _, group = np.unique(np.round(pyx, 12), axis=0, return_inverse=True)
        group = group.reshape(-1)
        pg = np.bincount(group, weights=px)
        pyg = np.zeros((pg.size, p.shape[1]))
        np.add.at(pyg, group, p)
        pyg /= np.where(pg > 0, pg, 1.0)[:, None]
        pyg[pg == 0] = 1.0 / p.shape[1]
        px, pyx = pg, pyg
    else:
        group = np.arange(p.shape[0])
    neg_h = -_entropy_terms(pyx, axis=1)
    return _Problem(px, pyx, neg_h, p.sum(axis=0), group)


def _encoder_and_free_energy(
    prob: _Problem, pt: np.ndarray, pyt: np.ndarray, beta: float
) -> tuple[np.ndarray, float]:
    r"""IB update p(t|x) proportional to p(t) exp(-beta KL[p(y|x) || p(y|t)]), shape (n_x, n_t).

    Also returns the free energy :math:`-\sum_x p(x)\log Z(x,\beta)`, which equals the IB
    Lagrangian at a fixed point (Tishby et al., 1999, eq. 29) and never increases along the
    iteration.
    """
    kl = prob.neg_h[:, None] - prob.pyx @ np.log(np.maximum(pyt, _TINY)).T
    logits = np.log(np.maximum(pt, _TINY))[None, :] - beta * kl
    top = logits.max(axis=1, keepdims=True)
    enc = np.exp(logits - top)
    z = enc.sum(axis=1, keepdims=True)
    enc /= z
    free_energy = -float(prob.px @ (np.log(z[:, 0]) + top[:, 0]))
    return enc, free_energy


def _encoder(prob: _Problem, pt: np.ndarray, pyt: np.ndarray, beta: float) -> np.ndarray:
    return _encoder_and_free_energy(prob, pt, pyt, beta)[0]


def _marginals(prob: _Problem, enc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pt = prob.px @ enc
    pyt = (enc * prob.px[:, None]).T @ prob.pyx / np.maximum(pt, _TINY)[:, None]
    return pt, pyt


def _informations(prob: _Problem, enc: np.ndarray) -> tuple[float, float]:
    pt, pyt = _marginals(prob, enc)
    ratio = np.where(enc > 0, enc / np.maximum(pt, _TINY)[None, :], 1.0)
    i_xt = float(prob.px @ (enc * np.log(ratio)).sum(axis=1))
    i_ty = float(_entropy_terms(prob.py, None) - pt @ _entropy_terms(pyt, axis=1))
    return max(i_xt, 0.0), max(i_ty, 0.0)


def _iterate(
    prob: _Problem, pt: np.ndarray, pyt: np.ndarray, beta: float, max_iter: int, tol: float
) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Fixed-point iteration until both the free energy changes by less than ``tol`` nats and
    the cluster parameters p(t) p(y|t) move by less than ``sqrt(tol)`` (max-abs). The free energy
    alone is flat to second order where clusters have just been split (the copies separate
    slowly at first): a test on it alone stops at the trivial solution (issue 14, case a)."""
    previous, mass = np.inf, pt[:, None] * pyt
    step_tol = np.sqrt(tol)
    for it in range(1, max_iter + 1):
        enc, free_energy = _encoder_and_free_energy(prob, pt, pyt, beta)
        pt, pyt = _marginals(prob, enc)
        new_mass = pt[:, None] * pyt
        step = float(np.abs(new_mass - mass).max())
        if abs(previous - free_energy) < tol and step < step_tol:
            return pt, pyt, it, True
        previous, mass = free_energy, new_mass
    return pt, pyt, max_iter, False


def _merge(pt: np.ndarray, pyt: np.ndarray, merge_tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Merge clusters with equal p(y|t) (their encoder columns are proportional) and drop dead ones."""
    alive = pt > _DEAD
    pt, pyt = pt[alive], pyt[alive]
    _, idx = np.unique(np.round(pyt / merge_tol), axis=0, return_inverse=True)
    idx = idx.reshape(-1)
    new_pt = np.bincount(idx, weights=pt)
    new_pyt = np.zeros((new_pt.size, pyt.shape[1]))
    np.add.at(new_pyt, idx, pyt * pt[:, None])
    return new_pt, new_pyt / new_pt[:, None]


def _split(
    pt: np.ndarray, pyt: np.ndarray, n_t: int, rng: np.random.Generator, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Split the heaviest clusters (as many as n_t allows) into two perturbed copies."""
    n_split = min(pt.size, n_t - pt.size)
    if n_split <= 0:
        return pt, pyt
    order = np.argsort(-pt, kind="stable")[:n_split]
    noise = np.exp(scale * rng.standard_normal((n_split, pyt.shape[1])))
    plus, minus = pyt[order] * noise, pyt[order] / noise
    plus /= plus.sum(axis=1, keepdims=True)
    minus /= minus.sum(axis=1, keepdims=True)
    pt = pt.copy()
    pt[order] *= 0.5
    pyt = pyt.copy()
    pyt[order] = plus
    return np.concatenate([pt, pt[order]]), np.concatenate([pyt, minus])


@dataclasses.dataclass
class _Solution:
    pt: np.ndarray
    pyt: np.ndarray
    lagrangian: float
    n_iter: int
    converged: bool


class _Solver:
    """Solves the IB at one beta from several starts and keeps the lowest Lagrangian."""

    def __init__(self, prob: _Problem, n_t: int, max_iter: int, tol: float, rng: Any) -> None:
        self.prob, self.n_t, self.max_iter, self.tol, self.rng = prob, n_t, max_iter, tol, rng

    def settle(
        self, pt: np.ndarray, pyt: np.ndarray, beta: float, quick: bool = False
    ) -> _Solution:
        """Iterate to a fixed point, merge clusters that coincide, and iterate once more.
        ``quick``: a looser stop, enough to rank trial splits (the kept one is settled fully)."""
        tol = max(self.tol, _QUICK_TOL) if quick else self.tol
        max_iter = min(self.max_iter, _QUICK_ITER) if quick else self.max_iter
        pt, pyt, n_iter, ok = _iterate(self.prob, pt, pyt, beta, max_iter, tol)
        size = pt.size
        pt, pyt = _merge(pt, pyt, _MERGE_TOL)
        while pt.size < size:  # merged clusters: a new fixed point, which may merge further
            size = pt.size
            pt, pyt, more, ok = _iterate(self.prob, pt, pyt, beta, max_iter, tol)
            n_iter += more
            pt, pyt = _merge(pt, pyt, _MERGE_TOL)
        i_xt, i_ty = _informations(self.prob, _encoder(self.prob, pt, pyt, beta))
        return _Solution(pt, pyt, i_xt - beta * i_ty, n_iter, ok)

    def split_until_no_gain(self, start: _Solution, beta: float) -> _Solution:
        """Split and re-settle while that lowers the Lagrangian (issue 14, case b): first every
        cluster at once (as many as ``n_t`` allows), then, if that did not help, each of the
        ``_SINGLE_SPLITS`` heaviest clusters alone."""
        best = self.settle(start.pt, start.pyt, beta)
        while best.pt.size < self.n_t:
            trial = self._best_split(best, beta)
            if trial.lagrangian < best.lagrangian - _GAIN_TOL:
                trial = self.settle(trial.pt, trial.pyt, beta)
                trial.n_iter += best.n_iter
                best = trial
            else:
                best.converged = best.converged and trial.converged
                break
        return best

    def _best_split(self, sol: _Solution, beta: float) -> _Solution:
        pt, pyt = _split(sol.pt, sol.pyt, self.n_t, self.rng, scale=_SPLIT_SCALE)
        best = self.settle(pt, pyt, beta, quick=True)
        if best.lagrangian < sol.lagrangian - _GAIN_TOL:
            return best
        for j in np.argsort(-sol.pt, kind="stable")[:_SINGLE_SPLITS]:
            keep = np.ones(sol.pt.size, dtype=bool)
            keep[j] = False
            pt, pyt = _split(sol.pt[[j]], sol.pyt[[j]], 2, self.rng, scale=_SPLIT_SCALE)
            trial = self.settle(
                np.concatenate([sol.pt[keep], pt]),
                np.concatenate([sol.pyt[keep], pyt]),
                beta,
                quick=True,
            )
            if trial.lagrangian < best.lagrangian:
                best = trial
        return best

    def random_start(self, beta: float) -> _Solution:
        """A fixed point from a random encoder with as many clusters as allowed."""
        enc = self.rng.dirichlet(np.ones(self.n_t), size=self.prob.px.size)
        return self.settle(*_marginals(self.prob, enc), beta, quick=True)


_MERGE_TOL = 1e-5  # clusters whose p(y|t) agree to this are one (fixed-point noise is below it)
_SPLIT_SCALE = 0.2
_GAIN_TOL = 1e-12  # nats: a split must lower the Lagrangian by more than this to be kept
_QUICK_TOL, _QUICK_ITER = 1e-7, 2000  # stop of the trial splits (ranked, then settled fully)
_SINGLE_SPLITS = 8  # heaviest clusters tried one by one when splitting all of them did not help


def _check_betas(betas: Any) -> np.ndarray:
    b = check_array(betas, "betas", ndim=1)
    if (b <= 0).any():
        raise ValueError(f"betas: expected positive values, got minimum {b.min():.3g}")
    return b


def _solve_all(
    solver: _Solver, betas: np.ndarray, annealing: bool, n_restarts: int, reverse: bool
) -> list[_Solution]:
    """Best solution per beta: annealing forward (split until no split helps), ``n_restarts``
    random starts, then a reverse sweep warm-starting each beta from the next higher one."""
    prob = solver.prob
    current = _Solution(np.ones(1), prob.py[None, :].copy(), 0.0, 0, True)
    sols: list[_Solution] = []
    for beta in betas:
        annealed = solver.split_until_no_gain(current, beta) if annealing else None
        restarts = [solver.random_start(beta) for _ in range(n_restarts)]
        best = min(restarts, key=lambda c: c.lagrangian) if restarts else annealed
        if annealed is not None and annealed.lagrangian <= best.lagrangian + _GAIN_TOL:
            current = annealed
        else:  # a restart wins: settle it fully (restarts are ranked after a quick settle)
            current = solver.settle(best.pt, best.pyt, beta)
        sols.append(current)
    if reverse:
        for i in range(len(sols) - 2, -1, -1):
            trial = solver.settle(sols[i + 1].pt, sols[i + 1].pyt, betas[i], quick=True)
            if trial.lagrangian < sols[i].lagrangian - _GAIN_TOL:
                trial = solver.settle(trial.pt, trial.pyt, betas[i])
                if trial.lagrangian < sols[i].lagrangian - _GAIN_TOL:
                    sols[i] = trial
    return sols


def ib_curve(
    p_xy: Any,
    betas: Any,
    n_t: int | None = None,
    *,
    annealing: bool = True,
    n_restarts: int = 3,
    reverse_annealing: bool = True,
    random_state: int | np.random.Generator | None = 0,
    max_iter: int = 20000,
    tol: float = 1e-10,
    merge_equivalent: bool = True,
    return_encoders: bool = False,
) -> IBCurve:
    r"""The IB curve :math:`\{(I(X;T), I(T;Y))\}_\beta` of a discrete joint distribution (nats).

    At each beta the lowest IB Lagrangian :math:`I(X;T) - \beta I(T;Y)` found among these starts
    is kept: the previous beta's solution, split and re-solved for as long as a split lowers the
    Lagrangian (deterministic annealing); ``n_restarts`` random encoders; and, after the forward
    sweep, the next higher beta's solution (reverse annealing), which recovers optima that the
    forward path skipped past.

    Parameters
    ----------
    p_xy : array-like, shape (n_x, n_y)
        Joint distribution p(x, y): non-negative, summing to 1.
    betas : array-like, shape (n_betas,)
        Positive trade-off parameters; solved in ascending order.
    n_t : int or None
        Maximum cardinality of T (default: the number of inputs).
    annealing : bool
        Warm-start each beta from the previous one and split (see above); with ``False`` only
        the random restarts run (at least one).
    n_restarts : int
        Random encoders (``n_t`` clusters, Dirichlet(1) rows) solved at every beta, seeded by
        ``random_state``. Each iteration of a restart costs O(n_x n_t n_y): with thousands of
        distinct p(y|x) (e.g. ``merge_equivalent=False`` on a large task) set 0 and rely on
        annealing.
    reverse_annealing : bool
        The descending sweep described above.
    random_state : int, Generator or None
        Seeds the split perturbations and the random encoders.
    max_iter, tol : int, float
        Fixed-point iterations stop when the free energy (the IB Lagrangian at a fixed point)
        changes by less than ``tol`` nats and the cluster parameters by less than ``sqrt(tol)``;
        a ``ConvergenceWarning`` is issued if ``max_iter`` is reached.
    merge_equivalent : bool
        Merge inputs with identical p(y|x) first (exact; see the module docstring).
    return_encoders : bool
        Keep each beta's encoder p(t|x), shape (n_x, n_clusters), in ``IBCurve.encoders``.

    Returns
    -------
    IBCurve
        ``betas`` (ascending), ``I_XT``, ``I_TY`` (nats), ``n_clusters`` (distinct clusters:
        those whose p(y|t) differ by more than 1e-5; 1 at the trivial solution), ``n_iter``,
        ``I_XY`` and ``H_X`` (nats).

    Examples
    --------
    >>> p = np.array([[0.25, 0.0], [0.0, 0.25], [0.25, 0.0], [0.0, 0.25]])   # Y a function of X
    >>> c = ib_curve(p, [0.1, 100.0])
    >>> c.I_TY.round(4).tolist(), round(c.I_XY, 4), c.n_clusters.tolist()
    ([0.0, 0.6931], 0.6931, [1, 2])
    >>> round(float(ib_curve(np.eye(3) / 3, [100.0]).I_TY[0]), 4)   # log 3 from a single beta
    1.0986
    """
    p = check_joint(p_xy)
    b = np.sort(_check_betas(betas))
    n_x = p.shape[0]
    n_t = n_x if n_t is None else int(check_scalar(n_t, "n_t", kind=(int, np.integer), low=1))
    check_scalar(n_restarts, "n_restarts", kind=(int, np.integer), low=0 if annealing else 1)
    check_scalar(max_iter, "max_iter", kind=(int, np.integer), low=1)
    check_scalar(tol, "tol", low=0.0, low_inclusive=False)
    rng = check_random_state(random_state)
    prob = _problem(p, merge_equivalent)
    n_t_eff = min(n_t, prob.px.size) if merge_equivalent else n_t
    solver = _Solver(prob, n_t_eff, int(max_iter), float(tol), rng)
    sols = _solve_all(solver, b, annealing, int(n_restarts), reverse_annealing and annealing)
    out = {"I_XT": [], "I_TY": [], "n_clusters": [], "n_iter": [], "encoders": []}
    for beta, sol in zip(b, sols):
        enc = _encoder(prob, sol.pt, sol.pyt, float(beta))
        i_xt, i_ty = _informations(prob, enc)
        out["I_XT"].append(i_xt)
        out["I_TY"].append(i_ty)
        out["n_clusters"].append(sol.pt.size)
        out["n_iter"].append(sol.n_iter)
        if return_encoders:
            out["encoders"].append(enc[prob.group])
    not_converged = [float(beta) for beta, sol in zip(b, sols) if not sol.converged]
    if not_converged:
        warnings.warn(
            f"ib_curve: {len(not_converged)} beta value(s) reached max_iter={max_iter} before "
            f"tol={tol} (first: beta={not_converged[0]:.4g}); points near a phase transition "
            "converge slowly: raise max_iter, loosen tol, or use a denser beta grid",
            ConvergenceWarning,
            stacklevel=2,
        )
    return IBCurve(
        betas=b,
        I_XT=np.array(out["I_XT"]),
        I_TY=np.array(out["I_TY"]),
        n_clusters=np.array(out["n_clusters"]),
        n_iter=np.array(out["n_iter"]),
        I_XY=mutual_information_of_joint(p),
        H_X=float(_entropy_terms(p.sum(axis=1), None)),
        encoders=out["encoders"] if return_encoders else None,
    )


def encoder_informations(p_xy: Any, encoder: Any) -> tuple[float, float]:
    """(I(X;T), I(T;Y)) in nats of an encoder p(t|x) of shape (n_x, n_t) on the joint p(x, y)."""
    p = check_joint(p_xy)
    enc = _check_encoder(encoder, p.shape[0])
    return _informations(_problem(p, merge_equivalent=False), enc)


def _check_encoder(encoder: Any, n_x: int) -> np.ndarray:
    enc = check_array(encoder, "encoder", ndim=2)
    if enc.shape[0] != n_x:
        raise ValueError(f"encoder: expected {n_x} rows (one per x), got shape {enc.shape}")
    if (enc < 0).any() or not np.allclose(enc.sum(axis=1), 1.0, atol=1e-8):
        raise ValueError("encoder: expected rows p(t|x) that are non-negative and sum to 1")
    return enc


def ib_self_consistency(p_xy: Any, encoder: Any, beta: float) -> float:
    r"""How far an encoder p(t|x) is from satisfying the IB self-consistent equations.

    Computes :math:`p(t)` and :math:`p(y|t)` from the encoder, applies one IB update
    :math:`p'(t|x) \propto p(t)\exp(-\beta D_{KL}[p(y|x)\Vert p(y|t)])` and returns the
    p(x)-weighted total-variation distance :math:`\sum_x p(x)\,\tfrac12\sum_t|p'(t|x)-p(t|x)|`, in
    [0, 1]; 0 exactly at a fixed point (every IB optimum is one, but so is, e.g., the trivial
    one-cluster encoder at every beta: use :func:`ib_check` to also compare with the best
    solution found).

    Parameters
    ----------
    p_xy : array-like, shape (n_x, n_y)
        Joint distribution.
    encoder : array-like, shape (n_x, n_t)
        Rows p(t|x), non-negative, summing to 1.
    beta : float
        Trade-off parameter (> 0).

    Examples
    --------
    >>> p = np.array([[0.5, 0.0], [0.0, 0.5]])
    >>> ib_self_consistency(p, np.eye(2), beta=10.0) < 1e-4
    True
    >>> round(ib_self_consistency(p, np.full((2, 2), 0.5), beta=10.0), 6)   # unstable fixed point
    0.0
    """
    p = check_joint(p_xy)
    enc = _check_encoder(encoder, p.shape[0])
    check_scalar(beta, "beta", low=0.0, low_inclusive=False)
    prob = _problem(p, merge_equivalent=False)
    pt, pyt = _marginals(prob, enc)
    updated = _encoder(prob, pt, pyt, float(beta))
    return float(prob.px @ (0.5 * np.abs(updated - enc).sum(axis=1)))


@dataclasses.dataclass
class IBCheck(AnalysisResult):
    """Is an encoder an IB solution at ``beta``? (nats)

    ``self_consistency``: the distance of :func:`ib_self_consistency` (0 at any fixed point);
    ``lagrangian``: its :math:`I(X;T) - \beta I(T;Y)`; ``best_lagrangian``: the lowest found by
    :func:`ib_curve` at that beta with ``n_restarts`` random restarts; ``gap``: the difference
    (>= 0 up to rounding when the encoder is optimal). ``self_consistent`` and ``optimal`` apply
    the tolerances; a fixed point that is not optimal (a saddle or a local optimum, such as the
    trivial encoder above the first transition) is self-consistent but not optimal.
    """

    beta: float
    self_consistency: float
    lagrangian: float
    best_lagrangian: float
    gap: float
    self_consistent: bool
    optimal: bool

    def plot(self, ax: Any = None) -> Any:  # pragma: no cover - a scalar check has no figure
        raise NotImplementedError("IBCheck is a scalar check; plot the IBCurve instead")


def ib_check(
    p_xy: Any,
    encoder: Any,
    beta: float,
    *,
    n_restarts: int = 20,
    random_state: int | np.random.Generator | None = 0,
    atol: float = 1e-6,
) -> IBCheck:
    r"""Check an encoder p(t|x) against the IB equations *and* against the best solution found.

    Every optimum satisfies the self-consistent equations, but so do saddles and local optima
    (the trivial one-cluster encoder is a fixed point at every beta), so self-consistency alone
    cannot say that a point is on the IB curve; this also solves the problem at ``beta`` with
    annealing and ``n_restarts`` seeded random restarts and compares Lagrangians.

    Parameters
    ----------
    p_xy : array-like, shape (n_x, n_y)
        Joint distribution.
    encoder : array-like, shape (n_x, n_t)
        Rows p(t|x), non-negative, summing to 1.
    beta : float
        Trade-off parameter (> 0).
    n_restarts : int
        Random restarts of the reference solution.
    random_state : int, Generator or None
        Seeds the reference solution.
    atol : float
        Tolerance (nats, and total variation) for ``self_consistent`` and ``optimal``.

    Examples
    --------
    >>> p = np.array([[0.5, 0.0], [0.0, 0.5]])
    >>> trivial = ib_check(p, np.full((2, 1), 1.0), beta=10.0)   # a fixed point, not optimal
    >>> trivial.self_consistent, trivial.optimal, round(trivial.gap, 4)   # 0 - (log 2 - 10 log 2)
    (True, False, 6.2383)
    >>> ib_check(p, np.eye(2), beta=10.0).optimal
    True
    """
    p = check_joint(p_xy)
    enc = _check_encoder(encoder, p.shape[0])
    check_scalar(beta, "beta", low=0.0, low_inclusive=False)
    check_scalar(atol, "atol", low=0.0)
    distance = ib_self_consistency(p, enc, beta)
    i_xt, i_ty = _informations(_problem(p, merge_equivalent=False), enc)
    best = ib_curve(p, [beta], n_restarts=n_restarts, random_state=random_state)
    best_l = float(best.I_XT[0] - beta * best.I_TY[0])
    lagrangian = i_xt - beta * i_ty
    gap = lagrangian - best_l
    return IBCheck(float(beta), distance, lagrangian, best_l, gap, distance <= atol, gap <= atol)


def tishby_joint(temperature: float | None = None) -> np.ndarray:
    """Deprecated alias of :func:`structlearn.data.tishby_rule.tishby_joint` (a task, not an
    estimator); it warns and returns the same array."""
    warnings.warn(
        "structlearn.estimators.tishby_joint moved to structlearn.data.tishby_rule.tishby_joint "
        "(the joint of a data set is not an estimator); import it from there",
        DeprecationWarning,
        stacklevel=2,
    )
    from structlearn.data.tishby_rule import tishby_joint as joint

    return joint(temperature)
