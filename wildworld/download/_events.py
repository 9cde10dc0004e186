"""Progress events: how long-running download and checksum work reports to a caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

__all__ = ["ProgressEvent", "ProgressCallback", "EventKind"]

#: plan: the run starts (``total`` bytes to process, ``completed`` already done);
#: start / advance / retry / finish: one file (``path``) begins, grows by ``advance`` bytes
#: (negative when a source restarts a file), is retried (``message`` says why), or ends
#: (``message`` holds its status).
EventKind = Literal["plan", "start", "advance", "retry", "finish"]


@dataclass(frozen=True)
class ProgressEvent:
    kind: EventKind
    path: str = ""
    total: int = 0
    completed: int = 0
    advance: int = 0
    message: str = ""


#: Called from worker threads; it must be thread-safe (rich's Progress is).
ProgressCallback = Callable[[ProgressEvent], None]
