"""The server's side of a fleet run: which boards the fleet has, what each round sends them, and what the server
keeps of their replies (the capture, as ``edgeleak train`` writes it). Flower-free except for the query of the
nodes; the strategies (edgeleak.fleet.strategy, edgeleak.fleet.secagg_server) call it."""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field

import numpy as np
from flwr.app import Message, MessageType, RecordDict

from edgeleak import strict_json
from edgeleak.capture.store import CaptureWriter, DeviceReport
from edgeleak.core.model import ModelDir
from edgeleak.data import load_dataset
from edgeleak.device.model_dir import load_model_dir
from edgeleak.errors import EdgeleakError
from edgeleak.fl.fedavg import accuracy, fedavg, layers_from_params
from edgeleak.fl.layout import round_samples, session_layout, session_meta
from edgeleak.fl.session import REFUSALS, check_floor, crafted_weights
from edgeleak.fleet.plan import FleetPlan
from edgeleak.fleet.records import BoardResult, BoardTask, read_boards
from edgeleak.train.update import Update, UpdateFormatError, UpdateMeta, parse_update

SUMMARY_FILE = "fleet-summary.json"
NODE_WAIT = 600.0  # seconds the server waits for every SuperNode to connect


@dataclass(frozen=True)
class FleetDevice:
    device: int  # the capture's device number: the fleet's boards sorted by node name, then by place on the node
    node_id: int
    node: str
    board_index: int
    bridge: str
    report: DeviceReport
    max_samples: int


@dataclass
class FleetRound:
    round: int
    accuracy: float
    seconds: float
    updates: int
    failed: list[dict] = field(default_factory=list)  # {"device", "error"} of every board that did not answer
    wire_bytes: int = 0  # serial bytes between the boards and their bridges
    flower_bytes: int = 0  # update bytes in the replies


def _query(node: int, legacy: bool) -> Message:
    """The question "which boards do you drive": a query message, or a legacy client's get_properties."""
    if not legacy:
        return Message(RecordDict(), dst_node_id=node, message_type=MessageType.QUERY)
    from flwr.common import GetPropertiesIns
    from flwr.compat.common.recorddict_compat import getpropertiesins_to_recorddict

    return Message(getpropertiesins_to_recorddict(GetPropertiesIns({})), dst_node_id=node, message_type="get_properties")


def _answer(reply: Message, legacy: bool) -> tuple[str, list[dict]]:
    if not legacy:
        return read_boards(reply.content)
    from flwr.compat.common.recorddict_compat import recorddict_to_getpropertiesres

    props = recorddict_to_getpropertiesres(reply.content).properties
    return str(props["node"]), json.loads(str(props["boards"]))


def discover(grid, plan: FleetPlan, model: ModelDir, *, wait: float = NODE_WAIT, legacy: bool = False) -> list[FleetDevice]:
    """Wait for the plan's SuperNodes, ask each which boards it drives, and number the fleet's devices."""
    deadline = time.monotonic() + wait
    while len(nodes := sorted(grid.get_node_ids())) < plan.nodes:
        if time.monotonic() > deadline:
            raise EdgeleakError(f"{len(nodes)} of {plan.nodes} SuperNodes connected in {wait:.0f} s")
        time.sleep(1.0)
    messages = [_query(n, legacy) for n in nodes]
    found = []
    for reply in grid.send_and_receive(messages, timeout=wait):
        if reply.has_error():
            raise EdgeleakError(f"node {reply.metadata.src_node_id} did not say which boards it drives: "
                                f"{reply.error.reason}")
        name, boards = _answer(reply, legacy)
        for index, b in enumerate(boards):
            if not b.get("ok"):
                raise EdgeleakError(f"node {name}: board {index} ({b.get('bridge')}) is not ready: {b.get('error')}")
            if b["model_hash"] != model.sha256:
                raise EdgeleakError(f"node {name}: board {index} runs model {b['model_hash'][:16]}, not {model.sha256[:16]}")
            found.append((name, index, reply.metadata.src_node_id, b))
    found.sort(key=lambda f: (f[0], f[1]))
    if len(found) != plan.session.devices:
        raise EdgeleakError(f"the nodes drive {len(found)} boards; the plan is for {plan.session.devices}")
    devices = [FleetDevice(k, node_id, name, index, b["bridge"], DeviceReport.from_json({**b["report"], "device": k}),
                           int(b["max_samples"])) for k, (name, index, node_id, b) in enumerate(found)]
    if len({d.node for d in devices}) != len({d.node_id for d in devices}):
        raise EdgeleakError("two SuperNodes have the same node-name; give each its own")
    return devices


