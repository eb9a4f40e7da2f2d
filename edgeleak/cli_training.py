"""The training options of the commands that run federated rounds (train, fleet run, fleet simulate)."""

from __future__ import annotations

from edgeleak.data.partition import SCHEMES as PARTITIONS
from edgeleak.data.spec import add_dataset_options
from edgeleak.errors import EdgeleakError


def add_training_options(p) -> None:
    p.add_argument("--rounds", type=int, default=5, help="federated rounds (default 5)")
    add_dataset_options(p)
    p.add_argument("--partition", default="iid", choices=PARTITIONS, help="how devices share the training windows "
                   "(by-subject: a data set with subjects, e.g. a CSV's subject column)")
    p.add_argument("--samples", type=int, help="samples per device and round (default: its share, at most what it holds)")
    p.add_argument("--lr", type=float, default=0.05, help="learning rate (default 0.05)")
    p.add_argument("--momentum", type=float, default=0.0, help="SGD momentum (default 0)")
    p.add_argument("--batch", type=int, default=4, help="batch size (default 4)")
    p.add_argument("--steps", type=int, default=1, help="local steps per round; 0 to use --epochs (default 1)")
    p.add_argument("--epochs", type=int, default=1, help="local epochs when --steps 0 (default 1)")
    p.add_argument("--clip", type=float, help="L2 clip norm C of the update (or of each example with --per-example-clip)")
    p.add_argument("--per-example-clip", action="store_true", help="clip every example's gradient (DP-SGD) instead of the update")
    p.add_argument("--noise", type=float, default=0.0, help="noise multiplier sigma: noise of scale sigma x C (needs --clip)")
    p.add_argument("--laplace", action="store_true", help="Laplace instead of Gaussian noise")
    p.add_argument("--noise-every-step", action="store_true", help="add the noise at every local step (DP-SGD)")
    p.add_argument("--top-k", type=float, help="send only this fraction of coordinates, the largest")
    p.add_argument("--random-mask", type=float, help="send only this fraction of coordinates, chosen at random")
    p.add_argument("--encoding", default="float32", choices=["float32", "float16", "int8"], help="update encoding (default float32)")


def train_config(args):
    from edgeleak.train.config import ClipMode, Encoding, NoiseKind, NoiseMode, Sparsify, TrainConfig

    clip_mode = ClipMode.NONE
    if args.clip is not None:
        clip_mode = ClipMode.PER_EXAMPLE if args.per_example_clip else ClipMode.UPDATE
    noise_kind = NoiseKind.NONE if not args.noise else (NoiseKind.LAPLACE if args.laplace else NoiseKind.GAUSSIAN)
    if args.noise and args.clip is None:
        raise EdgeleakError("--noise needs --clip: the noise scale is noise x clip")
    sparsify = Sparsify.TOP_K if args.top_k else (Sparsify.RANDOM if args.random_mask else Sparsify.NONE)
    return TrainConfig(
        learning_rate=args.lr, momentum=args.momentum, batch_size=args.batch, local_steps=args.steps, epochs=args.epochs,
        clip_mode=clip_mode, clip_norm=args.clip or 0.0, noise_kind=noise_kind, noise_multiplier=args.noise,
        noise_mode=NoiseMode.STEP if args.noise_every_step else NoiseMode.UPDATE, sparsify=sparsify,
        sparsify_fraction=args.top_k or args.random_mask or 1.0,
        encoding={"float32": Encoding.FLOAT32, "float16": Encoding.FLOAT16, "int8": Encoding.INT8}[args.encoding])
