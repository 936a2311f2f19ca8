"""Full-text retrieval over knowledge entries: SQLite FTS5 with BM25, Snowball stems, codes.

BM25 ranks; quoted codes, names and whole titles go first; a fault goes before the setting
that disables it. How much of the question each entry covers (see match.py) says whether it
is the answer (strong), possibly related (weak) or not worth showing. The index file itself
(building, caching) is index_file.py; entries stay in memory.
"""

from __future__ import annotations

import difflib
import sqlite3
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Literal

from omar_cli.errors import NotFoundError
from omar_cli.i18n import N_, _
from omar_cli.knowledge import lang as language
from omar_cli.knowledge.codes import (
    Names,
    candidates,
    code_aliases,
    code_spans,
    mentions,
    numerically_near,
    other_kind_hint,
)
from omar_cli.knowledge.field import FIELD, builtin_first, field_notes_about, lift_field_notes
from omar_cli.knowledge.index_file import COLUMNS, cached, fill, fingerprint
from omar_cli.knowledge.lang import (
    fold,
    query_words,
    token_spans,
    tokens,
)
from omar_cli.knowledge.match import (
    FIGURE_WEIGHT,
    Cover,
    Match,
    QueryWord,
    about_settings,
    coverage,
    figure_spans,
    idf,
    strength,
    weigh_words,
)
from omar_cli.knowledge.model import NAMELESS_KINDS, Entry, LangText

#: BM25 weight per column: codes and names, titles and technicians' keywords beat body text;
#: safety notes and facts repeat across entries and weigh least. Last 0 is the kind column.
_WEIGHTS = (8.0, 6.0, 4.0, 1.0, 0.4, 0.0)
_POOL = 40  # candidates fetched from FTS before code boosts re-rank them
_RELATED_SHARE = 0.25  # entries related to a quoted code get this share of the top score
#: a run of two query words found side by side in a title or keyword phrase ("tensión
#: nominal") says more than the same words scattered: its BM25 is added at this weight
_PHRASE_WEIGHT = 0.5
#: an entry whose title the question says gets this share of the top score on top of its own
_TITLE_SHARE = 0.5
_FAMILY = 3  # this many rating rows scoring alike are one family the question names
_FAMILY_TOPICS = 2  # the family's shared topics that take the others' places
_LONGEST_TITLE = 6
_NOTHING = N_("nothing close is known; describe the symptom and search instead")
#: what a look-up says of a code no entry holds, per kind asked for
_UNKNOWN = {
    "fault": N_("unknown fault {code}"),
    "alarm": N_("unknown alarm {code}"),
    "parameter": N_("unknown parameter {code}"),
    None: N_("unknown code {code}"),
}


