"""Language helpers for retrieval: accent folding, stopwords, stemming and a cheap detector.

Technicians type fast, often without accents and mixing Spanish with English panel texts, so
the index and the queries go through the same steps: fold accents, split, drop stopwords of
both languages, stem. Snowball stemmers are imported on first use only: opening a cached
index must stay cheap.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Literal

from omar_cli.knowledge.model import Entry

DetectedLang = Literal["es", "en"]

_TOKEN = re.compile(r"[a-z0-9]+")
_TYPO_CUTOFF = 0.8
_DECIMAL = re.compile(r"(?<=\d)[.,](?=\d)")
_COMPOUND = re.compile(r"(?:sobre|sub|over|under)([a-z]{4,})")


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


# Short lists on purpose: words that carry no meaning in a technician's question. Words that
# hint at the kind of answer (parámetro, fallo, alarma, tiempo) are kept.
STOPWORDS_ES = _words(
    """
    a al algo algun alguna algunas alguno algunos ante antes aqui asi aun cada como con contra
    cual cuales cualquier cuando cuanta cuantas cuanto cuantos de debe deben debo del desde
    despues donde durante e el ella ellas ellos en entre era es esa esas ese eso esos esta
    estaba estan estar este esto estos estoy fue ha hace hacer hacia han hay he hasta la las le
    les lo los me mi mis muy mucho nada ni no nos o otra otro para pero poco por porque puede
    pueden puedo que quien se segun ser si sin sobre solo son su sus tambien tan tanto te tengo
    tener tiene tienen toda todo todos tu un una uno unos unas usted va vez y ya yo
    hola favor ayuda necesito quiero saber dime decir
    """
)
STOPWORDS_EN = _words(
    """
    a about after all also am an and any are as at be been before being but by can could did
    do does doing during each for from get got had has have having he her here how i if in
    into is it its just me might more most must my no not now of on once only or other our out
    over own same she should so some such than that the their them then there these they this
    those through to too under up very was we were what when where which while who why will
    with would you your please help need want know tell
    """
)
# Forum filler: greetings, thanks, "any ideas", "something", "a problem": every story has
# some, and none says what it is about.
_FILLER = _words(
    """
    buenas buenos dias tardes noches saludos gracias amigos colegas compas foro alguien
    consulta pregunta duda problema cosa cosas algo nadie ideas idea ayudenme ayudar ayudame
    favor urgente bien asi entonces pues bueno ahora todavia aun siempre nunca ejemplo
    hi hello hey thanks thank regards guys folks everyone anyone someone anybody somebody
    anything something everything nothing thing things question problem issue ideas idea
    advice suggestions suggestion appreciate appreciated ok okay still yet already ever even
    again really much many lot lots maybe perhaps please urgent
    use using used between put make made go going goes come take seems seem look looks try
    tried trying way usar uso utilizar poner parece manera forma probe intente trate
    fully completely totally quite almost basically totalmente completamente bastante casi
    """
)
# Story-telling: when it happened, that it used to work, what was said and done around it.
# "ayer funcionaba perfecto y hoy no arranca" is about "funcionaba ... no arranca".
_STORY = _words(
    """
    ayer hoy anoche anteayer semana finde perfecto perfectamente igualito
    sucede sucedio ocurre ocurrio doy dio dimos meto meti mete meter puse pusimos pusieron
    viene vienen vino van iba toque toco tocamos jefe cliente
    yesterday today tonight lunch weekend perfect perfectly fine
    happens happened happen occurs sits sitting sat died old guy boss customer straight soon
    around few
    """
)
# Nearly every question names the drive and how its panel "shows" something; as search
# terms these only add noise ("sale" would match "salida").
_DOMAIN_ES = _words(
    "variador variadores convertidor equipo sale salio aparece aparecio muestra marca dice pone"
)
_DOMAIN_EN = _words("drive drives shows says showing")
STOPWORDS_DOMAIN = _DOMAIN_ES | _DOMAIN_EN | _words("vfd acs150 abb")
#: Everyday words of drive people, read as the word the manual uses (the knowledge's own): a
#: trip across Latin America and Spain, storage, the motor's noise, the pot, the caps.
SYNONYMS = {
    "brinca": "dispara",
    "brinco": "dispara",
    "tumba": "dispara",
    "truena": "dispara",
    "bota": "dispara",
    "boto": "dispara",
    "kicks": "trips",
    "shuts": "trips",
    "shelf": "storage",
    "spare": "storage",
    "spares": "storage",
    "estante": "almacenado",
    "bodega": "almacenado",
    "repuesto": "almacenado",
    "repuestos": "almacenado",
    "caps": "capacitors",
    "squeal": "noise",
    "squealing": "noise",
    "whine": "noise",
    "whining": "noise",
    "whistle": "noise",
    "pita": "ruido",
    "pitido": "ruido",
    "zumbido": "ruido",
    "chirrido": "ruido",
    "pote": "potenciometro",
    "pot": "potentiometer",
    "grounding": "earthing",
    "reversa": "giro",
    "backwards": "direction",
    "scaling": "scale",
}
#: Panel and forum shorthand, read as the whole word in each language ("max freq" is
#: "maximum frequency"); the short form itself still counts where the knowledge uses it.
ABBREVIATIONS = {
    "max": ("maxima", "maximum"),
    "min": ("minima", "minimum"),
    "freq": ("frecuencia", "frequency"),
    "frec": ("frecuencia", "frequency"),
    "accel": ("aceleracion", "acceleration"),
    "acel": ("aceleracion", "acceleration"),
    "decel": ("deceleracion", "deceleration"),
    "desacel": ("deceleracion", "deceleration"),
    "temp": ("temperatura", "temperature"),
    "mot": ("motor", "motor"),
    "nom": ("nominal", "nominal"),
    "vel": ("velocidad", "speed"),
}
STOPWORDS = STOPWORDS_ES | STOPWORDS_EN | STOPWORDS_DOMAIN | _FILLER | _STORY

_ES_MARKS = frozenset("áéíóúñ¿¡")
# Words that only one of the two languages uses; "a", "no", "me" are shared and ignored.
_ES_ONLY = (STOPWORDS_ES - STOPWORDS_EN) | _DOMAIN_ES
_EN_ONLY = (STOPWORDS_EN - STOPWORDS_ES) | _DOMAIN_EN

#: Changes whenever the analysis changes, so a cached index built with old rules is rebuilt.
ANALYZER_SIGNATURE = hashlib.sha256(("v2|" + " ".join(sorted(STOPWORDS))).encode()).hexdigest()[:16]


def fold(text: str) -> str:
    """Lower-case and strip accents: "Sobretensión" -> "sobretension", "señal" -> "senal"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    """Folded alphanumeric tokens; a decimal number stays one token ("4,7" and "4.7" -> "4p7")."""
    return _TOKEN.findall(_DECIMAL.sub("p", fold(text)))


