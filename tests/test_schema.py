import xml.etree.ElementTree as ET

import pyarrow as pa
import pytest
import yaml
from datasets import List, Value

from newscorpus.errors import SchemaError
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
    assert committed == schema.arrow_snapshot(), "run `newscorpus schema --write` and commit the result"


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
