"""The names a user can give: ``edgeleak datasets``, ``models`` and ``attacks`` list the registries, and the help of
options that take those names is written from the same registries. Like edgeleak.cli, it prints."""

from __future__ import annotations

import argparse
import inspect


def _one_line(text: str | None) -> str:
    return " ".join(inspect.cleandoc(text or "").replace("``", "").split())


def dataset_catalogue() -> list[tuple[str, str]]:
    from edgeleak.data.datasets import DATASETS

    return [(name, _one_line(loader.__doc__)) for name, loader in DATASETS.items()]


def model_catalogue() -> list[tuple[str, str]]:
    from edgeleak.models.zoo import MODELS

    return [(name, spec.description) for name, spec in MODELS.items()]


def attack_catalogue() -> list[tuple[str, str]]:
    from edgeleak.attacks import registry  # noqa: F401  (imports every attack module)
    from edgeleak.attacks.base import ATTACKS

    return [(name, _one_line(ATTACKS[name].description)) for name in sorted(ATTACKS)]


def _print(rows: list[tuple[str, str]], footer: str) -> int:
    width = max(len(name) for name, _ in rows)
    for name, description in rows:
        print(f"{name:<{width}}  {description}")
    print(footer)
    return 0


def cmd_datasets(args) -> int:
    return _print(dataset_catalogue(), "or your own windows (.npz) or recording (.csv): --dataset FILE "
                                       "(docs/data-format.md)")


def cmd_models(args) -> int:
    return _print(model_catalogue(), "or your own model: quantize --model FILE")


def cmd_attacks(args) -> int:
    return _print(attack_catalogue(), "threat models and measured figures: docs/attacks.md")


class RegistryHelpFormatter(argparse.HelpFormatter):
    """Fills ``{attacks}`` in an option's help with the attack registry's names when help is shown (importing the
    attacks, which load TensorFlow, only then)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = super()._get_help_string(action) or ""
        if "{attacks}" in text:
            text = text.replace("{attacks}", ", ".join(name for name, _ in attack_catalogue()))
        return text


def add_catalogue_parsers(sub) -> None:
    p = sub.add_parser("datasets", help="list the packaged data sets (or give --dataset FILE.npz|FILE.csv)")
    p.set_defaults(func=cmd_datasets)
    p = sub.add_parser("models", help="list the zoo models 'edgeleak quantize --model' trains")
    p.set_defaults(func=cmd_models)
    p = sub.add_parser("attacks", help="list the attacks 'edgeleak attack --attack' and the study run")
    p.set_defaults(func=cmd_attacks)
