"""Distribution metrics over pluggable embedders (FD, FAD) and over a classifier (KL, IS).

Shapes: S samples, F embedding frames of one clip, E embedding width, C classes, N clips.

An `Embedder` maps a clip (S,) at a sample rate to frame embeddings (F, E) (a (E,) result counts as
one frame). FD and FAD apply the same Frechet formula to different populations:

- FD (`FrechetDistance`, "fd"): one sample per clip, the mean of its frame embeddings; the Gaussians
  are fitted over the N clips of each set (AudioLDM's FD over PANNs clip embeddings).
- FAD (`FrechetAudioDistance`, "fad"): every frame of every clip is a sample (Kilgour et al. 2019
  over VGGish frames, as google-research frechet_audio_distance and fadtk compute it).

Frechet distance between N(mu_a, Sigma_a) and N(mu_b, Sigma_b), Sigma the unbiased covariance:
|mu_a - mu_b|^2 + Tr(Sigma_a + Sigma_b - 2 (Sigma_a Sigma_b)^(1/2)), with the trace of the matrix square root
from eigenvalues (`trace_sqrt_product`), equal to pytorch-fid's `scipy.linalg.sqrtm` form.

The default embedder is the pretrained aiSFX sound-effect CNN (`AisfxEmbedder`, weights bundled in
the `aisfx` wheel, installed with `pip install aisfx==0.1.2 --no-deps`). `LocalEmbedder` loads a
user's VGGish / PANNs / CLAP from a local folder. KL and IS take any classifier callable
(audio, sample_rate) -> (C,) probabilities; the default is aiSFX's UCS classification head.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import scipy.special
import torch

from unisono.audio import resample
from unisono.errors import UnisonoError
from unisono.metrics.base import (
    Metric,
    MetricValue,
    PairedAudioMetric,
    check_audio,
    check_sample_rate,
    missing_package,
    unavailable,
)

Classifier = Callable[[np.ndarray, int], np.ndarray]

AISFX_INSTALL = "pip install aisfx==0.1.2 --no-deps"
AISFX_SAMPLE_RATE = 44100
AISFX_N_MELS = 96
AISFX_N_FFT = 2048
AISFX_HOP = 1024
AISFX_BLOCK_FRAMES = 100  # ~2.3 s of spectrogram per embedding, as trained
AISFX_BLOCK_HOP = 50  # the package's default emb_hop_size 0.5
AISFX_SPEC_MAX = 9.457798957824707  # the package's 'original' min-max normalisation (min 0)
AISFX_DEFAULT_HEAD = "ucsMixed"


@runtime_checkable
class Embedder(Protocol):
    """Maps a clip to frame embeddings: `embedder(audio (S,), sample_rate) -> (F, E)` or (E,)."""

    name: str
    sample_rate: int

    def __call__(self, audio: np.ndarray, sample_rate: int) -> np.ndarray: ...


@functools.cache
def _aisfx_network() -> torch.nn.Module:
    """aiSFX's CrossNet (embedding CNN + per-dataset heads) with its bundled weights, eval mode."""
    try:
        from aisfx.models.cnn2d import CrossNet, EmbeddingNet
    except ImportError as error:
        raise UnisonoError(f"the aiSFX embedder needs its package: {AISFX_INSTALL}") from error
    try:
        from numpy._core.multiarray import scalar as numpy_scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import scalar as numpy_scalar

    # The checkpoint pickles numpy scalars for its head sizes; allow exactly those, no other code.
    allowed = [(numpy_scalar, "numpy.core.multiarray.scalar"), np.dtype,
               type(np.dtype(np.int64)), type(np.dtype(np.float64))]
    weights_file = resources.files("aisfx").joinpath("models").joinpath("checkpoint.pth")
    with resources.as_file(weights_file) as path, torch.serialization.safe_globals(allowed):
        weights, heads = torch.load(path, map_location="cpu", weights_only=True)
    heads = {name: (int(index), int(size)) for name, (index, size) in heads.items()}
    network = CrossNet(EmbeddingNet("max", 3, 1, 64), heads, "cpu")
    network.load_state_dict(weights)
    return network.eval()


