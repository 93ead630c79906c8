"""schemas/annotation.yaml -> every derived form: Arrow schemas, datasets.Features, Label Studio XML.

Nothing outside this module names a label. The derived files committed in the
repository (the Arrow schema snapshot, the labeling config) are compared with a
fresh derivation by `newscorpus schema --check` and by the tests.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pyarrow as pa
import yaml

from newscorpus.errors import SchemaError

# Matched against the whole string (fullmatch): `$` would let a final newline through.
NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?")
VERSION_PATTERN = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")

# The Label Studio control names. They are part of the export format the
# converter reads, so they are fixed here rather than in the YAML.
ENTITY_CONTROL = "entity"
EVENT_CONTROL = "event"
QUOTE_CONTROL = "quote"
CUE_CONTROL = "cue"
CUE_LABEL = "cue"
MENTION_TYPE_CONTROL = "mention_type"
REALIS_CONTROL = "realis"
TEXT_OBJECT = "text"
REGION_KINDS = (ENTITY_CONTROL, EVENT_CONTROL, QUOTE_CONTROL, CUE_CONTROL)
CONFIGS = ("documents", "entities", "events", "quotes")

PRESENTATION_FILE = "presentation.yaml"  # colours and hotkeys, beside annotation.yaml
HOTKEY_PATTERN = re.compile(r"[a-z0-9]")  # fullmatch
COLOUR_PATTERN = re.compile(r"#[0-9a-f]{6}")  # fullmatch
RESERVED_HOTKEYS = frozenset("u")  # Label Studio's own single keys (u: unselect the region)
UNSTYLED_COLOUR = "#bfbfbf"  # a label not yet in presentation.yaml
_STICKY = (
    "position: sticky; top: 0; z-index: 10; background: #ffffff; padding-bottom: 4px; border-bottom: 1px solid #d9d9d9"
)
_ROW = "display: flex; flex-wrap: wrap; column-gap: 24px; align-items: flex-start"


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class RelationKind:
    label: str
    between: tuple[str, str]
    description: str


@dataclass(frozen=True)
class Presentation:
    """How labels look in Label Studio (schemas/presentation.yaml); reaches no release."""

    hotkeys: dict[str, str] = field(default_factory=dict)  # label -> key
    colours: dict[str, str] = field(default_factory=dict)  # label -> #rrggbb
    relation_colours: dict[str, str] = field(default_factory=dict)  # relation label -> #rrggbb


@dataclass(frozen=True)
class AnnotationSchema:
    schema_version: str
    guideline_version: str
    language: str
    entity_types: dict[str, str]
    mention_types: dict[str, str]
    realis: dict[str, str]
    event_types: dict[str, EventType]
    quote_kinds: dict[str, str]
    relations: dict[str, RelationKind]
    presentation: Presentation = field(default_factory=Presentation, compare=False)

    @cached_property
    def roles(self) -> tuple[str, ...]:
        """Every argument role, in the order of first appearance."""
        seen: dict[str, None] = {}
        for event_type in self.event_types.values():
            seen.update(dict.fromkeys(event_type.roles))
        return tuple(seen)

    @cached_property
    def relation_kinds(self) -> dict[str, RelationKind]:
        """Relation label -> the pair of region kinds it joins (roles included)."""
        kinds = dict(self.relations)
        for role in self.roles:
            kinds[role] = RelationKind(role, (EVENT_CONTROL, ENTITY_CONTROL), f"event argument {role}")
        return kinds

    # -- Arrow ---------------------------------------------------------------
    def arrow_schemas(self) -> dict[str, pa.Schema]:
        """One Arrow schema per release config, with datasets' features in the metadata."""
        span = pa.struct([_req("start", pa.int32()), _req("end", pa.int32()), _req("text", pa.string())])
        entity = [
            _req("id", pa.string()),
            _req("start", pa.int32()),
            _req("end", pa.int32()),
            _req("text", pa.string()),
            _req("type", pa.string()),
            _req("mention_type", pa.string()),
            _req("cluster_id", pa.string()),
        ]
        argument = pa.struct([_req("role", pa.string()), _req("entity_id", pa.string())])
        event = [
            _req("id", pa.string()),
            _req("type", pa.string()),
            _req("realis", pa.string()),
            _req("trigger", span),
            _req("arguments", pa.list_(pa.field("item", argument, nullable=False))),
        ]
        quote = [
            _req("id", pa.string()),
            _req("start", pa.int32()),
            _req("end", pa.int32()),
            _req("text", pa.string()),
            _req("kind", pa.string()),
            pa.field("cue", span),
            pa.field("speaker_id", pa.string()),
            pa.field("speaker", pa.string()),
        ]
        doc_id = _req("doc_id", pa.string())
        documents = [
            doc_id,
            _req("published", pa.date32()),
            _req("published_precision", pa.string()),
            _req("language", pa.string()),
            _req("text", pa.string()),
            _req("text_sha256", pa.string()),
            _req("source_file", pa.string()),
            _req("entities", _list_of(entity)),
            _req("events", _list_of(event)),
            _req("quotes", _list_of(quote)),
            _req("ls_export", pa.string()),
            _req("ls_task_id", pa.int64()),
            _req("ls_annotation_id", pa.int64()),
            _req("annotator_ids", pa.list_(pa.field("item", pa.int64(), nullable=False))),
            _req("guideline_version", pa.string()),
        ]
        fields = {
            "documents": documents,
            "entities": [doc_id, *entity],
            "events": [doc_id, *event],
            "quotes": [doc_id, *quote],
        }
        return {name: _with_features(pa.schema(columns), self.schema_version) for name, columns in fields.items()}

    def features(self) -> dict:
        """datasets.Features per config, derived from the Arrow schemas."""
        from datasets import Features

        return {name: Features.from_arrow_schema(s) for name, s in self.arrow_schemas().items()}

    def arrow_snapshot(self, arrow_schemas: dict[str, pa.Schema] | None = None) -> str:
        """A readable text form of the Arrow schemas (default: this module's), committed as schemas/arrow_schema.txt."""
        lines = [f"# Derived from schemas/annotation.yaml (schema_version {self.schema_version}).", ""]
        lines.append("# Regenerate with `newscorpus schema --write`; do not edit.")
        for name, arrow in (arrow_schemas or self.arrow_schemas()).items():
            lines += ["", f"[{name}]"]
            lines += [line for field in arrow for line in _render_field(field, 0)]
        return "\n".join(lines) + "\n"

    # -- Label Studio --------------------------------------------------------
    def label_config(self) -> str:
        """The Label Studio labeling config (XML): labels and per-region choices above the text, kept in view."""
        look = self.presentation
        out = ["<View>", f"  <!-- Generated from schemas/annotation.yaml {self.schema_version}"]
        out[-1] += f" and schemas/{PRESENTATION_FILE}; do not edit. -->"
        out += ['  <Header value="$doc_id"/>', f'  <View style="{_STICKY}">', f'    <View style="{_ROW}">']
        out += _labels(ENTITY_CONTROL, self.entity_types, look, "Entities")
        out += _labels(EVENT_CONTROL, {k: v.description for k, v in self.event_types.items()}, look, "Events")
        out += _labels(QUOTE_CONTROL, self.quote_kinds, look, "Quotes")
        out += _labels(CUE_CONTROL, {CUE_LABEL: "the words that introduce a quote"}, look, "Cue")
        out += ["    </View>", f'    <View style="{_ROW}">']
        out += _choices(MENTION_TYPE_CONTROL, self.mention_types, "Mention type", self.entity_types)
        out += _choices(REALIS_CONTROL, self.realis, "Realis", self.event_types)
        out += ["    </View>", "  </View>", f'  <Text name="{TEXT_OBJECT}" value="$text" granularity="symbol"/>']
        out.append('  <Relations choice="single">')  # speaker, cue, coref, then the roles
        for label in self.relation_kinds:
            colour = look.relation_colours.get(label, UNSTYLED_COLOUR)
            out.append(f'    <Relation value={quoteattr(label)} background="{colour}"/>')
        out += ["  </Relations>", "</View>"]
        return "\n".join(out) + "\n"

    def as_dict(self) -> dict:
        """Value sets for validation and documentation."""
        return {
            "schema_version": self.schema_version,
            "entity_types": list(self.entity_types),
            "mention_types": list(self.mention_types),
            "realis": list(self.realis),
            "event_types": {k: list(v.roles) for k, v in self.event_types.items()},
            "quote_kinds": list(self.quote_kinds),
            "relations": {k: list(v.between) for k, v in self.relation_kinds.items()},
        }


