"""The fleet's ServerApp: FedAvg over the boards of every SuperNode, the capture of every update, optionally the
curious attack on each round. Its run config names the plan file ``edgeleak fleet run`` wrote (``plan``)."""

from __future__ import annotations

from pathlib import Path

from flwr.app import Context, MetricRecord
from flwr.serverapp import Grid, ServerApp

from edgeleak.fleet.fleet_run import FleetRun, run_failed
from edgeleak.fleet.plan import read_plan
from edgeleak.fleet.strategy import BoardFedAvg, CuriousServer, params_record

app = ServerApp()


@app.main()
def main(grid: Grid, context: Context) -> None:
    plan = read_plan(Path(str(context.run_config["plan"])))
    run = None
    try:
        run = FleetRun(plan, grid)
        strategy = BoardFedAvg(run)
        outer = CuriousServer(strategy, plan.curious_attack) if plan.curious_attack else strategy
        outer.start(grid=grid, initial_arrays=params_record(run.params), num_rounds=plan.session.rounds,
                    timeout=plan.round_timeout,
                    evaluate_fn=lambda r, arrays: MetricRecord({"accuracy": run.accuracy(
                        [a.numpy() for a in arrays.values()])}))
    except Exception as exc:
        run_failed(plan, run, exc)
        raise
    run.close()
