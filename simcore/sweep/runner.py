"""Running a sweep: one deterministic backtest per grid run, serially or on Ray.

Every run is ``run_one``: the config with the run's parameters, the strategy, the store, a
results folder, exactly as ``simcore backtest`` would run it, so a run's manifest is the
manifest of the same config run alone. A run that fails (a strategy error, a worker killed)
is recorded as failed with its error; the others go on. ``sweep.json`` in the sweep's folder
says what was asked (config, strategy, runs), so ``--resume`` runs only what is missing.

How the data reach Ray's workers (``data``):

* ``"shared"`` — every worker reads the store at the driver's path (one machine, or a path
  mounted alike on every node).
* ``"object"`` — the driver reads the store files the config's symbols need, once, into Ray's
  object store; each worker process writes them to a local folder of its own on first use.

Either way a worker runs into a local temporary folder and sends the results' files back to
the driver, which writes each run's folder whole (a run's folder is complete or absent), so
the sweep's folder need not be shared.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import json
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from simcore.config import SessionConfig
from simcore.config.models import FrozenDict
from simcore.errors import UserError
from simcore.store.parquet import ParquetStore
from simcore.strategies.loading import load_strategy
from simcore.sweep.grid import GridRun

SWEEP_FILE = "sweep.json"
Backtest = Callable[..., object]  # simcore.app.backtest.run_backtest's shape


@dataclass
class Sweep:
    config: SessionConfig
    strategy: str  # module:Class
    runs: list[GridRun]
    store_root: Path
    out: Path
    resume: bool = False
    # runs one backtest: (config, strategy, store, results folder) -> its result; the
    # application layer hands in its own (it builds the data source a config names)
    backtest: Backtest | None = None
    outcomes: dict[str, dict] = field(default_factory=dict)  # run name -> status, error, seconds

    def runner(self) -> Backtest:
        if self.backtest is None:
            raise UserError("a sweep needs its backtest runner (simcore.app.backtest.run_backtest)")
        return self.backtest

    def config_for(self, run: GridRun) -> SessionConfig:
        merged = {**self.config.metadata.parameters, **run.values}
        metadata = self.config.metadata.model_copy(update={"parameters": FrozenDict(merged)})
        return self.config.model_copy(update={"metadata": metadata})

    def record(self) -> dict:
        return {
            "config": json.loads(self.config.model_dump_json()),
            "strategy": self.strategy,
            "runs": [{"name": r.name, "values": r.values} for r in self.runs],
        }

    def prepare(self) -> list[GridRun]:
        """Create the sweep's folder (or check a resumed one) and say which runs are to do."""
        record = self.record()
        path = self.out / SWEEP_FILE
        if path.is_file():
            same = json.loads(path.read_text()) == json.loads(json.dumps(record, default=str))
            if not self.resume:
                raise UserError(
                    f"{self.out} already holds a sweep"
                    + (" of this config, strategy and grid: --resume runs what it lacks" if same
                       else " of another config, strategy or grid")
                    + ", or choose another folder with --out"
                )  # fmt: skip
            if not same:
                raise UserError(
                    f"--resume: {self.out} holds a sweep of another config, strategy or grid "
                    "(sweep.json there says which): choose another folder with --out"
                )
        elif self.out.exists() and any(self.out.iterdir()):
            raise UserError(f"{self.out} is not empty and holds no sweep: choose another --out")
        else:
            try:
                self.out.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(record, indent=2, default=str) + "\n")
            except OSError as exc:
                raise UserError(
                    f"--out {self.out}: the sweep's folder cannot be written ({exc.strerror or exc})"
                ) from None
        return [r for r in self.runs if not (self.resume and _complete(self.out / r.name))]


def _complete(folder: Path) -> bool:
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return False
    return json.loads(manifest.read_text()).get("summary", {}).get("status") == "complete"


def run_one(
    backtest: Backtest, config_json: str, strategy: str, store_root: str, folder: str
) -> dict:
    """One backtest of the sweep, in whatever process runs it. Never raises for the run's own
    failure: it is the outcome (status ``failed`` and the error's first line)."""
    started = time.perf_counter()
    try:
        config = SessionConfig.model_validate_json(config_json)
        chosen = load_strategy(strategy, config.metadata.parameters)
        result = backtest(config, ParquetStore(Path(store_root)), chosen, Path(folder))
        status, error = result.summary["status"], None
    except Exception as exc:  # the run failed; the sweep goes on
        status, error = "failed", error_line(exc)
    return {"status": status, "error": error, "seconds": time.perf_counter() - started}


def error_line(exc: BaseException) -> str:
    """One line for the sweep's table: the error's first line and, when its message goes on
    (a strategy's traceback), its last, which names the cause."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    text = f"{type(exc).__name__}: {lines[0] if lines else ''}"
    if len(lines) > 1:
        text += f" ... {lines[-1]}"
    return text[:500]


def _write_run(out: Path, name: str, files: dict[str, bytes]) -> None:
    """A run's folder, whole: written aside, then renamed into place."""
    aside = out / f".{name}.partial"
    shutil.rmtree(aside, ignore_errors=True)
    aside.mkdir()
    for file_name, content in files.items():
        (aside / file_name).write_bytes(content)
    shutil.rmtree(out / name, ignore_errors=True)
    aside.rename(out / name)