def _render_field(field: pa.Field, depth: int) -> list[str]:
    type_ = field.type
    null = "" if field.nullable else " not null"
    pad = "  " * depth
    if pa.types.is_struct(type_):
        lines = [f"{pad}{field.name}: struct{null}"]
        for child in type_:
            lines += _render_field(child, depth + 1)
        return lines
    if pa.types.is_list(type_):
        return [f"{pad}{field.name}: list{null}", *_render_field(type_.value_field, depth + 1)]
    return [f"{pad}{field.name}: {type_}{null}"]


def _req(name: str, type_: pa.DataType) -> pa.Field:
    return pa.field(name, type_, nullable=False)


def _list_of(fields: list[pa.Field]) -> pa.DataType:
    return pa.list_(pa.field("item", pa.struct(fields), nullable=False))


def _with_features(arrow: pa.Schema, schema_version: str) -> pa.Schema:
    # datasets reads this key to restore typed features exactly as declared.
    from datasets import Features

    features = Features.from_arrow_schema(arrow)
    info = {"info": {"features": features.to_dict()}}
    return arrow.with_metadata(
        {
            "huggingface": json.dumps(info, sort_keys=True),
            "newscorpus.schema_version": schema_version,
        }
    )


def _labels(control: str, labels: dict[str, str], look: Presentation, header: str) -> list[str]:
    out = ["      <View>", f'        <Header value={quoteattr(header)} size="6"/>']
    out.append(f'        <Labels name="{control}" toName="{TEXT_OBJECT}" showInline="true">')
    for value, hint in labels.items():
        key = f' hotkey="{look.hotkeys[value]}"' if value in look.hotkeys else ""
        colour = look.colours.get(value, UNSTYLED_COLOUR)
        out.append(f'          <Label value={quoteattr(value)} background="{colour}"{key} hint={quoteattr(hint)}/>')
    return [*out, "        </Labels>", "      </View>"]


