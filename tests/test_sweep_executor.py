"""A sweep on local worker processes, or on a local Dask cluster, gives the serial results, each run cached once."""

from __future__ import annotations

import functools
import os

import keras
import numpy as np
import pytest

from helpers import cache, models, settings, sweeps, training

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


def assert_same_histories(histories: dict, serial: dict) -> None:
    assert set(histories) == set(serial)
    for job, history in serial.items():
        for metric, values in history.items():
            np.testing.assert_allclose(histories[job][metric], values, rtol=1e-4, err_msg=f"{job} {metric}")


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
            scattered = []
            scatter = client.scatter
            monkeypatch.setattr(client, "scatter", lambda data, **kw: scattered.append(kw) or scatter(data, **kw))
            _, from_client = sweep(shared, client, prefix="client", widths=(2,))  # the client itself: data sent once
            assert scattered == [{"broadcast": True, "hash": False}]
            monkeypatch.setenv("IMGCLS_DASK_SCHEDULER", cluster.scheduler_address)  # the one setting
            sweep(shared, prefix="setting", widths=(3,))
            assert len(cache.list_entries(shared)) == 8
    dask_runs = sorted(name for name in cache.list_entries(shared) if name.startswith("dask_"))
    assert dask_runs == sorted(cache.list_entries(tmp_path / "serial")) and len(dask_runs) == 4, "each lands once"
    assert_same_histories(histories, serial)
    assert set(from_client) == {(2, 0), (2, 1)}
    for job, history in from_client.items():
        np.testing.assert_allclose(history["val_loss"], serial[job]["val_loss"], rtol=1e-4)
    np.testing.assert_allclose(table["best_val_loss"], serial_table["best_val_loss"], rtol=1e-4)
    np.testing.assert_allclose(again["best_val_loss"], serial_table["best_val_loss"], rtol=1e-4)


def test_a_sweep_on_local_worker_processes_equals_the_serial_one(tmp_path, monkeypatch):
    monkeypatch.setenv("IMGCLS_CACHE_MODE", "train")
    monkeypatch.setenv("IMGCLS_SWEEP_PROCESSES", "1")
    serial_table, serial = sweep(tmp_path / "serial")
    monkeypatch.setenv("IMGCLS_SWEEP_PROCESSES", "2")  # the default on a 2-core machine
    monkeypatch.setattr(training, "_original_fit", lambda *a, **k: pytest.fail("the worker processes train"))
    table, histories = sweep(tmp_path / "local")
    assert sorted(cache.list_entries(tmp_path / "local")) == sorted(cache.list_entries(tmp_path / "serial"))
    assert_same_histories(histories, serial)
    np.testing.assert_allclose(table["best_val_loss"], serial_table["best_val_loss"], rtol=1e-4)
    before = {p.name: p.read_bytes() for p in (tmp_path / "local" / "histories").glob("*.json")}
    monkeypatch.setattr(sweeps, "_local_processes", lambda *a: pytest.fail("all cached: no process is started"))
    sweep(tmp_path / "local")  # loaded here, nothing rewritten
    assert {p.name: p.read_bytes() for p in (tmp_path / "local" / "histories").glob("*.json")} == before


BODY = models.build_mlp((8, 8, 1), [3], num_classes=3).layers[:-1]  # trained layers a grid's builders close over


def build_on_body(layers: list, pretrained: bool) -> keras.Model:
    """Like notebook 10's target models: a copy of ``layers`` (their weights, or new ones) and a new head."""
    from helpers import transfer

    body = transfer.copy_body(layers, (8, 8, 1), pretrained=pretrained, name="body")
    return models.compile_classifier(keras.Sequential([body, keras.layers.Dense(3, activation="softmax")]))


def grid(cache_dir, executor=None, **options) -> dict:
    """A transfer-like grid: each run its own subset of the data, builder and seed."""
    runs = {
        f"grid_{kind}_n{n}": {"build": functools.partial(build_on_body, BODY, kind == "pre"), "x": X[:n], "y": Y[:n]}
        | {"epochs": 2, "seed": n}
        for kind in ("pre", "new")
        for n in (24, 48)
    }
    return sweeps.train_runs(
        runs,
        desc="grid",
        validation_data=(X[48:], Y[48:]),
        batch_size=16,
        cache_dir=cache_dir,
        executor=executor,
        **options,
    )


def test_a_grid_with_data_per_run_on_local_processes_equals_the_serial_one(tmp_path, monkeypatch):
    monkeypatch.setenv("IMGCLS_CACHE_MODE", "train")
    monkeypatch.setenv("IMGCLS_SWEEP_PROCESSES", "1")
    serial = grid(tmp_path / "serial")
    assert list(serial) == ["grid_pre_n24", "grid_pre_n48", "grid_new_n24", "grid_new_n48"]
    assert serial["grid_pre_n24"]["val_loss"] != serial["grid_new_n24"]["val_loss"], "the builders differ"
    monkeypatch.setenv("IMGCLS_SWEEP_PROCESSES", "2")
    with monkeypatch.context() as patch:
        patch.setattr(sweeps, "_local_processes", lambda *a: pytest.fail("local_processes=False: trained here"))
        assert_same_histories(grid(tmp_path / "here", local_processes=False), serial)
    monkeypatch.setattr(training, "_original_fit", lambda *a, **k: pytest.fail("the worker processes train"))
    local = grid(tmp_path / "local")
    serial_entries, local_entries = cache.list_entries(tmp_path / "serial"), cache.list_entries(tmp_path / "local")
    assert {n: e["fingerprint"] for n, e in local_entries.items()} == {
        n: e["fingerprint"] for n, e in serial_entries.items()
    }
    assert_same_histories(local, serial)
    monkeypatch.setattr(sweeps, "_local_processes", lambda *a: pytest.fail("all cached: no process is started"))
    assert grid(tmp_path / "local") == local


