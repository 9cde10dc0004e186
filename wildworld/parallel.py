"""Run the same pure per-item function on a local process pool or on Ray.

    for position, result in run_tasks(convert_sample, tasks, executor="local", workers=4):
        results[position] = result

Both executors yield results in completion order as ``(position, result)`` so the driver can
report progress; the driver puts them back in input order, so results never depend on
scheduling. ``convert`` (per sample, per shard) and the WildBench runner (per case) use it.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Callable, Iterator, Literal, Sequence

from ._checks import check_choice
from .errors import OptionError, WildWorldError

__all__ = ["Executor", "run_tasks"]

Executor = Literal["local", "ray"]


def _local(function: Callable, tasks: Sequence[Any], workers: int) -> Iterator[tuple[int, Any]]:
    if workers <= 1:
        for position, task in enumerate(tasks):
            yield position, function(task)
        return
    # spawn: workers never inherit zarr's or PyAV's threads and locks from the driver.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(function, task): position for position, task in enumerate(tasks)}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield futures[future], future.result()


def _ray(function: Callable, tasks: Sequence[Any], workers: int, address: str | None) -> Iterator[tuple[int, Any]]:
    try:
        import ray
    except ImportError:
        raise OptionError("executor 'ray' needs Ray: pip install 'wildworld[ray]'") from None
    started_here = False
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"address": address} if address else {"num_cpus": max(1, workers)}
        ray.init(ignore_reinit_error=True, include_dashboard=False, log_to_driver=False, **kwargs)
        started_here = True
    try:
        remote = ray.remote(num_cpus=1)(function)
        refs = {remote.remote(task): position for position, task in enumerate(tasks)}
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                try:
                    yield refs[ref], ray.get(ref)
                except ray.exceptions.RayError as exc:
                    raise WildWorldError(f"a Ray task failed: {exc}") from None
    finally:
        if started_here:
            ray.shutdown()


def run_tasks(
    function: Callable,
    tasks: Sequence[Any],
    *,
    executor: Executor = "local",
    workers: int | None = None,
    address: str | None = None,
) -> Iterator[tuple[int, Any]]:
    """Apply ``function`` to every task; yield ``(position, result)`` as each finishes."""
    check_choice("executor", executor, ("local", "ray"))
    workers = workers or os.cpu_count() or 1
    if not tasks:
        return iter(())
    if executor == "ray":
        return _ray(function, tasks, workers, address)
    return _local(function, tasks, min(workers, len(tasks)))
