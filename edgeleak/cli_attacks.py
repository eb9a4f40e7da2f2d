"""The ``attack`` and ``wearers`` commands: what a server reads out of a capture, scored against its ground truth."""

from __future__ import annotations

from pathlib import Path

ATTACK_HELP = "the attack: one of {attacks} ('edgeleak attacks' describes them; docs/attacks.md)"


def cmd_attack(args) -> int:
    from edgeleak.attacks.runner import run_attack

    run = run_attack(Path(args.capture), args.attack, Path(args.out), truth_path=Path(args.truth) if args.truth else None,
                     aggregate=args.aggregate, model_path=Path(args.model) if args.model else None)
    s = run.summary
    fmt = lambda m: "-" if m[0] != m[0] else f"{m[0]:.3f} [{m[1]:.3f}, {m[2]:.3f}]"  # noqa: E731
    print(f"attack {run.attack}: {s.records} records scored, {len(run.skipped)} not applicable, "
          f"{run.records_per_second:.1f} records/s")
    print(f"  {'success rate (r >= 0.8)':<26} {s.success_rate:.3f} [{s.success_interval[0]:.3f}, {s.success_interval[1]:.3f}]")
    if s.windows:
        print(f"  {'windows r >= 0.9 / exact':<26} {s.windows_r90} / {s.windows_exact} of {s.windows}")
    print(f"  {'Pearson r':<26} {fmt(s.pearson)}")
    print(f"  {'SNR dB':<26} {fmt(s.snr_db)}")
    print(f"  {'label accuracy':<26} {fmt(s.label_accuracy)}"
          + (f" (blind guess {s.label_baseline:.3f})" if s.label_baseline is not None else ""))
    print(f"  {'feature relative error':<26} {fmt(s.feature_error)}")
    if s.semantic_accuracy is not None:
        print(f"  {'classifier on recon/orig':<26} {s.semantic_accuracy:.3f} / {s.semantic_baseline:.3f}")
    if run.skipped:
        print(f"  not applicable, e.g. {run.skipped[0]}")
    print(f"wrote {args.out}/scores.json, scores.csv, reconstructions.npz, plots/")
    return 0


def cmd_wearers(args) -> int:
    from edgeleak import strict_json
    from edgeleak.attacks.inference import infer_from_capture

    results = infer_from_capture(Path(args.capture), model_path=Path(args.model) if args.model else None, seed=args.seed)
    for r in results:
        line = f"{r.property}: accuracy {r.accuracy:.3f} (chance {r.chance:.3f}) over {r.targets} "
        line += "devices" if r.property == "activity_mix" else "updates"
        if r.error is not None:
            line += f"; mix L1 error {r.error:.3f} (the prior's {r.chance_error:.3f})"
        print(line)
    if args.json:
        Path(args.json).write_text(strict_json.dumps([r.to_json() for r in results], indent=2))
        print(f"wrote {args.json}")
    return 0


def add_attack_parsers(sub) -> None:
    from edgeleak.cli_catalogue import RegistryHelpFormatter

    p = sub.add_parser("attack", help="reconstruct sensor windows and labels from a capture and score the leakage",
                       formatter_class=RegistryHelpFormatter)
    p.add_argument("capture", help="capture directory written by 'edgeleak train'")
    p.add_argument("--attack", required=True, help=ATTACK_HELP)
    p.add_argument("--truth", help="ground truth file (default: the capture's truth.elc)")
    p.add_argument("--aggregate", action="store_true", help="attack the sum of each round's updates (secure aggregation)")
    p.add_argument("--model", help="model directory (default: the one recorded in the capture)")
    p.add_argument("--out", required=True, help="directory for reconstructions, scores and plots")
    p.set_defaults(func=cmd_attack)

    p = sub.add_parser("wearers", help="infer each device's activity mix and link updates to their device, against chance",
                       description="Property inference on a capture (docs/attacks.md): classifiers the server trains on "
                       "updates it simulates from its own held-out data name each device's dominant activity and "
                       "estimate its mix; a classifier fitted on the first half of the rounds names the sender of each "
                       "later update. Scored against the capture's ground truth and chance.")
    p.add_argument("capture", help="capture directory written by 'edgeleak train' (with its ground truth)")
    p.add_argument("--model", help="model directory (default: the one recorded in the capture)")
    p.add_argument("--seed", type=int, default=0, help="seed of the simulated updates (default 0)")
    p.add_argument("--json", metavar="FILE", help="also write both results to FILE (strict JSON)")
    p.set_defaults(func=cmd_wearers)
