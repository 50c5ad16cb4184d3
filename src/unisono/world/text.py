"""Sentence generator for the synthetic world: templates with grammar slots over a fixed vocabulary.

Sentences are plain English a TTS engine can read and Whisper can transcribe: capitalised, punctuated,
5 to 14 words, no digits or abbreviations. The vocabulary (package data ``text_words.txt``) is
grouped by grammatical role; nouns carry plurals and verbs their past tense, so every word form a
sentence can contain is known in advance and listed in ``VOCABULARY``.

``HELD_OUT_SENTENCES`` (package data ``text_held_out.txt``) are never returned by ``sentence``: they
are kept for generalisation tests on text the model has not seen.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

import numpy as np

from unisono.errors import UnisonoError

_PUNCTUATION = re.compile(r"[^\w\s']")
# Adjectives starting with a vowel letter but a consonant sound, or the reverse.
_ARTICLE_EXCEPTIONS = {"honest": "an", "hour": "an", "useful": "a", "university": "a"}


@dataclass(frozen=True)
class _Noun:
    singular: str
    plural: str


@dataclass(frozen=True)
class _Verb:
    base: str
    past: str

    @property
    def third_person(self) -> str:
        """Present tense after he/she/it: inflects the first word of a phrasal verb."""
        head, _, rest = self.base.partition(" ")
        if re.search(r"(s|x|z|ch|sh|o)$", head):
            head += "es"
        elif re.search(r"[^aeiou]y$", head):
            head = head[:-1] + "ies"
        else:
            head += "s"
        return f"{head} {rest}".strip()


def _plural(word: str) -> str:
    if re.search(r"(s|x|z|ch|sh)$", word):
        return word + "es"
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    return word + "s"


def _read_sections(name: str) -> dict[str, list[str]]:
    text = resources.files("unisono.world").joinpath("data", name).read_text(encoding="utf-8")
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        if current is None:
            raise UnisonoError(f"{name}: entries before the first [section]; fix the data file.")
        current.extend(entry.replace("_", " ") for entry in line.split())
    # Deduplicate keeping first occurrence, so the order (and hence sampling) is fixed by the file.
    return {key: list(dict.fromkeys(values)) for key, values in sections.items()}


class _Lexicon:
    """Word lists by role, with inflections resolved."""

    def __init__(self, sections: dict[str, list[str]]) -> None:
        def nouns(key: str) -> list[_Noun]:
            result = []
            for entry in sections[key]:
                singular, _, plural = entry.partition("/")
                result.append(_Noun(singular, plural or _plural(singular)))
            return result

        def verbs(key: str) -> list[_Verb]:
            result = []
            for entry in sections[key]:
                base, _, past = entry.partition("/")
                if not past:
                    raise UnisonoError(f"verb {base!r} in [{key}] has no past tense; write base/past.")
                result.append(_Verb(base, past))
            return result

        self.person, self.animal = nouns("person"), nouns("animal")
        self.object, self.food, self.place = nouns("object"), nouns("food"), nouns("place")
        self.transitive, self.intransitive = verbs("transitive"), verbs("intransitive")
        self.motion = verbs("motion")
        self.city = [c.title() for c in sections["city"]]
        self.name = [n.title() for n in sections["female_name"] + sections["male_name"]]
        self.plain = {key: sections[key] for key in (
            "adjective", "adverb", "time_past", "time_future", "time_habit", "meal", "taste",
            "number", "feeling", "frequency")}

    def words(self) -> frozenset[str]:
        forms: set[str] = set()
        for group in (self.person, self.animal, self.object, self.food, self.place):
            for noun in group:
                forms.update(noun.singular.split() + noun.plural.split())
        for group in (self.transitive, self.intransitive, self.motion):
            for verb in group:
                forms.update(verb.base.split() + verb.past.split() + verb.third_person.split())
        for entries in [self.city, self.name, *self.plain.values()]:
            for entry in entries:
                forms.update(entry.lower().split())
        return frozenset(forms | _FUNCTION_WORDS)


_FUNCTION_WORDS = frozenset(
    "a an the my our your his her their this that some many few i we you they it he she is was "
    "are were be will should could can not did do does to in on at by near with and so because "
    "after before when where why how there please let us think said told named has have had seen "
    "too very most of for me look lives felt tasted really going those".split()
)

_LEXICON = _Lexicon(_read_sections("text_words.txt"))
VOCABULARY: frozenset[str] = _LEXICON.words()


def _article(word: str) -> str:
    first = word.split()[0].lower()
    if first in _ARTICLE_EXCEPTIONS:
        return _ARTICLE_EXCEPTIONS[first]
    return "an" if first[0] in "aeiou" else "a"


class _Slots:
    """Slot fillers: each draws from ``rng`` in a fixed order, so a seed fixes the sentence."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def pick(self, items: list):
        return items[int(self.rng.integers(len(items)))]

    def maybe(self, probability: float) -> bool:
        return bool(self.rng.random() < probability)

    def adj(self) -> str:
        return self.pick(_LEXICON.plain["adjective"])

    def noun_phrase(self, nouns: list[_Noun], *, allow_plural: bool = True) -> str:
        noun = self.pick(nouns)
        adjective = self.adj() + " " if self.maybe(0.4) else ""
        if allow_plural and self.maybe(0.25):
            determiner = self.pick(["the", "some", "my", "our", "their", "those", "two", "three"])
            return f"{determiner} {adjective}{noun.plural}"
        determiner = self.pick(["the", "the", "a", "my", "his", "her", "our", "this", "that"])
        if determiner == "a":
            determiner = _article(adjective or noun.singular)
        return f"{determiner} {adjective}{noun.singular}"

    def subject(self) -> str:
        """A singular third-person subject."""
        if self.maybe(0.35):
            return self.pick(_LEXICON.name)
        return self.noun_phrase(_LEXICON.person, allow_plural=False)

    def pronoun(self) -> str:
        return self.pick(["I", "we", "you", "they"])

    def place(self) -> str:
        if self.maybe(0.25):
            return self.pick(_LEXICON.city)
        noun = self.pick(_LEXICON.place)
        return f"the {noun.singular}"

    def fill(self, key: str) -> str:
        lex, plain = _LEXICON, _LEXICON.plain
        fillers: dict[str, Callable[[], str]] = {
            "subj": self.subject,
            "subj2": self.subject,
            "pron": self.pronoun,
            "name": lambda: self.pick(lex.name),
            "city": lambda: self.pick(lex.city),
            "obj": lambda: self.noun_phrase(lex.object),
            "animal_np": lambda: self.noun_phrase(lex.animal),
            "food_np": lambda: self.noun_phrase(lex.food),
            "object": lambda: self.pick(lex.object).singular,
            "object_pl": lambda: self.pick(lex.object).plural,
            "animal": lambda: self.pick(lex.animal).singular,
            "animal_pl": lambda: self.pick(lex.animal).plural,
            "food": lambda: self.pick(lex.food).singular,
            "food_pl": lambda: self.pick(lex.food).plural,
            "person": lambda: self.pick(lex.person).singular,
            "person_pl": lambda: self.pick(lex.person).plural,
            "place": self.place,
            "tv_base": lambda: self.pick(lex.transitive).base,
            "tv_past": lambda: self.pick(lex.transitive).past,
            "tv_3sg": lambda: self.pick(lex.transitive).third_person,
            "iv_base": lambda: self.pick(lex.intransitive).base,
            "iv_past": lambda: self.pick(lex.intransitive).past,
            "mv_base": lambda: self.pick(lex.motion).base,
            "mv_past": lambda: self.pick(lex.motion).past,
            "a_adj": lambda: (lambda word: f"{_article(word)} {word}")(self.adj()),
        }
        if key in fillers:
            return fillers[key]()
        base = key.rstrip("0123456789")
        if base == "adj":
            return self.adj()
        if base in plain:
            return self.pick(plain[base])
        raise KeyError(key)


