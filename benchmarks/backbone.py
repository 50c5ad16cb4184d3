"""Backbone speed: our generator DiT against F5-TTS's DiT and stable-audio-tools' DiT (issue 4).

Usage:
    python benchmarks/backbone.py [--threads 2] [--batch 8] [--audio-tokens 256]
        [--text-tokens 64] [--params 22.5e6] [--depth 8] [--repeats 5] [--quick] [--profile]
        [--json OUT]

Peers are optional; one that cannot be imported is reported with the reason and skipped:
    pip install --no-deps f5-tts stable-audio-tools && pip install x-transformers einops

Method (in full: docs/benchmarks.md, "Backbone"), one process at --threads threads: the fp32
matmul peak (best 2048^3 sgemm); per model head width 64 and the depth nearest --depth whose
nearest width (a multiple of 64) lands within 10% of --params, counting the trainable parameters
the forward reads; B clips of T audio frames + N text tokens (F5-TTS, which has no text stream,
gets one T + N frame sequence with N characters padded to it); after warm-up, interleaved rounds,
best of rounds, of a training step (forward + MSE + backward + AdamW) and a sampling step (one
inference-mode forward); FLOPs of each from torch's FlopCounterMode.

Shapes: B batch, C latent channels, T audio frames, N text tokens, Dt text width.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import importlib.machinery
import importlib.metadata
import importlib.util
import io
import json
import os
import re
import statistics
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from torch.profiler import ProfilerActivity, profile
from torch.utils import flop_counter

from unisono.models.dit import DiT, DiTConfig, dit_preset

HEAD_WIDTH = 64
SIZE_TOLERANCE = 0.10
AIM_SPEEDUP = 1.25
OURS = "unisono"
# F5-TTS's training default; its DiT applies dropout inside attention and the MLP.
F5_DROPOUT = 0.1
# Character vocabulary fed to F5's text embedding (its constructor default).
F5_TEXT_VOCAB = 256
# Defaults of the full run and of --quick (any option given on the command line wins).
FULL = dict(batch=8, audio_tokens=256, text_tokens=64, params=22.5e6, depth=8, repeats=5,
            peak_size=2048, peak_repeats=10)  # fmt: skip
QUICK = dict(batch=2, audio_tokens=32, text_tokens=8, params=2e6, depth=4, repeats=2,
             peak_size=512, peak_repeats=3)  # fmt: skip


@dataclass(frozen=True)
class Workload:
    """What every model is fed: B clips of T audio frames and N text tokens."""

    batch: int
    audio_tokens: int
    text_tokens: int
    latent_channels: int
    text_width: int


@dataclass
class Inputs:
    """One fixed batch for one model: `forward()` runs it, `target` is the regression target."""

    forward: Callable[[], torch.Tensor]
    target: torch.Tensor
    cached_forward: Callable[[], torch.Tensor] | None = None


@dataclass(frozen=True)
class Backbone:
    """A model family: constructor arguments at (width, depth), its inputs, how tokens enter."""

    name: str
    settings: Callable[[int, int, Workload], dict[str, Any]]
    construct: Callable[..., nn.Module]
    inputs: Callable[[nn.Module, Workload, torch.Generator], Inputs]
    tokens: str
    excluded: tuple[str, ...] = ()  # parameter-name prefixes the forward never reads
    version: str = ""

    def build(self, width: int, depth: int, work: Workload) -> nn.Module:
        return self.construct(**self.settings(width, depth, work))


# ----------------------------------------------------------------------------- our backbone


def _ours_settings(width: int, depth: int, work: Workload) -> dict[str, Any]:
    # The `small` preset's ratios (MLP 4x, content width = width) at this width and depth.
    return dict(latent_channels=work.latent_channels, width=width, depth=depth,
                heads=width // HEAD_WIDTH, content_dim=width)  # fmt: skip


def _ours_construct(**settings: Any) -> nn.Module:
    return DiT(dataclasses.replace(dit_preset("small"), **settings))


def _ours_inputs(model: nn.Module, work: Workload, generator: torch.Generator) -> Inputs:
    config: DiTConfig = model.config
    b, t, n = work.batch, work.audio_tokens, work.text_tokens
    noised = torch.randn(b, config.latent_channels, t, generator=generator)
    flow_time = torch.rand(b, generator=generator)
    shape, states = (b, n, config.text_width), config.text_layers + 1
    text_states = tuple(torch.randn(shape, generator=generator) for _ in range(states))
    text_mask = torch.ones(b, n, dtype=torch.bool)
    instruction = None

    def forward() -> torch.Tensor:
        return model(noised, flow_time, text_states=text_states, text_mask=text_mask)

    def cached_forward() -> torch.Tensor:
        # A sampler computes the instruction's keys / values once per request.
        nonlocal instruction
        if instruction is None:
            instruction = model.instruction_inputs(text_states, text_mask)
        return model(noised, flow_time, text_states=text_states, text_mask=text_mask,
                     instruction=instruction)  # fmt: skip

    return Inputs(forward, torch.randn(noised.shape, generator=generator), cached_forward)


OUR_BACKBONE = Backbone(
    name=OURS,
    settings=_ours_settings,
    construct=_ours_construct,
    inputs=_ours_inputs,
    tokens="T latent frames + N instruction tokens in the joint attention",
    excluded=("duration.",),  # the clip-duration predictor runs outside forward()
    version=importlib.metadata.version("unisono"),
)


# ----------------------------------------------------------------------------- peers


class _StubModule(types.ModuleType):
    """An importable stand-in whose every attribute fails loudly when called."""

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)

        def unavailable(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError(f"{self.__name__}.{attribute} is a benchmark stub")

        return unavailable


def _stub_missing(names: tuple[str, ...]) -> list[str]:
    """Stub modules a peer imports at import time but its backbone never calls."""
    stubbed = [n for n in names if n not in sys.modules and importlib.util.find_spec(n) is None]
    for name in stubbed:
        sys.modules[name] = _StubModule(name)
    return stubbed


def _bare_package(name: str) -> None:
    """Register package `name` without running its __init__ (which imports training code)."""
    if name in sys.modules:
        return
    top, *rest = name.split(".")
    spec = importlib.machinery.PathFinder.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{top} is not installed")
    package = types.ModuleType(name)
    package.__path__ = [os.path.join(next(iter(spec.submodule_search_locations)), *rest)]
    sys.modules[name] = package


def _f5_backbone() -> Backbone:
    stubbed = _stub_missing(("torchaudio", "rjieba", "pypinyin"))
    _bare_package("f5_tts.model")  # its __init__ imports the trainer (accelerate, wandb, ...)
    from f5_tts.model.backbones.dit import DiT as F5DiT

    def settings(width: int, depth: int, work: Workload) -> dict[str, Any]:
        # F5-TTS v1 Base's ratios (ff_mult 2, text_dim = dim / 2, 4 ConvNeXt text layers).
        return dict(dim=width, depth=depth, heads=width // HEAD_WIDTH, dim_head=HEAD_WIDTH,
                    ff_mult=2, mel_dim=work.latent_channels, text_num_embeds=F5_TEXT_VOCAB,
                    text_dim=width // 2, conv_layers=4, dropout=F5_DROPOUT)  # fmt: skip

    def inputs(model: nn.Module, work: Workload, generator: torch.Generator) -> Inputs:
        b, c = work.batch, work.latent_channels
        length = work.audio_tokens + work.text_tokens
        noised = torch.randn(b, length, c, generator=generator)
        reference = torch.randn(b, length, c, generator=generator)
        text = torch.randint(0, F5_TEXT_VOCAB, (b, work.text_tokens), generator=generator)
        flow_time = torch.rand(b, generator=generator)
        model.clear_cache()

        def forward() -> torch.Tensor:
            return model(noised, reference, text, flow_time)

        def cached_forward() -> torch.Tensor:
            # F5's sampler caches the text embedding (ConvNeXt included) across steps.
            return model(noised, reference, text, flow_time, cache=True)

        return Inputs(forward, torch.randn(b, length, c, generator=generator), cached_forward)

    note = f"; stubbed {', '.join(stubbed)}" if stubbed else ""
    return Backbone(
        name="f5-tts",
        settings=settings,
        construct=F5DiT,
        inputs=inputs,
        tokens="one sequence of T + N frames; N characters padded to T + N",
        version=importlib.metadata.version("f5-tts") + note,
    )


def _stable_audio_backbone() -> Backbone:
    _bare_package("stable_audio_tools")  # its __init__ imports every model and conditioner
    _bare_package("stable_audio_tools.models")
    with contextlib.redirect_stdout(io.StringIO()):  # it prints when flash-attn is absent
        from stable_audio_tools.models.dit import DiffusionTransformer

    def settings(width: int, depth: int, work: Workload) -> dict[str, Any]:
        # Stable Audio Open's layout: continuous transformer, cross-attention to text tokens,
        # timestep prepended as a token; text projected to the width so any width works.
        return dict(io_channels=work.latent_channels, embed_dim=width, depth=depth,
                    num_heads=width // HEAD_WIDTH, cond_token_dim=work.text_width,
                    project_cond_tokens=True, global_cond_dim=0,
                    transformer_type="continuous_transformer",
                    diffusion_objective="rectified_flow")  # fmt: skip

    def inputs(model: nn.Module, work: Workload, generator: torch.Generator) -> Inputs:
        b, c, t = work.batch, work.latent_channels, work.audio_tokens
        noised = torch.randn(b, c, t, generator=generator)
        flow_time = torch.rand(b, generator=generator)
        text = torch.randn(b, work.text_tokens, work.text_width, generator=generator)

        def forward() -> torch.Tensor:
            # Activation checkpointing off, as for the other models (it trades time for memory).
            return model(noised, flow_time, cross_attn_cond=text, use_checkpointing=False)

        return Inputs(forward, torch.randn(b, c, t, generator=generator))

    return Backbone(
        name="stable-audio-tools",
        settings=settings,
        construct=DiffusionTransformer,
        inputs=inputs,
        tokens="T frames (+1 timestep token) self-attending, cross-attending to N tokens",
        version=importlib.metadata.version("stable-audio-tools"),
    )


def load_peers() -> tuple[list[Backbone], dict[str, str]]:
    """The peers that import, and for the others the reason."""
    peers, failures = [], {}
    for name, loader in (("f5-tts", _f5_backbone), ("stable-audio-tools", _stable_audio_backbone)):
        try:
            peers.append(loader())
        except Exception as error:  # any import-time failure is a finding, not a crash
            failures[name] = f"{type(error).__name__}: {error}"
    return peers, failures


# ----------------------------------------------------------------------------- size matching


def parameter_count(model: nn.Module, excluded: tuple[str, ...]) -> int:
    """Trainable parameters outside the excluded prefixes."""
    named = model.named_parameters()
    return sum(p.numel() for n, p in named if p.requires_grad and not n.startswith(excluded))


def nearest_width(backbone: Backbone, depth: int, target: float, work: Workload) -> tuple[int, int]:
    """(width, parameters): the multiple of 64 whose count is nearest target at this depth."""
    counts: dict[int, int] = {}

    def count(heads: int) -> int:
        if heads not in counts:
            with torch.device("meta"):  # counts only: no memory, no initialisation cost
                counts[heads] = parameter_count(
                    backbone.build(heads * HEAD_WIDTH, depth, work), backbone.excluded
                )
        return counts[heads]

    low, high = 0, 1  # counts grow with width: bracket the target, then bisect
    while count(high) < target and high < 256:
        low, high = high, 2 * high
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if count(middle) < target else (low, middle)
    heads = min((h for h in (low, high) if h > 0), key=lambda h: abs(count(h) - target))
    return heads * HEAD_WIDTH, count(heads)


def choose_size(
    backbone: Backbone, target: float, preferred_depth: int, work: Workload
) -> tuple[int, int, int]:
    """(depth, width, parameters): the depth nearest the preferred one at which a width multiple
    of 64 lands within tolerance of target (ties: the smaller mismatch), at the nearest width."""
    for distance in range(preferred_depth + 32):
        depths = sorted({max(1, preferred_depth - distance), preferred_depth + distance})
        fits = []
        for depth in depths:
            width, params = nearest_width(backbone, depth, target, work)
            if abs(params / target - 1.0) <= SIZE_TOLERANCE:
                fits.append((abs(params / target - 1.0), depth, width, params))
        if fits:
            _, depth, width, params = min(fits)
            return depth, width, params
    raise SystemExit(
        f"{backbone.name}: no depth within 32 of {preferred_depth} lands within "
        f"{SIZE_TOLERANCE:.0%} of {target:.3g} parameters; change --params or --depth."
    )


# ----------------------------------------------------------------------------- measuring


def matmul_peak(size: int, repeats: int) -> float:
    """Best fp32 sgemm rate (GFLOP/s) of a size^3 product."""
    generator = torch.Generator().manual_seed(0)
    left, right = torch.randn(2, size, size, generator=generator)
    out = torch.empty(size, size)
    torch.mm(left, right, out=out)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(left, right, out=out)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def _cpu_attention_flops(query, key, value, *args, out_shape=None, **kwargs) -> int:
    return flop_counter.sdpa_flop_count(query, key, value)


def _cpu_attention_backward_flops(grad, query, key, value, *args, out_shape=None, **kwargs) -> int:
    return flop_counter.sdpa_backward_flop_count(grad, query, key, value)


def _conv_backward_flops(grad, x, weight, bias, stride, padding, dilation, transposed,
                         output_padding, groups, output_mask, out_shape=None, **kwargs) -> int:
    # Each of grad-input and grad-weight costs one forward; the forward count reads the groups
    # from the weight shape (C_out, C_in / groups, k). torch 2.13's backward formula ignores
    # groups: it overcounts a grouped convolution's backward groups / 2 times.
    forward = flop_counter.conv_flop_count(x, weight, grad, transposed=transposed)
    return forward * sum(map(int, output_mask[:2]))


# FlopCounterMode knows the GPU attention kernels only: register the CPU one with the same
# formula; and replace its grouped-convolution backward formula (F5-TTS's position and ConvNeXt
# convolutions are grouped).
_ATEN = torch.ops.aten
FLOP_FORMULAS = {
    _ATEN._scaled_dot_product_flash_attention_for_cpu: _cpu_attention_flops,
    _ATEN._scaled_dot_product_flash_attention_for_cpu_backward: _cpu_attention_backward_flops,
    _ATEN.convolution_backward: _conv_backward_flops,
}  # fmt: skip


def count_flops(action: Callable[[], Any]) -> int:
    """Matmul, convolution and attention FLOPs of one call (elementwise ops are not counted)."""
    with flop_counter.FlopCounterMode(display=False, custom_mapping=FLOP_FORMULAS) as counter:
        action()
    return counter.get_total_flops()


@dataclass
class Contender:
    """A built model with its optimizer and fixed batch."""

    backbone: Backbone
    model: nn.Module
    optimizer: torch.optim.Optimizer
    inputs: Inputs
    width: int
    depth: int
    parameters: int

    def train_step(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        loss = F.mse_loss(self.inputs.forward(), self.inputs.target)
        loss.backward()
        self.optimizer.step()

    def sample_step(self, cached: bool = False, grad_mode: Callable = torch.inference_mode) -> None:
        """One forward under inference mode. FLOP counting passes torch.enable_grad (same FLOPs):
        FlopCounterMode's module tracker fails on parameter views made under inference mode."""
        forward = self.inputs.cached_forward if cached else self.inputs.forward
        with grad_mode():
            forward()


