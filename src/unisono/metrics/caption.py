"""Caption metrics through pycocoevalcap: BLEU-1..4, METEOR, ROUGE-L, CIDEr-D; SPICE and SPIDEr.

Every metric accumulates (candidate caption, reference captions) with `update` and scores the
corpus at `compute`, as the COCO caption toolkit does: texts go through Stanford's PTBTokenizer
(lower case, the toolkit's punctuation list removed), then the toolkit's own scorers run. CIDEr
is pycocoevalcap's `Cider`, which is CIDEr-D (clipped n-gram counts, Gaussian length penalty,
sigma 6, x10), with document frequencies from this corpus's references.

The tokenizer and METEOR run Java (Debian: `apt-get install -y default-jre-headless`). SPICE needs
Stanford CoreNLP 3.6.0 models that pycocoevalcap would download on first use; Unisono never
downloads at run time, so SPICE and SPIDEr (mean of CIDEr-D and SPICE) are reported
"unavailable: ..." unless those jars are already in pycocoevalcap's spice/lib folder.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import ClassVar

from unisono.errors import UnisonoError
from unisono.metrics.base import Metric, MetricValue, missing_package, unavailable

JAVA_INSTALL = "apt-get install -y default-jre-headless"
TOKENIZER_TIMEOUT_S = 600
SPICE_JARS = ("stanford-corenlp-3.6.0.jar", "stanford-corenlp-3.6.0-models.jar")


def _java() -> str | None:
    return shutil.which("java")


def ptb_tokenize(sentences: Sequence[str]) -> list[str]:
    """pycocoevalcap's tokenisation of each sentence: PTBTokenizer, lower case, punctuation dropped.

    Runs the tokenizer jar shipped in pycocoevalcap on a temporary file (the package itself
    writes into its install folder, which may be read-only).
    """
    from pycocoevalcap.tokenizer.ptbtokenizer import PUNCTUATIONS, STANFORD_CORENLP_3_4_1_JAR

    java = _java()
    if java is None:
        raise UnisonoError(f"caption metrics need Java for the PTB tokenizer: {JAVA_INSTALL}")
    lines = [sentence.replace("\r", " ").replace("\n", " ") for sentence in sentences]
    tokenizer_folder = resources.files("pycocoevalcap").joinpath("tokenizer")
    jar_file = tokenizer_folder.joinpath(STANFORD_CORENLP_3_4_1_JAR)
    with tempfile.TemporaryDirectory(prefix="unisono-ptb-") as folder, \
            resources.as_file(jar_file) as jar:
        text_path = Path(folder) / "captions.txt"
        text_path.write_text("\n".join(lines), encoding="utf-8")
        command = [java, "-Dfile.encoding=UTF-8", "-cp", str(jar),
                   "edu.stanford.nlp.process.PTBTokenizer", "-encoding", "utf-8",
                   "-preserveLines", "-lowerCase", str(text_path)]
        try:
            done = subprocess.run(command, capture_output=True, timeout=TOKENIZER_TIMEOUT_S,
                                  check=False)
        except subprocess.TimeoutExpired as error:
            raise UnisonoError(f"the PTB tokenizer did not finish in {TOKENIZER_TIMEOUT_S} s."
                               ) from error
    if done.returncode != 0:
        raise UnisonoError(f"the PTB tokenizer failed (exit {done.returncode}): "
                           f"{done.stderr.decode(errors='replace')[-500:]}")
    tokenized = done.stdout.decode("utf-8").split("\n")
    # A trailing empty caption leaves no line at all in the output.
    if len(tokenized) < len(lines) and all(not s.strip() for s in lines[len(tokenized):]):
        tokenized += [""] * (len(lines) - len(tokenized))
    if len(tokenized) < len(lines):
        raise UnisonoError(f"the PTB tokenizer returned {len(tokenized)} lines for {len(lines)} "
                           "captions.")
    return [" ".join(word for word in line.rstrip().split(" ") if word not in PUNCTUATIONS)
            for line in tokenized[:len(lines)]]


class CaptionMetric(Metric):
    """Corpus caption metric: `update(candidate=..., references=[...])` per clip."""

    inputs: ClassVar[str] = "captions"
    keys: ClassVar[tuple[str, ...]]
    needs_java: ClassVar[bool] = True  # the tokenizer

    def _missing(self) -> str | None:
        missing = missing_package("pycocoevalcap", "pip install pycocoevalcap")
        if missing is None and self.needs_java and _java() is None:
            missing = f"Java not found (the PTB tokenizer and METEOR run on it): {JAVA_INSTALL}"
        return missing

    def reset(self) -> None:
        self.candidates: list[str] = []
        self.references: list[list[str]] = []

    def update(self, *, candidate: str, references: Sequence[str]) -> None:
        """Add a generated caption and the reference captions of the same clip."""
        if not isinstance(candidate, str):
            raise UnisonoError("candidate must be a caption string; got "
                               f"{type(candidate).__name__}")
        if isinstance(references, str) or not references:
            raise UnisonoError("references must be a non-empty list of caption strings.")
        if not all(isinstance(r, str) and r.strip() for r in references):
            raise UnisonoError("every reference caption must be a string with at least one word.")
        self.candidates.append(candidate)
        self.references.append(list(references))

    def tokenized(self) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
        """(references, candidates) tokenised, keyed by clip index as pycocoevalcap expects."""
        flat = self.candidates + [r for refs in self.references for r in refs]
        tokens = ptb_tokenize(flat)
        candidates, rest = tokens[:len(self.candidates)], tokens[len(self.candidates):]
        gts, start = {}, 0
        for index, refs in enumerate(self.references):
            gts[index] = rest[start:start + len(refs)]
            start += len(refs)
        return gts, {index: [caption] for index, caption in enumerate(candidates)}

    def compute(self) -> dict[str, MetricValue]:
        if self.missing is not None:
            return {key: unavailable(self.missing) for key in self.keys}
        self._require_items(len(self.candidates))
        return self.score(*self.tokenized())

    def score(self, gts: dict[int, list[str]], res: dict[int, list[str]]) -> dict[str, MetricValue]:
        """The metric on tokenised references ``gts`` and candidates ``res``."""
        raise NotImplementedError


class Bleu(CaptionMetric):
    """BLEU-1..4 (pycocoevalcap `Bleu(4)`, corpus level, 'closest' reference length)."""

    name: ClassVar[str] = "bleu"
    keys: ClassVar[tuple[str, ...]] = ("bleu_1", "bleu_2", "bleu_3", "bleu_4")
    description: ClassVar[str] = "BLEU-1..4 of captions, COCO toolkit (higher is better)"

    def score(self, gts: dict[int, list[str]], res: dict[int, list[str]]) -> dict[str, MetricValue]:
        from pycocoevalcap.bleu.bleu import Bleu as CocoBleu

        values, _ = CocoBleu(4).compute_score(gts, res, verbose=0)
        return {key: float(value) for key, value in zip(self.keys, values, strict=True)}


class RougeL(CaptionMetric):
    """ROUGE-L F-measure (beta 1.2, best reference), mean over clips (pycocoevalcap `Rouge`)."""

    name: ClassVar[str] = "rouge_l"
    keys: ClassVar[tuple[str, ...]] = ("rouge_l",)
    description: ClassVar[str] = "ROUGE-L of captions, COCO toolkit (higher is better)"

    def score(self, gts: dict[int, list[str]], res: dict[int, list[str]]) -> dict[str, MetricValue]:
        from pycocoevalcap.rouge.rouge import Rouge

        value, _ = Rouge().compute_score(gts, res)
        return {"rouge_l": float(value)}


class CiderD(CaptionMetric):
    """CIDEr-D (pycocoevalcap `Cider`: n = 1..4, sigma 6, clipping, x10), idf from this corpus."""

    name: ClassVar[str] = "cider_d"
    keys: ClassVar[tuple[str, ...]] = ("cider_d",)
    description: ClassVar[str] = "CIDEr-D of captions, COCO toolkit (higher is better)"

    def score(self, gts: dict[int, list[str]], res: dict[int, list[str]]) -> dict[str, MetricValue]:
        from pycocoevalcap.cider.cider import Cider

        value, per_clip = Cider().compute_score(gts, res)
        self.per_clip = [float(v) for v in per_clip]
        return {"cider_d": float(value)}

    def reset(self) -> None:
        super().reset()
        self.per_clip: list[float] = []

    def item_values(self) -> list[float] | None:
        """Each clip's CIDEr-D with the corpus' idf (their mean is the corpus figure), once
        computed: a per-kind breakdown of an evaluation report."""
        return list(self.per_clip) if self.per_clip else None


class Meteor(CaptionMetric):
    """METEOR 1.5 (pycocoevalcap's jar, English, normalised), corpus level; starts a JVM (~20 s)."""

    name: ClassVar[str] = "meteor"
    keys: ClassVar[tuple[str, ...]] = ("meteor",)
    description: ClassVar[str] = "METEOR 1.5 of captions, COCO toolkit (higher is better)"

    def score(self, gts: dict[int, list[str]], res: dict[int, list[str]]) -> dict[str, MetricValue]:
        from pycocoevalcap.meteor.meteor import Meteor as CocoMeteor

        scorer = CocoMeteor()
        try:
            value, _ = scorer.compute_score(gts, res)
        finally:
            _stop(scorer.meteor_p)
        return {"meteor": float(value)}


def _stop(process: subprocess.Popen) -> None:
    """End the scorer's JVM now rather than at garbage collection."""
    if process.stdin is not None:
        process.stdin.close()
    process.kill()
    process.wait()


def spice_missing() -> str | None:
    """Why SPICE cannot run here (its CoreNLP jars need a download), or None."""
    missing = missing_package("pycocoevalcap", "pip install pycocoevalcap")
    if missing is not None:
        return missing
    folder = resources.files("pycocoevalcap").joinpath("spice").joinpath("lib")
    absent = [jar for jar in SPICE_JARS if not folder.joinpath(jar).is_file()]
    if absent:
        return (f"SPICE needs Stanford CoreNLP 3.6.0 ({', '.join(absent)}), a download that "
                "Unisono does not make; run pycocoevalcap.spice.get_stanford_models once to "
                "enable it")
    if _java() is None:
        return f"Java not found: {JAVA_INSTALL}"
    return None


class Spice(CaptionMetric):
    """SPICE F-score (pycocoevalcap `Spice`), only when its CoreNLP jars are already installed."""

    name: ClassVar[str] = "spice"
    keys: ClassVar[tuple[str, ...]] = ("spice",)
    description: ClassVar[str] = "SPICE of captions (needs CoreNLP 3.6.0 jars; higher is better)"

    def _missing(self) -> str | None:
        return super()._missing() or spice_missing()

    def score(self, gts: dict[int, list[str]], res: dict[int, list[str]]) -> dict[str, MetricValue]:
        return {"spice": _spice(gts, res)}


def _spice(gts: dict[int, list[str]], res: dict[int, list[str]]) -> float:
    from pycocoevalcap.spice.spice import Spice as CocoSpice

    value, _ = CocoSpice().compute_score(gts, res)
    return float(value)


class Spider(CaptionMetric):
    """SPIDEr = (CIDEr-D + SPICE) / 2 (Liu et al. 2017); unavailable whenever SPICE is."""

    name: ClassVar[str] = "spider"
    keys: ClassVar[tuple[str, ...]] = ("spider",)
    description: ClassVar[str] = "mean of CIDEr-D and SPICE (needs SPICE; higher is better)"

    def _missing(self) -> str | None:
        return super()._missing() or spice_missing()

    def score(self, gts: dict[int, list[str]], res: dict[int, list[str]]) -> dict[str, MetricValue]:
        cider = CiderD.score(self, gts, res)["cider_d"]
        assert isinstance(cider, float)
        return {"spider": (cider + _spice(gts, res)) / 2.0}


def caption_scores(candidates: Sequence[str], references: Sequence[Sequence[str]],
                   metrics: Sequence[type[CaptionMetric]] = (Bleu, RougeL, CiderD)
                   ) -> dict[str, MetricValue]:
    """Score parallel candidates and reference lists with several metrics, tokenising once."""
    if len(candidates) != len(references):
        raise UnisonoError(f"{len(candidates)} candidates but {len(references)} reference lists.")
    built = [metric_class() for metric_class in metrics]
    for metric in built:
        for candidate, refs in zip(candidates, references, strict=True):
            metric.update(candidate=candidate, references=refs)
    results: dict[str, MetricValue] = {}
    available = [metric for metric in built if metric.missing is None]
    tokens = available[0].tokenized() if available and candidates else None
    for metric in built:
        if metric.missing is None and tokens is not None:
            results.update(metric.score(*tokens))
        else:
            results.update(metric.compute())
    return results
