"""The red team: a malicious server against a board's privacy floor (docs/redteam.md).

    report = redteam(boards.get("host"), Path("models/mlp"), build_flags=("-DEL_FLOOR_EPSILON=8",))
    report.all_stopped        # every attack refused or left with nothing usable

Attacks live one group per module (metadata, budget, mechanism, state) and are looked up by name in
``registry``; their outcomes are typed records (``results``) that ``report`` prints and writes as JSON."""

from edgeleak.redteam.context import RedteamPlan
from edgeleak.redteam.runner import attack_session, redteam, redteam_build_flags

__all__ = ["RedteamPlan", "attack_session", "redteam", "redteam_build_flags"]
