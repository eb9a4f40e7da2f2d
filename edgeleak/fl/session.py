"""A federated session: N boards, R rounds of FedAvg over the serial protocol, every update captured.

The server keeps every individual update exactly as received and decoded, the global weights of every
round, (replay mode) the samples it sent each device, and what each device reported about its privacy floor
(docs/threat-model.md: the server is honest-but-curious toward the data in these measurements).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from edgeleak.boards.config import Board
from edgeleak.capture.store import CaptureWriter, DeviceReport
from edgeleak.core.model import ModelDir
from edgeleak.data.datasets import Dataset
from edgeleak.device.session import DeviceSession, open_device
from edgeleak.errors import EdgeleakError
from edgeleak.fl.fedavg import accuracy, fedavg, layers_from_params
from edgeleak.fl.layout import participants_by_round as _participants
from edgeleak.fl.layout import round_samples, session_layout
from edgeleak.fl.layout import session_meta as capture_session_meta
from edgeleak.link.client import DeviceError, LinkTimeout
from edgeleak.link.faults import FaultSpec
from edgeleak.link.link_errors import PortLost
from edgeleak.link.messages import ErrorCode
from edgeleak.link.retry import LinkCounters
from edgeleak.link.serial_port import reopen_serial
from edgeleak.privacy.floor import Floor
from edgeleak.train.config import TrainConfig
from edgeleak.train.oracle import flatten_layers
from edgeleak.train.update import Update

ROUND_ATTEMPTS = 3
REENUMERATE_WAIT = 15.0  # seconds a USB board may take to come back on its port after a reset
BOOT_WAIT = 10.0  # seconds a board that has just reset may drop HELLOs while it boots


@dataclass(frozen=True, kw_only=True)
class SessionPlan:
    devices: int
    rounds: int
    config: TrainConfig
    partition: str = "iid"
    samples_per_round: int | None = None  # default: the device's whole share, at most what it can hold
    seed: int = 0
    build_flags: tuple[str, ...] = ()
    floor: Floor | None = None  # the privacy floor the emulated boards are built with (docs/training.md)
    faults: FaultSpec | None = None  # a damaging link to every board (device k: seed + k), for tests and benchmarks
    participants: int | None = None  # devices the server samples each round (uniformly, seeded); None: every device
    craft: str | None = None  # a malicious server: "imprint" sends crafted weights every round (docs/attacks.md)

    def __post_init__(self) -> None:
        if self.devices < 1 or self.rounds < 1:
            raise EdgeleakError(f"a session needs at least one device and one round, got {self.devices} and {self.rounds}")
        if self.participants is not None and not 1 <= self.participants <= self.devices:
            raise EdgeleakError(f"participants per round must be between 1 and {self.devices}, got {self.participants}")
        if self.craft not in (None, "imprint"):
            raise EdgeleakError(f"unknown crafted weights {self.craft!r}; the server can craft: imprint")

    def all_build_flags(self) -> tuple[str, ...]:
        return self.build_flags + (self.floor.to_build_flags() if self.floor else ())


@dataclass(frozen=True)
class RoundSummary:
    round: int
    accuracy: float
    mean_loss: float
    seconds: float
    redone: int  # device rounds redone after a reset or a link failure
    wire_bytes: int


@dataclass(frozen=True)
class SessionSummary:
    initial_accuracy: float
    rounds: tuple[RoundSummary, ...]
    updates: int
    seconds: float
    devices: tuple[DeviceReport, ...] = ()  # what each device's INFO reported when the session opened it
    link: LinkCounters = dataclasses.field(default_factory=LinkCounters)  # all devices' link counters, summed
    participations: tuple[int, ...] = ()  # per device: the rounds it took part in
    window_releases: tuple[int, ...] = ()  # per training window (index into the data set): the updates it was in


REFUSALS = (ErrorCode.E_FLOOR, ErrorCode.E_BUDGET, ErrorCode.E_ENTROPY)
"""Error codes with which a device's privacy floor refuses a round (docs/protocol.md); never retried."""


class FloorRefusal(EdgeleakError):
    """A device refused a round under its privacy floor: the configuration is below the floor, the release would
    exceed the budget, or its entropy is weak. Nothing was released."""

    def __init__(self, device: int, round_: int, code: int, text: str) -> None:
        super().__init__(f"device {device} refused round {round_} under its privacy floor: {text}")
        self.device = device
        self.round = round_
        self.code = code
        self.name = ErrorCode(code).name if code in REFUSALS else f"code {code}"


