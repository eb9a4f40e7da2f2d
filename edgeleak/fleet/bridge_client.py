"""The ClientApp's side of a bridge (edgeleak.fleet.bridge): connect, ask, hang up."""

from __future__ import annotations

from dataclasses import dataclass
from multiprocessing.connection import Client

import numpy as np

from edgeleak.fleet.bridge import bridge_key, parse_address, split_bridge
from edgeleak.fleet.wire import WireError, WireMessage, pack, unpack
from edgeleak.train.config import TrainConfig


class BridgeDown(Exception):
    """The bridge did not answer: it is gone, or it broke off mid-request."""


@dataclass(frozen=True)
class BridgeReply:
    ok: bool
    header: dict
    arrays: dict[str, np.ndarray]

    @property
    def error(self) -> str:
        return str(self.header.get("error", ""))


def ask(bridge: str, request: WireMessage, *, key: bytes | None = None) -> BridgeReply:
    """One request to ``HOST:PORT[/N]``; a bridge that is not there, refuses the key or hangs up raises BridgeDown."""
    address, board = split_bridge(bridge)
    request = WireMessage({**request.header, "board": board}, request.arrays)
    try:
        with Client(parse_address(address), authkey=key or bridge_key()) as conn:
            conn.send_bytes(pack(request))
            reply = unpack(conn.recv_bytes())
    except (OSError, EOFError, WireError) as exc:
        raise BridgeDown(f"bridge {bridge}: {exc or type(exc).__name__}") from None
    except Exception as exc:  # multiprocessing's AuthenticationError and friends
        raise BridgeDown(f"bridge {bridge}: {type(exc).__name__}: {exc}") from None
    return BridgeReply(bool(reply.header.get("ok")), reply.header, reply.arrays)


def info(address: str) -> BridgeReply:
    return ask(address, WireMessage({"op": "info"}))


def train_round(address: str, *, device: int, model_hash: str, config: TrainConfig, params: np.ndarray,
                inputs: np.ndarray, labels: np.ndarray) -> BridgeReply:
    return ask(address, WireMessage(
        {"op": "round", "device": device, "model_hash": model_hash, "config": config.to_dict()},
        {"params": np.asarray(params, np.float32), "inputs": np.asarray(inputs, np.int8),
         "labels": np.asarray(labels, np.int64)}))
