"""Recording format: round trip through parts and index, compact storage, errors naming what is missing."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structlearn.recordings import RecordingWriter, load_recordings
from structlearn.train import log_spaced_epochs


def make_writer(tmp_path, *, dtype="float16", reducers=None, groups=("a", "b")):
    return RecordingWriter(
        layer_names=["a", "b"],
        n_units=[3, 2],
        n_eval=5,
        labels=np.array([0, 1, 1, 0, 2]),
        activation_dtype=dtype,
        gradient_groups=None if groups is None else list(groups),
        reducers=reducers,
        run_dir=tmp_path,
    )


def fake_record(rng, epoch):
    acts = [rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=(5, 2)).astype(np.float32)]
    grad = (rng.random(2), rng.random(2)) if epoch > 0 else None
    return acts, grad


def test_round_trip_over_several_parts(tmp_path):
    rng = np.random.default_rng(0)
    writer = make_writer(tmp_path)
    written = {}
    for epoch in (0, 1, 3, 7, 20):
        acts, grad = fake_record(rng, epoch)
        writer.add(epoch, acts, grad)
        written[epoch] = (acts, grad)
        if epoch in (1, 7):  # two checkpoints, then the end
            writer.flush()
            writer.write_index()
    writer.flush()
    writer.write_index()
    rec = load_recordings(tmp_path)
    assert rec.epochs.tolist() == [0, 1, 3, 7, 20]
    assert len(json.loads((tmp_path / "recordings" / "index.json").read_text())["parts"]) == 3
    assert rec.labels.tolist() == [0, 1, 1, 0, 2]
    assert rec.activations[0].shape == (5, 5, 3) and rec.activations[1].shape == (5, 5, 2)
    assert rec.activations[0].dtype == np.float16
    for i, epoch in enumerate(rec.epochs):
        acts, _ = written[int(epoch)]
        for layer in range(2):
            # float16 keeps 11 significant bits: relative error <= 2**-11.
            np.testing.assert_array_equal(rec.activations[layer][i], acts[layer].astype(np.float16))
            np.testing.assert_allclose(
                rec.at(layer, int(epoch)), acts[layer], rtol=2**-11, atol=1e-7
            )
    assert rec.gradient_epochs.tolist() == [1, 3, 7, 20]
    want_mean = np.array([written[e][1][0] for e in (1, 3, 7, 20)])
    np.testing.assert_array_equal(rec.gradient_mean, want_mean)
    want_std = np.array([written[e][1][1] for e in (1, 3, 7, 20)])
    np.testing.assert_array_equal(rec.gradient_std, want_std)
    np.testing.assert_array_equal(rec.gradient_snr(), want_mean / want_std)


def test_values_beyond_float16_range_are_kept_in_float32(tmp_path):
    writer = make_writer(tmp_path)
    big = np.full((5, 3), 1e6, dtype=np.float32)
    writer.add(0, [big, np.zeros((5, 2), np.float32)], None)
    writer.add(1, [np.ones((5, 3), np.float32), np.zeros((5, 2), np.float32)], None)
    writer.flush()
    writer.write_index()
    rec = load_recordings(tmp_path)
    assert rec.activations[0].dtype == np.float32
    assert float(rec.activations[0][0].max()) == 1e6
    assert rec.activations[1].dtype == np.float16


def test_reducers_and_no_activations(tmp_path):
    reducers = {
        "mean_abs": lambda a, y: np.abs(a).mean(),
        "class_means": lambda a, y: [a[y == c].mean() for c in range(3)],
    }
    writer = make_writer(tmp_path, dtype=None, reducers=reducers)
    rng = np.random.default_rng(1)
    acts = []
    for epoch in (0, 2):
        a, _ = fake_record(rng, epoch)
        acts.append(a)
        writer.add(epoch, a, None)
    writer.flush()
    writer.write_index()
    rec = load_recordings(tmp_path)
    assert rec.reduced["mean_abs"].shape == (2, 2)
    assert rec.reduced["class_means"].shape == (2, 2, 3)
    y = np.array([0, 1, 1, 0, 2])
    for i in range(2):
        for layer in range(2):
            a = acts[i][layer]
            assert rec.reduced["mean_abs"][i, layer] == pytest.approx(np.abs(a).mean(), rel=1e-6)
            assert rec.reduced["class_means"][i, layer, 1] == pytest.approx(
                a[y == 1].mean(), rel=1e-6
            )
    with pytest.raises(ValueError, match="layer: activations were not stored"):
        rec.activations[0]


def test_reducer_of_changing_shape_is_refused(tmp_path):
    writer = make_writer(tmp_path, reducers={"bad": lambda a, y: np.zeros(a.shape[1])})
    with pytest.raises(ValueError, match="reducers"):
        writer.add(0, [np.zeros((5, 3), np.float32), np.zeros((5, 2), np.float32)], None)


def test_missing_layer_epoch_and_run(tmp_path):
    writer = make_writer(tmp_path)
    writer.add(0, *fake_record(np.random.default_rng(0), 0))
    writer.flush()
    writer.write_index()
    rec = load_recordings(tmp_path)
    with pytest.raises(ValueError, match="layer: no layer 2"):
        rec.activations[2]
    with pytest.raises(ValueError, match="epoch: epoch 5 was not recorded"):
        rec.at(0, 5)
    assert len(list(rec.activations)) == 2
    with pytest.raises(ValueError, match="run_dir"):
        load_recordings(tmp_path / "nowhere")


def test_corrupt_part_is_refused(tmp_path):
    writer = make_writer(tmp_path)
    writer.add(0, *fake_record(np.random.default_rng(0), 0))
    writer.flush()
    writer.write_index()
    (tmp_path / "recordings" / "part-00000.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"run_dir: recording part .* corrupt"):
        load_recordings(tmp_path)


def test_unlisted_parts_are_deleted_and_ignored(tmp_path):
    writer = make_writer(tmp_path)
    writer.add(0, *fake_record(np.random.default_rng(0), 0))
    writer.flush()
    stale = tmp_path / "recordings" / "part-00007.npz"
    stale.write_bytes(b"left by an interrupted run")
    writer.write_index()
    assert not stale.exists()
    assert load_recordings(tmp_path).epochs.tolist() == [0]


@settings(max_examples=60, deadline=None)
@given(n_epochs=st.integers(0, 20000), n_points=st.integers(1, 1500))
def test_log_spaced_epochs_properties(n_epochs, n_points):
    e = log_spaced_epochs(n_epochs, n_points)
    assert e.size == min(n_points, n_epochs + 1)
    assert np.all(np.diff(e) > 0)
    assert e[-1] == n_epochs
    if e.size > 1:
        assert e[0] == 0


def test_log_spaced_epochs_are_dense_early_and_sparse_late():
    e = log_spaced_epochs(10000, 100)
    early = np.sum(e <= 100)
    late = np.sum(e > 9000)
    # geometric spacing: [0, 100] holds about half of log(101)/log(10001) of the points.
    assert early >= 40 and late <= 3


def _arrays_recordings():
    from structlearn.recordings import Recordings

    rng = np.random.default_rng(3)
    acts = [rng.normal(size=(4, 6, 3)), rng.normal(size=(4, 6, 2))]
    mean, std = rng.random((4, 2)) + 0.1, rng.random((4, 2)) + 0.1
    rec = Recordings.from_arrays(
        acts,
        [0, 1, 1, 0, 2, 2],
        [0, 2, 5, 9],
        gradient_mean=mean,
        gradient_std=std,
        layer_names=["a", "b"],
    )
    return rec, acts, mean, std


def test_from_arrays_subset_selects_the_same_numbers():
    rec, acts, mean, std = _arrays_recordings()
    sub = rec.subset(layers=[1], rows=[5, 0, 2], epochs=[2, 9])
    assert sub.layer_names == ["b"] and sub.n_units == [2]
    assert sub.epochs.tolist() == [2, 9] and sub.labels.tolist() == [2, 0, 1]
    np.testing.assert_array_equal(sub.activations[0], acts[1][[1, 3]][:, [5, 0, 2]])
    assert sub.gradient_epochs.tolist() == [2, 9] and sub.gradient_groups == ["b"]
    np.testing.assert_array_equal(sub.gradient_snr(), (mean / std)[[1, 3]][:, [1]])
    whole = rec.subset()
    np.testing.assert_array_equal(whole.activations[0], rec.activations[0])
    assert whole.gradient_mean.shape == (4, 2)


def test_from_arrays_and_subset_refuse_bad_input_naming_the_argument():
    from structlearn.recordings import Recordings

    rec, acts, _, _ = _arrays_recordings()
    with pytest.raises(ValueError, match="epochs: expected increasing"):
        Recordings.from_arrays(acts, None, [0, 5, 5, 9])
    with pytest.raises(ValueError, match="layer_names"):
        Recordings.from_arrays(acts, None, layer_names=["a"])
    with pytest.raises(ValueError, match="gradient_mean"):
        Recordings.from_arrays(acts, None, gradient_mean=np.ones((4, 2)))
    with pytest.raises(ValueError, match="epoch 3 was not recorded"):
        rec.subset(epochs=[0, 3])
    with pytest.raises(ValueError, match=r"rows: expected indices in \[0, 6\)"):
        rec.subset(rows=[0, 6])
    with pytest.raises(ValueError, match="layers: no layer 2"):
        rec.subset(layers=[2])


def test_recordings_from_arrays_is_a_deprecated_alias():
    from structlearn.analysis.info_plane import recordings_from_arrays

    _, acts, _, _ = _arrays_recordings()
    with pytest.warns(DeprecationWarning, match="Recordings.from_arrays"):
        rec = recordings_from_arrays(acts, [0, 1, 1, 0, 2, 2], [0, 2, 5, 9])
    np.testing.assert_array_equal(rec.activations[1], acts[1])