def _run_in_scratch(
    backtest: Backtest, config_json: str, strategy: str, store_root: str, name: str
) -> tuple[dict, dict[str, bytes]]:
    with tempfile.TemporaryDirectory(prefix="simcore-run-") as scratch:
        folder = Path(scratch) / name
        outcome = run_one(backtest, config_json, strategy, store_root, str(folder))
        files = (
            {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
            if folder.is_dir()
            else {}
        )
    return outcome, files


Progress = Callable[[GridRun, dict, int, int], None]


def run_serial(sweep: Sweep, todo: Sequence[GridRun], progress: Progress) -> None:
    """Every run in this process, one after another (the baseline the Ray figures compare to)."""
    for k, run in enumerate(todo, start=1):
        config_json = sweep.config_for(run).model_dump_json()
        outcome, files = _run_in_scratch(
            sweep.runner(), config_json, sweep.strategy, str(sweep.store_root), run.name
        )
        if files:
            _write_run(sweep.out, run.name, files)
        sweep.outcomes[run.name] = outcome
        progress(run, outcome, k, len(todo))


# ---------------------------------------------------------------------- Ray

_STORES: dict[str, Path] = {}  # per worker process: stores written from the object store


def _materialize(key: str, files: dict[str, bytes]) -> Path:
    """The store a worker reads, written from the object store once per worker process."""
    if key not in _STORES:
        root = Path(tempfile.mkdtemp(prefix="simcore-store-"))
        atexit.register(shutil.rmtree, root, True)
        for relative, content in files.items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        _STORES[key] = root
    return _STORES[key]


def _ray_task(
    backtest: Backtest,
    config_json: str,
    strategy: str,
    store_root: str | None,
    store_key: str,
    store_files: dict[str, bytes] | None,
    name: str,
) -> tuple[dict, dict[str, bytes]]:
    root = store_root if store_files is None else str(_materialize(store_key, store_files))
    return _run_in_scratch(backtest, config_json, strategy, root, name)


def store_files(store_root: Path, symbols: Sequence[str]) -> dict[str, bytes]:
    """The store's files a config needs: those of its symbols (a folder or file named by the
    symbol) and the store's own (ledgers, at most two levels deep)."""
    wanted = set(symbols)
    files = {}
    for path in sorted(store_root.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        relative = path.relative_to(store_root)
        parts = set(relative.parts[:-1]) | {path.stem}
        if parts & wanted or len(relative.parts) <= 2:
            files[relative.as_posix()] = path.read_bytes()
    return files


def require_ray() -> None:
    """Ray is the ``sweep`` extra: without it, a message before anything is written."""
    if importlib.util.find_spec("ray") is None:
        raise UserError(
            "a sweep on Ray needs Ray, which is not installed: pip install 'simcore[sweep]' "
            "(or run it in this process with --serial)"
        )


def check_address(address: str) -> None:
    """A Ray address that does not answer is a message before anything is written."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=3).close()
    except (OSError, ValueError):
        raise UserError(
            f"--address {address}: no Ray cluster answers there (start one with `ray start "
            "--head`, or leave --address out for a local Ray on this machine's cores)"
        ) from None


def run_on_ray(
    sweep: Sweep,
    todo: Sequence[GridRun],
    progress: Progress,
    *,
    address: str | None = None,
    workers: int | None = None,
    data: str = "shared",
) -> dict[str, object]:
    """Every run as a Ray task (no retries: a run's failure is its outcome). Returns facts of
    the Ray side (nodes, CPUs, how the data went)."""
    require_ray()
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        options: dict[str, object] = {"include_dashboard": False, "log_to_driver": False}
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=workers or os.cpu_count(), **options)
    try:
        task = ray.remote(num_cpus=1, max_retries=0)(_ray_task)
        backtest = sweep.runner()
        store_root, store_key, files_ref = str(sweep.store_root), "", None
        if data == "object":
            files = store_files(sweep.store_root, sweep.config.session_data_config.symbols)
            digest = hashlib.sha256()
            for relative, content in files.items():
                digest.update(relative.encode())
                digest.update(hashlib.sha256(content).digest())
            store_key, files_ref, store_root = digest.hexdigest(), ray.put(files), None
        pending = {
            task.remote(
                backtest,
                sweep.config_for(run).model_dump_json(),
                sweep.strategy,
                store_root,
                store_key,
                files_ref,
                run.name,
            ): run
            for run in todo
        }
        done = 0
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            run = pending.pop(ready[0])
            try:
                outcome, run_files = ray.get(ready[0])
            except Exception as exc:  # the worker died, or Ray could not run the task
                outcome, run_files = {"status": "failed", "error": error_line(exc)}, {}
            if run_files:
                _write_run(sweep.out, run.name, run_files)
            sweep.outcomes[run.name] = outcome
            done += 1
            progress(run, outcome, done, len(todo))
        resources = ray.cluster_resources()
        return {
            "nodes": len([n for n in ray.nodes() if n.get("Alive")]),
            "cpus": resources.get("CPU", 0),
            "data": data,
        }
    finally:
        if started_here:
            ray.shutdown()
