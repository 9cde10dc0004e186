"""The finding model every checker reports in: release and store validation, downloads,
WildBench submissions.

    out = FindingCollector()
    out.add("error", "missing-file", path, "the rgb file is missing")
    table = out.guard("state-unreadable", path, lambda: read_state_csv(path))  # a failure -> a finding
    report = out.report(target=str(sample), kind="sample", samples=1)
    report.ok, report.errors, report.to_dict()

A finding has a severity (``error`` makes the target invalid, ``warning`` does not), a stable
``code``, the file, and where known the row (0-based frame index, as everywhere in the
library), column or key. Checkers never raise on bad content: an unreadable file is a
finding, not a traceback. This module sits below every checker (it imports only the error
family), so no checker has to import another to report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Literal, get_args

from .errors import FormatError, MissingFileError, OptionError, WildWorldError, describe_location

__all__ = ["Severity", "ReportKind", "Finding", "ValidationReport", "FindingCollector"]

Severity = Literal["error", "warning"]
#: What a report is about: a kind of ``classify_path`` or a WildBench submission, or a download.
ReportKind = Literal["sample", "part", "root", "store", "submission", "download"]


@dataclass(frozen=True)
class Finding:
    """One problem of one file (see the module docstring)."""

    severity: Severity
    code: str
    path: str
    message: str
    row: int | None = None
    column: str | None = None
    key: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in get_args(Severity):
            raise OptionError(f"finding severity {self.severity!r} is not one of {get_args(Severity)}")

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def where(self) -> list[str]:
        """The location inside the file: row, column and key where known."""
        return describe_location(row=self.row, column=self.column, key=self.key)

    def __str__(self) -> str:
        return f"{self.severity}: {self.code}: {', '.join([self.path, *self.where()])}: {self.message}"


@dataclass(frozen=True)
class ValidationReport:
    """All findings for one target, in the order they were found."""

    target: str
    kind: ReportKind
    findings: tuple[Finding, ...] = field(default=())
    samples: int = 0

    def __post_init__(self) -> None:
        if self.kind not in get_args(ReportKind):
            raise OptionError(f"report kind {self.kind!r} is not one of {get_args(ReportKind)}")
        object.__setattr__(self, "findings", tuple(self.findings))

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict:
        return {
            "target": self.target,
            "kind": self.kind,
            "valid": self.ok,
            "samples": self.samples,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "findings": [f.to_dict() for f in self.findings],
        }


class FindingCollector:
    """Gathers findings while a checker runs; ``guard`` turns any failure into one finding."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def add(self, severity: Severity, code: str, path: object, message: str, *,
            row: int | None = None, column: str | None = None, key: str | None = None) -> None:
        self.findings.append(Finding(severity, code, str(path), message, row=row, column=column, key=key))

    def extend(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(findings)

    def has(self, *codes: str) -> bool:
        """Whether any finding so far has one of ``codes``."""
        return any(f.code in codes for f in self.findings)

    def guard(self, code: str, path: object, action: Callable[[], object]) -> object | None:
        """Run ``action``; turn any failure into one finding (a checker must not crash) and
        return None, else return what ``action`` returned."""
        try:
            return action()
        except FormatError as exc:
            self.add("error", code, exc.path or path, exc.reason, row=exc.row, column=exc.column, key=exc.key)
        except MissingFileError as exc:
            self.add("error", "missing-file", path, str(exc))
        except (WildWorldError, OSError, ValueError, KeyError, EOFError, RuntimeError) as exc:
            self.add("error", code, path, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - corrupted input must never crash validation
            self.add("error", code, path, f"unexpected {type(exc).__name__}: {exc}")
        return None

    def report(self, *, target: str, kind: ReportKind, samples: int = 0) -> ValidationReport:
        return ValidationReport(target=target, kind=kind, findings=tuple(self.findings), samples=samples)