def build_contender(backbone: Backbone, width: int, depth: int, work: Workload, seed: int):
    with torch.random.fork_rng(devices=[]):  # peers initialise from the global generator
        torch.manual_seed(seed)
        model = backbone.build(width, depth, work)
    generator = torch.Generator().manual_seed(seed)
    inputs = backbone.inputs(model, work, generator)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    parameters = parameter_count(model, backbone.excluded)
    return Contender(backbone, model, optimizer, inputs, width, depth, parameters)


def gradient_notes(contender: Contender) -> list[str]:
    """After a step: counted parameters without a gradient, and mostly-dead parameter tensors."""
    notes, named = [], list(contender.model.named_parameters())
    excluded = contender.backbone.excluded
    counted = {n for n, p in named if p.requires_grad and not n.startswith(excluded)}
    graded = {n for n, p in named if p.grad is not None}
    if counted != graded:
        notes.append(
            f"counted but no gradient: {sorted(counted - graded)[:4]}; "
            f"gradient but not counted: {sorted(graded - counted)[:4]}"
        )
    mostly_dead = {}  # per tensor, blocks folded together
    for name, p in named:
        zero = 0 if p.grad is None else int((p.grad == 0).sum())
        if zero > 0.25 * p.numel():
            mostly_dead[re.sub(r"\.\d+\.", ".*.", name)] = zero / p.numel()
    for name, fraction in sorted(mostly_dead.items()):
        notes.append(f"{name}: {fraction:.0%} of its gradient is exactly zero")
    return notes or ["nothing to note"]


