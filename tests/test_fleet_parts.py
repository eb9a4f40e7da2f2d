"""The fleet's parts without Flower processes: the bridge's messages, a bridge that owns a host board, the Flower
records, the plan file, and the commands' one-line errors."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from edgeleak.errors import EdgeleakError
from edgeleak.fl.session import SessionPlan
from edgeleak.fleet import bridge_client
from edgeleak.fleet.bridge import KEY_ENV, split_bridge
from edgeleak.fleet.bridge_client import BridgeDown
from edgeleak.fleet.plan import FleetPlan, read_plan, write_plan
from edgeleak.fleet.records import BoardResult, BoardTask, read_results, read_train, results_content, train_content
from edgeleak.fleet.wire import WireError, WireMessage, pack, unpack
from edgeleak.core.model import DatasetSource
from edgeleak.privacy.floor import Floor
from edgeleak.train.config import ClipMode, TrainConfig
from edgeleak.train.update import parse_update
from tests.cli_run import cli, one_line_error


def test_wire_round_trip_and_damage():
    message = WireMessage({"op": "round", "x": [1, 2.5, None]}, {"a": np.arange(6, dtype=np.int8).reshape(2, 3)})
    back = unpack(pack(message))
    assert back.header == message.header and np.array_equal(back.arrays["a"], message.arrays["a"])
    assert back.arrays["a"].dtype == np.int8
    raw = pack(message)
    for bad in (raw[:3], raw[:10], raw[:-7], b"\xff\xff\xff\x00" + raw[4:]):
        with pytest.raises(WireError):
            unpack(bad)
    assert b"NaN" not in pack(WireMessage({"x": float("nan")}))  # strict JSON: a NaN goes as null
    assert unpack(pack(WireMessage({"x": float("nan")}))).header == {"x": None}


def test_bridge_addresses():
    assert split_bridge("127.0.0.1:7100") == ("127.0.0.1:7100", 0)
    assert split_bridge("127.0.0.1:7100/12") == ("127.0.0.1:7100", 12)
    with pytest.raises(EdgeleakError):
        split_bridge("127.0.0.1:7100/x")


def test_flower_records_round_trip():
    config = TrainConfig(learning_rate=0.1, clip_mode=ClipMode.UPDATE, clip_norm=2.0, seed=7)
    tasks = [BoardTask(1, 5, np.ones((2, 3), np.int8), np.array([0, 3])), BoardTask(0, 4, np.zeros((1, 3), np.int8), np.array([2]))]
    plan, params, back = read_train(train_content(3, config, "ab" * 32, np.arange(4, dtype=np.float32), tasks))
    assert plan["round"] == 3 and TrainConfig.from_dict(plan["config"]) == config and plan["devices"] == [5, 4]
    assert np.array_equal(params, np.arange(4, dtype=np.float32))
    assert [(t.board, t.device) for t in back] == [(1, 5), (0, 4)] and np.array_equal(back[0].labels, [0, 3])
    results = [BoardResult(0, True, b"\x01\x02\x03", attempts=1, wire_bytes=99), BoardResult(1, False, error="gone")]
    assert read_results(results_content(results)) == results


def test_plan_file_round_trip(tmp_path):
    session = SessionPlan(devices=4, rounds=3, config=TrainConfig(seed=3), partition="by-class", samples_per_round=2,
                          seed=9, floor=Floor(8.0, 1e-5), participants=2, craft=None)
    plan = FleetPlan(model_dir=tmp_path / "m", dataset=DatasetSource("basic_motions"), session=session,
                     out=tmp_path / "cap", nodes=2, curious_attack="analytic", round_timeout=30.0)
    write_plan(plan, tmp_path / "p.json")
    assert read_plan(tmp_path / "p.json") == plan
    (tmp_path / "bad.json").write_text('{"version": 1}')
    with pytest.raises(EdgeleakError, match="lacks"):
        read_plan(tmp_path / "bad.json")
    with pytest.raises(EdgeleakError, match="at least 2 nodes"):
        FleetPlan(model_dir=tmp_path, dataset=DatasetSource("basic_motions"), session=session, out=tmp_path,
                  nodes=1, aggregation="secagg+")
    with pytest.raises(EdgeleakError, match="each node needs a board"):
        FleetPlan(model_dir=tmp_path, dataset=DatasetSource("basic_motions"), session=session, out=tmp_path, nodes=5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bridge_owns_a_host_board_across_clients(tmp_path, zoo_models, monkeypatch):
    """A bridge answers info and rounds from one client after another, refuses a wrong key and another model, and
    leaves with its board when stopped."""
    model = zoo_models["mlp"]
    key = secrets.token_hex(32)
    monkeypatch.setenv(KEY_ENV, key)
    address = f"127.0.0.1:{_free_port()}"
    log = (tmp_path / "bridge.out").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "edgeleak.cli", "fleet", "bridge", "--board", "host", "--model",
                             str(model), "--listen", address], stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 300
        while "ready on" not in (tmp_path / "bridge.out").read_text():
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "bridge.out").read_text()
            time.sleep(0.2)
        info = bridge_client.info(address)
        assert info.ok and info.header["report"]["board"] == "host" and info.header["max_samples"] > 0
        from edgeleak.device.model_dir import load_model_dir

        m = load_model_dir(model)
        params = np.concatenate([np.concatenate([l.weights.ravel(), l.bias]) for l in m.head]).astype(np.float32)
        inputs = np.zeros((2, *m.input_shape[1:]), np.int8)
        bodies = []
        for r in range(2):  # two clients, one after the other: the board stays open
            reply = bridge_client.train_round(address, device=0, model_hash=m.sha256, config=TrainConfig(round=r),
                                              params=params, inputs=inputs, labels=np.array([0, 1]))
            assert reply.ok, reply.error
            update = parse_update(reply.arrays["update"].tobytes())
            assert update.meta.round == r and update.meta.samples == 2
            bodies.append(reply.arrays["update"].tobytes())
        other = bridge_client.train_round(address, device=0, model_hash="00" * 32, config=TrainConfig(),
                                          params=params, inputs=inputs, labels=np.array([0, 1]))
        assert not other.ok and "not the one this board runs" in other.error
        with pytest.raises(BridgeDown):
            bridge_client.ask(address, WireMessage({"op": "info"}), key=b"x" * 32)
        assert bridge_client.info(f"{address}/3").error == "this bridge has no board 3"
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
    with pytest.raises(BridgeDown):
        bridge_client.info(address)


def test_fleet_commands_fail_in_one_line(tmp_path, zoo_models, monkeypatch):
    model = str(zoo_models["mlp"])
    home = str(tmp_path / "home")
    one_line_error(cli("fleet", "run", "--home", home, "--model", model, "--out", str(tmp_path / "c"), "--nodes", "2",
                       "--devices", "4"), "no Flower connection")
    one_line_error(cli("fleet", "superlink", "--home", home, "--host", "0.0.0.0"), "not loopback")
    one_line_error(cli("fleet", "superlink", "--home", home, "--tls-cert", "x.pem"), "need --tls-ca")
    one_line_error(cli("fleet", "node", "--home", home, "--board", "nosuch", "--model", model), "nosuch")
    one_line_error(cli("fleet", "node", "--home", home, "--board", "nano33ble", "--model", model), "give each one's --port")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        one_line_error(cli("fleet", "node", "--home", home, "--board", "host", "--model", model, "--bridge-port",
                           str(port)), "is busy")
    Path(home).mkdir(parents=True, exist_ok=True)
    (Path(home) / "config.toml").write_text('[superlink.fleet]\naddress = "127.0.0.1:1"\ninsecure = true\n')
    one_line_error(cli("fleet", "run", "--home", home, "--model", model, "--out", str(tmp_path / "c"), "--nodes", "1",
                       "--devices", "2", "--secagg"), "at least 2 nodes")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "updates.elc").write_bytes(b"x")
    one_line_error(cli("fleet", "run", "--home", home, "--model", model, "--out", str(tmp_path / "full"), "--nodes", "1",
                       "--devices", "2"), "is not empty")
    one_line_error(cli("fleet", "run", "--home", home, "--model", model, "--out", str(tmp_path / "c"), "--nodes", "1",
                       "--devices", "2", "--rounds", "0"), "at least one device and one round")
    one_line_error(cli("fleet", "node", "--home", home, "--board", "host", "--model", model, "--superlink",
                       "10.1.2.3:8000"), "not loopback")
    one_line_error(cli("fleet", "bridge", "--board", "host", "--model", model, "--listen", "nowhere"), "not HOST:PORT")
    one_line_error(cli("fleet", "bridge", "--board", "host", "--model", model, "--listen", "127.0.0.1:7999"),
                   "EDGELEAK_BRIDGE_KEY")
    monkeypatch.setenv(KEY_ENV, secrets.token_hex(32))
    one_line_error(cli("fleet", "bridge", "--board", "host", "--model", model, "--listen", "10.1.2.3:7999"),
                   "loopback only")
