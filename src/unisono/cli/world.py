"""`unisono world render | stats`: the synthetic audio world from the command line."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("world", help="render and inspect the synthetic audio world")
    commands = parser.add_subparsers(dest="world_command", required=True)

    render = commands.add_parser("render", help="render N labelled clips with stems and a manifest")
    render.add_argument("--n", type=int, required=True, help="number of clips")
    render.add_argument("--seed", type=int, default=0)
    render.add_argument("--split", choices=("train", "val", "test"), default="train")
    render.add_argument("--kinds", default="sfx,speech,music,singing,scene",
                        help="comma-separated kinds, cycled over clip indices")
    render.add_argument("--sample-rate", type=int, default=16000)
    render.add_argument("--heldout", action="store_true",
                        help="test split only: use held-out sentences and class variants")
    render.add_argument("--workers", type=int, default=1, help="worker processes (output identical)")
    render.add_argument("--no-stems", action="store_true", help="skip writing per-layer stems")
    render.add_argument("--pairs", action="store_true",
                        help="also write enhancement (speech) and super-resolution sources in pairs/")
    render.add_argument("--out", required=True, help="output folder")
    render.set_defaults(func=_render)

    stats = commands.add_parser("stats", help="print catalogue sizes (or a rendered manifest's counts)")
    stats.add_argument("--manifest", help="also summarise this rendered manifest")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.set_defaults(func=_stats)

    clips = commands.add_parser("real-clips", help="write a manifest of the real recorded clips")
    clips.add_argument("-o", "--output", required=True, help="manifest path (.jsonl)")
    clips.add_argument("--split", choices=("train", "val", "test"), help="only this split")
    clips.set_defaults(func=_real_clips)


def _render(args: argparse.Namespace) -> int:
    from unisono.world.writer import render_world

    manifest = render_world(args.out, n=args.n, seed=args.seed, split=args.split, kinds=args.kinds,
                            sample_rate=args.sample_rate, heldout=args.heldout, workers=args.workers,
                            write_stems=not args.no_stems, pairs=args.pairs)
    print(f"wrote {args.n} clips: {manifest}")
    return 0


def _stats(args: argparse.Namespace) -> int:
    from unisono.world.stats import catalogue_stats, format_stats, manifest_stats

    stats = catalogue_stats()
    if args.manifest:
        stats["manifest"] = manifest_stats(args.manifest)
    print(json.dumps(stats, indent=2) if args.json else format_stats(stats))
    return 0


def _real_clips(args: argparse.Namespace) -> int:
    from unisono.world.writer import write_real_clip_manifest

    path = write_real_clip_manifest(args.output, split=args.split)
    print(f"wrote {sum(1 for _ in open(path))} real clips: {path}")
    return 0