def token_spans(folded: str) -> list[tuple[str, int, int]]:
    """:func:`tokens` of already folded text, each with its start and end in that text."""
    return [(m[0], m.start(), m.end()) for m in _TOKEN.finditer(_DECIMAL.sub("p", folded))]


def detect_lang(text: str, vocabulary: Mapping[str, float] | None = None) -> DetectedLang:
    """Guess whether a question is Spanish or English; Spanish when unsure.

    Accents, ñ and ¿¡ are strong Spanish signs; stopwords only one language uses count one
    vote each. ``vocabulary`` (see :func:`language_vocabulary`) gives every other word the
    lean the knowledge itself shows, so "motor overheating" reads as English.
    """
    lowered = text.lower()
    score_es = 2.0 * sum(1 for ch in lowered if ch in _ES_MARKS)
    score_en = 0.0
    for word in tokens(text):
        if word in _ES_ONLY:
            score_es += 1
        elif word in _EN_ONLY:
            score_en += 1
        elif vocabulary is not None:
            lean = vocabulary.get(word, 0.0)
            score_en += max(lean, 0.0)
            score_es += max(-lean, 0.0)
    return "en" if score_en > score_es else "es"


def language_vocabulary(documents: Iterable[Mapping[str, str]]) -> dict[str, float]:
    """How far each word leans to English (> 0) or Spanish (< 0) across ``documents``.

    Each document maps "es"/"en" to its text in that language (one knowledge entry). The
    lean is log2 of the smoothed ratio of English to Spanish documents holding the word,
    capped at one stopword's vote: "overheating" 1.0, "sobrecorriente" -1.0, "stall" (a
    panel word both texts quote) 0.4, "motor" 0. Stopwords and numbers are left out.
    """
    counts: dict[str, list[int]] = {}
    for doc in documents:
        for slot, lang in enumerate(("en", "es")):
            for word in set(tokens(doc.get(lang, ""))):
                if word.isalpha() and len(word) > 1 and word not in STOPWORDS:
                    counts.setdefault(word, [0, 0])[slot] += 1
    leans = {w: math.log2((en + 1) / (es + 1)) for w, (en, es) in counts.items() if en != es}
    return {word: max(-1.0, min(1.0, lean)) for word, lean in leans.items()}