# {slot} names are _Slots.fill keys; a trailing digit makes a second independent draw ({adj2}).
_TEMPLATES: tuple[str, ...] = (
    "{subj} {tv_past} {obj} {time_past}.",
    "{subj} {mv_past} to {place} {time_past}.",
    "{subj} {iv_past} {adverb} in {place}.",
    "The {adj} {animal} {iv_past} near {place}.",
    "Did {subj} {tv_base} {obj} {time_past}?",
    "Why did {subj} {tv_base} {obj}?",
    "{pron} will {tv_base} {obj} {time_future}.",
    "{pron} should {tv_base} {obj} before we leave.",
    "There are {number} {object_pl} in {place}.",
    "There was {a_adj} {object} on the table.",
    "Please {tv_base} {obj} {adverb}.",
    "Why is the {object} so {adj}?",
    "I think {subj} will {iv_base} {adverb}.",
    "{subj} said that the {food} was {taste}.",
    "{subj} felt {feeling} after {subj2} {tv_past} {obj}.",
    "{subj} {tv_past} {number} {food_pl} and {obj}.",
    "{subj} {frequency} {tv_3sg} {obj} {time_habit}.",
    "Where did {subj} {tv_base} {obj}?",
    "My {person} has {a_adj} {animal} named {name}.",
    "We {mv_past} {adverb} to {place} with {number} {animal_pl}.",
    "{subj} and {subj2} {tv_past} {obj} together.",
    "The {object} in {place} is {adj} and {adj2}.",
    "How many {object_pl} did {subj} {tv_base}?",
    "Do not {tv_base} {obj} in {place}.",
    "{subj} was {feeling} because {subj2} {iv_past}.",
    "After {meal}, {subj} {tv_past} {obj}.",
    "{subj} lives in {city} with {number} {animal_pl}.",
    "Have you seen the {object} that {subj} {tv_past}?",
    "The {person} told {name} to {tv_base} {obj}.",
    "{subj} could not {tv_base} {obj} because it was too {adj}.",
    "It is always {adj} in {place} {time_habit}.",
    "{name}, can you {tv_base} {obj} for me?",
    "The {food} tasted {taste}, so {subj} {tv_past} {obj}.",
    "When {subj} {mv_past} to {place}, {subj2} {iv_past}.",
    "Let us {tv_base} {obj} and {mv_base} to {place}.",
    "{subj} is a very {adj} {person}.",
    "{time_past}, the {animal_pl} {iv_past} {adverb} in {place}.",
    "{pron} {tv_past} {number} {object_pl} at {place}.",
    "Look at the {adj} {animal} by {place}!",
    "{subj} {frequency} {tv_3sg} {food_np} {time_habit}.",
    "The {person_pl} {tv_past} {animal_np} near {place}.",
    "{subj} {tv_past} {food_np} and {iv_past}.",
    "Is {subj} going to {city} {time_future}?",
    "{pron} never {tv_base} {obj} after {meal}.",
)
_SLOT = re.compile(r"\{(\w+)\}")


