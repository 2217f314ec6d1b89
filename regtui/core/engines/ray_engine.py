"""The Ray engine: a sweep's shards as Ray tasks that stream every epoch back.

Connecting (``RayEngine(config)``).  Without an address a private local Ray
is started on this machine and shut down after the sweep; ``auto`` joins the
running cluster (``RAY_ADDRESS`` or the last ``ray start``); ``HOST:PORT`` or
``ray://HOST:PORT`` joins that one, after a TCP check, so an unreachable
address fails in seconds with one line instead of Ray retrying for minutes.
Joining a cluster ships this regtui package to its workers (a job-level
``runtime_env`` with ``py_modules``), so they run the driver's exact code;
the workers need torch, numpy and scikit-learn.  A Ray already initialised in
this process (a test, a notebook) is used as it is, and left running.

Running.  The experiment of each training and each distinct data set are put
into Ray's object store once; every shard is one streaming-generator task
(``num_returns="streaming"``) that trains its members as one stack and yields
a ``ShardReport`` per epoch.  Tasks ask for ``cpus_per_task`` CPUs and, when
the sweep runs on GPUs (``device = "cuda"``, or ``auto`` on a cluster that has
GPUs), ``gpus_per_task`` GPUs.  A task whose worker dies is run again up to
``retries`` times (Ray's ``max_retries``; epochs that already arrived are not
repeated); an exception in a task is not retried.  Either way a shard that
cannot finish ends with its error: never a hang, never a missing point.  The
driver waits on all generators with ``ray.wait``; closing the stream (Ctrl+C,
the lab's ``x``, an error) cancels every task still running.

``ray`` is imported only inside this module's functions; the core imports
this module only when ``engine.kind = "ray"``.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from regtui.core.config import EngineConfig, Experiment
from regtui.core.data import Dataset
from regtui.core.engines.base import (
    RAY_INSTALL_HINT, EngineError, EngineEvent, Planned, Shard, ShardEnded, ShardEpoch,
    ShardPlaced, ShardReport, TrainingStarted, plan_shards,
)
from regtui.core.run_types import plan_members

PROBE_S = 5.0
"""Seconds to wait for a TCP connection to a cluster's address."""
WAIT_S = 0.25
"""Longest ``ray.wait``, so Ctrl+C is handled promptly."""
CANCEL_WAIT_S = 5.0
"""How long cancelled tasks get to stop before they are killed."""
DEPENDENCY_HINT = "install regtui's dependencies on every Ray node: pip install 'regtui[ray]'"


def _shard_task(experiment: Experiment, dataset: Dataset, members: Sequence[int],
                threads: int) -> Iterator[ShardReport]:
    """The task body (in a Ray worker): ``train_shard``, each epoch tagged with where it ran."""
    import ray

    from regtui.core.engines.shard import train_shard

    worker = f"{ray.util.get_node_ip_address()} pid {os.getpid()}"
    gpus = ray.get_gpu_ids()
    if gpus:
        worker += " gpu " + ",".join(str(g) for g in gpus)
    for event in train_shard(experiment, dataset, members, threads):
        yield ShardReport(event, worker)


_REMOTE: Any = None


def _remote() -> Any:
    global _REMOTE
    if _REMOTE is None:
        import ray

        _REMOTE = ray.remote(num_returns="streaming")(_shard_task)
    return _REMOTE


def ship_env() -> dict[str, Any]:
    """The job's runtime environment on a cluster: this regtui package, as the driver has it."""
    import regtui

    return {"py_modules": [str(Path(regtui.__file__).parent)], "excludes": ["__pycache__", "*.pyc"]}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if line.isprintable() else repr(line)[1:-1]


def describe(exc: BaseException, retries: int) -> str:
    """One line for a shard's failure."""
    from ray import exceptions as rex

    if isinstance(exc, rex.TaskCancelledError):
        return "cancelled"
    if isinstance(exc, rex.RayTaskError):
        cause = getattr(exc, "cause", None) or exc
        if isinstance(cause, rex.TaskCancelledError):
            return "cancelled"
        text = f"{type(cause).__name__}: {_first_line(cause)}"
    elif isinstance(exc, (rex.WorkerCrashedError, rex.NodeDiedError)):
        text = f"its worker died ({type(exc).__name__}), after {retries} retr{'y' if retries == 1 else 'ies'}"
    else:
        text = f"{type(exc).__name__}: {_first_line(exc)}"
    if "No module named" in text:
        text += f"; {DEPENDENCY_HINT}"
    return text