def aisfx_spectrogram(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """aiSFX's input: (T, 96) log mel frames of the peak-normalised clip at 44.1 kHz, in ~[0, 1].

    The package's librosa front end (HTK mels, area-normalised, log10(1e4 x + 1), hop 1024), laid
    out time-first as its Essentia front end and the network expect.
    """
    import librosa

    audio = resample(check_audio(audio), check_sample_rate(sample_rate), AISFX_SAMPLE_RATE)
    peak = float(np.max(np.abs(audio)))
    audio = audio / (peak if peak > 0 else 1.0)
    mel = librosa.feature.melspectrogram(
        y=audio, sr=AISFX_SAMPLE_RATE, n_mels=AISFX_N_MELS, norm=1.0, fmin=0.0,
        fmax=AISFX_SAMPLE_RATE / 2, htk=True, power=2.0, n_fft=AISFX_N_FFT, hop_length=AISFX_HOP,
        win_length=AISFX_N_FFT,
    )
    return (np.log10(mel * 10000.0 + 1.0) / AISFX_SPEC_MAX).T


def aisfx_blocks(spectrogram: np.ndarray) -> np.ndarray:
    """(T, M) frames -> (B, 100, M) blocks, hop 50; partial last block dropped, short padded."""
    frames = spectrogram.shape[0]
    count = 1 + max(frames - AISFX_BLOCK_FRAMES, 0) // AISFX_BLOCK_HOP
    padded = np.concatenate([spectrogram, np.zeros((AISFX_BLOCK_FRAMES, spectrogram.shape[1]))])
    return np.stack([padded[i * AISFX_BLOCK_HOP:i * AISFX_BLOCK_HOP + AISFX_BLOCK_FRAMES]
                     for i in range(count)])


class AisfxEmbedder:
    """aiSFX (Ma et al., ISMIR 2022) sound-effect embeddings (F, 512): ~2.3 s blocks, hop ~1.2 s.

    Runs on the CPU in the caller's torch thread settings. Weights come from the installed `aisfx`
    package (no network).
    """

    name = "aisfx"
    sample_rate = AISFX_SAMPLE_RATE

    def __call__(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        blocks = torch.from_numpy(aisfx_blocks(aisfx_spectrogram(audio, sample_rate))).float()
        with torch.inference_mode():
            return _aisfx_network().get_embedding(blocks).double().numpy()


class AisfxClassifier:
    """Class probabilities (C,) of one aiSFX classification head, softmax averaged over blocks.

    The heads were trained on sound-effect libraries (default "ucsMixed": 69 UCS categories); their
    label names are not shipped, which KL and IS do not need. A stand-in until the project's tagger.
    """

    def __init__(self, head: str = AISFX_DEFAULT_HEAD) -> None:
        heads = _aisfx_network().ds_dict
        if head not in heads:
            raise UnisonoError(f"unknown aiSFX head {head!r}; choose one of: {', '.join(heads)}.")
        self.head = head
        self.name = f"aisfx-{head}"

    def __call__(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        blocks = torch.from_numpy(aisfx_blocks(aisfx_spectrogram(audio, sample_rate))).float()
        with torch.inference_mode():
            _, logits = _aisfx_network()(blocks, self.head)
            return logits.double().softmax(dim=-1).mean(dim=0).numpy()


LOCAL_FORMATS = {"torchscript": {"format", "name", "sample_rate", "file"},
                 "hf_clap": {"format", "name"}}


class LocalEmbedder:
    """An embedder a user has on disk (VGGish, PANNs, CLAP, ...): a folder with `embedder.json`.

    `embedder.json` names the format; unknown keys are an error:

    - {"format": "torchscript", "sample_rate": 16000, "file": "model.pt", "name": "vggish"}: a
      TorchScript module (`torch.jit.save`) taking a (1, S) float32 waveform at `sample_rate` and
      returning (E,), (1, E), (F, E) or (1, F, E). Export VGGish (torchvggish) or PANNs Cnn14
      (returning its 2048-d `embedding`) this way once, where you have their weights.
    - {"format": "hf_clap", "name": "clap"}: a LAION-CLAP model saved by transformers'
      `ClapModel.save_pretrained` plus `ClapFeatureExtractor.save_pretrained` in the same folder;
      the embeddings are `get_audio_features` at the extractor's rate (48 kHz) on consecutive
      windows of the extractor's maximum length (10 s for LAION-CLAP), one (E,) frame each.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        config_path = self.folder / "embedder.json"
        if not config_path.is_file():
            raise UnisonoError(f"{config_path} not found: an embedder folder needs an "
                               "embedder.json "
                               "naming its format (see unisono.metrics.embedding.LocalEmbedder).")
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise UnisonoError(f"{config_path} is not valid JSON: {error}") from error
        kind = config.get("format")
        if kind not in LOCAL_FORMATS:
            raise UnisonoError(f"{config_path}: format must be one of {sorted(LOCAL_FORMATS)}; "
                               f"got {kind!r}.")
        unknown = sorted(set(config) - LOCAL_FORMATS[kind])
        if unknown:
            raise UnisonoError(f"{config_path}: unknown key(s) {unknown} for format {kind!r}; "
                               f"allowed: {sorted(LOCAL_FORMATS[kind])}.")
        self.kind = kind
        self.name = str(config.get("name", self.folder.name))
        if kind == "torchscript":
            if "sample_rate" not in config:
                raise UnisonoError(f"{config_path}: a torchscript embedder needs 'sample_rate'.")
            self.sample_rate = check_sample_rate(config["sample_rate"])
            model_path = self.folder / config.get("file", "model.pt")
            if not model_path.is_file():
                raise UnisonoError(f"embedder weights {model_path} not found.")
            self._module = torch.jit.load(str(model_path), map_location="cpu").eval()
        else:
            self._load_clap()

    def _load_clap(self) -> None:
        try:
            from transformers import ClapFeatureExtractor, ClapModel
        except ImportError as error:
            raise UnisonoError("the hf_clap format needs transformers: pip install transformers"
                               ) from error
        try:
            self._module = ClapModel.from_pretrained(self.folder, local_files_only=True).eval()
            self._features = ClapFeatureExtractor.from_pretrained(self.folder,
                                                                  local_files_only=True)
        except (OSError, ValueError) as error:
            raise UnisonoError(f"cannot load a CLAP model from {self.folder}: {error}") from error
        self.sample_rate = int(self._features.sampling_rate)

    def _clap_chunks(self, audio: np.ndarray) -> list[np.ndarray]:
        # Windows no longer than the extractor's maximum, so it never crops at random; a last
        # window under a second is dropped unless it is the whole clip.
        length = int(self._features.nb_max_samples)
        chunks = [audio[start:start + length] for start in range(0, audio.shape[0], length)]
        return chunks[:1] + [c for c in chunks[1:] if c.shape[0] >= self.sample_rate]

    def _clap_embedding(self, chunk: np.ndarray) -> torch.Tensor:
        inputs = self._features(chunk, sampling_rate=self.sample_rate, return_tensors="pt")
        output = self._module.get_audio_features(**inputs)
        return output if isinstance(output, torch.Tensor) else output.pooler_output

    def __call__(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        audio = resample(check_audio(audio), check_sample_rate(sample_rate), self.sample_rate)
        with torch.inference_mode():
            if self.kind == "torchscript":
                output = self._module(torch.from_numpy(audio)[None])
            else:
                chunks = self._clap_chunks(audio)
                output = torch.cat([self._clap_embedding(chunk) for chunk in chunks])
        embedding = output.detach().double().numpy()
        if embedding.ndim == 3 and embedding.shape[0] == 1:
            embedding = embedding[0]
        return embedding.reshape(1, -1) if embedding.ndim == 1 else embedding


def _frames(embedding: Any, *, source: str) -> np.ndarray:
    frames = np.asarray(embedding, dtype=np.float64)
    frames = frames.reshape(1, -1) if frames.ndim == 1 else frames
    if frames.ndim != 2 or frames.shape[0] == 0 or frames.shape[1] == 0:
        raise UnisonoError(f"{source} must give (frames, width) or (width,) embeddings; "
                           f"got shape {np.shape(embedding)}.")
    if not np.all(np.isfinite(frames)):
        raise UnisonoError(f"{source} gave NaN or Inf embeddings.")
    return frames


def frechet_distance(mean_a: np.ndarray, cov_a: np.ndarray, mean_b: np.ndarray,
                     cov_b: np.ndarray) -> float:
    """Frechet distance between N(mean_a, cov_a) and N(mean_b, cov_b): (E,) means, (E, E) covs.

    The pytorch-fid formula; tr(sqrtm(cov_a @ cov_b)) comes from an eigen-decomposition
    (`trace_sqrt_product`, equal to scipy's sqrtm and defined for singular covariances). The
    result is clamped at 0 (it is a squared distance; round-off can make it -1e-12).
    """
    mean_a, mean_b = np.asarray(mean_a, np.float64), np.asarray(mean_b, np.float64)
    cov_a, cov_b = np.atleast_2d(cov_a).astype(np.float64), np.atleast_2d(cov_b).astype(np.float64)
    if (mean_a.shape != mean_b.shape or cov_a.shape != cov_b.shape
            or cov_a.shape != 2 * mean_a.shape):
        raise UnisonoError(f"Gaussian statistics disagree in size: means {mean_a.shape} and "
                           f"{mean_b.shape}, covariances {cov_a.shape} and {cov_b.shape}.")
    diff = mean_a - mean_b
    value = diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_sqrt_product(cov_a, cov_b)
    return max(float(value), 0.0)


def trace_sqrt_product(cov_a: np.ndarray, cov_b: np.ndarray) -> float:
    """tr(sqrtm(cov_a @ cov_b)) for symmetric PSD (E, E) matrices, by eigen-decomposition.

    cov_a @ cov_b is similar to sqrt(cov_a) cov_b sqrt(cov_a), which is symmetric PSD, so the
    trace of the square root is the sum of the square roots of its eigenvalues (round-off
    negatives clipped to 0). Equal to the scipy.linalg.sqrtm recipe, an order of magnitude faster.
    """
    values, vectors = np.linalg.eigh(np.asarray(cov_a, np.float64))
    root_a = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    middle = root_a @ np.asarray(cov_b, np.float64) @ root_a
    eigen = np.linalg.eigvalsh((middle + middle.T) / 2.0)
    return float(np.sum(np.sqrt(np.clip(eigen, 0.0, None))))


class FrechetDistance(Metric):
    """FD: Frechet distance between Gaussians fitted to per-clip mean embeddings of two clip sets.

    `update(estimate=..., reference=..., sample_rate=...)` adds a generated and/or a reference clip
    (the sets are unpaired and may differ in size); `add_embeddings` adds precomputed (F, E) ones.
    Each set needs at least 2 samples; with fewer samples than E the covariance is singular and
    the distance is biased upwards, so compare figures at equal set sizes.
    """

    name: ClassVar[str] = "fd"
    inputs: ClassVar[str] = "sets"
    description: ClassVar[str] = "Frechet distance of per-clip mean embeddings (lower is better)"
    frames: ClassVar[bool] = False

    def __init__(self, embedder: Embedder | None = None) -> None:
        self._embedder = embedder
        super().__init__()

    @property
    def embedder(self) -> Embedder:
        """The embedder in use (AisfxEmbedder unless one was given)."""
        if self._embedder is None:
            self._embedder = AisfxEmbedder()
        return self._embedder

    def _missing(self) -> str | None:
        return missing_package("aisfx", AISFX_INSTALL) if self._embedder is None else None

    def reset(self) -> None:
        self._sets: dict[str, list[np.ndarray]] = {"estimate": [], "reference": []}
        self._width: int | None = None

    def update(self, *, estimate: np.ndarray | None = None, reference: np.ndarray | None = None,
               sample_rate: int) -> None:
        """Add a generated clip and/or a reference clip, each (S,) at ``sample_rate``."""
        if estimate is None and reference is None:
            raise UnisonoError("give an estimate clip, a reference clip or both.")
        clips = {"estimate": estimate, "reference": reference}
        checked = {role: check_audio(clip, name=role) for role, clip in clips.items()
                   if clip is not None}
        sample_rate = check_sample_rate(sample_rate)
        if self.missing is not None:
            return
        self.add_embeddings(**{role: self.embedder(clip, sample_rate)
                               for role, clip in checked.items()})

    def add_embeddings(self, *, estimate: np.ndarray | None = None,
                       reference: np.ndarray | None = None) -> None:
        """Add the (F, E) (or (E,)) embeddings of one generated and/or one reference clip."""
        for role, embedding in (("estimate", estimate), ("reference", reference)):
            if embedding is not None:
                frames = _frames(embedding, source=f"the {role} embedding")
                if self._width is not None and frames.shape[1] != self._width:
                    raise UnisonoError(f"{self.name}: embeddings of width {frames.shape[1]} after "
                                       f"ones of width {self._width}; use one embedder throughout.")
                self._width = frames.shape[1]
                samples = frames if self.frames else frames.mean(axis=0, keepdims=True)
                self._sets[role].append(samples)

    def compute(self) -> dict[str, MetricValue]:
        if self.missing is not None:
            return {self.name: unavailable(self.missing)}
        stats = []
        for role, parts in self._sets.items():
            samples = np.concatenate(parts) if parts else np.zeros((0, 0))
            if samples.shape[0] < 2:
                raise UnisonoError(f"{self.name}: the {role} set has {samples.shape[0]} embedding "
                                   "sample(s); at least 2 are needed for a covariance.")
            stats.append((samples.mean(axis=0), np.cov(samples, rowvar=False)))
        return {self.name: frechet_distance(*stats[0], *stats[1])}


class FrechetAudioDistance(FrechetDistance):
    """FAD: the Frechet distance over all frame embeddings of each set (Kilgour et al. 2019)."""

    name: ClassVar[str] = "fad"
    description: ClassVar[str] = "Frechet distance of all frame embeddings (lower is better)"
    frames: ClassVar[bool] = True


def _probabilities(classifier: Classifier, audio: np.ndarray, sample_rate: int) -> np.ndarray:
    probabilities = np.asarray(classifier(audio, sample_rate), dtype=np.float64)
    if probabilities.ndim != 1 or probabilities.size < 2:
        raise UnisonoError(f"the classifier must return (classes,) probabilities; got shape "
                           f"{probabilities.shape}.")
    if not np.all(np.isfinite(probabilities)) or np.any(probabilities < 0) or np.any(
            probabilities > 1 + 1e-6):
        raise UnisonoError("the classifier returned values outside [0, 1] or NaN: give it "
                           "probabilities (softmax or sigmoid outputs), not logits.")
    return probabilities


class _ClassifierMixin:
    """Holds the classifier (default AisfxClassifier) and reports when it cannot be built."""

    def _init_classifier(self, classifier: Classifier | None) -> None:
        self._classifier = classifier

    @property
    def classifier(self) -> Classifier:
        """The classifier in use (the aiSFX UCS head unless one was given)."""
        if self._classifier is None:
            self._classifier = AisfxClassifier()
        return self._classifier

    def _classifier_missing(self) -> str | None:
        return missing_package("aisfx", AISFX_INSTALL) if self._classifier is None else None


class KLDivergence(_ClassifierMixin, PairedAudioMetric):
    """KL(p_reference || p_generated) of classifier outputs, per pair, mean over pairs (AudioLDM).

    Per pair: sum_c p_ref,c (log p_ref,c - log(p_gen,c + 1e-6)), i.e. audioldm_eval's
    `kl_div((p_gen + 1e-6).log(), p_ref, reduction="sum") / N`. Lengths may differ.
    """

    name: ClassVar[str] = "kl"
    aligned: ClassVar[bool] = False
    description: ClassVar[str] = "KL(reference || generated) of classifier outputs (lower better)"
    EPSILON: ClassVar[float] = 1e-6

    def __init__(self, classifier: Classifier | None = None) -> None:
        self._init_classifier(classifier)
        super().__init__()

    def _missing(self) -> str | None:
        return self._classifier_missing()

    def score(self, estimate: np.ndarray, reference: np.ndarray, sample_rate: int) -> float:
        generated = _probabilities(self.classifier, estimate, sample_rate)
        target = _probabilities(self.classifier, reference, sample_rate)
        if generated.shape != target.shape:
            raise UnisonoError("the classifier returned different class counts for two clips.")
        return float(np.sum(scipy.special.xlogy(target, target)
                            - target * np.log(generated + self.EPSILON)))


class InceptionScore(_ClassifierMixin, Metric):
    """IS = exp(E_x KL(p(y|x) || p(y))) over generated clips; p(y) is the mean of p(y|x).

    Each output is renormalised to sum to 1 (sigmoid taggers give multi-label scores). With
    `splits` > 1 the clips are cut into that many consecutive groups (torch-fidelity's recipe)
    and the mean and standard deviation over groups are reported.
    """

    name: ClassVar[str] = "is"
    inputs: ClassVar[str] = "generated"
    description: ClassVar[str] = "inception score of classifier outputs (higher is better)"

    def __init__(self, classifier: Classifier | None = None, *, splits: int = 1) -> None:
        if splits < 1:
            raise UnisonoError(f"splits must be at least 1; got {splits}")
        self.splits = splits
        self._init_classifier(classifier)
        super().__init__()

    def _missing(self) -> str | None:
        return self._classifier_missing()

    def reset(self) -> None:
        self._outputs: list[np.ndarray] = []

    def update(self, *, estimate: np.ndarray, sample_rate: int) -> None:
        """Classify one generated clip (S,) at ``sample_rate``."""
        estimate = check_audio(estimate, name="estimate")
        sample_rate = check_sample_rate(sample_rate)
        if self.missing is None:
            probabilities = _probabilities(self.classifier, estimate, sample_rate)
            total = probabilities.sum()
            if total <= 0:
                raise UnisonoError("the classifier gave all-zero probabilities for a clip.")
            self._outputs.append(probabilities / total)

    def compute(self) -> dict[str, MetricValue]:
        if self.missing is not None:
            return {self.name: unavailable(self.missing)}
        self._require_items(len(self._outputs))
        if len(self._outputs) < self.splits:
            raise UnisonoError(f"{len(self._outputs)} clips cannot be cut into {self.splits} "
                               "splits.")
        conditional = np.stack(self._outputs)  # (N, C)
        scores = []
        for group in np.array_split(conditional, self.splits):
            marginal = group.mean(axis=0, keepdims=True)
            divergence = scipy.special.xlogy(group, group) - scipy.special.xlogy(group, marginal)
            scores.append(float(np.exp(divergence.sum(axis=1).mean())))
        result: dict[str, MetricValue] = {self.name: float(np.mean(scores))}
        if self.splits > 1:
            result[f"{self.name}_std"] = float(np.std(scores))
        return result
