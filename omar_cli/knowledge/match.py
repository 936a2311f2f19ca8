"""What a question asks, word by word, and how much of it an entry answers.

BM25 ranks entries against each other, but its score grows with the question's length, so it
cannot say whether the best entry answers at all. Here each content word of the question
weighs its IDF (a word the knowledge never uses weighs as the rarest: "paella" is a real
part of the question that nothing covers), and an entry covers a word when the word is in
its names, titles or keywords (fully), its body (mostly) or only its safety notes and facts
(barely). Codes and names quoted in the question count apart; numbers with a unit
("1450 rpm", "7.5 hp") are figures of the story, not its subject, and weigh little.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from omar_cli.knowledge.codes import unit_pattern
from omar_cli.knowledge.lang import closest_term, tokens

Match = Literal["strong", "weak"]


def _set(block: str) -> frozenset[str]:
    return frozenset(block.split())


#: how much a word found in each index column (codes, title, keywords, body, extra) covers
COLUMN_CREDIT = (1.0, 1.0, 1.0, 0.7, 0.3)
#: a word reached only through typo correction is less sure than one spelt right
FIXED_CREDIT = 0.5
#: a question is answered at all when its best entry covers this share of its weight, or
#: this much weight outright (a long story covers a small share of many words); calibrated
#: on the question sets in tests/data against off-topic questions (see bench/calibrate_match.py)
ANSWER_SHARE = 0.2
ANSWER_WEIGHT = 5.0
#: an entry is the answer (strong) when it covers this share and this much weight
STRONG_SHARE = 0.5
STRONG_WEIGHT = 3.5
#: below this share and this weight an entry is not shown even beside a good answer
HIT_SHARE = 0.1
HIT_WEIGHT = 3.0
#: weight of a word the knowledge never uses, as a share of the rarest known word's
UNKNOWN_SHARE = 1.0
#: the stem in the question's language wins unless the other is this many times more used
_OWN_LANGUAGE = 3
#: a unit word the knowledge uses in at most this many entries is no incidental figure
_TELLING_UNIT = 1
#: lengths, times, counts and money: every story has some, they point at nothing
_EVERYDAY_UNITS = _set(
    """
    m mm cm km metro metros meter meters ft feet pies s seg segundos min minutos h hrs horas
    hours dias days semanas weeks meses months anos years veces times units unidades piezas
    pcs pesos dolares dollars usd euros eur litros liters kg lb lbs
    """
)
#: weight of a word that is a number or a unit in a figure, against an ordinary word's IDF
FIGURE_WEIGHT = 0.25

_NUMBER = re.compile(r"(?<![a-z0-9])\d+(?:[.,]\d+)?(?:\s*[-/]\s*\d+(?:[.,]\d+)?)?")


@dataclass(frozen=True)
class QueryWord:
    """One content word: the indexed terms standing for it, and how much it weighs."""

    word: str
    terms: tuple[str, ...]
    weight: float
    fixed: bool = False  # reached through typo correction only
    figure: bool = False  # a number or unit of a figure ("1450 rpm")


def idf(doc_freq: int, docs: int) -> float:
    """BM25's IDF; a term no entry holds (df 0) weighs the most."""
    return math.log(1.0 + (docs - doc_freq + 0.5) / (doc_freq + 0.5))


def figure_spans(folded: str) -> list[tuple[int, int]]:
    """Spans of numbers followed by a unit, the unit included: "7.5 hp", "4-20 ma", "60hz"."""
    spans: list[tuple[int, int]] = []
    for number in _NUMBER.finditer(folded):
        unit = unit_pattern().match(folded, number.end())
        glued = re.match(r"(?:hz|khz|kw|hp|rpm|ma|vac|vdc|v|a|s|m|mm)\b", folded[number.end() :])
        if unit is not None:
            spans.append((number.start(), unit.end()))
        elif glued is not None:
            spans.append((number.start(), number.end() + glued.end()))
    return spans


@dataclass(frozen=True)
class Cover:
    """How much of a question one entry covers: a share of its weight, and the weight."""

    share: float
    weight: float

    @property
    def answers(self) -> bool:
        return self.share >= ANSWER_SHARE or self.weight >= ANSWER_WEIGHT


