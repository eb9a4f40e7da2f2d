"""The fleet run's plan: what ``edgeleak fleet run`` hands the ServerApp (a JSON file named in the run config, since
Flower's run config carries only scalars). Paths are the server machine's."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from edgeleak import strict_json
from edgeleak.core.model import DatasetSource
from edgeleak.errors import EdgeleakError
from edgeleak.fl.session import SessionPlan
from edgeleak.privacy.floor import Floor
from edgeleak.train.config import TrainConfig

PLAN_VERSION = 1
AGGREGATIONS = ("plain", "secagg+")


@dataclass(frozen=True, kw_only=True)
class FleetPlan:
    model_dir: Path
    dataset: DatasetSource
    session: SessionPlan  # devices: every board of the fleet (the run waits until all are connected)
    out: Path  # the capture directory
    nodes: int  # SuperNodes the run waits for
    aggregation: str = "plain"  # "secagg+": the server sees only each round's aggregate (docs/fleet.md)
    curious_attack: str | None = None  # an attack the ServerApp runs on each round's updates as they arrive
    round_timeout: float = 600.0  # seconds the server waits for a round's replies

    def __post_init__(self) -> None:
        if self.aggregation not in AGGREGATIONS:
            raise EdgeleakError(f"unknown aggregation {self.aggregation!r}; choose {', '.join(AGGREGATIONS)}")
        if self.nodes < 1 or self.session.devices < self.nodes:
            raise EdgeleakError(f"a fleet of {self.session.devices} boards on {self.nodes} nodes: each node needs a board")
        if self.aggregation == "secagg+":
            if self.session.craft or self.curious_attack:
                raise EdgeleakError("behind secure aggregation the server sees no single update: no --craft or --curious "
                                    "(attack the capture's aggregates afterwards with edgeleak attack --aggregate)")
            if self.nodes < 2 or self.session.participants is not None:
                raise EdgeleakError("secure aggregation needs at least 2 nodes, every board in every round")

    def to_json(self) -> dict:
        s = self.session
        return {"version": PLAN_VERSION, "model_dir": str(self.model_dir), "dataset": self.dataset.to_json(),
                "out": str(self.out), "nodes": self.nodes, "aggregation": self.aggregation,
                "curious_attack": self.curious_attack, "round_timeout": self.round_timeout,
                "session": {"devices": s.devices, "rounds": s.rounds, "config": s.config.to_dict(),
                            "partition": s.partition, "samples_per_round": s.samples_per_round, "seed": s.seed,
                            "build_flags": list(s.build_flags), "floor": s.floor.to_json() if s.floor else None,
                            "participants": s.participants, "craft": s.craft}}

    @classmethod
    def from_json(cls, raw: dict) -> "FleetPlan":
        if not isinstance(raw, dict) or raw.get("version") != PLAN_VERSION:
            raise EdgeleakError(f"not a fleet plan of version {PLAN_VERSION}")
        try:
            s = raw["session"]
            session = SessionPlan(
                devices=s["devices"], rounds=s["rounds"], config=TrainConfig.from_dict(s["config"]),
                partition=s["partition"], samples_per_round=s["samples_per_round"], seed=s["seed"],
                build_flags=tuple(s["build_flags"]), floor=Floor.from_json(s["floor"]) if s["floor"] else None,
                participants=s["participants"], craft=s["craft"])
            return cls(model_dir=Path(raw["model_dir"]), dataset=DatasetSource.from_json(raw["dataset"]),
                       session=session, out=Path(raw["out"]), nodes=raw["nodes"], aggregation=raw["aggregation"],
                       curious_attack=raw["curious_attack"], round_timeout=raw["round_timeout"])
        except (KeyError, TypeError) as exc:
            raise EdgeleakError(f"the fleet plan lacks or mistypes {exc}") from None


def write_plan(plan: FleetPlan, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(strict_json.dumps(plan.to_json(), indent=2))


def read_plan(path: Path) -> FleetPlan:
    try:
        return FleetPlan.from_json(json.loads(path.read_text()))
    except (OSError, json.JSONDecodeError) as exc:
        raise EdgeleakError(f"cannot read the fleet plan {path}: {exc}") from None
