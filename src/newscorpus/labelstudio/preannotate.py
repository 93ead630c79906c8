"""Rule-based pre-annotations, imported with each new task so annotators correct rather than start empty.

What it proposes:
- direct quotes between quotation marks (“…”, „…“, «…», "…"), with the cue verb that
  introduces them ("told", "added", ...) and the nearby speaker (a known name, a capitalised
  name, a group such as "Serb officials", or a pronoun such as "He"), linked by `cue` and
  `speaker` relations;
- indirect quotes (the clause after "insisted that", "told reporters that", "said") and mixed
  quotes (a quoted fragment after the cue's own words: "warned of “...” that ...", "called the
  blockade “unnecessary.”"), with cue and speaker (rules in `prerules`);
- entity mentions of names already annotated in the corpus (NAM mentions), with their type,
  maximal: a name inside a larger proposed mention ("[Albanian officials]", "[NATO-led
  forces]") is not proposed alone;
- coreference: a pronoun speaker ("He added") to the nearest preceding proposed person name.
  Repeated names are not linked: each link is an arrow across the text in Label Studio, and
  two dozen of them hid the text and the labels (measured in docs/annotating.md).

Every prediction is checked twice before import: against the labeling config with
label_studio_sdk's LabelInterface, and with the converter's own checks (regions.convert_result),
so a proposal an annotator accepts unchanged always builds.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from newscorpus import schema as S
from newscorpus.errors import InputError, Location, Problem
from newscorpus.ingest import Article
from newscorpus.labelstudio.exports import export_paths, read_annotations
from newscorpus.labelstudio.prerules import (
    CLAUSE_END,
    CUE,
    QUOTE_MARKS,
    SPEAKER_PRONOUNS,
    TITLE_WORDS,
    WORD,
    Span,
    group_mentions,
    reported_quotes,
)
from newscorpus.labelstudio.regions import convert_result
from newscorpus.labelstudio.results import labelled_span, relation, span_choice
from newscorpus.project import Project
from newscorpus.release.manifest import release_versions
from newscorpus.release.shards import read_config
from newscorpus.schema import AnnotationSchema

# Bump when the rules change: Label Studio shows annotators which version proposed what.
MODEL_VERSION = "newscorpus-rules-2"

MIN_WORDS_WITHOUT_CUE = 3  # a shorter quoted phrase without a cue is usually a scare quote, not speech
MAX_WORDS_CUE_TO_QUOTE = 3  # "told reporters: “...": words allowed between a cue before a quote and the quote
MAX_WORDS_QUOTE_TO_CUE = 6  # "“...,” Serbian Defense Minister Milos Vucevic told": words between a quote and its cue

_WORD, _CUE, _CLAUSE_END = WORD, CUE, CLAUSE_END
_Span = Span


class _Regions:
    """Builds a Label Studio `result` list with stable, readable region ids."""

    def __init__(self, text: str):
        self.text = text
        self.result: list[dict] = []
        self.entities: dict[tuple[int, int], str] = {}
        self.cues: dict[tuple[int, int], str] = {}
        self.counts: Counter = Counter()

    def _region(self, prefix: str, control: str, label: str, span: _Span) -> str:
        self.counts[prefix] += 1
        region_id = f"pre-{prefix}{self.counts[prefix]}"
        self.result.append(labelled_span(region_id, control, label, span.start, span.end, self._text(span)))
        return region_id

    def _text(self, span: _Span) -> str:
        return self.text[span.start : span.end]

    def entity(self, span: _Span, entity_type: str, mention_type: str) -> str:
        key = (span.start, span.end)
        if key not in self.entities:
            region_id = self._region("e", S.ENTITY_CONTROL, entity_type, span)
            choice = span_choice(
                region_id, S.MENTION_TYPE_CONTROL, mention_type, span.start, span.end, self._text(span)
            )
            self.result.append(choice)
            self.entities[key] = region_id
        return self.entities[key]

    def overlaps_entity(self, span: _Span) -> bool:
        return any(start < span.end and span.start < end for start, end in self.entities)

    def quote(self, span: _Span, kind: str) -> str:
        return self._region("q", S.QUOTE_CONTROL, kind, span)

    def cue(self, span: _Span) -> str:
        key = (span.start, span.end)
        if key not in self.cues:  # one cue ("he said, “A,” and “B”") may introduce two quotes
            self.cues[key] = self._region("c", S.CUE_CONTROL, S.CUE_LABEL, span)
        return self.cues[key]

    def relation(self, from_id: str, to_id: str, label: str) -> None:
        self.result.append(relation(from_id, to_id, label))


def preannotate(text: str, names: dict[str, str]) -> list[dict]:
    """A Label Studio `result` list for `text`. `names` maps known names to their entity type."""
    regions = _Regions(text)
    known = _known_mentions(text, names)
    groups = group_mentions(text, known)
    for span, entity_type in _maximal([*groups, *known]):
        regions.entity(span, entity_type, "NOM" if (span, entity_type) in groups else "NAM")
    mixed = reported_quotes(text, [], kinds=("mixed",))
    direct = []
    for quote in _quotes(text):
        if any(m.start < quote.end and quote.start < m.end for m, _, _ in mixed):
            continue  # the quoted fragment of a mixed quote
        cue = _cue_after(text, quote) or _cue_before(text, quote)
        words = len(_WORD.findall(text[quote.start : quote.end]))
        if cue is None and words < MIN_WORDS_WITHOUT_CUE:
            continue
        direct.append((quote, "direct", cue))
    used_cues = [cue for _, _, cue in direct if cue is not None]
    indirect = reported_quotes(text, [q for q, _, _ in direct + mixed], kinds=("indirect",))
    reported = [r for r in mixed + indirect if r[2] not in used_cues]
    for quote, kind, cue in sorted(direct + reported, key=lambda r: r[0].start):
        quote_id = regions.quote(quote, kind)
        if cue is None:
            continue
        regions.relation(quote_id, regions.cue(cue), "cue")
        speaker = _speaker(text, quote, cue, names, groups, quotes_end_clauses=kind == "direct")
        if speaker is not None:
            span, entity_type, mention_type = speaker
            if (span.start, span.end) in regions.entities or not regions.overlaps_entity(span):
                regions.relation(quote_id, regions.entity(span, entity_type, mention_type), "speaker")
    _corefer(regions)
    return regions.result


def _maximal(mentions: list[tuple[Span, str]]) -> list[tuple[Span, str]]:
    """Longest first; a mention inside (or overlapping) a longer one is left out."""
    kept: list[tuple[Span, str]] = []
    for span, entity_type in sorted(mentions, key=lambda m: (m[0].start - m[0].end, m[0].start)):
        if not any(s.start < span.end and span.start < s.end for s, _ in kept):
            kept.append((span, entity_type))
    return sorted(kept, key=lambda m: m[0].start)


def _corefer(regions: _Regions) -> None:
    """A pronoun speaker ("He", "She") to the nearest preceding person name."""
    text = regions.text
    entities = sorted(
        (start, end, r["id"], r["value"]["labels"][0])
        for r in regions.result
        if r["type"] == "labels" and r["from_name"] == S.ENTITY_CONTROL
        for start, end in [(r["value"]["start"], r["value"]["end"])]
    )
    kinds = {r["id"]: r["value"]["choices"][0] for r in regions.result if r["type"] == "choices"}
    for i, (start, end, region_id, _type) in enumerate(entities):
        earlier = entities[:i][::-1]
        if kinds[region_id] == "PRO" and text[start:end].lower() in ("he", "she"):
            found = [e for e in earlier if e[3] == "PERSON" and kinds[e[2]] == "NAM"]
        else:
            continue
        if found:
            regions.relation(region_id, found[0][2], "coref")


def prediction(text: str, names: dict[str, str]) -> dict:
    return {"model_version": MODEL_VERSION, "result": preannotate(text, names)}


def check_prediction(
    result: list[dict], text: str, schema: AnnotationSchema, interface, where: Location
) -> list[Problem]:
    """Problems with a prediction: the labeling config's rules (LabelInterface) and the converter's checks."""
    problems = [
        where.problem(message, field="prediction")
        for message in interface.validate_prediction({"result": result}, return_errors=True)
    ]
    _, found = convert_result(result, text, schema, where)
    return problems + found


# -- entities --------------------------------------------------------------


def _known_mentions(text: str, names: dict[str, str]) -> list[tuple[_Span, str]]:
    usable = sorted((n for n in names if len(n) >= 2), key=lambda n: (-len(n), n))
    if not usable:
        return []
    # Longest name first at each position; matches never overlap.
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, usable)) + r")(?!\w)")
    return [(_Span(m.start(), m.end()), names[m.group()]) for m in pattern.finditer(text)]


def known_names_from_layers(entity_mentions) -> dict[str, str]:
    """Named (NAM) mentions -> their most frequent entity type (ties: alphabetical)."""
    counts: dict[str, Counter] = {}
    for mention in entity_mentions:
        if mention.mention_type == "NAM":
            counts.setdefault(mention.text, Counter())[mention.type] += 1
    return {name: min(c, key=lambda t: (-c[t], t)) for name, c in sorted(counts.items())}


# -- quotes ----------------------------------------------------------------


def _quotes(text: str) -> list[_Span]:
    """Spans from an opening to its closing quotation mark (both included), within one paragraph."""
    spans = []
    at = 0
    while at < len(text):
        opening = text[at]
        closing = QUOTE_MARKS.get(opening)
        if closing is None:
            at += 1
            continue
        end = text.find(closing, at + 1)
        paragraph_end = text.find("\n\n", at)
        if end < 0 or (0 <= paragraph_end < end) or end == at + 1:
            at += 1
            continue
        spans.append(_Span(at, end + 1))
        at = end + 1
    return spans


def _cue_after(text: str, quote: _Span) -> _Span | None:
    """`“...,” Peskov told reporters` / `“...,” said Peskov`: the first cue verb in the clause after the quote."""
    clause_end = _clause_end(text, quote.end)
    match = _CUE.search(text, quote.end, clause_end)
    if match is None or len(_WORD.findall(text[quote.end : match.start()])) > MAX_WORDS_QUOTE_TO_CUE:
        return None
    return _Span(match.start(), match.end())


def _cue_before(text: str, quote: _Span) -> _Span | None:
    """`He added: “...` / `stressing, “...`: the last cue verb before the quote, a few words at most before it."""
    clause_start = _clause_start(text, quote.start)
    cues = list(_CUE.finditer(text, clause_start, quote.start))
    if not cues:
        return None
    last = cues[-1]
    between = text[last.end() : quote.start]
    if len(_WORD.findall(between)) > MAX_WORDS_CUE_TO_QUOTE or not re.fullmatch(r"[^:,]*[:,]?\s*", between):
        return None
    if _WORD.findall(between) and not between.rstrip().endswith((":", ",")):
        return None  # "warned of “...”": the quote is part of the sentence, not introduced speech
    return _Span(last.start(), last.end())


def _clause_end(text: str, start: int) -> int:
    ends = [m.start() for m in [_CLAUSE_END.search(text, start)] if m]
    ends += [i for i in (text.find(mark, start) for mark in QUOTE_MARKS) if i >= 0]
    return min(ends, default=len(text))


def _clause_start(text: str, end: int, quotes_end_clauses: bool = True) -> int:
    starts = [m.end() for m in _CLAUSE_END.finditer(text, 0, end)]
    starts += (
        []
        if not quotes_end_clauses
        else [text.rfind(mark, 0, end) + 1 for mark in set(QUOTE_MARKS.values()) if text.rfind(mark, 0, end) >= 0]
    )
    return max(starts, default=0)


def _speaker(
    text: str, quote: _Span, cue: _Span, names: dict[str, str], groups, *, quotes_end_clauses: bool = True
) -> tuple[_Span, str, str] | None:
    """The speaker nearest the cue in its clause: a known PERSON name, a group, a pronoun or a capitalised name.

    For a reported quote the clause is the sentence: a quoted fragment before the cue does not end it."""
    if cue.start >= quote.end:  # cue after the quote: speaker between them, or right after the cue
        before = _candidates(text, quote.end, cue.start, names, groups)
        after = _candidates(text, cue.end, _clause_end(text, cue.end), names, groups)[:1]
        found = before[-1:] or [c for c in after if c[0].start == _next_word(text, cue.end)]
    else:  # cue before the quote: the last candidate before the cue in its clause
        clause_start = _clause_start(text, cue.start, quotes_end_clauses)
        found = _candidates(text, clause_start, cue.start, names, groups)[-1:]
    return found[0] if found else None


def _next_word(text: str, at: int) -> int:
    match = _WORD.search(text, at)
    return match.start() if match else -1


def _candidates(text: str, start: int, end: int, names: dict[str, str], groups=()) -> list[tuple[_Span, str, str]]:
    found = [(span, t, "NOM") for span, t in groups if start <= span.start and span.end <= end]
    known = {(s.start, s.end): t for s, t in _known_mentions(text[:end], names) if s.start >= start}
    for (s, e), entity_type in known.items():
        if entity_type == "PERSON":
            found.append((_Span(s, e), "PERSON", "NAM"))
    for run in _capitalised_runs(text, start, end):
        if any(s < run.end and run.start < e for s, e in known):
            continue  # a known name (of any type) is already there
        found.append((run, "PERSON", "NAM"))
    for match in re.finditer(r"(?<!\w)(" + "|".join(SPEAKER_PRONOUNS) + r")(?!\w)", text[start:end]):
        found.append((_Span(start + match.start(), start + match.end()), "PERSON", "PRO"))
    return sorted(found, key=lambda c: c[0].start)


def _capitalised_runs(text: str, start: int, end: int) -> list[_Span]:
    """Runs of capitalised words ("Defense Minister Milos Vucevic"), cut after the last title word."""
    runs: list[list[re.Match]] = []
    for word in _WORD.finditer(text, start, end):
        capital = word.group()[0].isupper() and word.group() not in SPEAKER_PRONOUNS
        if capital and runs and runs[-1] and text[runs[-1][-1].end() : word.start()] == " ":
            runs[-1].append(word)
        elif capital:
            runs.append([word])
        else:
            runs.append([])
    spans = []
    for run in runs:
        titles = [i for i, w in enumerate(run) if w.group() in TITLE_WORDS]
        name = run[titles[-1] + 1 :] if titles else run
        if name and not (len(name) == 1 and _sentence_initial(text, name[0].start())):
            spans.append(_Span(name[0].start(), name[-1].end()))
    return spans


def _sentence_initial(text: str, at: int) -> bool:
    before = text[:at].rstrip()
    return not before or before[-1] in ".!?\n"


# -- names annotated so far ---------------------------------------------------


def known_names(project: Project, articles: list[Article]) -> tuple[dict[str, str], str]:
    """Names annotated so far (NAM mentions) -> entity type: from the exports, else from the latest release."""
    exports = export_paths(project.exports_dir)
    if exports:
        try:
            chosen, _ = read_annotations(exports, {a.doc_id: a for a in articles}, project.schema, project.relative)
            mentions = [m for task in chosen.values() for m in task.layers.entities]
            return known_names_from_layers(mentions), "annotation/exports/"
        except InputError:
            pass  # a broken export is reported by build; fall back to the release
    return _names_from_release(project)


def _names_from_release(project: Project) -> tuple[dict[str, str], str]:
    versions = release_versions(project.corpus_dir)
    if not versions:
        return {}, "no release or export yet"
    release = project.corpus_dir / f"v{versions[-1]}"
    table = read_config(release, "entities", columns=["text", "type", "mention_type"])
    mentions = [_Mention(**row) for row in table.to_pylist()]
    return known_names_from_layers(mentions), project.relative(release)


@dataclass(frozen=True)
class _Mention:
    text: str
    type: str
    mention_type: str