class FleetRun:
    """The server's state across rounds; ``start_round`` / ``finish_round`` bracket one round."""

    def __init__(self, plan: FleetPlan, grid, *, legacy: bool = False) -> None:
        self.plan = plan
        self.model = load_model_dir(plan.model_dir)
        self.data = load_dataset(plan.dataset)
        self.layout = session_layout(self.model, self.data, plan.session)
        self.params = list(self.layout.params)
        self.devices = discover(grid, plan, self.model, legacy=legacy)
        self._by_node = {(d.node_id, d.board_index): d.device for d in self.devices}
        self.knowledge = None  # what the curious attack knows of the model, made on its first use
        for d in self.devices:
            check_floor(d.device, d.report, plan.session.floor)
        meta = session_meta(self.model, self.data, plan.session, self.layout, [d.report.board for d in self.devices])
        meta.update(device_info=[d.report.to_json() for d in self.devices], ports=[d.bridge for d in self.devices],
                    fleet={"nodes": sorted({d.node for d in self.devices}), "aggregation": plan.aggregation,
                           "bridges": [{"node": d.node, "board": d.board_index} for d in self.devices]})
        self.writer = CaptureWriter(plan.out, meta)
        capacity = min(d.max_samples for d in self.devices)
        self.per_round = min(plan.session.samples_per_round or capacity, capacity)
        self.turns = np.zeros(plan.session.devices, np.int64)
        self.initial_accuracy = self.accuracy(self.params)
        self.rounds: list[FleetRound] = []
        self._started = 0.0
        self._picks: dict[int, np.ndarray] = {}
        self._inputs: dict[int, np.ndarray] = {}
        self.sent: list[np.ndarray] = []  # this round's weights as sent
        self.round_updates: dict[int, Update] = {}  # this round's captured updates (the curious attack reads them)

    def accuracy(self, params: list[np.ndarray]) -> float:
        return accuracy(layers_from_params(params, self.layout.shapes), self.layout.test_features, self.data.y_test)

    def start_round(self, r: int) -> tuple[np.ndarray, dict[int, list[BoardTask]]]:
        """The weights sent this round (recorded as its global weights) and each node's tasks."""
        self._started = time.perf_counter()
        sent = crafted_weights(self.plan.session, self.params, self.layout.shapes, self.layout.test_features, r)
        self.writer.add_global(r, sent)
        self.sent, self.round_updates = list(sent), {}
        who = [int(k) for k in self.layout.picked[r]]
        self._picks = {k: round_samples(self.layout.shares[k], int(self.turns[k]), self.per_round) for k in who}
        self._inputs = {k: self.model.quantize(self.data.x_train[p]) for k, p in self._picks.items()}
        tasks: dict[int, list[BoardTask]] = {}
        for k in who:
            d = self.devices[k]
            tasks.setdefault(d.node_id, []).append(BoardTask(d.board_index, k, self._inputs[k], self.data.y_train[self._picks[k]]))
        return np.concatenate(sent), tasks

    def accept(self, r: int, device: int, result: BoardResult) -> tuple[Update | None, str]:
        """Check one board's reply and capture it: (update, "") or (None, why it is not taken)."""
        if not result.ok:
            refused(result.refusal, result.error)
            return None, result.error
        if device not in self._inputs:
            return None, f"an update for round {r}, which did not ask this board"
        try:
            update = parse_update(result.update_body)
        except UpdateFormatError as exc:
            return None, f"a malformed update: {exc}"
        if update.meta.round != r or update.meta.samples != len(self._inputs[device]):
            return None, f"an update for {update.meta.samples} samples of round {update.meta.round}"
        d = self.devices[device]
        self.writer.add_update(device=device, board=d.report.board, firmware_version=d.report.firmware_version,
                               model_hash=self.model.sha256, update=update)
        self.writer.add_truth(device=device, round_=r, inputs=self._inputs[device],
                              windows=self.data.x_train[self._picks[device]], labels=self.data.y_train[self._picks[device]])
        self.turns[device] += 1
        self.round_updates[device] = update
        return update, ""

    @property
    def round_inputs(self) -> dict[int, np.ndarray]:
        return self._inputs

    @property
    def round_labels(self) -> dict[int, np.ndarray]:
        return {k: self.data.y_train[p] for k, p in self._picks.items()}

    def device_of(self, node_id: int, board: int) -> int | None:
        """The device number of a node's board; None for a board the fleet does not know (a node that changed)."""
        return self._by_node.get((node_id, board))

    def asked(self, r: int) -> set[int]:
        return {int(k) for k in self.layout.picked[r]}

    def halted(self, r: int, why: str) -> None:
        """A round that ended without any reply the server could use: every asked board is left out of it."""
        if len(self.rounds) == r:
            self.finish_round(r, {k: (None, why) for k in sorted(self.asked(r))})

    def accept_aggregate(self, r: int, devices: list[int], total: list[np.ndarray]) -> None:
        """Capture a secure aggregate: the sum of ``devices``' updates, with the metadata the server knows itself."""
        c = self.plan.session.config
        nan = float("nan")
        meta = UpdateMeta(round=r, boot_id=0, samples=sum(len(self._inputs[k]) for k in devices), steps=c.local_steps,
                          learning_rate=c.learning_rate, momentum=c.momentum, batch_size=c.batch_size,
                          clip_mode=c.clip_mode, noise_kind=c.noise_kind, clip_norm=c.clip_norm,
                          noise_multiplier=c.noise_multiplier, noise_mode=c.noise_mode, sparsify=c.sparsify,
                          encoding=c.encoding, seeded=c.seed is not None, sparsify_fraction=c.sparsify_fraction,
                          pre_clip_norm=nan, loss=nan, ticks=0, epochs=0 if c.local_steps else c.epochs)
        self.writer.add_aggregate(round_=r, devices=devices, tensors=total, meta=meta)
        for k in devices:
            self.writer.add_truth(device=k, round_=r, inputs=self._inputs[k], windows=self.data.x_train[self._picks[k]],
                                  labels=self.data.y_train[self._picks[k]])
            self.turns[k] += 1

    def finish_round(self, r: int, results: dict[int, tuple[Update | None, str]], *, wire_bytes: int = 0,
                     flower_bytes: int = 0, aggregate: list[np.ndarray] | None = None) -> FleetRound:
        """FedAvg over the boards that answered (or the secure aggregate's mean), the held-out accuracy, the round's
        record. ``results``: per device asked, (its update or None, "" or why it is left out); a board left out is
        written to the capture as a failure event."""
        taken = [] if aggregate is not None else [(u.meta.samples, [t.values for t in u.tensors])
                                                   for u, _ in results.values() if u is not None]
        failed = [{"device": k, "error": why} for k, (_, why) in sorted(results.items()) if why]
        for f in failed:
            self.writer.add_event("failure", round_=r, **f)
        if self.plan.session.craft is None:
            if aggregate is not None:
                self.params = [(p + a).astype(np.float32) for p, a in zip(self.params, aggregate)]
            elif taken:
                self.params = fedavg(self.params, taken)
        record = FleetRound(r, self.accuracy(self.params), time.perf_counter() - self._started,
                            len(results) - len(failed), failed, wire_bytes,
                            flower_bytes)
        self.rounds.append(record)
        write_summary(self.plan, self, None, status="running")
        return record

    def close(self, error: str | None = None) -> None:
        self.writer.close()
        write_summary(self.plan, self, error)