def _choices(control: str, choices: dict[str, str], title: str, when_labels) -> list[str]:
    when = ",".join(when_labels)
    out = [
        f'      <Choices name="{control}" toName="{TEXT_OBJECT}" perRegion="true" choice="single-radio"'
        f' required="true" requiredMessage="Every region needs a {title.lower()}."'
        f' showInline="true" visibleWhen="region-selected" whenLabelValue="{when}">',
        f'        <Header value={quoteattr(title)} size="6"/>',
    ]
    out += [f"        <Choice value={quoteattr(value)} hint={quoteattr(hint)}/>" for value, hint in choices.items()]
    out.append("      </Choices>")
    return out


def load_presentation(path: Path, labels: list[str], relations: list[str]) -> Presentation:
    """Read and check schemas/presentation.yaml (colours and hotkeys); none there: no styling."""
    if not path.is_file():
        return Presentation()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SchemaError(f"{path}: not valid YAML: {exc}") from None
    problems: list[str] = []
    styles = raw.get("labels") if isinstance(raw, dict) else None
    relation_colours = raw.get("relations") if isinstance(raw, dict) else None
    if not isinstance(styles, dict) or not isinstance(relation_colours, dict):
        raise SchemaError(f"{path}: expected the mappings 'labels' and 'relations'")
    hotkeys, colours = {}, {}
    for label, style in styles.items():
        if label not in labels:
            problems.append(f"label {label!r} is not in annotation.yaml; remove its entry")
        elif not isinstance(style, dict) or set(style) != {"hotkey", "colour"}:
            problems.append(f"label {label}: expected {{hotkey: ..., colour: ...}}")
        else:
            hotkeys[label], colours[label] = str(style["hotkey"]), str(style["colour"]).lower()
    for label in set(relation_colours) - set(relations):
        problems.append(f"relation {label!r} is not in annotation.yaml; remove its entry")
    relation_colours = {k: str(v).lower() for k, v in relation_colours.items() if k in relations}
    bad_keys = sorted(k for k in hotkeys.values() if not HOTKEY_PATTERN.fullmatch(k) or k in RESERVED_HOTKEYS)
    bad_colours = sorted(c for c in [*colours.values(), *relation_colours.values()] if not COLOUR_PATTERN.fullmatch(c))
    for what, values in (("hotkeys", list(hotkeys.values())), ("colours", list(colours.values()))):
        shared = sorted({v for v in values if values.count(v) > 1})
        if shared:
            problems.append(f"{what} shared by two labels: {shared}; give every label its own")
    if bad_keys:
        problems.append(f"hotkeys {bad_keys}: use one lower-case letter or digit, not {sorted(RESERVED_HOTKEYS)}")
    if bad_colours:
        problems.append(f"colours {bad_colours}: use #rrggbb")
    if problems:
        raise SchemaError(f"{path}: " + "; ".join(sorted(problems)))
    return Presentation(hotkeys, colours, relation_colours)


