"""The curious server as Flower strategies: FedAvg over the fleet's boards with the capture of every update, and a
wrapper that attacks each round's updates as they arrive."""

from __future__ import annotations

import time
from typing import Iterable

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Message, MessageType, MetricRecord
from flwr.serverapp import Grid
from flwr.serverapp.strategy import FedAvg, Strategy

from edgeleak import strict_json
from edgeleak.fleet.fleet_run import FleetRun
from edgeleak.fleet.records import read_results, train_content


def params_record(params: list[np.ndarray]) -> ArrayRecord:
    return ArrayRecord({f"t{k}": Array(np.asarray(p, np.float32)) for k, p in enumerate(params)})


class BoardFedAvg(FedAvg):
    """FedAvg whose clients are boards, several to a SuperNode. The server picks the round's boards (all, or
    ``participants`` of them, seeded as in ``edgeleak train``), sends each node one message with its boards'
    samples, captures each board's update exactly as the board sent it, and averages by samples."""

    def __init__(self, run: FleetRun) -> None:
        super().__init__(fraction_evaluate=0.0, min_available_nodes=run.plan.nodes, min_train_nodes=1)
        self.run = run

    def configure_train(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                        grid: Grid) -> Iterable[Message]:
        r = server_round - 1
        sent, tasks = self.run.start_round(r)
        round_config = self.run.plan.session.config
        return [Message(train_content(r, round_config, self.run.model.sha256, sent, node_tasks), dst_node_id=node,
                        message_type=MessageType.TRAIN) for node, node_tasks in sorted(tasks.items())]

    def aggregate_train(self, server_round: int, replies: Iterable[Message]) -> tuple[ArrayRecord | None, MetricRecord | None]:
        r = server_round - 1
        run = self.run
        asked = run.asked(r)
        results: dict = {}
        wire = flower = 0
        for reply in replies:
            node = reply.metadata.src_node_id
            if reply.has_error():
                for d in run.devices:
                    if d.node_id == node and d.device in asked:
                        results[d.device] = (None, f"node {d.node}: {reply.error.reason}")
                continue
            for res in read_results(reply.content):
                device = run.device_of(node, res.board)
                if device is None or device not in asked or device in results:
                    continue  # a board the server did not ask this round: nothing of it is taken
                results[device] = run.accept(r, device, res)
                wire += res.wire_bytes
                flower += len(res.update_body)
        for k in sorted(asked - set(results)):
            results[k] = (None, f"node {run.devices[k].node} did not reply in {run.plan.round_timeout:g} s")
        record = run.finish_round(r, results, wire_bytes=wire, flower_bytes=flower)
        return params_record(run.params), MetricRecord({"accuracy": record.accuracy, "updates": record.updates,
                                                        "failed": len(record.failed)})

    def configure_evaluate(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                           grid: Grid) -> Iterable[Message]:
        return []  # the server evaluates on its own held-out split (evaluate_fn)


class CuriousServer(Strategy):
    """Wraps a fleet strategy: after each round's aggregation it runs an attack on that round's captured updates, as
    the curious server would, and appends what it got to ``curious.jsonl`` in the capture directory (reconstructions
    and, since this is a measurement, their scores against the replayed ground truth)."""

    def __init__(self, inner: BoardFedAvg, attack: str) -> None:
        from edgeleak.attacks.base import get_attack

        self.inner = inner
        self.attack_name = attack
        self.attack = get_attack(attack)

    def summary(self) -> None:
        self.inner.summary()

    def configure_train(self, server_round, arrays, config, grid):
        return self.inner.configure_train(server_round, arrays, config, grid)

    def aggregate_train(self, server_round, replies):
        out = self.inner.aggregate_train(server_round, replies)
        self._attack_round(server_round - 1)
        return out

    def configure_evaluate(self, server_round, arrays, config, grid):
        return self.inner.configure_evaluate(server_round, arrays, config, grid)

    def aggregate_evaluate(self, server_round, replies):
        return self.inner.aggregate_evaluate(server_round, replies)

    def _attack_round(self, r: int) -> None:
        from edgeleak.fleet.curious import attack_round

        started = time.perf_counter()
        rows = attack_round(self.inner.run, self.attack, r)
        path = self.inner.run.plan.out / "curious.jsonl"
        with path.open("a") as f:
            for row in rows:
                f.write(strict_json.dumps({**row, "attack": self.attack_name,
                                           "seconds": time.perf_counter() - started}) + "\n")
