"""Safety rules that no text may override, and the one safety note an answer carries.

Two jobs, both pure functions over text:

- :func:`conflicts` finds sentences (in a user's own document, typically) that contradict a
  safety rule: no need to wait for the DC link to discharge, or a wait shorter than 5
  minutes; work live; bypass or disable a protection; megger through the drive; switch a
  contactor on the drive's output under load. The patterns are general, in Spanish and
  English whatever the answer's language, and a sentence that negates the advice ("never
  bypass...", "no trabaje con tensión") is no conflict.
- :func:`one_note` picks the single safety note an answer shows: the most relevant entry's
  own note when it names the 5-minute wait and the isolation, otherwise the general rule
  with the entry's own hazard merged in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from omar_cli.knowledge.lang import fold
from omar_cli.knowledge.model import Entry

#: the minimum wait after isolating before touching, in seconds
DISCHARGE_WAIT_S = 300

#: the rule each kind of conflict breaks, as shown beside the offending text
RULES: dict[str, dict[str, str]] = {
    "discharge-wait": {
        "es": "tras aislar la alimentación, espere al menos 5 minutos a que se descarguen los "
        "condensadores del bus de continua y mida ausencia de tensión antes de tocar.",
        "en": "after isolating the supply, wait at least 5 minutes for the DC-link capacitors "
        "to discharge and measure that no voltage is present before touching.",
    },
    "live-work": {
        "es": "no trabaje con tensión en el variador, el motor o sus cables: aísle, bloquee y "
        "etiquete, espere al menos 5 minutos y mida ausencia de tensión. Medir tensión de red "
        "es tarea de una persona cualificada con un instrumento adecuado.",
        "en": "never work live on the drive, motor or cables: isolate, lock out and tag, wait "
        "at least 5 minutes and measure that no voltage is present. Measuring live mains is a "
        "job for a qualified person with a suitable meter.",
    },
    "protection": {
        "es": "nunca desactive, puentee ni anule una protección (falla a tierra, protección "
        "térmica, enclavamientos, paro de emergencia, funciones de fallo) para seguir "
        "trabajando: busque y corrija la causa.",
        "en": "never disable, bypass or defeat a protection (earth fault, thermal protection, "
        "interlocks, emergency stop, fault functions) to keep running: find and fix the cause.",
    },
    "megger": {
        "es": "nunca haga pruebas de aislamiento a través del variador: aísle y espere 5 "
        "minutos, desconecte el cable del motor de U2/V2/W2 y mida cable y motor por separado.",
        "en": "never run insulation tests through the drive: isolate and wait 5 minutes, "
        "disconnect the motor cable from U2/V2/W2 and test cable and motor separately.",
    },
    "output-contactor": {
        "es": "no conmute un contactor ni un inversor en la salida del variador (U2/V2/W2) con "
        "el variador en marcha; pare el variador antes y use el propio variador para invertir "
        "el giro.",
        "en": "do not switch a contactor or reversing switch on the drive's output (U2/V2/W2) "
        "while the drive runs; stop the drive first and reverse with the drive itself.",
    },
}

LABEL = {"es": "REGLA DE SEGURIDAD", "en": "SAFETY RULE"}


@dataclass(frozen=True)
class SafetyConflict:
    """A sentence that contradicts a safety rule, and the rule it contradicts."""

    rule: str  # a key of RULES: "discharge-wait", "live-work", "protection", ...
    sentence: str  # the offending sentence, as written
    note: str  # the rule, in the answer's language

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "sentence": self.sentence, "note": self.note}


def entry_conflicts(entry: Entry, lang: str) -> tuple[SafetyConflict, ...]:
    """What an entry says against a safety rule: only a user's own document is read (the
    built-in entries are reviewed and carry their own safety notes)."""
    if entry.kind != "document" or entry.confidence != "user":
        return ()
    return conflicts(entry.text_in(lang).text, lang)


def conflict_notice(entry: Entry, found: Sequence[SafetyConflict], lang: str) -> str:
    """The flag an answer shows for a user document that contradicts safety rules."""
    title = entry.text_in(lang).title
    said = " ".join(f"«{sentence}»" for sentence in dict.fromkeys(c.sentence for c in found))
    notes = " ".join(dict.fromkeys(c.note for c in found))
    if lang == "es":
        head = f"⚠ Su documento «{title}» [{entry.id}] contradice una regla de seguridad"
    else:
        head = f"⚠ Your document «{title}» [{entry.id}] contradicts a safety rule"
    return f"{head}: {said} {notes}"


# --------------------------------------------------------------------------- detection


class _Lazy:
    """A pattern compiled on first use: together they take tens of milliseconds to compile,
    and most answers (no user documents given) never need them."""

    def __init__(self, source: str) -> None:
        self._source = source
        self._compiled: re.Pattern[str] | None = None

    @property
    def rx(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self._source)
        return self._compiled

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.rx.finditer(text)

    def search(self, text: str) -> re.Match[str] | None:
        return self.rx.search(text)


_NEGATION = _Lazy(
    r"\b(?:no|nunca|jamas|ni|never|not|dont|don't|do not|must not|mustn't|should not|"
    r"shouldn't|cannot|can't|avoid|evite|evitar|prohibido|forbidden)\b"
)
#: ways of writing a duration, number or word, as (pattern, seconds per unit)
_NUMBER = r"(?P<n>\d+(?:[.,]\d+)?|un|una|uno|one|a|an|dos|two|tres|three|cuatro|four|medio|half a)"
_UNIT = r"(?P<u>segundos?|segs?|s|minutos?|mins?|min|seconds?|secs?|minutes?)\b"
_WORDS: dict[str, float] = {
    "un": 1,
    "una": 1,
    "uno": 1,
    "one": 1,
    "a": 1,
    "an": 1,
    "dos": 2,
    "two": 2,
}
_WORDS |= {"tres": 3, "three": 3, "cuatro": 4, "four": 4, "medio": 0.5, "half a": 0.5}

_WAIT_VERB = (
    r"(?:esper\w*|aguard\w*|descarg\w*|basta\w*|suficiente\w*|wait\w*|discharg\w*|enough|suffic\w*)"
)
#: a wait is about the DC link when the sentence says so, or when it is a wait after
#: switching off before touching (a motor left to cool is another matter)
_DISCHARGE_CONTEXT = _Lazy(
    r"descarg|discharg|condensador|capacitor|bus de continua|bus dc|dc[- ]?link|dc bus"
)
_TOUCH_CONTEXT = _Lazy(r"\btoc|\btouch|bornes|terminal|abrir|\bopen|trabaj|work on|interven")
_OFF_CONTEXT = _Lazy(
    r"cort|apag|desconect|aisl|seccion|switch\w* off|turn\w* off|power\w* (?:off|down)|"
    r"isolat|disconnect"
)
_LIVE_ACTION = (
    r"(?:trabaj\w*|toc\w*|conect\w*|desconect\w*|apret\w*|reapret\w*|cambi\w*|sustitu\w*|"
    r"reemplaz\w*|cablea\w*|manipul\w*|interven\w*|work\w*|touch\w*|connect\w*|disconnect\w*|"
    r"tighten\w*|retighten\w*|chang\w*|replac\w*|wir\w*|swap\w*|handl\w*)"
)
_CUT_POWER = (
    r"(?:cortar|desconectar|quitar|aislar|bloquear|seccionar|apagar)\s+(?:la\s+|el\s+)?"
    r"(?:tension|alimentacion|corriente|red|luz|energia|suministro|seccionador|interruptor)"
)
_POWER_OFF = (
    r"(?:switch\w* off|turn\w* off|power\w* (?:off|down)|isolat\w*|lock\w* out|"
    r"de-?energi[sz]\w*|cut\w* (?:off )?(?:the )?(?:power|supply|mains)|"
    r"disconnect\w* the (?:power|supply|mains))"
)
_PROTECTION = (
    r"(?:protecc?ion\w*|falla a tierra|fallo a tierra|defecto a tierra|fuga a tierra|termic\w*|"
    r"enclavamiento\w*|interlock\w*|parada de emergencia|paro de emergencia|seta de emergencia|"
    r"funcion\w* de fallo|earth[- ]fault|ground[- ]fault|thermal|overload|e-?stop|"
    r"emergency stop|fault (?:function|logic|detection)\w*)"
)
_FUSES = r"(?:fusible\w*|diferencial|disyuntor|fuse\w*|rcd|breaker\w*)"
_STRONG_OFF = (
    r"(?:desactiv\w*|deshabilit\w*|anul\w*|puente\w*|bypass\w*|inhib\w*|ignor\w*|disabl\w*|"
    r"defeat\w*|overrid\w*|jumper\w*|jump\w* out|deactivat\w*|short\w* out)"
)
_WEAK_OFF = r"(?:desconect\w*|quit\w*|elimin\w*|turn\w* off|switch\w* off|remov\w*)"
_DISABLED = (
    r"(?:desactivad[oa]s?|deshabilitad[oa]s?|anulad[oa]s?|puentead[oa]s?|disabled|bypassed|"
    r"defeated|overridden|jumpered|ignored|turned off|switched off|not sel|no sel)"
)
_MEGGER = (
    r"(?:megger\w*|meg[oh]+metro|megohmmeter|megar|prueba\w* de aislamiento|"
    r"test de aislamiento|(?:medi\w*|mid[ae]n?) (?:el |la )?aislamiento|resistencia de aislamiento|"
    r"insulation (?:test\w*|resistance|check\w*)|ir test\w*|hi-?pot|withstand test\w*)"
)
_THROUGH_DRIVE = (
    r"(?:con el variador (?:conectado|puesto|montado)|sin desconectar (?:el variador|el motor "
    r"del variador|los cables del variador|el cable del motor)|a traves del variador|"
    r"(?:desde|en) (?:los )?bornes (?:del variador|de salida|u2)|through the drive|"
    r"with the drive (?:still )?connected|without disconnecting (?:the drive|the motor cable|"
    r"the cables)|(?:at|from) the drive(?:'s)? (?:output )?terminals)"
)
_SWITCH = r"(?:contactor\w*|inversor\w*|reversing switch\w*|changeover switch\w*)"
_ON_OUTPUT = (
    r"(?:salida|entre el variador y el motor|lado (?:del )?motor|u2|output|"
    r"between the drive and the motor|motor side)"
)
_RUNNING = (
    r"(?:en marcha|bajo carga|con carga|girando|funcionando|mientras (?:el motor|el variador)|"
    r"invert\w* el (?:giro|sentido)|cambiar el sentido|running|under load|during operation|"
    r"while (?:the )?(?:motor|drive) (?:is )?(?:turning|operating|on)|revers\w*|"
    r"change (?:the )?direction)"
)

_P = _Lazy
#: (rule, pattern, whether a negation just before the match cancels it)
_PATTERNS: tuple[tuple[str, _Lazy, bool], ...] = (
    (
        "discharge-wait",
        _P(
            r"no (?:hace falta|es necesario|hay que|se necesita|necesitas?|tiene que|tienes que)"
            r" esperar|sin (?:necesidad de )?esperar|no (?:espere|esperes|esperar)(?! menos)|"
            r"no need (?:to|for) wait|(?:don't|do not|dont|needn't|need not|not necessary to|"
            r"doesn't|does not) (?:need to |have to )?wait(?! (?:less|under|fewer))|"
            r"without waiting"
        ),
        True,
    ),
    (
        "discharge-wait",
        _P(
            r"(?:descarga\w*|discharge[sd]?)[^.]{0,30}?(?:de inmediato|al instante|enseguida|"
            r"inmediatamente|immediately|instantly|at once|right away)"
        ),
        True,
    ),
    (
        "discharge-wait",
        _P(
            r"(?:tocar|toque|abrir|abra|trabajar|touch|open|work on)[^.]{0,40}?(?:de inmediato|"
            r"inmediatamente|enseguida|al momento|immediately|right away|straight away|at once)"
        ),
        True,
    ),
    ("live-work", _P(rf"{_LIVE_ACTION}[^.]{{0,60}}?(?:con|bajo) tension"), True),
    ("live-work", _P(rf"{_LIVE_ACTION}[^.]{{0,60}}?en caliente"), True),
    (
        "live-work",
        _P(
            rf"{_LIVE_ACTION}[^.]{{0,60}}?(?:con (?:la red|el variador|el equipo) "
            r"(?:conectad[oa]|puest[oa]|encendid[oa]|alimentad[oa]|energizad[oa]))"
        ),
        True,
    ),
    (
        "live-work",
        _P(
            rf"{_LIVE_ACTION}[^.]{{0,60}}?(?:\blive\b|(?:with|while) (?:the )?(?:power|supply|"
            r"mains|voltage|drive|unit) (?:is |still )?(?:on|connected|energi[sz]ed|applied|"
            r"live|powered))"
        ),
        True,
    ),
    (
        "live-work",
        _P(
            rf"(?:no (?:hace falta|es necesario|hay que|se necesita|necesita) |"
            rf"sin (?:necesidad de )?){_CUT_POWER}"
        ),
        True,
    ),
    (
        "live-work",
        _P(
            rf"(?:no need to|without|don't need to|do not need to|not necessary to|needn't)"
            rf" {_POWER_OFF}"
        ),
        True,
    ),
    ("live-work", _P(r"\blive (?:work\w*|maintenance)|\bhot[- ](?:swap|plug)\w*"), True),
    ("protection", _P(rf"{_STRONG_OFF}[^.]{{0,50}}?(?:{_PROTECTION}|{_FUSES})"), True),
    ("protection", _P(rf"{_WEAK_OFF}[^.]{{0,50}}?{_PROTECTION}"), True),
    (
        "protection",
        _P(
            rf"{_PROTECTION}[^.]{{0,40}}?(?:se puede|puede[ns]?|hay que|conviene|can|may|should|"
            rf"must)[^.]{{0,10}}?(?:{_STRONG_OFF}|be {_DISABLED})"
        ),
        True,
    ),
    (
        "protection",
        _P(r"\b30\d\d\b[^.]{0,40}?(?:a|en|=|to|as|:)\s*(?:not sel|no sel|0 \(not sel\))"),
        True,
    ),
    ("megger", _P(rf"{_MEGGER}[^.]{{0,80}}?{_THROUGH_DRIVE}"), True),
    ("megger", _P(rf"{_THROUGH_DRIVE}[^.]{{0,80}}?{_MEGGER}"), True),
)
_CONTACTOR = (_P(_SWITCH), _P(_ON_OUTPUT), _P(_RUNNING))
#: "no need to stop the drive before...": negated, yet the advice itself
_NO_NEED_TO_STOP = _P(
    r"(?:no (?:hace falta|es necesario|hay que)|sin|no need to|without|don't need to) "
    r"(?:parar|detener|stop\w*)"
)
_NUMERIC_WAIT = (
    _P(rf"{_WAIT_VERB}[^.]{{0,40}}?\b{_NUMBER}\s*{_UNIT}"),
    _P(rf"\b{_NUMBER}\s*{_UNIT}[^.]{{0,20}}?(?:de espera|para (?:que se )?descarg|to discharge)"),
)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


def conflicts(text: str, lang: str) -> tuple[SafetyConflict, ...]:
    """Sentences of ``text`` that contradict a safety rule, each with the rule in ``lang``.

    One conflict per sentence and rule, in the order written. ``lang`` ("es" or "en") is the
    language of the rule notes; the sentences are matched in both languages.
    """
    found: list[SafetyConflict] = []
    for sentence in _SENTENCE.split(text):
        clean = " ".join(sentence.split())
        if not clean:
            continue
        for rule in _broken_rules(fold(clean)):
            found.append(SafetyConflict(rule, clean, rule_note(rule, lang)))
    return tuple(found)


def rule_note(rule: str, lang: str) -> str:
    """The rule a conflict breaks, labelled, in ``lang``."""
    lang = lang if lang in LABEL else "en"
    return f"{LABEL[lang]}: {RULES[rule][lang]}"


def _broken_rules(folded: str) -> list[str]:
    rules: list[str] = []
    for rule, pattern, negatable in _PATTERNS:
        if rule in rules:
            continue
        for match in pattern.finditer(folded):
            if not (negatable and _negated(folded, match.start())):
                rules.append(rule)
                break
    if "discharge-wait" not in rules and _short_wait(folded):
        rules.append("discharge-wait")
    if _contactor_under_load(folded):
        rules.append("output-contactor")
    return rules


def _negated(folded: str, start: int) -> bool:
    """A negation in the same clause, a few words before ``start``."""
    clause = re.split(r"[,:;]", folded[:start])[-1]
    return bool(_NEGATION.search(" ".join(clause.split()[-5:])))


def _short_wait(folded: str) -> bool:
    """A wait or discharge time under 5 minutes, in a sentence about discharging/touching."""
    touching = _TOUCH_CONTEXT.search(folded) and _OFF_CONTEXT.search(folded)
    if not (_DISCHARGE_CONTEXT.search(folded) or touching):
        return False
    for pattern in _NUMERIC_WAIT:
        for match in pattern.finditer(folded):
            if _negated(folded, match.start()) or re.search(r"menos de|less than", match[0]):
                continue
            if _seconds(match["n"], match["u"]) < DISCHARGE_WAIT_S:
                return True
    return False


def _seconds(number: str, unit: str) -> float:
    value = _WORDS.get(number)
    amount = value if value is not None else float(number.replace(",", "."))
    return amount * (60 if unit.startswith("m") else 1)


def _contactor_under_load(folded: str) -> bool:
    switch, output, running = (p.search(folded) for p in _CONTACTOR)
    if not (switch and output):
        return False
    if _NO_NEED_TO_STOP.search(folded):
        return True
    return bool(running) and not _NEGATION.search(folded)


# --------------------------------------------------------------------------- one note

#: an answer or note carries the rule when it names the wait and the isolation
_WAIT_MARKS = ("5 min", "cinco min", "five min")
_ISOLATION_MARKS = (
    "bloque",
    "aisl",
    "seccion",
    "desconect",
    "corte la alimentacion",
    "lock",
    "isolat",
    "disconnect",
)


def states_rule(text: str) -> bool:
    """Whether ``text`` names the 5-minute wait and isolation or lockout."""
    folded = fold(text)
    return any(m in folded for m in _WAIT_MARKS) and any(m in folded for m in _ISOLATION_MARKS)


def one_note(entries: Sequence[Entry], lang: str, *, general: str, hands_on: bool) -> str | None:
    """The single safety note for an answer about ``entries``, most relevant first.

    The most relevant note (the first entry that has one) is used as it is when it names
    the wait and the isolation. Otherwise ``general`` (the DC-link rule) is shown, with what
    the note adds kept ("the resistor may be very hot"). With no note at all, ``general``
    when ``hands_on`` (the answer leads to work on the drive), else None.
    """
    notes = [n for n in (e.text_in(lang).safety for e in entries) if n]
    if not notes:
        return general if hands_on else None
    if states_rule(notes[0]):
        return notes[0]
    extra = [s for s in _SENTENCE.split(notes[0].strip()) if s and not _repeats_rule(s)]
    return " ".join([general, *extra])


def _repeats_rule(sentence: str) -> bool:
    folded = fold(sentence)
    return any(m in folded for m in _WAIT_MARKS) or "mida" in folded or "measure" in folded
