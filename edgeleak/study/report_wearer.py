"""The study report's section on what the server learns about the wearers: the activity mix of each device's
session and who sent an update (attacks/inference.py), against chance."""

from __future__ import annotations

import html
import math

from edgeleak.study.results import SettingResult

HEADERS = ("setting", "dominant activity (chance)", "mix L1 error (prior's)", "identity (chance)")


def _pair(value: float | None, chance: float | None, digits: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.{digits}f} ({chance:.{digits}f})" if chance is not None and math.isfinite(chance) else f"{value:.{digits}f}"


def wearer_rows(results: list[SettingResult]) -> list[tuple[str, ...]]:
    rows = []
    for r in results:
        got = {i.property: i for i in r.inference}
        if not got:
            continue
        mix, who = got.get("activity_mix"), got.get("identity")
        rows.append((r.name, _pair(mix.accuracy, mix.chance) if mix else "–",
                     _pair(mix.error, mix.chance_error) if mix else "–", _pair(who.accuracy, who.chance) if who else "–"))
    return rows


def wearer_text(results: list[SettingResult]) -> list[str]:
    """One line on the undefended setting."""
    r = next((x for x in results if x.name == "no-defense" and x.inference), None)
    if r is None:
        return []
    got = {i.property: i for i in r.inference}
    parts = []
    if "activity_mix" in got:
        m = got["activity_mix"]
        parts.append(f"names the dominant activity of a device's session for {100 * m.accuracy:.0f}% of devices "
                     f"(chance {100 * m.chance:.0f}%)")
    if "identity" in got:
        i = got["identity"]
        parts.append(f"links an update whose sender is hidden to its device {100 * i.accuracy:.0f}% of the time "
                     f"(chance {100 * i.chance:.0f}%)")
    return [f"From the updates alone, without defenses, the server {' and '.join(parts)}."] if parts else []


def wearer_html(results: list[SettingResult]) -> str:
    rows = wearer_rows(results)
    if not rows:
        return ""
    out = ["<h2>What the server learns about the wearers</h2><p>Property inference (docs/attacks.md): classifiers the "
           "server trains on updates it simulates from its own data name each device's dominant activity and estimate "
           "its mix; a classifier trained on the first half of the rounds names the sender of each later update. "
           "Chance in brackets.</p><table><tr>" + "".join(f"<th>{h}</th>" for h in HEADERS) + "</tr>"]
    out += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows]
    return "".join(out) + "</table>"
