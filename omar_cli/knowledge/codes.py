"""Turn codes as technicians write them into knowledge ids.

Faults are ``F0001``, alarms ``A2010``, parameters ``2202``. People write ``F1``, ``fallo 16``,
``0016``, ``22.02``, ``par 2202``, ``2310h`` (the fieldbus code of F0001) or just ``2310``.
A bare number is ambiguous, so :func:`candidates` returns every reading in the order a
technician most likely meant it, and the caller keeps the first one its knowledge holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from omar_cli.i18n import N_, _
from omar_cli.knowledge.lang import fold, token_spans, tokens
from omar_cli.knowledge.model import NAMELESS_KINDS, Entry

FAULT, ALARM, PARAMETER, RATING = "fault", "alarm", "parameter", "rating"
CODE_KINDS = (FAULT, ALARM, PARAMETER, RATING)

_FAULT_WORDS = r"f|fallo|falla|fault|error|err|trip|codigo de fallo|codigo de falla|fault code"
_ALARM_WORDS = r"a|alarma|alarm|aviso|warning|advertencia|codigo de alarma|alarm code"
_PARAM_WORDS = r"p|par|param|parametro|parameter"
_NUMBER = r"(?P<num>\d{1,2}(?:[.,]|\s+)\d{2}|\d{1,4})"
_NO = r"(?:n[o°º]\.?\s*|#\s*|num(?:ero)?\.?\s*)?"

_RAW_HEX = re.compile(r"(?:hex\s*)?(?:0x\s*(?P<a>[0-9a-f]{4})|(?P<b>[0-9a-f]{4})\s*h)")
_RAW_CODE = re.compile(
    rf"(?:(?P<f>{_FAULT_WORDS})|(?P<al>{_ALARM_WORDS})|(?P<p>{_PARAM_WORDS})|codigo|code)?"
    rf"\s*[-.:]?\s*{_NO}{_NUMBER}"
)


# ACS150-03E-04A7-2: phases (01/03), EMC filter (E/U), output current (04A7 = 4.7 A), voltage
_TYPE_CODE = re.compile(
    r"(?:acs\s?150\s*-?\s*)?(?P<ph>0[13])[eux]?\s*-?\s*(?P<amps>\d\da\d)\s*-?\s*(?P<volt>[24])"
)


def _rating_id(match: re.Match[str]) -> str:
    """Rating rows hold both filter variants: "rating-03x-04a7-2"."""
    return f"rating-{match['ph']}x-{match['amps']}-{match['volt']}"


@dataclass(frozen=True)
class _Reading:
    kind: str | None  # None: written without a word or letter saying what it is
    digits: str  # "0016", "2202", "16"; dotted forms already joined ("22.02" -> "2202")
    dotted: bool = False


def candidates(
    raw: str, kind: str | None = None, *, hex_map: Mapping[str, str] | None = None
) -> list[str]:
    """Ids a code written as ``raw`` may mean, most likely first; ``[]`` if it is no code.

    ``kind`` ("fault", "alarm", "parameter") restricts the readings, e.g. for ``omar fault 16``.
    ``hex_map`` maps fieldbus hex codes ("2310") to ids; hex readings need it.
    """
    if kind is not None and kind not in CODE_KINDS:
        return []
    text = fold(raw).strip().strip("?¿!¡ ")
    type_match = _TYPE_CODE.fullmatch(text)
    if type_match:
        return [_rating_id(type_match)] if kind in (None, RATING) else []
    if kind == RATING:
        return []
    hex_match = _RAW_HEX.fullmatch(text)
    if hex_match:
        value = (hex_match["a"] or hex_match["b"]).upper()
        return _hex_ids(value, kind, hex_map)
    match = _RAW_CODE.fullmatch(text)
    if match is None:
        return []
    return _expand(_reading(match), kind, hex_map)


def _reading(match: re.Match[str]) -> _Reading:
    num = match["num"]
    parts = re.split(r"[.,\s]+", num)
    dotted = len(parts) == 2
    digits = f"{int(parts[0]):02d}{parts[1]}" if dotted else num
    said = FAULT if match["f"] else ALARM if match["al"] else PARAMETER if match["p"] else None
    return _Reading(said, digits, dotted)


def _expand(reading: _Reading, kind: str | None, hex_map: Mapping[str, str] | None) -> list[str]:
    said = reading.kind
    if kind is not None and said is not None and said != kind:
        return []
    wanted = kind or said
    if reading.dotted:  # "22.02" only ever names a parameter
        return [reading.digits] if wanted in (None, PARAMETER) else []
    digits = reading.digits
    number = int(digits)
    readings: list[tuple[str, Callable[[], list[str]]]] = [
        (FAULT, lambda: [f"F{number:04d}"] if wanted == FAULT or number < 1000 else []),
        (ALARM, lambda: _alarm_ids(number)),
        (PARAMETER, lambda: [digits.zfill(4)] if len(digits) >= 3 else []),
        ("hex", lambda: _hex_ids(digits, None, hex_map) if len(digits) == 4 else []),
    ]
    if wanted is not None:
        order = [wanted, "hex"] if wanted == FAULT else [wanted]
    elif len(digits) <= 3 or digits.startswith("00"):
        # "16", "016", "0016": how the panel shows fault numbers; group 00 holds no parameter
        order = [FAULT, PARAMETER, "hex"]
    else:
        order = [PARAMETER, ALARM, "hex", FAULT] if number < 3000 else [PARAMETER, "hex", FAULT]
    found: list[str] = []
    by_name = dict(readings)
    for name in order:
        for ident in by_name[name]():
            if ident not in found:
                found.append(ident)
    return found


def _alarm_ids(number: int) -> list[str]:
    if 2000 <= number <= 2999:
        return [f"A{number:04d}"]
    if number < 100:  # "alarma 10" as some panels and manuals shorten A2010
        return [f"A{2000 + number:04d}"]
    return []


def _hex_ids(value: str, kind: str | None, hex_map: Mapping[str, str] | None) -> list[str]:
    if kind not in (None, FAULT) or hex_map is None:
        return []
    ident = hex_map.get(value.upper())
    return [ident] if ident else []


# --- codes inside a free question ---------------------------------------------------------

_B = r"(?<![a-z0-9])"  # not glued to a word: "ACS150" and "04A7" are no codes
_E = r"(?![a-z0-9]|[.,]\d)"
_HEX4 = "[0-9a-f]{4}"


# Compiled on first use: a code look-up (`omar fault F0001`) never scans free text.
@lru_cache(maxsize=1)
def unit_pattern() -> re.Pattern[str]:
    """A unit right after a number: "1450 rpm", "7.5 hp", "3 veces" are no codes."""
    return re.compile(
        r"\s*(?:%|°|º|\$|(?:ms|s|seg|segundos?|min|minutos?|h|hrs?|horas?|hours?|dias?|days?"
        r"|semanas?|weeks?|meses|months?|hz|khz|v|vac|vdc|kv|kva|va|ma|amps?|amperios?|kw|w|watts?"
        r"|vatios?|hp|cv|m|mm|cm|km|ft|feet|pies|msnm|masl|kg|lbs?|bar|psi|nm|grados|degrees|rpm"
        r"|metros|meters|ohms?|ohmios?|litros|liters|veces|times|anos|years|pesos|dolares|dollars"
        r"|usd|euros?|eur|units|unidades|piezas|pcs)\b)"
    )


@lru_cache(maxsize=1)
def _text_patterns() -> tuple[tuple[re.Pattern[str], str | None], ...]:
    return (
        (re.compile(rf"{_B}{_TYPE_CODE.pattern}{_E}"), RATING),
        (re.compile(rf"{_B}(?:0x(?P<hex>{_HEX4})|(?P<hexh>(?=[a-f]*\d){_HEX4})h){_E}"), "hex"),
        (
            re.compile(
                rf"{_B}(?:codigo\s+de\s+|code\s+)?(?P<word>fallos?|fallas?|faults?|error|err|trip"
                rf"|alarmas?|alarms?|aviso|warning|parametros?|parameters?|param|par)"
                rf"(?:\s+(?:code|codigo))?\s*[-.:]?\s*{_NO}"
                rf"(?P<num>\d{{2}}\.\d{{2}}|\d{{2}}\s\d{{2}}(?!\d)|\d{{1,4}}){_E}"
            ),
            "word",
        ),
        (re.compile(rf"{_B}(?:codigo|code)\s*{_NO}(?P<num>\d{{1,4}}){_E}"), None),
        (re.compile(rf"{_B}f[-\s]?(?P<num>\d{{1,4}}){_E}"), FAULT),
        (re.compile(rf"{_B}a-?(?P<num>2\d{{3}}){_E}"), ALARM),
        (re.compile(rf"{_B}p[-\s]?(?P<num>\d{{2}}\.\d{{2}}|\d{{4}}){_E}"), PARAMETER),
        (re.compile(rf"{_B}(?P<num>\d{{1,2}}\.\d{{2}}){_E}"), "dotted"),
        (re.compile(rf"{_B}(?P<num>\d{{4}}){_E}"), None),
    )


def extract_codes(
    text: str,
    *,
    known: Container[str] | None = None,
    hex_map: Mapping[str, str] | None = None,
    names: Names | None = None,
) -> list[str]:
    """Ids of the codes mentioned in a free question, in order, without repeats.

    "El variador muestra F0001 al arrancar" -> ["F0001"]; "qué hace el 22.02" -> ["2202"].
    Numbers followed by a unit ("40 °C", "1800 s") are not codes. Each mention yields its
    first reading that ``known`` holds (its most likely reading when ``known`` is None).
    """
    found = mentions(text, known=known, hex_map=hex_map, names=names)
    return list(dict.fromkeys(ident for group in found for ident in group))


def mentions(
    text: str,
    *,
    known: Container[str] | None = None,
    hex_map: Mapping[str, str] | None = None,
    names: Names | None = None,
    siblings: Container[str] = (),
) -> list[tuple[str, ...]]:
    """The entries each code or name in ``text`` points at, in the order first written.

    A name with a number ("EXT FAULT 1") is read before codes, so its "fault 1" is not F0001.
    """
    folded = fold(text)
    # span and ids of each mention, most specific first
    taken = names.find(folded) if names is not None else []
    for found in code_spans(folded, hex_map=hex_map, known=known, siblings=siblings):
        ids = list(found.ids)
        if known is not None:
            ids = [i for i in ids if i in known]
        if ids and not any(found.start < b and a < found.end for a, b, _ in taken):
            taken.append((found.start, found.end, (ids[0],)))
    seen: set[str] = set()
    result: list[tuple[str, ...]] = []
    for _start, _end, named in sorted(taken):  # an entry counts once, where it is first named
        fresh = tuple(i for i in named if i not in seen)
        seen.update(fresh)
        if fresh:
            result.append(fresh)
    return result


@dataclass(frozen=True)
class CodeSpan:
    """A code as written in a question: where, every id it may mean, and how sure it is one.

    ``certain`` is False for a bare dotted number ("12.50"): it names a parameter the
    knowledge holds, but said of nothing it is more likely a price or a version.
    """

    start: int
    end: int
    ids: tuple[str, ...]
    certain: bool = True


def code_spans(
    folded: str,
    *,
    hex_map: Mapping[str, str] | None = None,
    known: Container[str] | None = None,
    siblings: Container[str] = (),
) -> list[CodeSpan]:
    """Every code written in already folded text, most specific reading first.

    Not codes: a number followed by a unit ("1450 rpm", "7.5 hp", "3 veces"); a number
    glued to or following a brand or model word ("ACS550", "PowerFlex 525", "S7-1200",
    "modelo 3021"); a year ("desde 2019", or any 1950-2099 the knowledge has no entry for).
    """
    from omar_cli.knowledge.products import about_other_product, is_year, model_spans

    blocked = model_spans(folded)
    foreign = about_other_product(folded, siblings)
    found: list[CodeSpan] = []
    for pattern, kind in _text_patterns():
        if foreign and kind != RATING:
            continue
        for match in pattern.finditer(folded):
            start, end = match.span()
            if any(start < b and a < end for a, b, _ in found_spans(found)):
                continue
            if unit_pattern().match(folded, end):
                continue
            if kind != RATING and any(start < b and a < end for a, b in blocked):
                continue
            ids = tuple(_mention_ids(match, kind, hex_map))
            if kind is None and match["num"].isdigit() and is_year(folded, match, ids, known):
                continue
            if ids:
                found.append(CodeSpan(start, end, ids, certain=kind not in ("dotted", "hex")))
    return sorted(found, key=lambda span: span.start)


def found_spans(spans: Iterable[CodeSpan]) -> list[tuple[int, int, None]]:
    return [(span.start, span.end, None) for span in spans]


def _mention_ids(
    match: re.Match[str], kind: str | None, hex_map: Mapping[str, str] | None
) -> list[str]:
    groups = match.groupdict()
    if kind == RATING:
        return [_rating_id(match)]
    if kind == "hex":
        return _hex_ids(groups["hex"] or groups["hexh"], None, hex_map)
    num = groups["num"]
    if kind == "dotted":
        return candidates(num, PARAMETER)
    if kind == "word":
        word = groups["word"]
        prefix = "f" if word[0] in "fet" else "a" if word[0] in "aw" else "p"
        return candidates(f"{prefix} {num}", hex_map=hex_map)
    return candidates(num, kind, hex_map=hex_map)


# --- names that hold a number -----------------------------------------------------------------

_MAX_NAMED = 3  # a phrase more entries share ("group 99", "frame R1") names none of them


class Names:
    """Multi-word names and phrases holding a number, each naming one to three entries.

    "EXT FAULT 1", "acceleration time 2", "constant speed 7": written in a question, such a
    phrase names its entries as surely as a code does.
    """

    def __init__(self, rows: Iterable[tuple[str, str]]) -> None:
        """``rows`` are (phrase as space-joined tokens, id) in :func:`name_rows` order."""
        ids: dict[tuple[str, ...], list[str]] = {}
        for phrase, ident in rows:
            ids.setdefault(tuple(phrase.split()), []).append(ident)
        self._by_first: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
        for words, named in sorted(ids.items(), key=lambda item: -len(item[0])):
            self._by_first.setdefault(words[0], []).append((words, tuple(named)))

    def find(self, folded: str) -> list[tuple[int, int, tuple[str, ...]]]:
        """Span and ids of each phrase in ``folded`` text, longest first where they overlap."""
        spans = token_spans(folded)
        found: list[tuple[int, int, tuple[str, ...]]] = []
        i = 0
        while i < len(spans):
            for words, ids in self._by_first.get(spans[i][0], ()):
                end = i + len(words)
                if tuple(w for w, _, _ in spans[i:end]) != words:
                    continue
                stop = spans[end - 1][2]
                if words[-1].isdigit() and unit_pattern().match(folded, stop):  # "rampa 2 s"
                    continue
                found.append((spans[i][1], stop, ids))
                i = end - 1
                break
            i += 1
        return found


def name_rows(entries: Iterable[Entry]) -> list[tuple[str, str]]:
    """(phrase, id) rows for :class:`Names` from the entries' panel names, titles and keywords.

    A phrase is kept when it holds a number and a word that is no unit, is no plain code
    ("fault 14" is read as a code anyway) and names at most three entries. Entries sharing a
    phrase come in the order they most likely mean it: the one it is the name or title of
    before one that only lists it as a keyword, then faults, alarms, parameters, the rest.
    """
    named: dict[str, dict[str, tuple[int, int]]] = {}
    for entry in entries:
        if entry.kind in NAMELESS_KINDS:  # a file title shared by its chunks, a note's words
            continue
        kind_rank = (FAULT, ALARM, PARAMETER, entry.kind).index(entry.kind)
        titles = [entry.name, *(t.title for t in entry.lang.values())]
        keywords = [k for t in entry.lang.values() for k in t.keywords]
        for strength, texts in enumerate((titles, keywords)):
            for phrase in filter(None, map(_name_phrase, texts)):
                ranks = named.setdefault(phrase, {})
                ranks[entry.id] = min(ranks.get(entry.id, (9, 9)), (strength, kind_rank))
    return [
        (phrase, ident)
        for phrase, ranks in sorted(named.items())
        if len(ranks) <= _MAX_NAMED
        for ident in sorted(ranks, key=lambda i: ranks[i])
    ]


def _name_phrase(text: str) -> str | None:
    words = tokens(text)
    if len(words) < 2 or not any(ch.isdigit() for ch in "".join(words)):
        return None
    if not any(w.isalpha() and len(w) > 2 and not unit_pattern().fullmatch(w) for w in words):
        return None
    return None if candidates(text) else " ".join(words)


def keyword_code(keyword: str, kind: str | None) -> str | None:
    """The id a keyword written as a code names: "103" in a fault entry -> "F0103".

    Outside fault, alarm and parameter entries only codes that say their kind count
    ("A2001"), not bare numbers.
    """
    if kind in (FAULT, ALARM, PARAMETER):
        found = candidates(keyword, kind)
        return found[0] if found else None
    match = _RAW_CODE.fullmatch(fold(keyword).strip())
    if match is None or _reading(match).kind is None:
        return None
    found = _expand(_reading(match), None, None)
    return found[0] if found else None


def code_aliases(entries: Sequence[Entry]) -> dict[str, str]:
    """Codes no entry has as its id -> the entry whose keywords name them ("F0103" -> "F0101")."""
    ids = {e.id for e in entries}
    aliases: dict[str, str] = {}
    # fault, alarm and parameter entries first: their keywords name codes of their own kind
    for entry in sorted(entries, key=lambda e: e.kind not in CODE_KINDS):
        if entry.kind in NAMELESS_KINDS:
            continue
        for text in entry.lang.values():
            for keyword in text.keywords:
                ident = keyword_code(keyword, entry.kind)
                if ident is not None and ident not in ids:
                    aliases.setdefault(ident, entry.id)
    return aliases


_COMMANDS = {FAULT: "omar fault", ALARM: "omar alarm", PARAMETER: "omar param"}
#: where a code of another kind lives, per kind
_OTHER_KIND = {
    FAULT: N_("{id} is a fault: {command} {id}"),
    ALARM: N_("{id} is an alarm: {command} {id}"),
    PARAMETER: N_("{id} is a parameter: {command} {id}"),
}


def other_kind_hint(ident: str, kind: str) -> str | None:
    """Where a code asked for as another kind lives: "A2010 is an alarm: omar alarm A2010"."""
    if kind not in _COMMANDS:
        return None
    return _(_OTHER_KIND[kind]).format(id=ident, command=_COMMANDS[kind])


def numerically_near(ident: str, entries: Iterable[Entry], count: int) -> list[str]:
    """Ids of the ``count`` entries of the same kind whose numbers are closest to ``ident``."""
    kind, number = _code_number(ident)
    same = [(e.id, _code_number(e.id)[1]) for e in entries if e.kind == kind]
    same.sort(key=lambda pair: (abs(pair[1] - number), pair[1]))
    return [found for found, _ in same[:count]]


def _code_number(ident: str) -> tuple[str, int]:
    if ident[:1] == "F":
        return FAULT, int(ident[1:])
    if ident[:1] == "A":
        return ALARM, int(ident[1:])
    return PARAMETER, int(ident) if ident.isdigit() else -1
