"""A sweep on a local Dask cluster of two worker processes gives the serial results, each run cached once."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from helpers import cache, models, sweeps, training

distributed = pytest.importorskip("distributed")

RNG = np.random.default_rng(0)
X = RNG.random((64, 8, 8, 1)).astype(np.float32)
Y = keras.utils.to_categorical(RNG.integers(0, 3, 64), 3)


def build(width: int) -> keras.Model:
    """A module-level builder, as a notebook's would be shipped by cloudpickle."""
    return models.compile_classifier(models.build_mlp((8, 8, 1), [width], num_classes=3))


def sweep(cache_dir, executor=None, prefix="dask", widths=(2, 4)):
    return sweeps.run_sweep(
        prefix,
        build,
        widths,
        X,
        Y,
        param="width",
        seeds=[0, 1],
        validation_data=(X[:16], Y[:16]),
        epochs=2,
        batch_size=16,
        cache_dir=cache_dir,
        executor=executor,
    )


def test_a_sweep_on_two_dask_workers_equals_the_serial_one_and_caches_each_run_once(tmp_path, monkeypatch):
    monkeypatch.setenv("IMGCLS_CACHE_MODE", "train")
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")
    serial_table, serial = sweep(tmp_path / "serial")
    shared = tmp_path / "shared"
    monkeypatch.setattr(training, "_original_fit", lambda *a, **k: pytest.fail("the workers train, not this process"))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            table, histories = sweep(shared, client.get_executor())
            workers = {w.get("id") for w in client.scheduler_info()["workers"].values()}
            assert len(workers) == 2
            before = {p.name: p.read_bytes() for p in (shared / "histories").glob("*.json")}
            again, _ = sweep(shared, client.get_executor())  # every run is cached now: nothing trains
            assert {p.name: p.read_bytes() for p in (shared / "histories").glob("*.json")} == before
            monkeypatch.setenv("IMGCLS_DASK_SCHEDULER", cluster.scheduler_address)  # the one setting
            sweep(shared, prefix="setting", widths=(3,))
            assert len(cache.list_entries(shared)) == 6
    dask_runs = sorted(name for name in cache.list_entries(shared) if name.startswith("dask_"))
    assert dask_runs == sorted(cache.list_entries(tmp_path / "serial")) and len(dask_runs) == 4, "each lands once"
    assert set(histories) == set(serial)
    for job, history in serial.items():
        for metric, values in history.items():
            np.testing.assert_allclose(histories[job][metric], values, rtol=1e-4, err_msg=f"{job} {metric}")
    np.testing.assert_allclose(table["best_val_loss"], serial_table["best_val_loss"], rtol=1e-4)
    np.testing.assert_allclose(again["best_val_loss"], serial_table["best_val_loss"], rtol=1e-4)
