"""Every objective of structlearn.objectives trains a small network on scikit-learn's digits.

Prints each objective's ``parts`` per epoch (information in nats). What the principles predict:

* cross-entropy: accuracy up;
* MCR² (Yu et al. 2020): the rate reduction ΔR = R − R_c goes up;
* variational IB (Alemi et al. 2017), loss = CE + β·KL: the KL term (the I(X;T) bound) is lower
  for larger β;
* nonlinear IB and squared IB (Kolchinsky et al. 2019): the KDE bound on I(X;T) is lower for
  larger β;
* Gaussian InfoMax (Linsker 1988): the entropy of the features rises toward its bound;
* Bell–Sejnowski ICA and sparse coding read the pixels through their own layer / dictionary.

Runs in about a minute on two CPU cores: ``.venv/bin/python examples/objectives_on_digits.py``.
"""

from __future__ import annotations

import os

os.environ.setdefault("STRUCTLEARN_QUIET", "1")

import numpy as np
import torch

from structlearn.data.vision import load_digits_data
from structlearn.models.mlp import MLP
from structlearn.objectives import (
    CrossEntropy,
    GaussianInfoMax,
    InfoMaxICA,
    MaximalCodingRateReduction,
    NonlinearIB,
    SparseCoding,
    VariationalIB,
)
from structlearn.train import TrainConfig, train

EPOCHS = 8


def show(title: str, history: list[dict], keys: list[str]) -> None:
    print(f"\n== {title}")
    print("epoch " + " ".join(f"{k:>18}" for k in keys))
    for row in history:
        if row["epoch"] == 0:
            continue
        print(
            f"{row['epoch']:5d} " + " ".join(f"{row.get('train_' + k, np.nan):18.4f}" for k in keys)
        )


def run(title, widths, activation, objective, keys, data, **config):
    model = MLP(widths, activation, random_state=0)
    cfg = dict(
        optimizer="adam",
        lr=1e-3,
        epochs=EPOCHS,
        batch_size=256,
        record_epochs="none",
        record_gradients=False,
        store_activations=False,
        seed=0,
    )
    cfg.update(config)
    result = train(model, objective, data, config=TrainConfig(**cfg))
    show(title, result.history, keys)
    return result


def plain_loop(title, objective, X, keys, steps_per_epoch=7, lr=1e-2):
    """Objectives that hold their own layer (ICA unmixing, dictionary) read the pixels directly."""
    opt = torch.optim.Adam(objective.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(0)
    history = []
    for epoch in range(1, EPOCHS + 1):
        sums = dict.fromkeys(keys, 0.0)
        for batch in torch.randperm(len(X), generator=gen).split(len(X) // steps_per_epoch):
            opt.zero_grad()
            loss = objective(X[batch])
            loss.total.backward()
            opt.step()
            for k in keys:
                sums[k] += loss.parts[k] / steps_per_epoch
        history.append({"epoch": epoch, **{f"train_{k}": v for k, v in sums.items()}})
    show(title, history, keys)


def main() -> None:
    torch.set_num_threads(1)  # small networks: threads only add contention on a shared machine
    digits = load_digits_data()
    X = torch.tensor(digits.X, dtype=torch.float32)
    y = torch.tensor(digits.y)
    data = (X, y)

    run(
        "cross-entropy",
        [64, 64, 10],
        "relu",
        CrossEntropy(),
        ["cross_entropy_nats", "accuracy"],
        data,
    )

    run(
        "MCR² (eps=0.5, features on the sphere): ΔR should rise",
        [64, 128, 32],
        "relu",
        MaximalCodingRateReduction(eps=0.5, n_classes=10),
        ["R_nats", "Rc_nats", "deltaR_nats"],
        data,
    )

    kl_final = {}
    for beta in (1e-4, 1e-2, 1e-1):
        vib = VariationalIB(64, 8, 10, beta=beta)
        result = run(
            f"variational IB, beta={beta:g}: loss = CE + beta·KL",
            [64, 128, 64],
            "relu",
            vib,
            ["I_XT_upper_nats", "I_TY_lower_nats", "accuracy"],
            data,
            lr=3e-3,
        )
        kl_final[beta] = result.history[-1]["train_I_XT_upper_nats"]
    print(
        "\nVIB: final KL (I(X;T) bound, nats) by beta:",
        {b: round(v, 3) for b, v in kl_final.items()},
    )

    nib_final = {}
    for beta, squared in ((0.01, False), (0.3, False), (0.1, True)):
        nib = NonlinearIB(4, 10, beta=beta, noise_variance=0.5, squared=squared, decoder_hidden=32)
        name = f"{'squared ' if squared else ''}nonlinear IB, beta={beta:g}"
        result = run(
            f"{name} (KDE bound, noise variance 0.5)",
            [64, 128, 4],
            "relu",
            nib,
            ["I_XT_upper_nats", "I_TY_lower_nats", "accuracy"],
            data,
            lr=3e-3,
        )
        nib_final[name] = round(result.history[-1]["train_I_XT_upper_nats"], 3)
    print("\nNIB: final KDE bound on I(X;T) (nats):", nib_final)

    run(
        "Gaussian InfoMax (unit variance per feature, noise variance 1e-3)",
        [64, 128, 16],
        "tanh",
        GaussianInfoMax(variance=1.0, ridge=1e-3),
        ["entropy_nats", "entropy_bound_nats"],
        data,
    )

    # ICA and sparse coding on centred pixels (8x8 digits: 64 inputs)
    Xc = X - X.mean(0)
    keep = Xc.std(0) > 1e-3  # drop the always-blank border pixels (ICA needs full rank)
    plain_loop(
        "Bell–Sejnowski InfoMax ICA (sech), entropy gain H(y) - H(x)",
        InfoMaxICA(int(keep.sum()), nonlinearity="sech"),
        Xc[:, keep] / Xc[:, keep].std(),
        ["entropy_gain_nats"],
    )
    plain_loop(
        "sparse coding, 96 atoms, lambda=0.1 (FISTA)",
        SparseCoding(64, 96, lambda1=0.1, max_iter=300, tol=1e-3),
        Xc,
        ["energy", "reconstruction_mse", "fraction_nonzero"],
    )


if __name__ == "__main__":
    main()
