"""The fleet's ClientApp behind Flower's SecAgg+ (legacy API, the only one with secure aggregation in Flower 1.42).

The node runs its boards through their bridges as in the plain fleet, then hands ``secaggplus_mod`` the mean of its
boards' updates with weight = the number of boards that trained: the server's SecAgg+ result is then the mean over
every board that trained, and the node never sends a board's update, its loss or its norms in the clear. What goes
out in the clear per board: whether it trained and why not (the server must know whom the sum covers).
"""

from __future__ import annotations

import io
import json

import numpy as np
from flwr.client import ClientApp, NumPyClient
from flwr.client.mod import secaggplus_mod

from edgeleak import strict_json
from edgeleak.fleet.client_app import board_info, node_bridges, train_tasks
from edgeleak.fleet.records import BoardTask
from edgeleak.train.update import UpdateFormatError, parse_update


class BoardsClient(NumPyClient):
    def __init__(self, context) -> None:
        self.name, self.bridges = node_bridges(context)

    def get_properties(self, config):
        return {"node": self.name, "boards": strict_json.dumps([board_info(a) for a in self.bridges])}

    def fit(self, parameters, config):
        plan = json.loads(str(config["plan"]))
        with np.load(io.BytesIO(bytes(config["samples"])), allow_pickle=False) as npz:
            tasks = [BoardTask(b, d, npz[f"inputs.{b}"], npz[f"labels.{b}"]) for b, d in zip(plan["boards"], plan["devices"])]
        params = np.concatenate([np.asarray(p, np.float32).ravel() for p in parameters])
        results = train_tasks(plan, params, tasks, self.bridges)
        deltas, out = [], []
        for r in results:
            ok, error = r.ok, r.error
            if ok:
                try:
                    update = parse_update(r.update_body)
                    if update.meta.round != plan["round"]:
                        raise UpdateFormatError(f"an update of round {update.meta.round}")
                    deltas.append([t.values.astype(np.float64) for t in update.tensors])
                except UpdateFormatError as exc:
                    ok, error = False, str(exc)
            out.append({"board": r.board, "ok": ok, "error": error, "refusal": r.refusal})
        if not deltas:  # weight 0: the node adds nothing to the sum, and the server still learns why
            return [np.zeros(p.size) for p in parameters], 0, {"results": strict_json.dumps(out)}
        # float64: SecAgg+ shifts every value by its clipping range (8) before quantizing, and in float32 that
        # shift alone would round the update to about 1e-6
        mean = [np.mean([d[k] for d in deltas], axis=0) for k in range(len(deltas[0]))]
        return mean, len(deltas), {"results": strict_json.dumps(out)}


app = ClientApp(client_fn=lambda context: BoardsClient(context).to_client(), mods=[secaggplus_mod])
