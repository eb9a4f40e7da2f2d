"""What the fleet's Flower messages carry (docs/fleet.md, Messages), as pure functions between edgeleak's types and
Flower's records.

A train message to a SuperNode names the boards it asks (by their index on that node) and carries the global head
once and each board's samples; the reply carries each board's UPDATE body exactly as the board sent it, or why the
board could not train. A query message asks a node which boards it drives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, RecordDict

from edgeleak import strict_json
from edgeleak.train.config import TrainConfig

NODE_NAME = "node-name"
BRIDGES = "bridges"
REQUIRE_SECAGG = "require-secagg"
"""node_config keys: the node's name (orders the fleet's devices), its bridges (comma-separated HOST:PORT), and
whether it trains only behind secure aggregation."""


@dataclass(frozen=True)
class BoardTask:
    board: int  # index of the board on its node
    device: int  # the device's number in the fleet (the capture's device)
    inputs: np.ndarray  # int8 windows, as the device stores them
    labels: np.ndarray


@dataclass(frozen=True)
class BoardResult:
    board: int
    ok: bool
    update_body: bytes = b""
    error: str = ""
    refusal: str | None = None  # the floor's refusal code name, when the device refused the round
    attempts: int = 0
    wire_bytes: int = 0


def train_content(round_: int, config: TrainConfig, model_hash: str, params: np.ndarray,
                  tasks: list[BoardTask]) -> RecordDict:
    arrays = {"params": Array(np.asarray(params, np.float32))}
    for t in tasks:
        arrays[f"inputs.{t.board}"] = Array(np.ascontiguousarray(t.inputs, np.int8))
        arrays[f"labels.{t.board}"] = Array(np.asarray(t.labels, np.int64))
    plan = {"round": round_, "config": config.to_dict(), "model_hash": model_hash,
            "boards": [t.board for t in tasks], "devices": [t.device for t in tasks]}
    return RecordDict({"global": ArrayRecord(arrays), "plan": ConfigRecord({"json": strict_json.dumps(plan)})})


def read_train(content: RecordDict) -> tuple[dict, np.ndarray, list[BoardTask]]:
    plan = json.loads(content.config_records["plan"]["json"])
    arrays = content.array_records["global"]
    tasks = [BoardTask(b, d, arrays[f"inputs.{b}"].numpy(), arrays[f"labels.{b}"].numpy())
             for b, d in zip(plan["boards"], plan["devices"])]
    return plan, arrays["params"].numpy(), tasks


def results_content(results: list[BoardResult]) -> RecordDict:
    arrays = {f"update.{r.board}": Array(np.frombuffer(r.update_body, np.uint8).copy()) for r in results if r.ok}
    meta = [{"board": r.board, "ok": r.ok, "error": r.error, "refusal": r.refusal, "attempts": r.attempts,
             "wire_bytes": r.wire_bytes} for r in results]
    return RecordDict({"updates": ArrayRecord(arrays), "results": ConfigRecord({"json": strict_json.dumps(meta)})})


def read_results(content: RecordDict) -> list[BoardResult]:
    arrays = content.array_records["updates"]
    out = []
    for m in json.loads(content.config_records["results"]["json"]):
        body = arrays[f"update.{m['board']}"].numpy().tobytes() if m["ok"] else b""
        out.append(BoardResult(m["board"], m["ok"], body, m["error"], m["refusal"], m["attempts"], m["wire_bytes"]))
    return out


def boards_content(node: str, boards: list[dict]) -> RecordDict:
    return RecordDict({"boards": ConfigRecord({"json": strict_json.dumps({"node": node, "boards": boards})})})


def read_boards(content: RecordDict) -> tuple[str, list[dict]]:
    raw = json.loads(content.config_records["boards"]["json"])
    return raw["node"], raw["boards"]
