"""Versions: they change whenever the numbers a component produces would change."""

#: The benchmark protocol (split rules, inputs, submission format, runner, scoring).
BENCHMARK_VERSION = "1.0"
#: How cases are chosen (see docs/wildbench.md#split).
SPLIT_VERSION = "1.0"
#: How raw metric values become 0-100 scores and an overall score.
SCORING_VERSION = "1.0"
