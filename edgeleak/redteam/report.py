"""A red-team report as text lines (the command prints them) and as strict JSON (one record per attack)."""

from __future__ import annotations

import dataclasses
import json
import textwrap

from edgeleak.redteam.results import DeviceFacts, RedteamReport, json_value

WIDTH = 110
_EVIDENCE_AT = 34


def _yes(value: bool | None) -> str:
    return "not reported" if value is None else ("yes" if value else "no")


def floor_text(facts: DeviceFacts) -> str:
    if facts.floor_epsilon is None:
        return "floor not reported (protocol version 1)"
    if not facts.floored:
        return "no floor (this build refuses nothing for privacy)"
    valid = "" if facts.floor_valid is None else (", valid" if facts.floor_valid else ", INVALID constants")
    return f"floor ε={facts.floor_epsilon:g} δ={facts.floor_delta:g}{valid}"


def header_lines(report: RedteamReport) -> list[str]:
    f = report.device
    cap = "" if f.max_round_work is None else f", compute cap {f.max_round_work:,} products/round"
    return [
        f"edgeleak redteam: board {report.board} ({f.board}, firmware {f.firmware_version}, protocol {f.protocol_version}), "
        f"model {f.model_hash[:16]}, {f.trainable_params:,} trainable parameters",
        f"  {floor_text(f)}; testing build: {_yes(f.testing_build)}; entropy: {f.entropy_name}{cap}",
        f"  replay mode: the red team stored {report.replay.samples} {report.replay.source} (seed {report.replay.seed}) "
        f"itself to score what came back; a real attacker does not hold them",
    ]


def table_lines(report: RedteamReport) -> list[str]:
    lines = [f"{'#':>3}  {'attack':<17} {'verdict':<10} evidence"]
    for r in report.results:
        verdict = "stopped" if r.stopped else "SUCCEEDED"
        start = f"{r.number:>3}  {r.name:<17} {verdict:<10} "
        wrapped = textwrap.wrap(r.outcome.evidence, WIDTH - _EVIDENCE_AT) or [""]
        lines.append(start + wrapped[0])
        lines += [" " * _EVIDENCE_AT + more for more in wrapped[1:]]
        if r.outcome.note:
            lines += [" " * _EVIDENCE_AT + more for more in textwrap.wrap("note: " + r.outcome.note, WIDTH - _EVIDENCE_AT)]
    return lines


def summary_line(report: RedteamReport) -> str:
    stopped = sum(r.stopped for r in report.results)
    line = f"{stopped} of {len(report.results)} attacks stopped"
    if report.succeeded:
        line += "; succeeded: " + ", ".join(r.name for r in report.succeeded)
    return line


def report_lines(report: RedteamReport) -> list[str]:
    return header_lines(report) + [""] + table_lines(report) + ["", summary_line(report)]


def report_json(report: RedteamReport) -> str:
    """Strict JSON (no NaN or Infinity tokens: undefined and unbounded figures are null)."""
    device = {k: json_value(v) for k, v in dataclasses.asdict(report.device).items()}
    attacks = []
    for r in report.results:
        o = r.outcome
        attacks.append({
            "number": r.number, "name": r.name, "title": r.title, "tried": o.tried, "stopped": o.stopped,
            "error": o.error, "evidence": o.evidence, "note": o.note or None,
            "figures": {f.name: json_value(f.value) for f in o.figures},
        })
    document = {
        "board": report.board, "model": report.model_path, "device": device,
        "replay": dataclasses.asdict(report.replay), "all_stopped": report.all_stopped, "attacks": attacks,
    }
    return json.dumps(document, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
