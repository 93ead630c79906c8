"""The typed annotation records of one document: entity mentions, events, quotes.

What `regions` makes of a Label Studio result and what the build turns into Arrow rows.
Offsets are code points into the document text, end-exclusive; records never change after
they are made. A leaf of the stage: imports nothing from the package.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class EntityMention:
    id: str
    start: int
    end: int
    text: str
    type: str
    mention_type: str
    cluster_id: str


@dataclass(frozen=True)
class Argument:
    role: str
    entity_id: str


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    realis: str
    trigger: Span
    arguments: tuple[Argument, ...]


@dataclass(frozen=True)
class Quote:
    id: str
    start: int
    end: int
    text: str
    kind: str
    cue: Span | None
    speaker_id: str | None
    speaker: str | None


@dataclass(frozen=True)
class Layers:
    entities: tuple[EntityMention, ...]
    events: tuple[Event, ...]
    quotes: tuple[Quote, ...]