class UnknownCodeError(NotFoundError):
    """No entry for a code; ``suggestions`` holds the nearest known ids, best first."""

    def __init__(self, message: str, suggestions: list[str], hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.suggestions = suggestions


@dataclass(frozen=True)
class Hit:
    id: str
    kind: str
    title: str
    text: str  # compact summary in the requested language: text plus key facts
    score: float
    confidence: str
    source: str  # label of the entry's first source
    entry: Entry
    #: strong: it answers the question; weak: possibly related, never shown as the answer
    match: Literal["strong", "weak"] = "strong"


@dataclass(frozen=True)
class UnknownCode:
    """A code named in a question that no entry holds: F0090, A2099, 9999, or a type code
    of a model that does not exist (ACS150-03x-04A7-4)."""

    code: str
    suggestions: tuple[str, ...]  # nearest known ids of the same kind, nearest first
    kind: str = "code"  # "code", or "typecode" for a type code


RATING_PREFIX = "rating-"


def type_code(code: str) -> str:
    """A rating id as the type code on the drive's label (rating-03x-04a7-4 →
    ACS150-03x-04A7-4); other codes as they are."""
    if not code.startswith(RATING_PREFIX):
        return code
    phase, current, voltage = [*code[len(RATING_PREFIX) :].split("-"), "", "", ""][:3]
    return f"ACS150-{phase}-{current.upper()}-{voltage}"


def _unknown_kind(code: str) -> str:
    return "typecode" if code.startswith(RATING_PREFIX) else "code"


def nearest_ratings(code: str, known: Iterable[str], count: int) -> list[str]:
    """Existing ratings most like a type code that does not exist: same current and
    supply first, then the same current, then the same supply (phases and voltage)."""
    parts = code[len(RATING_PREFIX) :].split("-")

    def likeness(ident: str) -> tuple[int, str]:
        other = ident[len(RATING_PREFIX) :].split("-")
        same = [a == b for a, b in zip(parts, other, strict=False)] + [False] * 3
        return (-(2 * same[1] + same[0] + same[2]), ident)

    ratings = sorted((i for i in known if i.startswith(RATING_PREFIX)), key=likeness)
    return ratings[:count]


@dataclass(frozen=True)
class _Plan:
    """A question taken apart: its content words, the codes it names, the unknown ones."""

    words: tuple[QueryWord, ...]
    named: list[tuple[str, ...]]
    unknown: tuple[str, ...]
    #: about another maker's drive or a PLC: what matches is at most possibly related
    foreign: bool = False


class KnowledgeIndex:
    """Search and code look-up over a fixed set of entries."""

    def __init__(
        self, entries: Sequence[Entry], conn: sqlite3.Connection, path: Path | None
    ) -> None:
        self._entries = list(entries)
        self._conn = conn
        self.path = path  # None when the index lives in memory
        self._by_id = {e.id: e for e in self._entries}
        self._row = {e.id: row for row, e in enumerate(self._entries)}
        self._hex = {e.hex_code.upper(): e.id for e in self._entries if e.hex_code}
        self._vocab: dict[str, list[str]] | None = None  # first letter -> terms, on first typo
        self._doc_freq: dict[str, int] = {}  # term -> entries holding it, with the vocabulary
        self._names: Names | None = None  # phrases with a number that name entries
        self._aliases: dict[str, str] | None = None  # code -> entry whose keywords name it
        self._titles: dict[tuple[str, ...], list[int]] | None = None  # title terms -> rows
        self._about: dict[str, list[str]] | None = None  # code -> field entries about it
        #: sibling drives the knowledge draws on ("acs550"): their codes are the ACS150's
        self._siblings = frozenset(s.drive.lower() for e in self._entries for s in e.sources)

    @classmethod
    def open(cls, entries: Sequence[Entry], cache_dir: Path | None) -> KnowledgeIndex:
        """Reuse the cached index for these entries, or build it (in memory if unwritable)."""
        entries = list(entries)
        digest = fingerprint(entries)
        if cache_dir is not None:
            found = cached(cache_dir, digest, entries)
            if found is not None:
                return cls(entries, found[0], found[1])
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        fill(conn, digest, entries)
        return cls(entries, conn, None)

    @property
    def entries(self) -> list[Entry]:
        return list(self._entries)

    def close(self) -> None:
        self._conn.close()

    def get(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    def detect_lang(self, text: str) -> language.DetectedLang:
        """Spanish or English, helped by the words only one language of the knowledge uses.

        The vocabulary is built with the index and stored in it; see ``language_vocabulary``.
        """
        words = sorted(set(tokens(text)))
        sql = f"SELECT word, lean FROM lang_vocab WHERE word IN ({', '.join('?' * len(words))})"
        leans = {str(w): float(v) for w, v in self._conn.execute(sql, words)} if words else {}
        return language.detect_lang(text, leans)

    # --- search ---------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        lang: str = "es",
        limit: int = 5,
        kinds: Collection[str] | None = None,
    ) -> list[Hit]:
        """Entries that answer ``query``, best first; quoted codes rank first.

        Each hit says whether it answers the question (strong) or is only possibly related
        (weak); entries that cover too little of the question are left out, so a question
        the knowledge does not answer gets no hits.
        """
        if limit <= 0 or language.is_greeting(query):
            return []
        allowed = frozenset(kinds) if kinds is not None else None
        plan = self._plan(query)
        terms = list(dict.fromkeys(t for w in plan.words if not w.figure for t in w.terms))
        scores = self._match(terms, allowed)
        self._phrase_boost(scores, terms, allowed)
        figures = list(dict.fromkeys(t for w in plan.words if w.figure for t in w.terms))
        self._figure_boost(scores, figures, allowed)
        self._boost(scores, plan.named, allowed)
        settings = about_settings(query)
        titled = self._titled(plan, allowed, symptoms=not settings)
        top = max(scores.values(), default=0.0)
        for row in titled:
            scores[row] = scores.get(row, 0.0) + _TITLE_SHARE * top
        if allowed is None or FIELD in allowed:
            self._lift_field_notes(scores, plan, titled)
        if not settings:
            self._symptoms_first(scores, plan)
        else:
            self._settings_first(scores, plan.named)
        self._families(scores, {i for group in plan.named for i in group})
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        hits = self._judged(ranked, plan, lang, limit, titled)
        # field experience is read after the manual's entry for the same code
        return builtin_first(hits, limit, lambda i, near: self._beside(i, near, lang, allowed))

    def _beside(
        self, ident: str, near: Hit, lang: str, allowed: frozenset[str] | None
    ) -> Hit | None:
        """The built-in entry ``ident`` as a hit ranked with ``near`` (a field note naming it)."""
        entry = self._by_id.get(ident)
        if entry is None or (allowed is not None and entry.kind not in allowed):
            return None
        return _hit(entry, near.score, lang, near.match)

    def _families(self, scores: dict[int, float], named: Collection[str]) -> None:
        """Rating rows the question cannot tell apart stand as one, beside their topics.

        "monofásico" or "motor de 2 hp" scores every row of a voltage range alike: one row
        stands for them, and the topics they all relate to (type code, sizing) take the
        others' places, since the question is about choosing among them.
        """
        families: dict[float, list[int]] = {}
        for row, score in scores.items():
            entry = self._entries[row]
            if entry.kind == "rating" and entry.id not in named:
                families.setdefault(round(score, 3), []).append(row)
        for score, rows in families.items():
            if len(rows) < _FAMILY:
                continue
            rows.sort()
            shared = [r for r in self._entries[rows[0]].related]
            for row in rows[1:]:
                del scores[row]
                shared = [r for r in shared if r in self._entries[row].related]
            for rank, ident in enumerate(shared[:_FAMILY_TOPICS]):
                topic = self._row.get(ident)
                if topic is not None:
                    lifted = score - 0.001 * (rank + 1)
                    scores[topic] = max(scores.get(topic, 0.0), lifted)

    def unknown_codes(self, text: str) -> list[UnknownCode]:
        """Codes named in ``text`` that the knowledge does not hold, nearest known ids each.

        Numbers that are no codes (figures with a unit, other products' model numbers,
        years) are never reported.
        """
        return [
            UnknownCode(type_code(code), tuple(self._near(code)), kind=_unknown_kind(code))
            for code in self._plan(text).unknown
        ]

    def named_in(self, text: str) -> list[str]:
        """Ids the text names outright: by code, by a name with a number, or by whole title."""
        plan = self._plan(text)
        ids = [i for group in plan.named for i in group]
        titled = sorted(self._titled(plan, None, symptoms=not about_settings(text)))
        ids += [self._entries[row].id for row in titled]
        return list(dict.fromkeys(ids))

    def _near(self, code: str) -> list[str]:
        if code.startswith(RATING_PREFIX):
            return nearest_ratings(code, [e.id for e in self._entries], count=3)
        return numerically_near(code, self._entries, count=3)

    def _plan(self, query: str) -> _Plan:
        from omar_cli.knowledge.products import about_other_product, model_spans

        folded = fold(query)
        known = self._known()
        names = self._names_table()
        named = [
            tuple(dict.fromkeys(self._aliases_map().get(i, i) for i in group))
            for group in mentions(
                query, known=known, hex_map=self._hex, names=names, siblings=self._siblings
            )
        ]
        unknown: list[str] = []
        blank = [(a, b) for a, b, _ in names.find(folded)] + model_spans(folded)
        for span in code_spans(folded, hex_map=self._hex, known=known, siblings=self._siblings):
            blank.append((span.start, span.end))
            code = span.ids[0]
            fresh = code not in unknown and not any(i in known for i in span.ids)
            # every ACS150 rating is in the knowledge, so a type code that names none is
            # a model that does not exist, and is said so (not shown the nearest rating)
            if fresh and span.certain:
                unknown.append(code)
        figures = figure_spans(folded)
        words = self._words(folded, blank, figures)
        top = idf(0, len(self._entries))
        words += [QueryWord(code, (), top) for code in unknown]  # the subject, uncovered
        foreign = about_other_product(folded, self._siblings)
        return _Plan(tuple(words), named, tuple(unknown), foreign)

    def _words(
        self, folded: str, blank: list[tuple[int, int]], figures: list[tuple[int, int]]
    ) -> list[QueryWord]:
        """Content words outside codes and model numbers; numbers and figures weigh little."""
        inside = [
            (word, any(a <= start < b for a, b in figures))
            for word, start, _ in token_spans(folded)
            if not any(a <= start < b for a, b in blank)
        ]
        text = " ".join(word for word, _ in inside)
        in_figure = {word for word, fig in inside if fig}
        vocabulary = self._vocabulary()
        pairs = query_words(text, self.detect_lang(text) if text else "es")
        return weigh_words(pairs, in_figure, self._doc_freq, vocabulary, len(self._entries))

    def _judged(
        self,
        ranked: list[tuple[int, float]],
        plan: _Plan,
        lang: str,
        limit: int,
        titled: Collection[int] = (),
    ) -> list[Hit]:
        """Hits with their strength, best first; nothing when no entry answers the question."""
        columns = self._columns([t for w in plan.words for t in w.terms])
        named = {i for group in plan.named for i in group}
        related = {r for i in named for r in self._by_id[i].related}
        # field notes about a code the question names are about the question too
        named |= {f for i in named for f in self._field_notes().get(i, ())}
        named |= {self._entries[row].id for row in titled}
        judged: list[tuple[int, float, Cover]] = []
        for row, score in ranked[: max(limit, _POOL)]:
            cover = coverage(plan.words, {t: c[row] for t, c in columns.items() if row in c})
            judged.append((row, score, cover))
        if plan.foreign:  # another maker's drive: only a close match, and never the answer
            passes = any(strength(cover, named=False) == "strong" for _, _, cover in judged)
        else:
            passes = bool(named) or any(cover.answers for _, _, cover in judged)
        if not passes:
            return []
        hits: list[Hit] = []
        for row, score, cover in judged:
            entry = self._entries[row]
            match = strength(cover, named=entry.id in named)
            if plan.foreign and match == "strong":
                match = "weak"
            if match is None and entry.id in related:
                match = "weak"
            if match is not None:
                hits.append(_hit(entry, score, lang, match))
            if len(hits) == limit:
                break
        return hits

    def _columns(self, terms: list[str]) -> dict[str, dict[int, int]]:
        """For each term, the entries holding it and the most telling column it is in."""
        found: dict[str, dict[int, int]] = {}
        if not terms:
            return found
        sql = f"SELECT term, doc, col FROM vocab_inst WHERE term IN ({', '.join('?' * len(terms))})"
        for term, doc, col in self._conn.execute(sql, terms):
            rows = found.setdefault(str(term), {})
            index = COLUMNS.index(str(col))
            rows[int(doc)] = min(rows.get(int(doc), index), index)
        return found

    def _lift_field_notes(self, scores: dict[int, float], plan: _Plan, titled: set[int]) -> None:
        """Field notes about a code a short question names ("F0002", "fallo 2 al frenar"):
        right below what it names. A longer question's own words rank them."""
        words = [w for w in plan.words if not w.figure and w.terms]
        if len(words) > _SHORT_QUESTION:
            return
        codes = [i for group in plan.named for i in group if self._row[i] in scores]
        lead = [scores[self._row[i]] for i in codes] + [scores[r] for r in titled]
        if codes and self._field_notes():
            lift_field_notes(scores, codes, self._field_notes(), self._row, below=min(lead))

    def _field_notes(self) -> dict[str, list[str]]:
        """Code or parameter id -> the field entries about it."""
        if self._about is None:
            self._about = field_notes_about(self._entries)
        return self._about

    def _known(self) -> set[str]:
        return set(self._by_id) | set(self._aliases_map())

    def _aliases_map(self) -> dict[str, str]:
        if self._aliases is None:
            self._aliases = code_aliases(self._entries)
        return self._aliases

    def _names_table(self) -> Names:
        if self._names is None:
            self._names = Names(self._conn.execute("SELECT phrase, id FROM names ORDER BY rowid"))
        return self._names

    def _vocabulary(self) -> dict[str, list[str]]:
        if self._vocab is None:
            rows = self._conn.execute("SELECT term, doc FROM vocab").fetchall()
            self._doc_freq = {str(term): int(docs) for term, docs in rows}
            self._vocab = {}
            for term in sorted(self._doc_freq):
                if term.isalpha():
                    self._vocab.setdefault(term[0], []).append(term)
        return self._vocab

    def _match(self, terms: list[str], allowed: frozenset[str] | None) -> dict[int, float]:
        if not terms:
            return {}
        expression = " OR ".join(f'"{term}"' for term in terms)
        weights = ", ".join(str(w) for w in _WEIGHTS)
        sql = f"SELECT rowid, bm25(docs, {weights}) FROM docs WHERE docs MATCH ?"
        params: list[object] = [expression]
        if allowed is not None:
            sql += f" AND kind IN ({', '.join('?' * len(allowed))})"
            params.extend(sorted(allowed))
        sql += " ORDER BY 2 LIMIT ?"
        params.append(_POOL)
        return {int(row): -float(rank) for row, rank in self._conn.execute(sql, params)}

    def _titled(self, plan: _Plan, allowed: frozenset[str] | None, *, symptoms: bool) -> set[int]:
        """Entries whose whole title the question says: "falla a tierra", "sobrecorriente".

        A question about a setting names no fault or alarm by its title: it asks about the
        parameter that shares the words.
        """
        if self._titles is None:
            self._titles = {}
            for row, entry in enumerate(self._entries):
                for code, text in entry.lang.items():
                    stem_lang = "es" if code == "es" else "en"
                    words = [w for w in tokens(text.title) if w not in language.STOPWORDS]
                    terms = tuple(language.stem(w, stem_lang) for w in words)
                    if terms and entry.kind not in NAMELESS_KINDS:
                        self._titles.setdefault(terms, []).append(row)
        said = [w.terms[0] for w in plan.words if w.terms and not w.figure]
        found: set[int] = set()
        # a one-word title names its entry only when it is the whole question: "sobrecorriente"
        for size in range(1 if len(said) == 1 else 2, min(len(said), _LONGEST_TITLE) + 1):
            for start in range(len(said) - size + 1):
                for row in self._titles.get(tuple(said[start : start + size]), ()):
                    kind = self._entries[row].kind
                    if (allowed is None or kind in allowed) and (
                        symptoms or kind not in ("fault", "alarm")
                    ):
                        found.add(row)
        return found

    def _phrase_boost(
        self, scores: dict[int, float], terms: list[str], allowed: frozenset[str] | None
    ) -> None:
        pairs = [f'"{a} {b}"' for a, b in pairwise(terms)]
        if not pairs:
            return
        sql = "SELECT rowid, bm25(docs), kind FROM docs WHERE docs MATCH ? ORDER BY 2 LIMIT ?"
        expression = "{title keywords} : (" + " OR ".join(pairs) + ")"
        for row, rank, kind in self._conn.execute(sql, [expression, _POOL]):
            if allowed is None or kind in allowed:
                scores[int(row)] = scores.get(int(row), 0.0) - _PHRASE_WEIGHT * float(rank)

    def _figure_boost(
        self, scores: dict[int, float], figures: list[str], allowed: frozenset[str] | None
    ) -> None:
        """Numbers and units of the story's figures: a tie-breaker, never the subject."""
        for row, score in self._match(figures, allowed).items():
            scores[row] = scores.get(row, 0.0) + FIGURE_WEIGHT * score

    def _symptoms_first(self, scores: dict[int, float], plan: _Plan) -> None:
        """A fault or alarm ranks above the parameter that configures (or disables) it.

        Asked about a symptom ("falla a tierra en el motor"), the answer is the fault's sheet,
        not how to turn its protection off; a question about the setting keeps its order.
        """
        quoted = {i for group in plan.named for i in group}
        columns = self._columns([t for w in plan.words for t in w.terms])

        def share(row: int) -> float:
            return coverage(plan.words, {t: c[row] for t, c in columns.items() if row in c}).share

        for row in sorted(scores, key=lambda r: -scores[r]):
            entry = self._entries[row]
            if entry.kind != "parameter" or entry.id in quoted:
                continue
            for rel in entry.related:
                target = self._by_id.get(rel)
                rel_row = self._row.get(rel)
                if target is None or rel_row is None or target.kind not in ("fault", "alarm"):
                    continue
                # only a fault the question itself matches about as well: "ramp" is no symptom
                close = _SYMPTOM_SHARE * scores[row]
                fits = rel_row in scores and close <= scores[rel_row] <= scores[row]
                # and one that covers the question as well: "how fast can it ramp up" is
                # about the ramp, whatever fault mentions ramps
                if fits and share(rel_row) >= share(row):
                    scores[rel_row] = scores[row] + 0.01

    def _settings_first(self, scores: dict[int, float], named: list[tuple[str, ...]]) -> None:
        """Asked how to set something up, a fault sheet that shares the words yields.

        "How do I scale the 4-20 mA input?" wants the parameter or set-up entry, not the
        signal-loss fault; a fault the question names by code keeps its place.
        """
        quoted = {i for group in named for i in group}
        order = sorted(scores, key=lambda r: -scores[r])
        for position, row in enumerate(order):
            entry = self._entries[row]
            if entry.kind not in ("fault", "alarm") or entry.id in quoted:
                continue
            below = [r for r in order[position + 1 :] if self._entries[r].kind not in _SHEETS]
            if below and scores[below[0]] >= _SYMPTOM_SHARE * scores[row]:
                scores[below[0]] = scores[row] + 0.01
            break  # only the best fault gives way

    def _boost(
        self,
        scores: dict[int, float],
        named: list[tuple[str, ...]],
        allowed: frozenset[str] | None,
    ) -> None:
        """Quoted codes and names go above every word match; related entries get a nudge."""
        fits = [
            [c for c in group if allowed is None or self._by_id[c].kind in allowed]
            for group in named
        ]
        groups = [group for group in fits if group]
        codes = [ident for group in groups for ident in group]
        top = max(scores.values(), default=1.0)
        for ident in codes:
            for rel in (*self._by_id[ident].related, *self._field_notes().get(ident, ())):
                rel_entry = self._by_id.get(rel)
                if rel_entry is None or (allowed is not None and rel_entry.kind not in allowed):
                    continue
                rel_row = self._row[rel]
                scores[rel_row] = scores.get(rel_row, 0.0) + _RELATED_SHARE * top
        ceiling = max(scores.values(), default=0.0)
        for position, group in enumerate(groups):  # in the order the question names them
            for rank, ident in enumerate(group):  # entries sharing a name: likeliest first
                tie = 0.5 * (len(group) - rank) / len(group)
                scores[self._row[ident]] = ceiling + float(len(groups) - position) + tie

    # --- code look-up ---------------------------------------------------------------------

    def lookup(self, raw: str, kind: str | None = None) -> Entry:
        """The entry a code names (``F1``, ``22.02``, ``2310h``, ``overcurrent``...).

        A code no entry has as its id ("103") may be named by another entry's keywords
        (F0101 covers 101 to 105). Raises UnknownCodeError with the nearest known ids when
        nothing matches, and says so when the code is of another kind ("A2010" as a fault).
        """
        entry = self._resolve(raw, kind)
        if entry is not None:
            return entry
        suggestions = self._suggest(raw, kind)
        other = self._resolve(raw, None) if kind is not None else None
        if other is not None:  # "A2010" as a fault: say where it is
            suggestions = list(dict.fromkeys([other.id, *suggestions]))[:5]
        hint = other_kind_hint(other.id, other.kind) if other is not None else None
        if hint is None:
            near = _("nearest known: {ids}").format(ids=", ".join(suggestions))
            hint = near if suggestions else _(_NOTHING)
        unknown = _UNKNOWN.get(kind, _UNKNOWN[None])
        message = _(unknown).format(code=repr(raw.strip()))
        raise UnknownCodeError(message, suggestions, hint)

    def _resolve(self, raw: str, kind: str | None) -> Entry | None:
        readings = candidates(raw, kind, hex_map=self._hex)
        for ident in readings:
            entry = self._by_id.get(ident)
            if entry is not None and (kind is None or entry.kind == kind):
                return entry
        entry = self._by_label(raw, kind)
        if entry is not None:
            return entry
        aliases = self._aliases_map()
        named = [aliases[ident] for ident in readings if ident in aliases]
        return self._by_id[named[0]] if named else None

    def _by_label(self, raw: str, kind: str | None) -> Entry | None:
        """Exact id in any case, or the panel name / title: "overcurrent", "Sobrecorriente"."""
        wanted = " ".join(tokens(raw))
        if not wanted:
            return None
        for entry in self._entries:
            if kind is not None and entry.kind != kind:
                continue
            labels = [entry.id, entry.name, *(t.title for t in entry.lang.values())]
            if any(" ".join(tokens(label)) == wanted for label in labels):
                return entry
        return None

    def _suggest(self, raw: str, kind: str | None, count: int = 5) -> list[str]:
        found: list[str] = []
        readings = candidates(raw, kind)
        if readings:
            found += numerically_near(readings[0], self._entries, count=3)
        pool = [e for e in self._entries if kind is None or e.kind == kind]
        names = {fold(e.name): e.id for e in pool}
        for title_lang in ("es", "en"):
            names.update({fold(e.text_in(title_lang).title): e.id for e in pool})
        for name in difflib.get_close_matches(fold(raw.strip()), list(names), n=3, cutoff=0.6):
            found.append(names[name])
        if not readings:  # words, not a code: what a search for them finds
            found += [hit.id for hit in self.search(raw, limit=3, kinds=_kinds(kind))]
        return list(dict.fromkeys(found))[:count]


#: a question of at most this many words besides its codes is about the code itself
_SHORT_QUESTION = 3
#: a fault moves above its parameter when it scores at least this share of the parameter's
_SYMPTOM_SHARE = 0.75
_SHEETS = ("fault", "alarm")


def _kinds(kind: str | None) -> list[str] | None:
    return [kind] if kind is not None else None


def _hit(entry: Entry, score: float, lang: str, match: Match = "strong") -> Hit:
    text = entry.text_in(lang)
    return Hit(
        id=entry.id,
        kind=entry.kind,
        title=text.title,
        text=_summary(entry, text),
        score=round(score, 4),
        confidence=entry.confidence,
        source=entry.sources[0].label() if entry.sources else "",
        entry=entry,
        match=match,
    )


def _summary(entry: Entry, text: LangText) -> str:
    facts = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in (text.facts or entry.facts).items())
    return f"{text.text} [{facts}]" if facts else text.text
