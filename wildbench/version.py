"""Versions: they change whenever the numbers a component produces would change."""

#: The benchmark protocol (split rules, inputs, submission format, runner, results format).
#: 2.0: metrics declare their measures and scoring; results hold every family's summaries.
BENCHMARK_VERSION = "2.0"
#: How cases are chosen (see docs/wildbench.md#split).
#: 1.1: tracks (short, long), invalid-camera frames masked on the long track, every entity
#: joint and the counterfactual action sequence in the answer key.
SPLIT_VERSION = "1.1"
#: How raw metric values become 0-100 scores and an overall score.
#: 2.0: each measure's declared best/worst map; family = mean of its headline measures;
#: overall = mean of the family scores every ranked row shares; one table per track.
SCORING_VERSION = "2.0"
