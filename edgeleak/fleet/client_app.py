"""The fleet's ClientApp: it runs on a SuperNode for one message and drives that node's boards through their bridges.

node_config (set by ``edgeleak fleet node``): ``node-name`` and ``bridges`` (comma-separated HOST:PORT, one per
board). The bridges' key is in the environment (EDGELEAK_BRIDGE_KEY), inherited from the SuperNode.

The on-device defenses stay on the device: this app adds no clipping or noise of its own (Flower's
``fixedclipping_mod`` and ``LocalDpMod`` run on the host, after the update has left the board, where a curious
server's software could switch them off; docs/fleet.md says why), it forwards the board's UPDATE untouched.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from flwr.app import Context, Message
from flwr.clientapp import ClientApp

from edgeleak.fleet import bridge_client
from edgeleak.fleet.bridge_client import BridgeDown
from edgeleak.fleet.records import (BRIDGES, NODE_NAME, REQUIRE_SECAGG, BoardResult, BoardTask, boards_content,
                                    read_train, results_content)
from edgeleak.train.config import TrainConfig

app = ClientApp()
SECAGG_ONLY = "this node sends updates only behind secure aggregation (fleet node --require-secagg)"


def node_bridges(context: Context) -> tuple[str, list[str]]:
    """The node's name and bridges; in a simulation (no ``bridges`` in node_config) virtual node N drives board N of
    the simulation's bridge (run config ``sim-bridge``)."""
    if BRIDGES not in context.node_config and context.run_config.get("sim-bridge"):
        n = int(context.node_config["partition-id"])
        return f"sim-{n:05d}", [f"{context.run_config['sim-bridge']}/{n}"]
    name = str(context.node_config.get(NODE_NAME, context.node_id))
    bridges = [b.strip() for b in str(context.node_config.get(BRIDGES, "")).split(",") if b.strip()]
    return name, bridges


def board_info(address: str) -> dict:
    try:
        reply = bridge_client.info(address)
    except BridgeDown as exc:
        return {"bridge": address, "ok": False, "error": str(exc)}
    return {"bridge": address, **reply.header}


def run_task(address: str, task: BoardTask, *, round_: int, config: TrainConfig, model_hash: str,
             params) -> BoardResult:
    try:
        reply = bridge_client.train_round(address, device=task.device, model_hash=model_hash,
                                          config=TrainConfig.from_dict({**config.to_dict(), "round": round_}),
                                          params=params, inputs=task.inputs, labels=task.labels)
    except BridgeDown as exc:
        return BoardResult(task.board, False, error=str(exc))
    if not reply.ok:
        return BoardResult(task.board, False, error=reply.error, refusal=reply.header.get("refusal"))
    return BoardResult(task.board, True, reply.arrays["update"].tobytes(), attempts=int(reply.header["attempts"]),
                       wire_bytes=int(reply.header["wire_bytes"]))


def train_boards(content, bridges: list[str]) -> list[BoardResult]:
    plan, params, tasks = read_train(content)
    return train_tasks(plan, params, tasks, bridges)


def train_tasks(plan: dict, params, tasks: list[BoardTask], bridges: list[str]) -> list[BoardResult]:
    """Every board the server asks for, side by side; a board whose bridge is gone is reported, not fatal."""
    config = TrainConfig.from_dict(plan["config"])
    known = [t for t in tasks if 0 <= t.board < len(bridges)]
    missing = [BoardResult(t.board, False, error=f"this node has no board {t.board}") for t in tasks
               if not 0 <= t.board < len(bridges)]
    with ThreadPoolExecutor(max_workers=max(1, len(known))) as pool:
        futures = [pool.submit(run_task, bridges[t.board], t, round_=plan["round"], config=config,
                               model_hash=plan["model_hash"], params=params) for t in known]
        return [f.result() for f in futures] + missing


@app.query()
def query(msg: Message, context: Context) -> Message:
    name, bridges = node_bridges(context)
    return Message(boards_content(name, [board_info(a) for a in bridges]), reply_to=msg)


@app.train()
def train(msg: Message, context: Context) -> Message:
    _, bridges = node_bridges(context)
    if context.node_config.get(REQUIRE_SECAGG):  # the node's owner, not the server, decides what leaves it
        _, _, tasks = read_train(msg.content)
        return Message(results_content([BoardResult(t.board, False, error=SECAGG_ONLY) for t in tasks]), reply_to=msg)
    return Message(results_content(train_boards(msg.content, bridges)), reply_to=msg)