def _render(template: str, slots: _Slots) -> str:
    text = _SLOT.sub(lambda match: slots.fill(match.group(1)), template)
    return text[0].upper() + text[1:]


def word_count(text: str) -> int:
    """Number of words in ``text``, ignoring punctuation."""
    return len(_PUNCTUATION.sub(" ", text).split())


def words_of(text: str) -> list[str]:
    """Lower-case words of ``text`` without punctuation (the form ``VOCABULARY`` lists)."""
    return _PUNCTUATION.sub(" ", text).lower().split()


def _canonical(text: str) -> str:
    return " ".join(words_of(text))


HELD_OUT_SENTENCES: tuple[str, ...] = tuple(
    line.strip()
    for line in resources.files("unisono.world").joinpath("data", "text_held_out.txt")
    .read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
)
_HELD_OUT_KEYS = frozenset(_canonical(text) for text in HELD_OUT_SENTENCES)


def is_held_out(text: str) -> bool:
    """True if ``text`` is one of ``HELD_OUT_SENTENCES`` (ignoring case and punctuation)."""
    return _canonical(text) in _HELD_OUT_KEYS


def _draw(rng: np.random.Generator, min_words: int, max_words: int) -> str:
    for _ in range(1000):
        template = _TEMPLATES[int(rng.integers(len(_TEMPLATES)))]
        text = _render(template, _Slots(rng))
        if min_words <= word_count(text) <= max_words:
            return text
    raise UnisonoError(
        f"no sentence of {min_words}-{max_words} words after 1000 draws: widen the range "
        "(templates give about 5 to 14 words)."
    )


def sentence(rng: np.random.Generator, *, min_words: int = 5, max_words: int = 14) -> str:
    """A random English sentence, never one of ``HELD_OUT_SENTENCES``.

    Args:
        rng: the only source of randomness; the same generator state gives the same sentence.
        min_words: fewest words (punctuation not counted).
        max_words: most words.

    Returns:
        A capitalised, punctuated sentence made of ``VOCABULARY`` words.
    """
    if not 1 <= min_words <= max_words:
        raise UnisonoError(
            f"need 1 <= min_words <= max_words; got min_words={min_words}, max_words={max_words}."
        )
    while True:
        text = _draw(rng, min_words, max_words)
        if not is_held_out(text):
            return text