Event = Callable[[str, int, int, DeviceSession], None]  # (event, device, round, session)


def participants_by_round(plan: SessionPlan) -> list[np.ndarray]:
    """The devices the server picks for each round (``edgeleak.fl.layout.participants_by_round``)."""
    return _participants(plan.devices, plan.rounds, plan.participants, plan.seed)


def await_boot(client, seconds: float):
    """HELLO until the board answers (its INFO), for up to ``seconds``: a board that is booting (or has just come
    back on its port) drops what it is sent until its link runs."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return client.hello()
        except LinkTimeout:
            if time.monotonic() >= deadline:
                raise


def device_round(k: int, dev: DeviceSession, params: np.ndarray, inputs: np.ndarray, labels: np.ndarray,
                  config: TrainConfig, on_event: Event | None) -> tuple[Update, int]:
    """One device's round; redone when the device resets (a new boot id) or the link fails."""
    problem = ""
    for attempt in range(ROUND_ATTEMPTS):
        client = dev.client
        try:
            if attempt:
                client.port.reset_input_buffer()
            boot_id = (await_boot(client, BOOT_WAIT) if attempt else client.hello()).boot_id
            client.load_weights(params)
            client.clear_samples()
            for x, y in zip(inputs, labels):
                client.add_sample(int(y), x.tobytes())
            if on_event:
                on_event("samples_sent", k, config.round, dev)
            client.configure(config)
            update = client.train()
        except DeviceError as exc:
            if exc.code in REFUSALS:
                raise FloorRefusal(k, config.round, exc.code, str(exc)) from None
            problem = str(exc)
            continue
        except LinkTimeout as exc:
            problem = str(exc)
            continue
        except PortLost as exc:  # a USB board that reset: wait for it to come back on its port, redo the round
            problem = str(exc)
            reopen_serial(client.port, wait=REENUMERATE_WAIT)
            continue
        meta = update.meta
        if meta.boot_id != boot_id:
            problem = f"device {k} reset during round {config.round} (boot id {boot_id:#x} -> {meta.boot_id:#x})"
            continue
        if meta.samples != len(inputs) or meta.round != config.round:
            problem = f"device {k} answered for {meta.samples} samples of round {meta.round}"
            continue
        return update, attempt
    raise EdgeleakError(f"device {k} failed round {config.round} {ROUND_ATTEMPTS} times: {problem}")


def check_floor(k: int, report: DeviceReport, floor: Floor | None) -> None:
    """A device that reports another floor than the one asked for (e.g. a real board flashed without it) is refused."""
    if floor is None or report.floor_epsilon is None:
        return  # nothing asked for, or a device that does not report its floor
    delta = report.floor_delta if report.floor_delta is not None else math.nan
    if not (math.isclose(report.floor_epsilon, floor.epsilon, rel_tol=1e-6) and math.isclose(delta, floor.delta, rel_tol=1e-6)):
        has = f"epsilon_max {report.floor_epsilon:g} at delta {delta:g}" if report.floor_epsilon > 0 else "no floor"
        raise EdgeleakError(f"device {k} ({report.board}) enforces {has}, not the {floor.describe()} asked for; "
                            f"build or flash it with that floor")