def _probe(address: str) -> None:
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_S).close()
    except (OSError, ValueError) as exc:
        why = getattr(exc, "strerror", None) or _first_line(exc)
        raise EngineError(f"cannot reach a Ray cluster at {address}: {why}") from None


def _signal_handlers() -> dict[int, Any]:
    """SIGTERM's and SIGHUP's handlers now (only the main thread may set them)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}
    wanted = [getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    return {s: signal.getsignal(s) for s in wanted}


def _restore(handlers: dict[int, Any]) -> None:
    import signal

    for signum, handler in handlers.items():
        signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


def _resolve_auto() -> str | None:
    """The address ``auto`` stands for (``RAY_ADDRESS``, else the last ``ray start``)."""
    try:
        from ray._private.services import canonicalize_bootstrap_address_or_die
    except ImportError:  # pragma: no cover - Ray moved it; ray.init resolves it then
        return None
    try:
        return canonicalize_bootstrap_address_or_die("auto")
    except ConnectionError:
        raise EngineError("no running Ray cluster to join (address auto): start one with "
                          "`ray start --head` or set RAY_ADDRESS") from None
    except Exception:  # pragma: no cover - let ray.init say what is wrong
        return None


def uses_gpu(device: str, cluster_gpus: float, where: str) -> bool:
    """Whether a training on ``device`` runs its tasks on GPUs of a cluster that has ``cluster_gpus``."""
    if device == "cuda" and cluster_gpus <= 0:
        raise EngineError(f"train.device is cuda, but the cluster ({where}) has no GPUs")
    return device == "cuda" or (device == "auto" and cluster_gpus > 0)


def task_slots(nodes: Sequence[dict[str, float]], config: EngineConfig, gpu: bool, where: str) -> int:
    """How many tasks the cluster's live ``nodes`` (their resources) run at once;
    raises ``EngineError`` when one task fits on no node (it would wait forever)."""
    most_cpu = max((n.get("CPU", 0.0) for n in nodes), default=0.0)
    if config.cpus_per_task > most_cpu:
        raise EngineError(f"engine.cpus_per_task = {config.cpus_per_task:g}, but no node of the cluster "
                          f"({where}) has that many CPUs (the most is {most_cpu:g})")
    slots = sum(_fits(n.get("CPU", 0.0), config.cpus_per_task) for n in nodes)
    if gpu:
        most_gpu = max((n.get("GPU", 0.0) for n in nodes), default=0.0)
        if config.gpus_per_task > most_gpu:
            raise EngineError(f"engine.gpus_per_task = {config.gpus_per_task:g}, but no node of the cluster "
                              f"({where}) has that many GPUs (the most is {most_gpu:g})")
        slots = min(slots, sum(_fits(n.get("GPU", 0.0), config.gpus_per_task) for n in nodes))
    return max(1, slots)


def _fits(have: float, each: float) -> int:
    """How many tasks asking ``each`` fit in ``have`` (1.0 / 0.1 is 10, not 9)."""
    return int(have / each + 1e-9)


def task_options(config: EngineConfig, gpu: bool) -> dict[str, Any]:
    """What each shard's task asks Ray for."""
    return {"num_cpus": config.cpus_per_task, "num_gpus": config.gpus_per_task if gpu else 0,
            "max_retries": config.retries, "retry_exceptions": False}