@lru_cache(maxsize=2)
def _stemmer(lang: str) -> Callable[[str], str]:
    import snowballstemmer  # ~9 ms: only on first search or index build

    stem: Callable[[str], str] = snowballstemmer.stemmer(
        "spanish" if lang == "es" else "english"
    ).stemWord
    return stem


@lru_cache(maxsize=65536)
def stem(word: str, lang: str) -> str:
    """Snowball stem of an already folded word; numbers and codes pass through."""
    if not word.isalpha() or len(word) < 3:
        return word
    return _stemmer(lang)(word)


def analyse(text: str, lang: str) -> list[str]:
    """Index-side terms: folded tokens of ``text`` stemmed in its own language.

    Compounds such as "sobretemperatura" or "overvoltage" also yield their head word, so a
    question about "temperatura" or "voltage" finds them.
    """
    terms: list[str] = []
    for word in tokens(text):
        if word in STOPWORDS:
            continue
        terms.append(stem(word, lang))
        head = _COMPOUND.match(word)
        if head:
            terms.append(stem(head[1], lang))
    return terms


def query_words(
    text: str, lang: str | None = None
) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """Query-side words with their stems in both languages, the question's language first.

    Both, because technicians mix Spanish with the panel's English; ordered, so the caller
    can keep one stem per word and not count a word twice. The third item holds the stems
    of the manual's word for a colloquial one ("brinca" -> "dispara"), for when the
    knowledge does not use the word itself. ``lang`` is the question's language when the
    caller knows it better than :func:`detect_lang` alone.
    """
    first = lang if lang in ("es", "en") else detect_lang(text)
    second = "en" if first == "es" else "es"
    found: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for token in tokens(text):
        if token in STOPWORDS or len(token) < 2 or token in found:
            continue
        synonym = SYNONYMS.get(token)
        own = tuple(dict.fromkeys((stem(token, first), stem(token, second))))
        if token in ABBREVIATIONS:
            whole = dict(zip(("es", "en"), ABBREVIATIONS[token], strict=True))
            full = (stem(whole[first], first), stem(whole[second], second))
            own = tuple(dict.fromkeys((*full, *own)))
        alt = tuple(dict.fromkeys((stem(synonym, first), stem(synonym, second)))) if synonym else ()
        found[token] = (own, alt)
    return [(word, own, alt) for word, (own, alt) in found.items()]


_GREETING = _words(
    """
    hola buenas buenos buen dia dias tardes noches gracias muchas mil saludos que tal como
    estas esta vale ok okay perfecto genial listo entendido adios chao hasta luego
    hello hi hey good morning afternoon evening thanks thank you cheers bye great perfect
    got it understood how are
    """
)
#: words that point back at what was said before: "eso", "that", "it", "¿y si...?"
_ANAPHORA = _words(
    """
    eso esto ese esa esos esas ello lo le aquello mismo misma tambien
    that this it its those them same also
    """
)
_LEAD_INS = ("y ", "e ", "and ", "pero ", "but ", "entonces ", "so ", "what about", "y que", "y si")


