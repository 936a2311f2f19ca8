"""Other products named in a question: their model numbers and codes are not the ACS150's.

Real questions tell a story: the PowerFlex 525 being replaced, the S7-1200 that sends the
reference, the year the drive was stored. None of those numbers is a code of this drive.
"""

from __future__ import annotations

import re
from collections.abc import Container, Sequence
from itertools import pairwise

from omar_cli.knowledge.lang import token_spans


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


#: brands and series of other drives, soft starters and PLCs: their codes are not ours
_BRANDS = _words(
    """
    powerflex sinamics micromaster siemens simatic altivar telemecanique schneider danfoss
    vlt yaskawa allen bradley weg cfw mitsubishi fuji frenic hitachi omron lenze sew
    movitrac toshiba invertek optidrive vacon eaton unidrive emotron gefran parker nidec
    """
)
#: glued model names of other makers
_OTHER_MODEL = re.compile(r"(?:atv\d{2,3}|fc\d{2,3}|[vaj]1000|g120|v20|s7)")
_ABB_MODEL = re.compile(r"ac[hsq]\d{3}")
#: devices that are no AC drive: their faults and settings are not the ACS150's
_OTHER_DEVICES = (
    "soft starter",
    "soft starters",
    "softstarter",
    "arrancador suave",
    "arrancadores suaves",
    "dc drive",
    "variador de cc",
    "variador de continua",
    "esc",
    "escs",
    "servo drive",
    "servodrive",
    "servoamplificador",
)


def about_other_product(folded: str, siblings: Container[str] = ()) -> bool:
    """The question is about another product: its codes are that one's, our sheets at most related.

    Another maker's drive, a PLC, or a device that is no AC drive (soft starter, DC drive).

    "PowerFlex 525 shows F004" asks about a PowerFlex code. An ABB drive counts as another
    unless it is one of the ``siblings`` the knowledge draws on ("acs550": same codes); a
    question that names the ACS150 as well ("replaced the PowerFlex with an ACS150, now
    F0001") is about ours, and so is one that names ABB with no other ABB model ("the old
    Yaskawa died so we put in the ABB").
    """
    words = [word for word, _, _ in token_spans(folded)]
    models = [a + b for a, b in pairwise(words) if a in ("acs", "ach", "acq") and b.isdigit()]
    if "acs150" in words or "acs150" in models:
        return False
    said = f" {' '.join(words)} "
    if any(f" {device} " in said for device in _OTHER_DEVICES):
        return True
    abb = [w for w in [*words, *models] if _ABB_MODEL.fullmatch(w)]
    if any(model not in siblings for model in abb):
        return True
    if "abb" in words:  # this drive, beside the one it replaced
        return False
    return any(w in _BRANDS or _OTHER_MODEL.fullmatch(w) for w in words)


#: brands and series of other drives and PLCs, and words that introduce a model or part
#: number: a number written right after them names a product, not a code
_MODEL_WORDS = _words(
    """
    acs ach acq acs310 acs355 acs550 acs580 acs880 powerflex pf flex sinamics micromaster mm
    siemens simatic s7 logo altivar atv telemecanique schneider danfoss vlt fc yaskawa allen
    bradley delta weg cfw mitsubishi fr fuji frenic hitachi omron lenze sew movitrac toshiba
    invertek optidrive vacon eaton ls lg unidrive emotron gefran parker ssd nidec modelo
    model tipo type serie series serial sn ref referencia part parte pieza pn pedido order
    lote batch version firmware fw rev revision
    """
)
_YEAR_CUES = _words(
    """
    en de del desde since in from of ano year hasta until antes before
    """
)


_NUMBER_WORDS = _words("number numero num nr no de of")


def model_spans(folded: str) -> list[tuple[int, int]]:
    """Spans of model numbers: up to two tokens holding a digit after a brand/model word.

    One short word ("Danfoss FC 51") or "number" ("part number 1234") may sit between;
    "ACS 150" is this drive, not another.
    """
    spans = token_spans(folded)
    blocked: list[tuple[int, int]] = []
    for i, (word, _, _) in enumerate(spans):
        if word not in _MODEL_WORDS:
            continue
        numbered = 0
        for next_word, start, end in spans[i + 1 : i + 4]:
            has_digit = any(ch.isdigit() for ch in next_word)
            if has_digit and not (word == "acs" and next_word == "150"):
                blocked.append((start, end))
                numbered += 1
            elif next_word in _NUMBER_WORDS:
                continue
            elif has_digit or len(next_word) > 3 or numbered:
                break
            if numbered == 2:
                break
    return blocked


def is_year(
    folded: str, match: re.Match[str], ids: Sequence[str], known: Container[str] | None
) -> bool:
    number = int(match["num"])
    if not 1950 <= number <= 2099:
        return False
    before = token_spans(folded[: match.start()])
    if before and before[-1][0] in _YEAR_CUES:
        return True
    return known is not None and not any(i in known for i in ids)
