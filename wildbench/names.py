"""Every file name of a submission, in one place (below the checker, the runner and the
reference submissions, which all name these files).

```
SUB/
  submission.json           the model, its version, the conditioning used, the split checksum
  <case_id>.mp4             the generated video (required)
  <case_id>.cf.mp4          the video generated for the counterfactual actions (optional)
  <case_id>.state.csv       explicit state predictions, release state.csv format (optional)
```
"""

from __future__ import annotations

__all__ = ["SUBMISSION_FILE", "FILE_KINDS", "case_file"]

SUBMISSION_FILE = "submission.json"
#: The files a submission may hold per case: kind -> name suffix after the case id.
FILE_KINDS = {"video": ".mp4", "counterfactual": ".cf.mp4", "state": ".state.csv"}


def case_file(case_id: str, kind: str = "video") -> str:
    """The name of one of a case's files: ``case_file("wb0003", "state") == "wb0003.state.csv"``."""
    return case_id + FILE_KINDS[kind]