def coverage(words: Sequence[QueryWord], columns: Mapping[str, int]) -> Cover:
    """What an entry covers of ``words``; ``columns`` maps its terms to their best column."""
    total = sum(w.weight for w in words)
    got = 0.0
    for word in words:
        credit = max((COLUMN_CREDIT[columns[t]] for t in word.terms if t in columns), default=0)
        got += word.weight * credit * (FIXED_CREDIT if word.fixed else 1.0)
    return Cover(got / total if total > 0 else 0.0, got)


def strength(cover: Cover, *, named: bool) -> Match | None:
    """Strong (the answer), weak (possibly related) or None (not worth showing)."""
    if named or (cover.share >= STRONG_SHARE and cover.weight >= STRONG_WEIGHT):
        return "strong"
    return "weak" if cover.share >= HIT_SHARE or cover.weight >= HIT_WEIGHT else None


def weigh_words(
    pairs: Sequence[tuple[str, tuple[str, ...], tuple[str, ...]]],
    in_figure: Collection[str],
    doc_freq: Mapping[str, int],
    vocabulary: Mapping[str, Sequence[str]],
    docs: int,
) -> list[QueryWord]:
    """Each content word (with its stems, see lang.query_words) as a weighed QueryWord.

    A colloquial word the knowledge never uses is read as the manual's word.

    One stem per word, so a word does not weigh twice: the reading the knowledge uses most
    ("time" over Spanish "tim"); both only when the knowledge can't tell. A misspelt word
    gets the closest indexed term (``vocabulary``: terms by first letter).
    """
    words: list[QueryWord] = []
    for word, own, alt in pairs:
        # the word itself when the knowledge uses it ("whine"), else the manual's word
        stems = own if any(s in doc_freq for s in own) or not alt else alt
        freq = {s: doc_freq[s] for s in stems if s in doc_freq}
        known = [s for s in freq if freq[s] == max(freq.values())]
        if freq and stems[0] in freq and freq[stems[0]] * _OWN_LANGUAGE >= max(freq.values()):
            known = [stems[0]]  # the question's own language, unless the knowledge barely uses it
        # a number, or an identifier the knowledge never uses ("T1", "R7"): story detail
        figure = word in in_figure or word.replace("p", "").isdigit()
        figure = figure or (not known and not word.isalpha())
        rare = bool(freq) and max(freq.values()) <= _TELLING_UNIT
        if figure and word.isalpha() and rare and word not in _EVERYDAY_UNITS:
            figure = False  # a unit only one entry uses points at it: "3800 msnm" -> altitude
        weight = idf(max(freq.values(), default=0), docs)
        terms, fixed = tuple(known), False
        if not known:  # a word the knowledge never uses: the off-topic subject, or colour
            weight *= UNKNOWN_SHARE
            fix = None
            if len(word) >= 4 and word.isalpha():
                fix = closest_term(word, stems, vocabulary.get(word[0], []))
            terms, fixed = (tuple(stems) + ((fix,) if fix else ())), fix is not None
            if fix is not None:
                weight = idf(doc_freq.get(fix, 0), docs)
        if figure and not known:  # a number or unit the knowledge never uses says nothing
            weight = 0.0
        words.append(QueryWord(word, terms, weight, fixed=fixed, figure=figure))
    if all(w.figure for w in words):  # "4,7 A": the figure is what is asked about
        return [replace(w, figure=False) for w in words]
    return [replace(w, weight=w.weight * FIGURE_WEIGHT) if w.figure else w for w in words]


#: word starts that make a question about a setting rather than a symptom
_SETTING_WORDS = (
    "parametr",
    "parameter",
    "param",
    "ajust",
    "adjust",
    "configur",
    "setting",
    "setup",
    "desactiv",
    "deshabilit",
    "disabl",
    "enabl",
    "habilit",
    "activ",
    "cambi",
    "chang",
    "program",
    "valor",
    "value",
    "modific",
    "inhib",
    "funcion",
    "function",
    "reaccion",
    "reaction",
    "set",
)


def about_settings(query: str) -> bool:
    """The question asks about a setting ("cómo desactivo...", "which parameter...")."""
    return any(word.startswith(_SETTING_WORDS) for word in tokens(query))