class RayEngine:
    """Runs shards as Ray tasks; see the module docstring."""

    def __init__(self, config: EngineConfig) -> None:
        try:
            import ray
        except ImportError:
            raise EngineError(RAY_INSTALL_HINT) from None
        self.config = config
        self._owned = False
        """Whether this engine started Ray (and so shuts it down)."""
        if ray.is_initialized():
            self.label = f"ray {ray.get_runtime_context().gcs_address}"
            return
        address = config.address
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                   "logging_level": logging.ERROR}
        if address:
            target = _resolve_auto() if address == "auto" else address
            if target is not None:
                _probe(target)
            options["runtime_env"] = ship_env()
        handlers = _signal_handlers()
        try:
            ray.init(address=address or "local", **options)
        except Exception as exc:
            where = f"the Ray cluster at {address}" if address else "a local Ray"
            raise EngineError(f"cannot start {where}: {_first_line(exc)}") from None
        finally:
            _restore(handlers)  # ray.init installs its own SIGTERM handler; regtui keeps its own
        self._owned = True
        self.label = f"ray {address}" if address else "ray local"

    def close(self) -> None:
        if self._owned:
            import ray

            ray.shutdown()
            self._owned = False

    # ------------------------------------------------------------------ running

    def run(self, trainings: Sequence[Experiment], load: Callable[[Experiment], Dataset]) -> Iterator[EngineEvent]:
        import ray

        c = self.config
        nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
        gpus = sum(n.get("GPU", 0.0) for n in nodes)
        on_gpu = [uses_gpu(exp.train.device, gpus, self.label) for exp in trainings]
        slots = task_slots(nodes, c, any(on_gpu), self.label)
        shards = plan_shards([len(plan_members(exp)) for exp in trainings], c.shard_size, slots)
        yield Planned(tuple(shards))
        data_refs: dict[Any, tuple[Any, dict[str, Any]]] = {}
        experiment_refs = []
        for i, exp in enumerate(trainings):
            key = (exp.data, exp.source_dir)
            if key not in data_refs:
                dataset = load(exp)
                data_refs[key] = (ray.put(dataset), dataset.summary())
                del dataset
            yield TrainingStarted(i, data_refs[key][1])
            device = "cuda" if on_gpu[i] else "cpu"
            experiment_refs.append(ray.put(replace(exp, train=replace(exp.train, device=device))))
        task = _remote()
        threads = max(1, int(c.cpus_per_task))
        running: dict[Any, Shard] = {}
        try:
            for s in shards:
                exp = trainings[s.training]
                gen = task.options(**task_options(c, on_gpu[s.training])).remote(
                    experiment_refs[s.training], data_refs[(exp.data, exp.source_dir)][0], s.members, threads)
                running[gen] = s
            yield from self._stream(running)
        finally:
            self._cancel(list(running))

    def _stream(self, running: dict[Any, Shard]) -> Iterator[EngineEvent]:
        """Reports as they arrive, from every task, until each has ended."""
        import ray

        placed: dict[int, str] = {}
        while running:
            try:
                ready, _ = ray.wait(list(running), num_returns=1, timeout=WAIT_S)
            except ray.exceptions.RayError as exc:  # the cluster itself failed: end every shard, loudly
                error = f"the Ray cluster failed: {describe(exc, self.config.retries)}"
                for gen in list(running):
                    yield ShardEnded(running.pop(gen), error)
                return
            for gen in ready:
                shard = running[gen]
                try:
                    ref = next(gen)
                except StopIteration:
                    del running[gen]
                    yield ShardEnded(shard)
                    continue
                try:
                    report: ShardReport = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    del running[gen]
                    yield ShardEnded(shard, describe(exc, self.config.retries))
                    continue
                if placed.get(shard.index) != report.worker:
                    placed[shard.index] = report.worker
                    yield ShardPlaced(shard, report.worker)
                yield ShardEpoch(shard, report.event)

    @staticmethod
    def _cancel(gens: list[Any]) -> None:
        """Cancel tasks still running; kill those that do not stop in time."""
        if not gens:
            return
        import ray

        for gen in gens:
            try:
                ray.cancel(gen)
            except Exception:  # pragma: no cover - it finished meanwhile
                pass
        completed = {gen.completed(): gen for gen in gens}
        try:
            _, left = ray.wait(list(completed), num_returns=len(completed), timeout=CANCEL_WAIT_S)
        except Exception:  # pragma: no cover
            return
        for ref in left:  # pragma: no cover - a task deaf to KeyboardInterrupt
            try:
                ray.cancel(completed[ref], force=True)
            except Exception:
                pass
