"""`unisono train-tagger CONFIG` and `unisono train-clap CONFIG`: the evaluation suite's reference
models, thin over `unisono.refmodels.tagger_train` and `unisono.refmodels.clap_train`."""

from __future__ import annotations

import argparse


def _add_training_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="YAML training config, e.g. configs/eval/tagger.yaml")
    parser.add_argument("--set", dest="overrides", action="extend", nargs="+", default=[],
                        metavar="KEY=VALUE",
                        help="override config values, e.g. --set run.max_steps=1000 optim.lr=3e-4")
    parser.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                        help="continue from the newest checkpoint in run.output_dir (default)")


def _run_tagger(args: argparse.Namespace) -> int:
    from unisono.config import load_config
    from unisono.refmodels.tagger_train import TrainTaggerConfig, train_tagger

    config = load_config(TrainTaggerConfig, args.config, args.overrides)
    print(train_tagger(config, resume=args.resume))
    return 0


def _run_clap(args: argparse.Namespace) -> int:
    from unisono.config import load_config
    from unisono.refmodels.clap_train import TrainClapConfig, train_clap

    config = load_config(TrainClapConfig, args.config, args.overrides)
    print(train_clap(config, resume=args.resume))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `train-tagger` and `train-clap` to the CLI."""
    tagger = subparsers.add_parser(
        "train-tagger", help="train the reference tagger (events, instruments, voice, gender)")
    _add_training_options(tagger)
    tagger.set_defaults(func=_run_tagger)
    clap = subparsers.add_parser(
        "train-clap", help="train the contrastive audio-text embedder (CLAP score, retrieval)")
    _add_training_options(clap)
    clap.set_defaults(func=_run_clap)
