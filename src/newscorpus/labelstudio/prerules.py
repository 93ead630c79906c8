"""The word lists and span rules of the pre-annotator that need no Label Studio: which words
are cues, titles and group nouns; where a reported (indirect or mixed) quote is; which noun
phrase around a known name is the maximal mention. `preannotate` turns the spans into regions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

QUOTE_MARKS = {"“": "”", "„": "“", "«": "»", '"': '"'}
# fmt: off
CUE_VERBS = [
    "said", "says", "say", "told", "tells", "added", "adds", "stressed", "stressing", "stresses",
    "warned", "warns", "insisted", "insists", "stated", "states", "noted", "notes", "explained",
    "explains", "declared", "declares", "asked", "asks", "replied", "replies", "wrote", "writes",
    "claimed", "claims", "argued", "argues", "announced", "announces", "urged", "urges", "continued",
    "concluded", "called", "calls", "described", "describes", "expressed", "expresses",
]
# Cues after which a quoted fragment starts a mixed quote ("warned of “...” that ...").
MIXED_CUES = frozenset(["warned", "warns", "called", "calls", "described", "describes", "expressed", "expresses"])
# Cues after which a plain clause is reported speech even without "that" ("He said the talks failed").
SAY_CUES = frozenset(["said", "says", "say"])
SPEAKER_PRONOUNS = ("He", "She", "They", "he", "she", "they")
# Words of a title before a name ("Defense Minister Milos Vucevic"): the name starts after the last one.
TITLE_WORDS = frozenset([
    "Minister", "President", "Prime", "Secretary", "General", "Spokesman", "Spokeswoman", "Mayor",
    "Governor", "Senator", "Chief", "Director", "Chairman", "Chairwoman", "Commander", "Ambassador",
    "Deputy", "Premier", "Chancellor", "King", "Queen", "Pope", "Dr", "Mr", "Mrs", "Ms",
])
# Head nouns that make a name before them part of one larger mention ("[Albanian officials]"):
# people (PERSON) or a force as a body (ORG).
GROUP_HEADS = {
    **dict.fromkeys(["officials", "mayors", "leaders", "ministers", "politicians", "protesters", "residents",
                     "soldiers", "troops", "officers", "diplomats", "lawmakers", "activists"], "PERSON"),
    **dict.fromkeys(["forces", "peacekeepers", "police", "authorities", "army", "government"], "ORG"),
}
# fmt: on
NOT_CONTENT = frozenset(["of", "about", "on", "the", "a", "an", "its", "their", "his", "her", "as"])
MAX_WORDS_CUE_TO_THAT = 3  # "told reporters that ...": words allowed between a cue and its "that"
MIN_REPORTED_WORDS = 3  # a shorter clause after a cue is not reported speech
MAX_FRAGMENT_WORDS = 4  # a longer quotation after a cue is a direct quote, not a fragment

WORD = re.compile(r"[^\W_][\w’'-]*")
CUE = re.compile(r"(?<![\w-])(" + "|".join(CUE_VERBS) + r")(?![\w-])")  # not "so-called"
CLAUSE_END = re.compile(r"[.!?;]\s|\n")
_REPORTED_END = re.compile(r"[.!?;](?=\s|$)|\n|,\s+(?:and|but)\s")


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def reported_quotes(text: str, taken: list[Span], kinds=("indirect", "mixed")) -> list[tuple[Span, str, Span]]:
    """Indirect and mixed quotes as (quote, kind, cue): the reported clause after a cue verb.

    Indirect: `insisted that [ethnic Albanian mayors ... leave northern Kosovo].`, `told reporters
    that [...]`, `He said [the talks failed].` Mixed: a quoted fragment right after the cue's own
    words, to the end of the clause: `warned of [“provocative actions” that would ...],`,
    `expressed the Kremlin’s [“concern” about ...].`, `called [the blockade “unnecessary.”]`.
    `taken` are the direct quotes already found: nothing inside or overlapping them is proposed.
    """
    found = []
    for match in CUE.finditer(text):
        cue = Span(match.start(), match.end())
        if any(s.start <= cue.start < s.end for s in taken):
            continue
        end = _reported_end(text, cue.end)
        words = list(WORD.finditer(text, cue.end, end))
        proposed = ("mixed" in kinds and _mixed(text, cue, match.group(), words, end)) or (
            "indirect" in kinds and _indirect(text, cue, match.group(), words)
        )
        if proposed and not any(s.start < proposed[0].end and proposed[0].start < s.end for s in taken):
            found.append((proposed[0], proposed[1], cue))
    return found


def _reported_end(text: str, start: int) -> int:
    match = _REPORTED_END.search(text, start)
    return match.start() if match else len(text)


def _mixed(text: str, cue: Span, verb: str, words: list[re.Match], end: int) -> tuple[Span, str] | None:
    if verb not in MIXED_CUES:
        return None
    opening = next((i for i in range(cue.end, end) if text[i] in QUOTE_MARKS), -1)
    if opening < 0 or re.search(r"[:,]", text[cue.end : opening]):
        return None  # "warned: “...”" introduces a direct quote
    closing = text.find(QUOTE_MARKS[text[opening]], opening + 1)
    if closing < 0 or len(WORD.findall(text[opening:closing])) > MAX_FRAGMENT_WORDS:
        return None
    if len([w for w in words if w.end() <= opening]) > 3:
        return None
    # The content starts after the cue's own words: a preposition, determiner or possessor stays
    # out ("warned of", "expressed the Kremlin’s"); after "called" the object is part of what is said.
    start = opening
    if verb in ("called", "calls", "described", "describes") and words and words[0].start() < opening:
        start = words[0].start()
    stop = closing + 1 if text[closing - 1] in ".!?" else end
    return Span(start, max(stop, closing + 1)), "mixed"


def _indirect(text: str, cue: Span, verb: str, words: list[re.Match]) -> tuple[Span, str] | None:
    if any(text[w.start() - 1] in QUOTE_MARKS or text[w.end() : w.end() + 1] in QUOTE_MARKS for w in words[:8]):
        return None  # a direct quote belongs to the sentence: that rule decides
    lowered = [w.group().lower() for w in words]
    if "that" in lowered[: MAX_WORDS_CUE_TO_THAT + 1]:
        content = words[lowered.index("that") + 1 :]
    elif verb in SAY_CUES and words and not text[cue.end : words[0].start()].strip():
        content = words  # "He said the talks failed"
    else:
        return None
    if len(content) < MIN_REPORTED_WORDS or content[0].group().lower() in ("of", "to", "in", "for", "by"):
        return None
    return Span(content[0].start(), content[-1].end()), "indirect"


def group_mentions(text: str, names: list[tuple[Span, str]]) -> list[tuple[Span, str]]:
    """Noun phrases made of a known name and a group noun: `[Albanian officials]`, `[NATO peacekeepers]`,
    `ethnic` and a leading `the` included: `[ethnic Albanian mayors]`; `[NATO-led forces]`."""
    found = []
    for span, _ in names:
        tail = re.match(r"(?:-led|-backed)?\s([a-z]+)(?!\w)", text[span.end : span.end + 40])
        if tail is None or tail.group(1) not in GROUP_HEADS:
            continue
        start = span.start
        ethnic = re.search(r"(?:^|\s)(ethnic )$", text[max(0, start - 8) : start])
        if ethnic:
            start -= len(ethnic.group(1))
        article = re.search(r"(?:^|\s)([Tt]he )$", text[max(0, start - 5) : start])
        if article:
            start -= len(article.group(1))
        found.append((Span(start, span.end + tail.end()), GROUP_HEADS[tail.group(1)]))
    return found