def run_session(board: Board | Sequence[Board], model: ModelDir, data: Dataset, plan: SessionPlan, out: Path, *,
                on_event: Event | None = None, on_round: Callable[[RoundSummary], None] | None = None,
                ports: Sequence[str | None] | None = None) -> SessionSummary:
    """Run the session and write the capture to ``out``. ``board`` is every device's board, or one per device;
    ``ports`` the port of each device (real boards, or boards started elsewhere; None: found or started here)."""
    start = time.perf_counter()
    boards = [board] * plan.devices if isinstance(board, Board) else list(board)
    if len(boards) != plan.devices:
        raise EdgeleakError(f"{len(boards)} boards given for {plan.devices} devices")
    ports = list(ports) if ports is not None else [None] * plan.devices
    if len(ports) != plan.devices:
        raise EdgeleakError(f"{len(ports)} ports given for {plan.devices} devices")
    layout = session_layout(model, data, plan)
    picked, shares, shapes, params, test_features = (layout.picked, layout.shares, layout.shapes, list(layout.params),
                                                     layout.test_features)
    initial = accuracy(layers_from_params(params, shapes), test_features, data.y_test)
    session_meta = capture_session_meta(model, data, plan, layout, [b.name for b in boards])
    rounds = []
    count = 0
    with contextlib.ExitStack() as stack:
        devices = [stack.enter_context(open_device(boards[k], model, port=ports[k], build_flags=plan.all_build_flags(),
                                                   faults=_faults(plan, k)))
                   for k in range(plan.devices)]  # each is checked to run this model
        reports = tuple(DeviceReport.from_info(k, d.info) for k, d in enumerate(devices))
        for k, report in enumerate(reports):
            check_floor(k, report, plan.floor)
        session_meta["device_info"] = [r.to_json() for r in reports]
        session_meta["ports"] = [d.url if ports[k] else None for k, d in enumerate(devices)]
        capacity = min(d.info.max_samples for d in devices)
        per_round = min(plan.samples_per_round or capacity, capacity)
        writer = stack.enter_context(CaptureWriter(out, session_meta))
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=plan.devices))
        turns = np.zeros(plan.devices, np.int64)
        releases = np.zeros(len(data.y_train), np.int64)
        for r in range(plan.rounds):
            t0 = time.perf_counter()
            wire0 = sum(d.client.counters.bytes_received + d.client.counters.bytes_sent for d in devices)
            sent = crafted_weights(plan, params, shapes, test_features, r)
            writer.add_global(r, sent)
            config = dataclasses.replace(plan.config, round=r)
            who = [int(k) for k in picked[r]]
            picks = {k: round_samples(shares[k], int(turns[k]), per_round) for k in who}
            inputs = {k: model.quantize(data.x_train[p]) for k, p in picks.items()}
            flat = np.concatenate(sent)
            futures = [pool.submit(device_round, k, devices[k], flat, inputs[k], data.y_train[picks[k]], config, on_event)
                       for k in who]
            results = [f.result() for f in futures]
            for k, (update, _) in zip(who, results):
                writer.add_update(device=k, board=devices[k].info.board, firmware_version=devices[k].info.firmware_version,
                                  model_hash=devices[k].info.model_hash, update=update)
                writer.add_truth(device=k, round_=r, inputs=inputs[k], windows=data.x_train[picks[k]], labels=data.y_train[picks[k]])
                turns[k] += 1
                np.add.at(releases, picks[k], 1)
                count += 1
            if plan.craft is None:  # a server that crafts weights keeps its model as it was
                params = fedavg(params, [(u.meta.samples, [t.values for t in u.tensors]) for u, _ in results])
            summary = RoundSummary(
                round=r, accuracy=accuracy(layers_from_params(params, shapes), test_features, data.y_test),
                mean_loss=float(np.mean([u.meta.loss for u, _ in results])), seconds=time.perf_counter() - t0,
                redone=sum(a for _, a in results),
                wire_bytes=sum(d.client.counters.bytes_received + d.client.counters.bytes_sent for d in devices) - wire0)
            rounds.append(summary)
            if on_round:
                on_round(summary)
        link = sum((d.client.counters for d in devices), LinkCounters())
    return SessionSummary(initial, tuple(rounds), count, time.perf_counter() - start, reports, link,
                          tuple(int(t) for t in turns), tuple(int(n) for n in releases))


def crafted_weights(plan: SessionPlan, params: list[np.ndarray], shapes, server_features: np.ndarray, round_: int) -> list[np.ndarray]:
    """The weights the server sends this round: its model, or with ``plan.craft`` the imprint head whose bins sit on
    its own held-out features (a fresh direction every round)."""
    if plan.craft is None:
        return params
    from edgeleak.attacks.imprint import craft_imprint

    try:
        head = craft_imprint(layers_from_params(params, shapes), server_features, seed=plan.seed * 1000 + round_)
    except ValueError as exc:
        raise EdgeleakError(str(exc)) from None
    return flatten_layers(list(head))


def _faults(plan: SessionPlan, device: int) -> FaultSpec | None:
    return dataclasses.replace(plan.faults, seed=plan.faults.seed + device) if plan.faults else None
