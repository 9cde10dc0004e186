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

from .authoring import CONDITIONING, InputCase, Inputs, InputsError, InvalidSubmissionError, load_inputs, write_submission
from .baselines import BASELINES, make_baseline
from .errors import SplitError, SubmissionError, WildBenchError
from .runner import evaluate
from .results import MeasureResult, MetricResult, Results, read_results
from .inputs import write_inputs
from .leaderboard import Board, build_boards, build_rows, to_html, to_markdown
from .metrics import MetricEnv, available_metrics, get_metric, select_metrics
from .split import Split, SplitRules, load_split, make_split
from .submission import check_submission
from .version import BENCHMARK_VERSION, SCORING_VERSION, SPLIT_VERSION

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
    "get_metric",
    "load_inputs",
    "load_split",
    "make_baseline",
    "make_split",
    "read_results",
    "select_metrics",
    "to_html",
    "to_markdown",
    "write_inputs",
    "write_submission",
]
