import shutil
import xml.etree.ElementTree as ET

import pyarrow as pa
import pytest
import yaml
from datasets import List, Value

from newscorpus.errors import SchemaError
from newscorpus.release.formats import arrow_snapshot
from newscorpus.schema import load_schema
from tests.helpers import REPO

RAW = yaml.safe_load((REPO / "schemas" / "annotation.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def schema():
    return load_schema(REPO / "schemas" / "annotation.yaml")


def test_committed_label_config_is_up_to_date(schema):
    committed = (REPO / "annotation" / "label_config.xml").read_text(encoding="utf-8")
    assert committed == schema.label_config(), "run `newscorpus schema --write` and commit the result"


def test_committed_arrow_snapshot_is_up_to_date(schema):
    committed = (REPO / "schemas" / "arrow_schema.txt").read_text(encoding="utf-8")
    assert committed == arrow_snapshot(schema), "run `newscorpus schema --write` and commit the result"


def test_issue_minimum_labels_are_defined():
    assert {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC"} <= set(RAW["entity_types"])
    assert set(RAW["mention_types"]) == {"NAM", "NOM", "PRO"}
    assert set(RAW["quote_kinds"]) == {"direct", "indirect", "mixed"}
    required = {
        "Conflict.Attack",
        "Conflict.Demonstrate",
        "Life.Injure",
        "Life.Die",
        "Movement.Transport",
        "Personnel.Elect",
        "Contact.Meet",
        "Justice.Arrest",
    }
    assert required <= set(RAW["event_types"])
    assert all(spec["roles"] for spec in RAW["event_types"].values())
    assert {"speaker", "cue", "coref"} <= set(RAW["relations"])


def test_label_config_offers_exactly_the_yaml_labels():
    # Read the XML independently of the code that wrote it.
    root = ET.fromstring((REPO / "annotation" / "label_config.xml").read_text(encoding="utf-8"))
    labels = {el.get("name"): [x.get("value") for x in el.iter("Label")] for el in root.iter("Labels")}
    choices = {el.get("name"): [x.get("value") for x in el.iter("Choice")] for el in root.iter("Choices")}
    relations = [el.get("value") for el in root.iter("Relation")]
    assert labels == {
        "entity": list(RAW["entity_types"]),
        "event": list(RAW["event_types"]),
        "quote": list(RAW["quote_kinds"]),
        "cue": ["cue"],
    }
    assert choices == {"mention_type": list(RAW["mention_types"]), "realis": list(RAW["realis"])}
    roles = {role for spec in RAW["event_types"].values() for role in spec["roles"]}
    assert set(relations) == set(RAW["relations"]) | roles and len(relations) == len(set(relations))
    for element in root.iter("Choices"):
        assert element.get("perRegion") == "true"


def test_label_studio_sdk_reads_the_config():
    from label_studio_sdk.label_interface import LabelInterface

    interface = LabelInterface((REPO / "annotation" / "label_config.xml").read_text(encoding="utf-8"))
    controls = {c.name: c for c in interface.controls}
    assert set(controls) == {"entity", "event", "quote", "cue", "mention_type", "realis"}
    assert set(controls["entity"].labels) == set(RAW["entity_types"])


def test_arrow_schema_and_features(schema):
    arrow = schema.arrow_schemas()
    assert arrow["documents"].field("published").type == pa.date32()
    assert arrow["entities"].names == ["doc_id", "id", "start", "end", "text", "type", "mention_type", "cluster_id"]
    assert arrow["quotes"].field("speaker").nullable and not arrow["quotes"].field("id").nullable
    features = schema.features()
    assert features["documents"]["published"] == Value("date32")
    assert isinstance(features["documents"]["entities"], List)
    assert isinstance(features["documents"]["events"].feature["arguments"], List)
    assert features["events"]["trigger"] == {"start": Value("int32"), "end": Value("int32"), "text": Value("string")}


def write_schema(tmp_path, **changes):
    raw = yaml.safe_load((REPO / "schemas" / "annotation.yaml").read_text(encoding="utf-8"))
    raw.update(changes)
    path = tmp_path / "annotation.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_schema_errors_are_collected(tmp_path):
    path = write_schema(
        tmp_path,
        schema_version="1.0",
        quote_kinds={"direct": "x", "PERSON": "clash"},
        event_types={"Conflict.Attack": {"roles": ["Attacker", "Attacker"]}},
    )
    with pytest.raises(SchemaError) as caught:
        load_schema(path)
    assert str(caught.value) == (
        f"{path}: 'schema_version' must be a version X.Y.Z, got '1.0'; event type Conflict.Attack: 'roles' must be"
        " a non-empty list without repeats; labels used by two controls: ['PERSON']; Label Studio needs them distinct"
    )


def test_label_names_cannot_carry_markup(tmp_path):
    path = write_schema(tmp_path, entity_types={"PERSON": "x", '"/><Evil': "y"})
    with pytest.raises(SchemaError, match="name '\"/><Evil' must match"):
        load_schema(path)


def test_schema_yaml_is_loaded_safely(tmp_path):
    path = tmp_path / "annotation.yaml"
    path.write_text("!!python/object/apply:os.system ['echo hacked']\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="not valid YAML"):
        load_schema(path)


# -- presentation: colours, hotkeys, layout (schemas/presentation.yaml) --------------------


def _lab(colour: str) -> tuple[float, float, float]:
    """sRGB #rrggbb -> CIELAB (D65), to measure how far apart two colours look."""
    rgb = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = [((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92 for c in rgb]
    xyz = ((r * 0.4124 + g * 0.3576 + b * 0.1805) / 0.95047, r * 0.2126 + g * 0.7152 + b * 0.0722)
    xyz += ((r * 0.0193 + g * 0.1192 + b * 0.9505) / 1.08883,)
    x, y, z = [v ** (1 / 3) if v > 0.008856 else 7.787 * v + 16 / 116 for v in xyz]
    return 116 * y - 16, 500 * (x - y), 200 * (y - z)


def _config_labels():
    root = ET.fromstring((REPO / "annotation" / "label_config.xml").read_text(encoding="utf-8"))
    return root, [label for labels in root.iter("Labels") for label in labels.iter("Label")]


def test_every_label_has_its_own_hotkey_and_colour():
    _, labels = _config_labels()
    names = [*RAW["entity_types"], *RAW["event_types"], *RAW["quote_kinds"], "cue"]
    assert [label.get("value") for label in labels] == names
    hotkeys = [label.get("hotkey") for label in labels]
    colours = [label.get("background") for label in labels]
    assert all(hotkeys) and len(set(hotkeys)) == len(hotkeys), hotkeys
    assert all(colours) and len(set(colours)) == len(colours), colours
    assert "u" not in hotkeys  # Label Studio's own key: unselect the region


def test_label_colours_are_far_apart_and_quotes_are_pale():
    _, labels = _config_labels()
    colour = {label.get("value"): label.get("background") for label in labels}
    lab = {name: _lab(c) for name, c in colour.items()}
    closest = min(
        (sum((p - q) ** 2 for p, q in zip(lab[a], lab[b], strict=True)) ** 0.5, a, b) for a in lab for b in lab if a < b
    )
    assert closest[0] >= 30, f"{closest[1]} and {closest[2]} look alike (ΔE {closest[0]:.1f})"
    for kind in RAW["quote_kinds"]:  # a pale background keeps the entities inside a quote readable
        assert lab[kind][0] >= 85, f"quote {kind}: lightness {lab[kind][0]:.0f} < 85"


def test_choices_stand_with_the_labels_before_the_text_and_relations_are_ordered():
    root, _ = _config_labels()
    order = [el.tag for el in root.iter() if el.tag in ("Labels", "Choices", "Text")]
    assert order == ["Labels"] * 4 + ["Choices"] * 2 + ["Text"]
    relations = root.find("Relations")
    values = [el.get("value") for el in relations.iter("Relation")]
    assert values[:3] == ["speaker", "cue", "coref"]
    assert relations.get("choice") == "single"
    assert all(el.get("background") for el in relations.iter("Relation"))
    assert len({el.get("background") for el in relations.iter("Relation")}) == len(values)
    for el in relations.iter("Relation"):  # the menu writes dark text on the colour
        assert _lab(el.get("background"))[0] >= 75, el.get("value")


def test_hotkeys_stay_put_when_a_label_is_added(tmp_path):
    raw = dict(RAW, entity_types={"EVENT": "A named event.", **RAW["entity_types"]})
    path = tmp_path / "annotation.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    shutil.copy(REPO / "schemas" / "presentation.yaml", tmp_path / "presentation.yaml")
    before = {el.get("value"): el.get("hotkey") for el in _config_labels()[1]}
    root = ET.fromstring(load_schema(path).label_config())
    after = {el.get("value"): el.get("hotkey") for el in root.iter("Label")}
    assert after == {**before, "EVENT": None}  # no key until presentation.yaml gives it one


def test_presentation_errors_are_collected(tmp_path):
    write_schema(tmp_path)
    look = yaml.safe_load((REPO / "schemas" / "presentation.yaml").read_text(encoding="utf-8"))
    look["labels"]["NORP"] = {"hotkey": "p", "colour": "#e6194b"}  # PERSON's
    look["labels"]["GPE"]["hotkey"] = "u"
    look["labels"]["Ghost"] = {"hotkey": "z", "colour": "#123456"}
    look["relations"]["speaker"] = "red"
    (tmp_path / "presentation.yaml").write_text(yaml.safe_dump(look), encoding="utf-8")
    with pytest.raises(SchemaError) as caught:
        load_schema(tmp_path / "annotation.yaml")
    assert str(caught.value) == (
        f"{tmp_path / 'presentation.yaml'}: colours ['red']: use #rrggbb; colours shared by two labels: ['#e6194b'];"
        " give every label its own; hotkeys ['u']: use one lower-case letter or digit, not ['u'];"
        " hotkeys shared by two labels: ['p']; give every label its own;"
        " label 'Ghost' is not in annotation.yaml; remove its entry"
    )
