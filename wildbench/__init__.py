"""wildbench: the open, documented, reproducible WildBench for action-conditioned world models.

    split    = wildbench.make_split("STORE", "SPLIT", wildbench.SplitRules(cases=200))
    wildbench.write_inputs(split, "INPUTS")                # what models may see
    wildbench.make_baseline("oracle", split, "SUB")        # reference submissions
    results  = wildbench.evaluate("SUB", "SPLIT", "RESULTS.json")   # typed Results
    boards   = wildbench.build_boards(["RESULTS.json", ...])        # one ranked board per track

For model authors (docs/quickstart-model-authors.md):

    inputs = wildbench.load_inputs("INPUTS")               # typed cases, RGB first frames
    wildbench.write_submission("SUB", {case.case_id: frames for ...}, inputs=inputs,
                               model="my-model", version="1.0", conditioning=["first_frame"])

See docs/wildbench.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# Every public name is imported on first use (PEP 562), so that ``import wildbench.errors`` (each
# CLI call) does not pay for the metrics, the baselines and the store reader. The names and
# where they live:
_SOURCES = {
    "CONDITIONING": "authoring", "InputCase": "authoring", "Inputs": "authoring", "InputsError": "authoring",
    "InvalidSubmissionError": "authoring", "load_inputs": "authoring", "write_submission": "authoring",
    "BASELINES": "baselines", "make_baseline": "baselines", "make_baselines": "baselines",
    "SplitError": "errors", "SubmissionError": "errors", "WildBenchError": "errors",
    "evaluate": "runner", "evaluate_submissions": "runner",
    "MeasureResult": "results", "MetricResult": "results", "Results": "results", "read_results": "results",
    "write_inputs": "inputs",
    "Board": "leaderboard", "build_boards": "leaderboard", "build_rows": "leaderboard",
    "to_html": "leaderboard", "to_markdown": "leaderboard",
    "MetricEnv": "metrics", "available_metrics": "metrics", "get_metric": "metrics",
    "select_metrics": "metrics",
    "Split": "split", "SplitRules": "split", "load_split": "split", "make_split": "split",
    "check_submission": "submission",
    "BENCHMARK_VERSION": "version", "SCORING_VERSION": "version", "SPLIT_VERSION": "version",
}

if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from .authoring import CONDITIONING, InputCase, Inputs, InputsError, InvalidSubmissionError, load_inputs, write_submission
    from .baselines import BASELINES, make_baseline, make_baselines
    from .errors import SplitError, SubmissionError, WildBenchError
    from .runner import evaluate, evaluate_submissions
    from .results import MeasureResult, MetricResult, Results, read_results
    from .inputs import write_inputs
    from .leaderboard import Board, build_boards, build_rows, to_html, to_markdown
    from .metrics import MetricEnv, available_metrics, get_metric, select_metrics
    from .split import Split, SplitRules, load_split, make_split
    from .submission import check_submission
    from .version import BENCHMARK_VERSION, SCORING_VERSION, SPLIT_VERSION


def __getattr__(name: str):
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module 'wildbench' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{source}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "BASELINES",
    "BENCHMARK_VERSION",
    "Board",
    "CONDITIONING",
    "InputCase",
    "Inputs",
    "InputsError",
    "InvalidSubmissionError",
    "MeasureResult",
    "MetricEnv",
    "MetricResult",
    "Results",
    "SCORING_VERSION",
    "SPLIT_VERSION",
    "Split",
    "SplitError",
    "SplitRules",
    "SubmissionError",
    "WildBenchError",
    "available_metrics",
    "build_boards",
    "build_rows",
    "check_submission",
    "evaluate",
    "evaluate_submissions",
    "get_metric",
    "load_inputs",
    "load_split",
    "make_baseline",
    "make_baselines",
    "make_split",
    "read_results",
    "select_metrics",
    "to_html",
    "to_markdown",
    "write_inputs",
    "write_submission",
]