def test_a_grid_runs_on_any_executor(tmp_path, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("IMGCLS_CACHE_MODE", "train")
    serial = grid(tmp_path / "serial")
    submitted = []
    with ThreadPoolExecutor(1) as pool:
        submit = pool.submit
        monkeypatch.setattr(pool, "submit", lambda *a, **k: submitted.append(a[1]) or submit(*a, **k))
        threaded = grid(tmp_path / "threads", executor=pool)
    assert submitted == list(serial), "every run went to the executor"
    assert_same_histories(threaded, serial)


def test_the_number_of_sweep_processes_is_checked(monkeypatch):
    monkeypatch.delenv("IMGCLS_SWEEP_PROCESSES")
    assert settings.sweep_processes() == min(os.cpu_count(), 4), "TensorFlow: one process per core, at most 4"
    monkeypatch.setattr(keras.config, "backend", lambda: "jax")
    assert settings.sweep_processes() == 1, "JAX: the notebook's process (benchmarks/executors.py measured it faster)"
    monkeypatch.setenv("IMGCLS_SWEEP_PROCESSES", "3")
    assert settings.sweep_processes() == 3
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("IMGCLS_SWEEP_PROCESSES", bad)
        with pytest.raises(settings.SettingError, match="IMGCLS_SWEEP_PROCESSES must be a whole number"):
            settings.sweep_processes()


KERNEL_SWEEP = """
import helpers as hp
import keras
import numpy as np
from helpers import training

training._original_fit = lambda *a, **k: (_ for _ in ()).throw(AssertionError("trained in the kernel"))
rng = np.random.default_rng(0)
x = rng.random((64, 8, 8, 1)).astype("float32")
y = keras.utils.to_categorical(rng.integers(0, 3, 64), 3)


def build(width):  # defined in the notebook: a worker gets it by value (cloudpickle)
    model = hp.build_mlp((8, 8, 1), [width], num_classes=3)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


table, _ = hp.run_sweep("kernel", build, [2, 4], x, y, param="width", seeds=[0], validation_data=(x[:16], y[:16]),
                        epochs=2, batch_size=16)
print(len(table), "runs")
"""


def _worker_environment(name: str) -> str | None:
    return os.environ.get(name)


def test_local_workers_on_jax_run_one_thread_and_the_setting_is_undone(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/nowhere")
    with sweeps._local_processes(1, X, Y, {}) as pool:  # TensorFlow: JAX's flags are left alone
        assert pool.submit(_worker_environment, "XLA_FLAGS").result(timeout=120) == "--xla_dump_to=/nowhere"
    monkeypatch.setattr(keras.config, "backend", lambda: "jax")  # what the pool sees in a JAX kernel
    with sweeps._local_processes(1, X, Y, {}) as pool:
        flags = pool.submit(_worker_environment, "XLA_FLAGS").result(timeout=120)
    assert flags.startswith("--xla_dump_to=/nowhere") and flags.endswith("intra_op_parallelism_threads=1"), flags
    assert "--xla_cpu_multi_thread_eigen=false" in flags
    assert os.environ["XLA_FLAGS"] == "--xla_dump_to=/nowhere", "this process's own flags are restored"


ORPHANED_WORKER = """
import os, signal, time
import numpy as np
from helpers import sweeps

with sweeps._local_processes(1, np.zeros(1), np.zeros(1), {}) as pool:
    print(pool.submit(os.getpid).result(timeout=120), flush=True)
    pool.submit(time.sleep, 300)  # a long run, and the kernel that asked for it is killed meanwhile
    time.sleep(1)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_local_worker_ends_when_the_kernel_that_started_it_is_killed():
    import subprocess
    import sys
    import time

    import psutil

    kernel = subprocess.Popen([sys.executable, "-c", ORPHANED_WORKER], stdout=subprocess.PIPE, text=True)
    worker = int(kernel.stdout.readline())
    kernel.wait(timeout=120)
    kernel.stdout.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if psutil.Process(worker).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.5)
    else:
        psutil.Process(worker).kill()
        pytest.fail("the worker still ran 30 s after its kernel was killed")


def test_a_sweep_in_a_notebook_kernel_trains_on_local_processes(tmp_path, monkeypatch):
    """What a student's cold run of notebook 04 does: worker processes spawned from a Jupyter kernel."""
    import sys

    import nbformat
    from conftest import ROOT

    sys.path.insert(0, str(ROOT / "scripts"))
    from run_notebooks import project_client

    monkeypatch.setenv("IMGCLS_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("IMGCLS_CACHE_MODE", "train")
    monkeypatch.setenv("IMGCLS_SWEEP_PROCESSES", "2")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(KERNEL_SWEEP)])
    with project_client(nb, ROOT / "notebooks", notebook="99_sweep", timeout=300) as client:
        client.execute()
    printed = "".join(out.get("text", "") for out in nb.cells[0].outputs)
    assert "2 runs" in printed
    assert "oneDNN" not in printed and "absl" not in printed, (
        f"workers' TensorFlow start-up reached the notebook:\n{printed}"
    )
    entries = cache.list_entries(tmp_path)
    assert sorted(entries) == ["kernel_width2_seed0", "kernel_width4_seed0"]
    assert {entry["notebook"] for entry in entries.values()} == {"99_sweep"}, "workers know the notebook"
