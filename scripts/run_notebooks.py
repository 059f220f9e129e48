"""Execute the suite's notebooks in order and write them back with outputs.

Each notebook runs in a fresh kernel of the project's ``.venv`` (papermill,
kernel ``imgcls``, the one ``./lab.sh`` uses). The executed copy is written to a
temporary file and renamed over the original only when the whole notebook ran
without error, so an interrupted or failing run never leaves a half-written
notebook. An HTML copy of each goes to ``reports/html/``.

Usage::

    python scripts/run_notebooks.py [--mode train|retrain|require] [--student "Name (ID)"] [--no-html]
                                    [--train svhn|imagenet|all] [NAME ...]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
# The kernel scripts/setup_env.sh registers for .venv; every committed notebook names it.
KERNELSPEC = {"name": "imgcls", "display_name": "Python 3 (imgcls .venv)", "language": "python"}


def notebook_paths(patterns: list[str]) -> list[Path]:
    """Return the suite's notebooks in order, filtered by name substrings."""
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if patterns:
        paths = [p for p in paths if any(pat in p.stem for pat in patterns)]
    return paths


@contextlib.contextmanager
def kernel_config(notebook: str = "") -> Iterator:
    """Kernel-manager settings for one kernel: IPC sockets instead of unencrypted TCP on loopback.

    The kernel started meanwhile also gets ``IMGCLS_NOTEBOOK=notebook``, so the
    cache records which notebook asked for each run.

    With IPC the kernel talks over socket files in a private temporary folder
    (short, since a socket path may not exceed about 100 characters), so it has
    no reason to warn that TCP traffic is unencrypted.

    Yields:
        A traitlets ``Config`` for papermill or nbclient.
    """
    from traitlets.config import Config

    before = os.environ.get("IMGCLS_NOTEBOOK")
    os.environ["IMGCLS_NOTEBOOK"] = notebook
    try:
        with tempfile.TemporaryDirectory(prefix="imgcls-") as folder:
            config = Config()
            config.KernelManager.transport = "ipc"
            config.KernelManager.ip = os.path.join(folder, "kernel")
            yield config
    finally:
        if before is None:
            os.environ.pop("IMGCLS_NOTEBOOK", None)
        else:
            os.environ["IMGCLS_NOTEBOOK"] = before


@contextlib.contextmanager
def project_client(nb, cwd: Path, *, notebook: str = "", timeout: int = 1800) -> Iterator:
    """An nbclient ``NotebookClient`` for ``nb`` (named ``notebook``) in the project kernel over IPC, in ``cwd``."""
    from nbclient import NotebookClient

    with kernel_config(notebook) as config:
        yield NotebookClient(
            nb,
            timeout=timeout,
            kernel_name=KERNELSPEC["name"],
            config=config,
            resources={"metadata": {"path": str(cwd)}},
        )


def execute_to(path: Path, target: Path, *, parameters: dict | None = None, timeout: int | None = None) -> float:
    """Execute ``path`` in a fresh project kernel, writing the executed copy to ``target``.

    Args:
        path: The notebook to run (its folder is the working directory).
        target: Where the executed notebook goes; written only on success.
        parameters: Values for the notebook's ``parameters`` cell (papermill), e.g. ``{"student": "..."}``.
        timeout: Seconds one cell may take (``None``: no limit, training can take hours).

    Returns:
        The seconds it took.

    Raises:
        papermill.PapermillExecutionError: A cell raised; nothing is written to ``target``.
    """
    import nbformat
    import papermill

    tmp = target.with_name(f".{target.stem}.running.ipynb")
    start = time.perf_counter()
    source = nbformat.read(path, as_version=4)
    source.metadata["kernelspec"] = dict(KERNELSPEC)  # a notebook fresh from jupytext names no kernel
    try:
        with kernel_config(path.stem) as config:
            nb = papermill.execute_notebook(
                source,
                str(tmp),
                parameters=parameters or {},
                cwd=str(path.parent),
                kernel_name=KERNELSPEC["name"],
                progress_bar=False,
                execution_timeout=timeout,
                config=config,
            )
        # no absolute path of this machine in the file
        nb.metadata.setdefault("papermill", {}).update(input_path=path.name, output_path=target.name)
        nbformat.write(nb, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return time.perf_counter() - start


def to_html(path: Path, out_dir: Path) -> Path:
    """Render an executed notebook to HTML."""
    from nbconvert import HTMLExporter

    out_dir.mkdir(parents=True, exist_ok=True)
    body, _ = HTMLExporter().from_filename(str(path))
    target = out_dir / f"{path.stem}.html"
    target.write_text(body, encoding="utf-8")
    return target


def failure_line(err: Exception) -> str:
    """The one line that says why a notebook failed (papermill's last line: the cell's error)."""
    text = str(err).strip()
    return text.splitlines()[-1] if text else repr(err)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only notebooks whose name contains one of these")
    parser.add_argument(
        "--mode",
        choices=["train", "retrain", "require"],
        default=None,
        help="cache mode (default: IMGCLS_CACHE_MODE or train)",
    )
    parser.add_argument("--student", default=None, help='your name and ID, e.g. "Ada Lovelace (s1234567)"')
    parser.add_argument("--no-html", action="store_true", help="skip the HTML copies")
    parser.add_argument(
        "--train",
        metavar="FAMILY[,FAMILY]",
        default=None,
        help="also train the long runs of these families when not cached: svhn, imagenet or all "
        "(hours on a CPU; each run prints its estimated time first)",
    )
    args = parser.parse_args(argv)
    if args.mode:
        os.environ["IMGCLS_CACHE_MODE"] = args.mode
    if args.train:
        os.environ["IMGCLS_TRAIN"] = args.train  # read by helpers.settings in each kernel
    paths = notebook_paths(args.names)
    if not paths:
        print("no notebook matches", args.names, file=sys.stderr)
        return 2
    parameters = {"student": args.student} if args.student is not None else None
    failed = []
    for path in paths:
        print(f"[run] {path.name} ...", flush=True)
        try:
            seconds = execute_to(path, path, parameters=parameters)
        except Exception as err:  # papermill raises PapermillExecutionError with the cell's error
            print(f"[run] {path.name} FAILED: {failure_line(err)}")
            failed.append(path.name)
            continue
        print(f"[run] {path.name} done in {seconds:.1f} s")
        if not args.no_html:
            print(f"[run]   html: {to_html(path, ROOT / 'reports' / 'html').relative_to(ROOT)}")
    if failed:
        print("[run] failed:", ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