def profile_train_step(contender: Contender, rows: int = 15) -> str:
    """torch.profiler table of one training step, ops by self CPU time."""
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        contender.train_step()
    return profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows)


# ----------------------------------------------------------------------------- the run


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=2, help="torch threads (2)")
    for option, meaning, kind in (("batch", "clips per batch", int), ("audio_tokens", "T", int),
                                  ("text_tokens", "N", int), ("params", "target size", float),
                                  ("depth", "preferred depth", int),
                                  ("repeats", "timed rounds", int)):  # fmt: skip
        meaning += f" ({FULL[option]:g}; --quick {QUICK[option]:g})"
        parser.add_argument("--" + option.replace("_", "-"), type=kind, help=meaning)
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per model first")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke check")
    parser.add_argument("--profile", action="store_true", help="print each model's op profile")
    parser.add_argument("--json", metavar="OUT", help="write every figure to this JSON file")
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    return args


def measure_phase(
    actions: dict[str, Callable[[], None]], flops: dict[str, int], repeats: int, peak: float
) -> dict[str, dict[str, Any]]:
    """Seconds per call, interleaved (one round calls every action once, so load drift hits all
    alike), and the rates that follow from the counted FLOPs."""
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeats):
        for name, action in actions.items():
            start = time.perf_counter()
            action()
            times[name].append(time.perf_counter() - start)
    figures = {}
    for name, samples in times.items():
        rate = flops[name] / min(samples) / 1e9
        figures[name] = dict(best_s=min(samples), median_s=statistics.median(samples),
                             times_s=samples, gflop=flops[name] / 1e9, gflop_per_s=rate,
                             percent_of_peak=100 * rate / peak)  # fmt: skip
    return figures


