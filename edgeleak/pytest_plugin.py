"""pytest plugin: put the leakage gate in a firmware project's own test suite.

Installed with edgeleak (entry point ``pytest11``), it provides the ``edgeleak_audit`` fixture:

    def test_updates_do_not_leak(edgeleak_audit):
        edgeleak_audit("leakage-policy.yaml", "out/capture")   # fails the test, naming each violation
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from edgeleak.study.audit import Measured, load_policy, measure_target, violations


def audit(policy_path: str | Path, target: str | Path) -> list[Measured]:
    """Check ``target`` against the policy; raise AssertionError listing every violation."""
    policy = load_policy(Path(policy_path))
    measured = measure_target(Path(target), policy)
    found = violations(policy, measured)
    if found:
        raise AssertionError("leakage policy violated:\n" + "\n".join(f"  {line}" for line in found))
    return measured


@pytest.fixture
def edgeleak_audit() -> Callable[[str | Path, str | Path], list[Measured]]:
    """A function ``(policy, target)`` that fails the test when the target crosses the policy."""
    return audit