def refused(refusal: str | None, error: str) -> None:
    """A board that refused a round under its privacy floor stops the run, as in edgeleak train."""
    if refusal is not None and refusal in {c.name for c in REFUSALS}:
        raise EdgeleakError(error)


def run_failed(plan: FleetPlan, run: FleetRun | None, exc: BaseException) -> None:
    """The run fails either way: keep what was captured and say why in the summary, for fleet run's one line."""
    if run is not None:
        run.writer.close()
    write_summary(plan, run, str(exc) if isinstance(exc, EdgeleakError) else f"{type(exc).__name__}: {exc}")


def write_summary(plan: FleetPlan, run: FleetRun | None, error: str | None, *, status: str | None = None) -> None:
    """``fleet-summary.json`` in the capture directory, rewritten after every round: per round, and the run's
    status (running, finished, failed) with the error that stopped it (strict JSON)."""
    plan.out.mkdir(parents=True, exist_ok=True)
    summary = {"status": status or ("failed" if error else "finished"), "error": error, "aggregation": plan.aggregation}
    if run is not None:
        summary.update(initial_accuracy=run.initial_accuracy, devices=len(run.devices),
                       nodes=sorted({d.node for d in run.devices}),
                       rounds=[dataclasses.asdict(r) for r in run.rounds],
                       updates=sum(r.updates for r in run.rounds))
    tmp = plan.out / (SUMMARY_FILE + ".tmp")
    tmp.write_text(strict_json.dumps(summary, indent=2))
    tmp.replace(plan.out / SUMMARY_FILE)


