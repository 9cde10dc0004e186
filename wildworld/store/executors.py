"""Old home of :mod:`wildworld.parallel`, kept until wildbench's runner imports that instead."""

from ..parallel import Executor, run_tasks

__all__ = ["Executor", "run_tasks"]
