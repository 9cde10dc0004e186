"""Rich renderings of library results (tables), kept apart from command parsing."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from wildworld.findings import ValidationReport


def validation_table(report: ValidationReport):
    status = "[green]valid[/]" if report.ok else "[red]INVALID[/]"
    title = (
        f"{report.kind} {escape(report.target)}: {status} - {len(report.errors)} errors, "
        f"{len(report.warnings)} warnings, {report.samples} {'videos' if report.kind == 'submission' else 'samples'}"
    )
    if not report.findings:
        from rich.text import Text

        return Text.from_markup(title + " - no findings")
    table = Table(title=title, title_justify="left", show_lines=False)
    for column in ("severity", "code", "file", "where", "message"):
        table.add_column(column, overflow="fold")
    for finding in report.findings:
        color = "red" if finding.severity == "error" else "yellow"
        table.add_row(
            f"[{color}]{finding.severity}[/]", escape(finding.code), escape(finding.path),
            escape(", ".join(finding.where())), escape(finding.message),
        )
    return table


def _kv_table(title: str, rows: dict) -> Table:
    table = Table(title=escape(title), title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in rows.items():
        table.add_row(escape(str(key)), escape(str(value)))
    return table


def _sample_tables(data: dict) -> list[Table]:
    summary = {k: data[k] for k in ("frames", "fps", "duration_s", "size", "codec", "invalid_camera_frames", "untracked_frames", "action_segments", "distinct_actions")}
    summary["players"] = ", ".join(f"npc.list.{p['index']} type {p['type_id']} weapon {p['weapon_id']}" for p in data["players"])
    summary["monsters"] = ", ".join(f"monster.list.{m['index']} species {m['species']} ({m['frames_present']} frames)" for m in data["monsters"])
    summary["skeletons"] = ", ".join(data["skeletons"])
    tables = [_kv_table(f"sample {data['sample']}", summary)]
    top = Table(title="top actions (tracked player)", title_justify="left")
    for column in ("motion_bank_id", "motion_id", "frames", "segments"):
        top.add_column(column, justify="right")
    for row in data["top_actions"]:
        top.add_row(*(str(row[c]) for c in ("motion_bank_id", "motion_id", "frames", "segments")))
    tables.append(top)
    return tables


def info_tables(data: dict) -> list[Table]:
    if "per_part" in data:
        tables = [_kv_table(f"data root {data['root']}", {k: data[k] for k in ("parts", "samples", "frames", "invalid_camera_frames")})]
        for part in data["per_part"]:
            tables.extend(info_tables(part))
        return tables
    if "per_sample" in data:
        tables = [_kv_table(f"part {data['part']}", {k: data[k] for k in ("samples", "frames", "invalid_camera_frames")})]
        for sample in data["per_sample"]:
            tables.extend(_sample_tables(sample))
        return tables
    if "sample" in data:
        return _sample_tables(data)
    return [_kv_table(str(data.get("title", "store")), {k: v for k, v in data.items() if k != "title"})]


def stats_table(stats: dict) -> Table:
    levels = stats["quantile_levels"]
    table = Table(title=f"statistics over {stats['frames']} frames (exact global quantiles)", title_justify="left")
    for column in ("field", "count", "mean", "std", "min", f"q{levels[0]}", "median", f"q{levels[-1]}", "max"):
        table.add_column(column, justify="right" if column != "field" else "left")

    def fmt(value) -> str:
        return "-" if value is None else f"{value:.4g}"

    for name, entry in stats["fields"].items():
        for i in range(len(entry["mean"])):
            label = name if len(entry["mean"]) == 1 else f"{name}[{i}]"
            table.add_row(
                label, str(entry["count"][i]), fmt(entry["mean"][i]), fmt(entry["std"][i]), fmt(entry["min"][i]),
                fmt(entry["quantiles"][str(levels[0])][i]), fmt(entry["quantiles"]["0.5"][i]),
                fmt(entry["quantiles"][str(levels[-1])][i]), fmt(entry["max"][i]),
            )
    return table
