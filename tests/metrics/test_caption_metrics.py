"""Caption metrics equal pycocoevalcap's pipeline (PTBTokenizer + scorers) on fixed captions."""

import math

import pytest

from unisono.errors import UnisonoError
from unisono.metrics import Bleu, CiderD, Meteor, RougeL, Spice, Spider, is_unavailable
from unisono.metrics.caption import caption_scores, ptb_tokenize, spice_missing

CANDIDATES = ["A dog barking twice.", "rain on the roof", "A man speaks, then a car passes by!"]
REFERENCES = [
    ["A dog barks twice, loudly.", "a dog is barking", "Two barks from a dog"],
    ["Rain falls on a tin roof.", "heavy rain hitting a metal roof"],
    ["A man talks and a car drives past.", "A man speaking, followed by a passing car"],
]


def _coco(scorer):
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    tokenizer = PTBTokenizer()
    gts = tokenizer.tokenize({i: [{"caption": c} for c in refs]
                              for i, refs in enumerate(REFERENCES)})
    res = tokenizer.tokenize({i: [{"caption": c}] for i, c in enumerate(CANDIDATES)})
    return scorer.compute_score(gts, res)[0]


def _ours(metric_class):
    metric = metric_class()
    for candidate, refs in zip(CANDIDATES, REFERENCES, strict=True):
        metric.update(candidate=candidate, references=refs)
    return metric.compute()


def test_tokenizer_matches_pycocoevalcap():
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    sentences = ["A dog barks twice, loudly.", "Don't stop -- the café's (old) bell!", ""]
    expected = PTBTokenizer().tokenize({i: [{"caption": s}] for i, s in enumerate(sentences[:2])})
    tokens = ptb_tokenize(sentences)
    assert tokens[:2] == [expected[0][0], expected[1][0]]
    assert tokens[0] == "a dog barks twice loudly" and tokens[2] == ""
    assert "café" in tokens[1]  # UTF-8 survives the round trip through Java


def test_cider_d_and_bleu_equal_pycocoevalcap():
    from pycocoevalcap.bleu.bleu import Bleu as CocoBleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge

    assert _ours(CiderD)["cider_d"] == pytest.approx(_coco(Cider()), rel=1e-12)
    bleu = _ours(Bleu)
    expected = _coco(CocoBleu(4))
    assert [bleu[f"bleu_{n}"] for n in range(1, 5)] == pytest.approx(expected, rel=1e-12)
    assert _ours(RougeL)["rouge_l"] == pytest.approx(_coco(Rouge()), rel=1e-12)



def test_cider_d_per_clip_values_are_pycocoevalcaps_and_average_to_the_corpus_figure():
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    metric = CiderD()
    assert metric.item_values() is None  # nothing computed yet
    for candidate, refs in zip(CANDIDATES, REFERENCES, strict=True):
        metric.update(candidate=candidate, references=refs)
    corpus = metric.compute()["cider_d"]
    tokenizer = PTBTokenizer()
    gts = tokenizer.tokenize({i: [{"caption": c} for c in refs]
                              for i, refs in enumerate(REFERENCES)})
    res = tokenizer.tokenize({i: [{"caption": c}] for i, c in enumerate(CANDIDATES)})
    expected = Cider().compute_score(gts, res)[1]
    assert metric.item_values() == pytest.approx(list(expected), rel=1e-12)
    assert sum(metric.item_values()) / 3 == pytest.approx(corpus, rel=1e-12)
    assert len(set(metric.item_values())) == 3  # three different clips, three different scores

def test_bleu_1_by_hand():
    # candidate "a dog barks": 3 of 3 unigrams match; closest reference has 4 words
    scores = caption_scores(["A dog barks."], [["a dog barks loudly"]], metrics=(Bleu,))
    assert scores["bleu_1"] == pytest.approx(math.exp(1 - 4 / 3), rel=1e-6)  # brevity penalty
    assert scores["bleu_2"] == pytest.approx(math.exp(1 - 4 / 3), rel=1e-6)  # 2 of 2 bigrams


def test_caption_scores_tokenises_once_and_matches_single_metrics():
    combined = caption_scores(CANDIDATES, REFERENCES, metrics=(Bleu, CiderD))
    assert combined["cider_d"] == pytest.approx(_ours(CiderD)["cider_d"], rel=1e-12)
    assert set(combined) == {"bleu_1", "bleu_2", "bleu_3", "bleu_4", "cider_d"}


def test_spice_and_spider_are_unavailable_with_a_reason():
    if spice_missing() is None:
        pytest.skip("SPICE's CoreNLP jars are installed here")
    for metric_class in (Spice, Spider):
        value = _ours(metric_class)[metric_class.name]
        assert is_unavailable(value) and "CoreNLP" in value


def test_missing_java_is_unavailable(monkeypatch):
    from unisono.metrics import caption

    monkeypatch.setattr(caption, "_java", lambda: None)
    value = _ours(CiderD)["cider_d"]
    assert is_unavailable(value) and "default-jre-headless" in value


def test_bad_caption_inputs():
    metric = CiderD()
    with pytest.raises(UnisonoError, match="non-empty list"):
        metric.update(candidate="a dog", references=[])
    with pytest.raises(UnisonoError, match="non-empty list"):
        metric.update(candidate="a dog", references="a dog barks")
    with pytest.raises(UnisonoError, match="at least one word"):
        metric.update(candidate="a dog", references=["a dog", "  "])
    with pytest.raises(UnisonoError, match="caption string"):
        metric.update(candidate=None, references=["a dog"])
    with pytest.raises(UnisonoError, match="no clips"):
        metric.compute()


@pytest.mark.slow
def test_meteor_equals_pycocoevalcap():
    from pycocoevalcap.meteor.meteor import Meteor as CocoMeteor

    coco = CocoMeteor()
    expected = _coco(coco)
    del coco
    assert _ours(Meteor)["meteor"] == pytest.approx(expected, rel=1e-9)