def print_phase(title: str, figures: dict[str, dict[str, Any]]) -> None:
    print(f"\n{title}\n{'model':32s} {'best s':>9s} {'median s':>9s} {'GFLOP':>9s} "
          f"{'GFLOP/s':>8s} {'% peak':>7s}")  # fmt: skip
    for name, row in figures.items():
        print(f"{name:32s} {row['best_s']:9.4f} {row['median_s']:9.4f} {row['gflop']:9.2f} "
              f"{row['gflop_per_s']:8.1f} {row['percent_of_peak']:6.0f}%")  # fmt: skip


def verdicts(figures: dict[str, dict[str, dict[str, Any]]], peers: list[str]) -> dict[str, Any]:
    """Ours / peer time ratios per phase, against the target (<= 1) and the aim (<= 1 / 1.25)."""
    aim = 1.0 / AIM_SPEEDUP
    found: dict[str, Any] = {}
    print(f"\nours / peer time, best of rounds (target <= 1.00, aim <= {aim:.2f}):")
    for peer in peers:
        for phase, suffix in (("train", ""), ("sample", ""), ("sample", " (cached text)")):
            ours, theirs = figures[phase].get(OURS + suffix), figures[phase].get(peer + suffix)
            if ours is None or theirs is None:
                continue
            ratio = ours["best_s"] / theirs["best_s"]
            key = f"{phase}{suffix} vs {peer}"
            found[key] = {"ratio": ratio, "target_met": ratio <= 1.0, "aim_met": ratio <= aim}
            print(f"  {key:45s} {ratio:5.2f}  target {'met' if ratio <= 1.0 else 'NOT met'}, "
                  f"aim {'met' if ratio <= aim else 'not met'}")  # fmt: skip
    if not peers:
        print("  no peer could be imported: nothing to compare")
    return found


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _options(argv)
    torch.set_num_threads(args.threads)
    base = DiTConfig()
    work = Workload(args.batch, args.audio_tokens, args.text_tokens, base.latent_channels,
                    base.text_width)  # fmt: skip
    peers, failures = load_peers()
    peak = matmul_peak(args.peak_size, args.peak_repeats)
    print(f"torch {torch.__version__}, {args.threads} threads\n"
          f"fp32 matmul peak: {peak:.1f} GFLOP/s (best of {args.peak_repeats} {args.peak_size}^3)\n"
          f"workload: batch {work.batch} x ({work.audio_tokens} audio + {work.text_tokens} "
          f"text) tokens, {work.latent_channels} latent channels, text width "
          f"{work.text_width}")  # fmt: skip
    for name, reason in failures.items():
        print(f"skipped {name}: {reason}")
    print(f"\nsize: target {args.params / 1e6:.2f}M parameters (counted: trainable parameters the "
          f"forward reads), head width {HEAD_WIDTH}, depth nearest {args.depth}")  # fmt: skip
    contenders = []
    for backbone in [OUR_BACKBONE, *peers]:
        depth, width, _ = choose_size(backbone, args.params, args.depth, work)
        contenders.append(build_contender(backbone, width, depth, work, args.seed))
        print(f"  {backbone.name} {backbone.version}: {contenders[-1].parameters / 1e6:.2f}M "
              f"({contenders[-1].parameters / args.params - 1:+.1%}), depth {depth}, width {width}"
              f"\n    config: {backbone.settings(width, depth, work)}"
              f"\n    tokens: {backbone.tokens}", flush=True)  # fmt: skip

    train_actions = {c.backbone.name: c.train_step for c in contenders}
    sample_actions: dict[str, Callable[..., None]] = {}
    for c in contenders:
        sample_actions[c.backbone.name] = c.sample_step
        if c.inputs.cached_forward is not None:
            sample_actions[c.backbone.name + " (cached text)"] = functools.partial(
                c.sample_step, cached=True
            )
    for action in train_actions.values():  # warm-up; the FLOP-counted step is one more
        for _ in range(args.warmup):
            action()
    train_flops = {name: count_flops(action) for name, action in train_actions.items()}
    notes = {c.backbone.name: gradient_notes(c) for c in contenders}
    figures = {"train": measure_phase(train_actions, train_flops, args.repeats, peak)}
    for c in contenders:
        c.model.eval()
    sample_flops = {}
    for name, action in sample_actions.items():
        action(grad_mode=torch.enable_grad)  # fills text caches with ordinary tensors first
        sample_flops[name] = count_flops(functools.partial(action, grad_mode=torch.enable_grad))
        for _ in range(args.warmup):
            action()
    figures["sample"] = measure_phase(sample_actions, sample_flops, args.repeats, peak)

    for phase, title in (("train", "training step (forward + MSE + backward + AdamW)"),
                         ("sample", "sampling step (inference forward, no CFG)")):  # fmt: skip
        print_phase(f"{title}, {args.repeats} rounds:", figures[phase])
    found = verdicts(figures, [b.name for b in peers])
    print("\ngradients after the FLOP-counted training step:")
    for name, lines in notes.items():
        print("\n".join(f"  {name}: {line}" for line in lines))
    if args.profile:
        for c in contenders:
            c.model.train()
            print(f"\nprofile of one training step, {c.backbone.name}:\n{profile_train_step(c)}")

    models = {
        c.backbone.name: dict(version=c.backbone.version, parameters=c.parameters, depth=c.depth,
                              width=c.width, tokens=c.backbone.tokens,
                              config=c.backbone.settings(c.width, c.depth, work))
        for c in contenders
    }  # fmt: skip
    results = dict(torch=torch.__version__, threads=args.threads, peak_gflop_per_s=peak,
                   workload=dataclasses.asdict(work), repeats=args.repeats, models=models,
                   skipped=failures, **figures, verdicts=found,
                   gradient_notes=notes)  # fmt: skip
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)
        print(f"\nwrote {args.json}")
    return results


if __name__ == "__main__":
    main()
