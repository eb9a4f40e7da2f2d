"""The fleet's ServerApp behind Flower's SecAgg+: the server sees only each round's aggregate, and captures it as
such (an ``aggregate`` record; docs/capture-format.md) for ``edgeleak attack --aggregate``.

Legacy API (Flower 1.42 has secure aggregation only there): ``DefaultWorkflow`` with ``SecAggPlusWorkflow`` over a
legacy ``FedAvg`` whose clients are SuperNodes. Each node sends the mean of its boards' updates weighted by its
number of boards that trained, so the unmasked result is the mean over every board that trained; the capture
holds that mean times the number of boards (the sum the aggregate attack models). The mean over boards is FedAvg when
every board trains the same number of samples (the plan's default). SecAgg+ quantizes each value to
``quantization_range`` steps over [-clipping_range, clipping_range] after scaling it by its weight's share of
``max_weight``, then masks it: the aggregate carries that rounding (2 x 8 / 2**30 = 1.5e-8 per step here, divided by
the node's share; Flower's default 2**22 steps and max_weight 1,000 round the updates of a small head to zero).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from flwr.common import FitIns, ndarrays_to_parameters, parameters_to_ndarrays
from flwr.server import LegacyContext, ServerApp, ServerConfig
from flwr.server.strategy import FedAvg
from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow

from edgeleak import strict_json
from edgeleak.errors import EdgeleakError
from edgeleak.fleet.fleet_run import FleetRun, refused, run_failed
from edgeleak.fleet.plan import read_plan

HALTED = "secure aggregation stopped the round: fewer nodes than its reconstruction threshold answered"
CLIPPING_RANGE = 8.0  # SecAgg+ clips each value of a node's mean update, scaled by its weight share, to +-this
QUANTIZATION_RANGE = 2 ** 30  # steps over [-8, 8]: 1.5e-8 each (Flower's default 2**22 rounds mlp's updates to 0)
MODULUS_RANGE = 2 ** 40  # masks and sums modulo this: room for 1,000 nodes' full-range values


class SecAggFedAvg(FedAvg):
    def __init__(self, run: FleetRun) -> None:
        nodes = run.plan.nodes
        super().__init__(fraction_fit=1.0, fraction_evaluate=0.0, min_fit_clients=nodes, min_evaluate_clients=0,
                         min_available_clients=nodes, initial_parameters=ndarrays_to_parameters(run.params))
        self.run = run

    def configure_fit(self, server_round, parameters, client_manager):
        r = server_round - 1
        if r:
            self.run.halted(r - 1, HALTED)  # the last round, if SecAgg+ stopped it short of aggregate_fit
        _, tasks = self.run.start_round(r)
        weights = ndarrays_to_parameters(self.run.sent)
        proxies = {p.node_id: p for p in client_manager.all().values()}
        out = []
        for node, node_tasks in sorted(tasks.items()):
            if node not in proxies:
                continue  # a node gone since the run began: its boards are left out of the round
            buffer = io.BytesIO()
            np.savez(buffer, **{f"inputs.{t.board}": t.inputs for t in node_tasks},
                     **{f"labels.{t.board}": t.labels for t in node_tasks})
            plan = {"round": r, "config": self.run.plan.session.config.to_dict(), "model_hash": self.run.model.sha256,
                    "boards": [t.board for t in node_tasks], "devices": [t.device for t in node_tasks]}
            out.append((proxies[node], FitIns(weights, {"plan": strict_json.dumps(plan), "samples": buffer.getvalue()})))
        return out

    def aggregate_fit(self, server_round, results, failures):
        r = server_round - 1
        run = self.run
        asked = run.asked(r)
        outcome: dict[int, tuple[None, str]] = {}
        boards = 0
        for proxy, fitres in results:
            for m in json.loads(str(fitres.metrics["results"])):
                device = run.device_of(proxy.node_id, m["board"])
                if device is None or device not in asked:
                    continue
                refused(m.get("refusal"), m["error"])
                outcome[device] = (None, "" if m["ok"] else m["error"])
            boards += int(fitres.num_examples)
        for k in sorted(asked - set(outcome)):
            outcome[k] = (None, f"node {run.devices[k].node} dropped out of the secure aggregation")
        mean = None
        if results and boards:
            mean = [np.asarray(a, np.float32).ravel() for a in parameters_to_ndarrays(results[0][1].parameters)]
            covered = sorted(k for k, (_, why) in outcome.items() if not why)
            if len(covered) != boards:
                raise EdgeleakError(f"round {r}: the nodes report {len(covered)} boards trained, the sum weighs {boards}")
            run.accept_aggregate(r, covered, [m * np.float32(boards) for m in mean])
        run.finish_round(r, outcome, aggregate=mean)
        return ndarrays_to_parameters(run.params), {}


app = ServerApp()


@app.main()
def main(grid, context) -> None:
    plan = read_plan(Path(str(context.run_config["plan"])))
    run = None
    try:
        run = FleetRun(plan, grid, legacy=True)
        strategy = SecAggFedAvg(run)
        legacy = LegacyContext(context=context, config=ServerConfig(num_rounds=plan.session.rounds,
                                                                    round_timeout=plan.round_timeout), strategy=strategy)
        # a node's weight is its number of boards, at most every board: max_weight = devices keeps the weight's
        # ratio near 1, where Flower's default (1,000) scales updates below one quantization step
        workflow = SecAggPlusWorkflow(num_shares=1.0, reconstruction_threshold=max(2, plan.nodes - 1),
                                      max_weight=float(plan.session.devices), clipping_range=CLIPPING_RANGE,
                                      quantization_range=QUANTIZATION_RANGE, modulus_range=MODULUS_RANGE,
                                      timeout=plan.round_timeout)
        DefaultWorkflow(fit_workflow=workflow)(grid, legacy)
        run.halted(plan.session.rounds - 1, HALTED)
    except Exception as exc:
        run_failed(plan, run, exc)
        raise
    run.close()
