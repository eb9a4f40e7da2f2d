"""The fleet on Flower, on loopback: a real SuperLink, SuperNodes, bridges that own emulated and host boards, and the
ServerApp's capture compared with edgeleak train's. Every process is started as a user starts it (edgeleak fleet
...) and stopped by PID."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from edgeleak.attacks.runner import run_attack
from edgeleak.capture.records import read_records
from edgeleak.capture.store import UPDATES_FILE, load_capture
from tests.cli_run import cli

EDGELEAK = str(Path(sys.executable).parent / "edgeleak")


class Fleet:
    """``edgeleak fleet superlink`` and ``fleet node`` processes, stopped by PID at the end."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.procs: list[subprocess.Popen] = []
        self.bridge_pids: list[int] = []

    def start(self, *args: str, ready: str, timeout: float = 600) -> str:
        log = self.home / f"cli-{len(self.procs)}.out"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w") as f:
            proc = subprocess.Popen([EDGELEAK, *args, "--home", str(self.home)], stdout=f, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        self.procs.append(proc)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = log.read_text()
            if ready in text:
                self.bridge_pids += [int(p) for p in re.findall(r"ready on \S+ pid (\d+)", text)]
                return text
            assert proc.poll() is None, text
            time.sleep(0.3)
        raise AssertionError(f"{args[:2]} not ready: {log.read_text()}")

    def node(self, name: str, board: str, model: Path, count: int, slot: int) -> str:
        return self.start("fleet", "node", "--board", board, "--model", str(model), "--name", name, "--count", str(count),
                          "--bridge-port", str(7600 + 10 * slot), "--runtime-port", str(9194 + slot),
                          "--superlink", "127.0.0.1:8100", ready="SuperNode '")

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)
        for pid in self.bridge_pids:
            assert not _alive(pid), f"bridge {pid} outlived its node"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


def _updates(capture: Path) -> dict[tuple[int, int], tuple[np.ndarray, ...]]:
    c = load_capture(capture)
    keys = [(u.round, u.device) for u in c.updates]
    assert len(keys) == len(set(keys)), "an update captured twice"
    return {(u.round, u.device): u.tensors for u in c.updates}


TRAIN = ("--batch", "1", "--samples", "1", "--lr", "0.05")


@pytest.mark.qemu
def test_two_nodes_of_two_emulated_boards_match_train_and_leak(tmp_path, zoo_models):
    model = zoo_models["mlp"]
    fleet = Fleet(tmp_path / "home")
    try:
        fleet.start("fleet", "superlink", "--port", "8100", ready="SuperLink on")
        fleet.node("a", "mps2-an386", model, 2, 0)
        fleet.node("b", "mps2-an386", model, 2, 1)
        run = cli("fleet", "run", "--home", str(fleet.home), "--model", str(model), "--out", str(tmp_path / "fleet"),
                  "--nodes", "2", "--devices", "4", "--rounds", "3", *TRAIN, "--curious", "analytic")
        assert run.returncode == 0, run.stderr
        assert "12 updates from 4 boards on 2 nodes over 3 rounds" in run.stdout

        # a bridge that dies mid-run: its board is reported and left out, the rounds complete with the others
        out = tmp_path / "fleet-killed"
        proc = subprocess.Popen([sys.executable, "-m", "edgeleak.cli", "fleet", "run", "--home", str(fleet.home),
                                 "--model", str(model), "--out", str(out), "--nodes", "2", "--devices", "4",
                                 "--rounds", "3", *TRAIN], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        summary = out / "fleet-summary.json"
        deadline = time.monotonic() + 300
        while not (summary.exists() and json.loads(summary.read_text()).get("rounds")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.2)
        os.kill(fleet.bridge_pids[3], signal.SIGKILL)  # node b's second board: device 3
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr
        assert "round 1: device 3 left out" in stdout and "round 2: device 3 left out" in stdout, stdout
    finally:
        fleet.stop()

    reference = cli("train", "--board", "mps2-an386", "--model", str(model), "--devices", "4", "--rounds", "3", *TRAIN,
                    "--out", str(tmp_path / "train"))
    assert reference.returncode == 0, reference.stderr
    fleet_updates, train_updates = _updates(tmp_path / "fleet"), _updates(tmp_path / "train")
    assert sorted(fleet_updates) == sorted(train_updates) == [(r, d) for r in range(3) for d in range(4)]
    for key, tensors in fleet_updates.items():
        for a, b in zip(tensors, train_updates[key]):
            np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)

    killed = _updates(out)
    assert sorted(killed) == [(0, d) for d in range(4)] + [(r, d) for r in (1, 2) for d in range(3)]
    for key in killed:  # nothing mixed: the others' rounds are the ones the server averaged without device 3
        assert key[0] > 0 or all(np.array_equal(a, b) for a, b in zip(killed[key], fleet_updates[key]))
    events = [r.meta for r in read_records(out / UPDATES_FILE, "updates") if r.meta.get("type") == "event"]
    assert [(e["round"], e["device"]) for e in events] == [(1, 3), (2, 3)]

    attack = run_attack(tmp_path / "fleet", "analytic", tmp_path / "attack")
    assert len(attack.scores) == 12 and min(s.pearson for s in attack.scores) >= 0.99
    curious = [json.loads(line) for line in (tmp_path / "fleet" / "curious.jsonl").read_text().splitlines()]
    assert len(curious) == 12 and min(row["pearson"] for row in curious) >= 0.99