# -- loading ---------------------------------------------------------------


def load_schema(path: Path) -> AnnotationSchema:
    """Read and check schemas/annotation.yaml."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SchemaError(f"{path}: not found; the annotation schema must exist") from None
    except yaml.YAMLError as exc:
        raise SchemaError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise SchemaError(f"{path}: expected a mapping at the top level")
    problems: list[str] = []

    def section(key: str) -> dict:
        value = raw.get(key)
        if not isinstance(value, dict) or not value:
            problems.append(f"'{key}' must be a non-empty mapping")
            return {}
        for name in value:
            if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
                problems.append(f"'{key}': name {name!r} must match {NAME_PATTERN.pattern}")
        return value

    for key in ("schema_version", "guideline_version"):
        if not VERSION_PATTERN.fullmatch(str(raw.get(key, ""))):
            problems.append(f"'{key}' must be a version X.Y.Z, got {raw.get(key)!r}")
    entity_types = {k: str(v) for k, v in section("entity_types").items()}
    mention_types = {k: str(v) for k, v in section("mention_types").items()}
    realis = {k: str(v) for k, v in section("realis").items()}
    quote_kinds = {k: str(v) for k, v in section("quote_kinds").items()}
    event_types: dict[str, EventType] = {}
    for name, spec in section("event_types").items():
        roles = spec.get("roles") if isinstance(spec, dict) else None
        if not isinstance(roles, list) or not roles or len(set(roles)) != len(roles):
            problems.append(f"event type {name}: 'roles' must be a non-empty list without repeats")
            continue
        bad = [r for r in roles if not isinstance(r, str) or not NAME_PATTERN.fullmatch(r)]
        if bad:
            problems.append(f"event type {name}: role names {bad} must match {NAME_PATTERN.pattern}")
        event_types[name] = EventType(name, str(spec.get("description", "")), tuple(roles))
    relations: dict[str, RelationKind] = {}
    for label, spec in section("relations").items():
        between = spec.get("between") if isinstance(spec, dict) else None
        if not isinstance(between, list) or len(between) != 2 or not set(between) <= set(REGION_KINDS):
            problems.append(f"relation {label}: 'between' must name two of {list(REGION_KINDS)}")
            continue
        relations[label] = RelationKind(label, (between[0], between[1]), str(spec.get("description", "")))
    labels = [*entity_types, *event_types, *quote_kinds, CUE_LABEL]
    clashes = sorted({x for x in labels if labels.count(x) > 1})
    if clashes:
        problems.append(f"labels used by two controls: {clashes}; Label Studio needs them distinct")
    role_clash = sorted(set(relations) & {r for e in event_types.values() for r in e.roles})
    if role_clash:
        problems.append(f"relation labels that are also roles: {role_clash}")
    if problems:
        raise SchemaError(f"{path}: " + "; ".join(problems))
    relation_labels = [*relations, *(r for e in event_types.values() for r in e.roles)]
    presentation = load_presentation(path.with_name(PRESENTATION_FILE), labels, relation_labels)
    return AnnotationSchema(
        schema_version=str(raw["schema_version"]),
        guideline_version=str(raw["guideline_version"]),
        language=str(raw.get("language", "en")),
        entity_types=entity_types,
        mention_types=mention_types,
        realis=realis,
        event_types=event_types,
        quote_kinds=quote_kinds,
        relations=relations,
        presentation=presentation,
    )
