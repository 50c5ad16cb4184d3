"""`unisono train-tagger CONFIG`, `unisono train-tagger-probe CONFIG`, `unisono train-clap CONFIG`
and `unisono retrieve MANIFEST`: the evaluation suite's reference models, thin over
`unisono.refmodels.tagger_train`, `unisono.refmodels.probe_train`, `unisono.refmodels.clap_train`
and `unisono.refmodels.evaluate.measure_retrieval`."""

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


def _run_probe(args: argparse.Namespace) -> int:
    import json

    from unisono.config import load_config
    from unisono.refmodels.probe_train import TrainProbeConfig, train_tagger_probe

    config = load_config(TrainProbeConfig, args.config, args.overrides)
    folder = train_tagger_probe(config)
    picked = json.loads((folder.parent / "report.json").read_text())["picked"]
    print(f"{folder}: weight decay {picked['weight_decay']:g}, fusion weight "
          f"{picked['fusion_weight']:g}, validation top-1 macro F1 {picked['top1_macro_f1']:.3f}")
    return 0


def _run_clap(args: argparse.Namespace) -> int:
    from unisono.config import load_config
    from unisono.refmodels.clap_train import TrainClapConfig, train_clap

    config = load_config(TrainClapConfig, args.config, args.overrides)
    print(train_clap(config, resume=args.resume))
    return 0


def _run_retrieve(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from unisono.models.clap import ContrastiveEmbedder
    from unisono.refmodels.evaluate import measure_retrieval

    cache = Path(args.transcripts) if args.transcripts else None
    report = measure_retrieval(ContrastiveEmbedder.from_pretrained(args.clap), args.manifest,
                               n=args.n, words=args.words, transcripts_cache=cache)
    for name, found in report.items():
        print(f"{name:6s} " + "  ".join(f"{key} {value:.3f}" for key, value in found.items()))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `train-tagger`, `train-tagger-probe`, `train-clap` and `retrieve` to the CLI."""
    tagger = subparsers.add_parser(
        "train-tagger", help="train the reference tagger (events, instruments, voice, gender)")
    _add_training_options(tagger)
    tagger.set_defaults(func=_run_tagger)
    probe = subparsers.add_parser(
        "train-tagger-probe", help="fit the tagger's aiSFX-embedding probe to its event labels "
                                   "(features cached, weight decay and fusion picked on validation)")
    probe.add_argument("config", help="YAML config, e.g. configs/eval/tagger_probe.yaml")
    probe.add_argument("--set", dest="overrides", action="extend", nargs="+", default=[],
                       metavar="KEY=VALUE", help="override config values, e.g. --set run.workers=2")
    probe.set_defaults(func=_run_probe)
    clap = subparsers.add_parser(
        "train-clap", help="train the contrastive audio-text embedder (CLAP score, retrieval)")
    _add_training_options(clap)
    clap.set_defaults(func=_run_clap)
    retrieve = subparsers.add_parser(
        "retrieve", help="text-to-audio retrieval R@1/5/10 over a manifest (first caption of each "
                         "clip as its query) by the contrastive embedder")
    retrieve.add_argument("manifest", help="JSONL manifest of captioned clips")
    retrieve.add_argument("--n", type=int, default=None, help="the first N clips (default: all)")
    retrieve.add_argument("--words", action="store_true",
                          help="add the word channel: Whisper-tiny transcripts of the clips "
                               "against the captions' quoted words")
    retrieve.add_argument("--transcripts", default=None, metavar="FILE.json",
                          help="with --words, read / write the clips' transcripts here")
    retrieve.add_argument("--clap", default=None, help="embedder folder (default: shipped)")
    retrieve.add_argument("--out", default=None, help="also write the figures to this JSON file")
    retrieve.set_defaults(func=_run_retrieve)