def test_simulated_fleet_of_host_boards_matches_train(tmp_path, zoo_models):
    model = zoo_models["mlp"]
    sim = cli("fleet", "simulate", "--home", str(tmp_path / "home"), "--model", str(model), "--out", str(tmp_path / "sim"),
              "--devices", "8", "--rounds", "2", *TRAIN, "--superlink-port", "9300", "--bridge-port", "7700")
    assert sim.returncode == 0, sim.stderr
    assert "16 updates from 8 boards on 8 nodes over 2 rounds" in sim.stdout and "rounds per minute" in sim.stdout
    reference = cli("train", "--board", "host", "--model", str(model), "--devices", "8", "--rounds", "2", *TRAIN,
                    "--out", str(tmp_path / "train"))
    assert reference.returncode == 0, reference.stderr
    a, b = _updates(tmp_path / "sim"), _updates(tmp_path / "train")
    assert sorted(a) == sorted(b)
    assert all(np.array_equal(x, y) for k in a for x, y in zip(a[k], b[k]))


def test_secure_aggregation_captures_only_the_sum(tmp_path, zoo_models):
    """SecAgg+ on two nodes of two host boards: the capture holds one aggregate per round and no update; the
    aggregate equals the sum of the updates a plain run of the same plan captures, within SecAgg+'s quantization."""
    model = zoo_models["mlp"]
    fleet = Fleet(tmp_path / "home")
    common = ("--home", str(fleet.home), "--model", str(model), "--nodes", "2", "--devices", "4", "--rounds", "2", *TRAIN)
    try:
        fleet.start("fleet", "superlink", "--port", "8100", ready="SuperLink on")
        fleet.node("a", "host", model, 2, 0)
        fleet.node("b", "host", model, 2, 1)
        plain = cli("fleet", "run", *common, "--out", str(tmp_path / "plain"))
        assert plain.returncode == 0, plain.stderr
        secure = cli("fleet", "run", *common, "--secagg", "--out", str(tmp_path / "secure"))
        assert secure.returncode == 0, secure.stderr
        assert "8 updates from 4 boards on 2 nodes over 2 rounds" in secure.stdout and "secagg+" in secure.stdout
    finally:
        fleet.stop()
    updates = _updates(tmp_path / "plain")
    captured = load_capture(tmp_path / "secure")
    assert captured.updates == () and [a.round for a in captured.aggregates] == [0, 1]
    for a in captured.aggregates:
        assert a.devices == (0, 1, 2, 3) and a.meta.samples == 4
        for k, total in enumerate(a.tensors):
            expected = sum(updates[(a.round, d)][k] for d in range(4))
            np.testing.assert_allclose(total, expected, atol=1e-6, rtol=0)
    # the aggregate attack reads the secure capture as it reads a plain one's sums, with the same result
    secure_attack = run_attack(tmp_path / "secure", "exclusive_neurons", tmp_path / "attack-secure", aggregate=True)
    plain_attack = run_attack(tmp_path / "plain", "exclusive_neurons", tmp_path / "attack-plain", aggregate=True)
    assert [s.devices for s in secure_attack.scores] == [(0, 1, 2, 3)] * 2
    assert [round(s.pearson, 3) for s in secure_attack.scores] == [round(s.pearson, 3) for s in plain_attack.scores]


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a SuperLink certificate for 127.0.0.1 and localhost, made here with cryptography."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "edgeleak test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    paths = directory / "ca.crt", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def test_fleet_over_tls(tmp_path, zoo_models):
    """The commands docs/fleet.md gives for machines apart, on loopback: a SuperLink with a certificate, nodes and
    flwr that trust its CA; and a node whose owner requires secure aggregation refusing a plain run."""
    model = zoo_models["mlp"]
    ca, cert, key = _certificates(tmp_path / "tls")
    fleet = Fleet(tmp_path / "home")
    try:
        fleet.start("fleet", "superlink", "--port", "8100", "--tls-ca", str(ca), "--tls-cert", str(cert), "--tls-key",
                    str(key), ready="SuperLink on")
        assert "root-certificates" in (fleet.home / "config.toml").read_text()
        for slot, name in enumerate(("a", "b")):  # node b's owner lets nothing out but behind secure aggregation
            fleet.start("fleet", "node", "--board", "host", "--model", str(model), "--name", name, "--count", "1",
                        "--bridge-port", str(7600 + 10 * slot), "--runtime-port", str(9194 + slot), "--superlink",
                        "127.0.0.1:8100", "--tls-ca", str(ca), *(["--require-secagg"] if slot else []), ready="SuperNode '")
        run = cli("fleet", "run", "--home", str(fleet.home), "--model", str(model), "--out", str(tmp_path / "tls-run"),
                  "--nodes", "2", "--devices", "2", "--rounds", "1", *TRAIN)
        assert run.returncode == 0, run.stderr
        assert "1 updates from 2 boards on 2 nodes over 1 rounds" in run.stdout
        assert "round 0: device 1 left out: this node sends updates only behind secure aggregation" in run.stdout
    finally:
        fleet.stop()