_THANKS = _words("gracias thanks thank thx")
#: a thank-you this short ("gracias, ya quedó", "thanks, that fixed it") asks nothing
SHORT_THANKS = 6


def is_greeting(text: str) -> bool:
    """Only greetings or small talk, or a short thank-you: "hola", "gracias!! ya quedó"."""
    words = tokens(text)
    if not words:
        return False
    thanked = any(word in _THANKS for word in words) and len(words) <= SHORT_THANKS
    said_hello = any(word in _GREETING for word in words)
    return thanked or (said_hello and all(w in _GREETING or w in STOPWORDS for w in words))


#: a question this short that points back is about the previous one even with a subject
SHORT_FOLLOW_UP = 6


def is_short(text: str) -> bool:
    """Few enough words to lean on the question before ("¿y si persiste?")."""
    return len(tokens(text)) <= SHORT_FOLLOW_UP


def points_back(text: str) -> bool:
    """A short question leaning on the one before: "¿y si persiste?", "where is that set?"."""
    folded = fold(text).strip(" ¿¡?!.,")
    words = tokens(text)
    leans = folded.startswith(_LEAD_INS) or any(word in _ANAPHORA for word in words)
    return leans and is_short(text)


def closest_term(word: str, stems: tuple[str, ...], vocabulary: Sequence[str]) -> str | None:
    """The indexed term a misspelt word most likely meant, or None if nothing is close.

    "temperatrura" -> "temperatur", "tirra" -> "tierr"; a stem that starts the word also
    counts ("desacelerasion" -> "desaceler"). ``vocabulary`` holds terms sharing the word's
    first letter.
    """
    best, best_ratio = None, _TYPO_CUTOFF
    matcher = difflib.SequenceMatcher(autojunk=False)
    for probe in dict.fromkeys(stems):
        matcher.set_seq2(probe)
        for term in vocabulary:
            if abs(len(term) - len(probe)) > 3 and not word.startswith(term[:5]):
                continue
            prefix = 1.0 if len(term) >= 5 and word.startswith(term) else 0.0
            matcher.set_seq1(term)
            if prefix < best_ratio and matcher.real_quick_ratio() <= best_ratio:
                continue
            if prefix < best_ratio and matcher.quick_ratio() <= best_ratio:
                continue
            ratio = max(prefix, matcher.ratio())
            if ratio > best_ratio or (ratio == best_ratio and best and len(term) > len(best)):
                best, best_ratio = term, ratio
    return best


# --- entries -------------------------------------------------------------------------------


def entry_columns(entry: Entry) -> tuple[str, ...]:
    """The index columns of an entry (codes, title, keywords, body, extra), analysed.

    Both languages go in, each stemmed in its own way.
    """
    # panel names and slugs are English; stems only, so a query word counts once here
    codes_terms = analyse(f"{entry.id} {entry.name} {entry.hex_code or ''}", "en")
    columns: list[list[str]] = [codes_terms, [], [], [], []]
    for lang_code, text in entry.lang.items():
        stem_lang = "es" if lang_code == "es" else "en"
        columns[1] += analyse(text.title, stem_lang)
        columns[2] += analyse(" ".join(text.keywords), stem_lang)
        body = " ".join([text.text, *text.causes, *text.checks])
        columns[3] += analyse(body, stem_lang)
        columns[4] += analyse(text.safety or "", stem_lang)
        # facts and gaps (where the missing value lives) are worth finding, weakly
        facts = " ".join(f"{k} {v}" for k, v in entry.facts_in(lang_code).items())
        columns[4] += analyse(" ".join([facts, *entry.gaps_in(lang_code)]), stem_lang)
    return tuple(" ".join(column) for column in columns)


def entry_texts(entry: Entry) -> dict[str, str]:
    """All of an entry's text per language, as :func:`language_vocabulary` reads it."""
    return {
        code: " ".join([text.title, text.text, *text.keywords, *text.causes, *text.checks])
        for code, text in entry.lang.items()
    }
