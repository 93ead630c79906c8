"""The gate bites: each test corrupts a copy of a valid release in exactly one way and checks
that exactly the matching expectation fails, with the right ids in the report, on each engine
(pandas, and Spark in the test run's one local session).

A corruption rewrites the Parquet with pyarrow, the same change in the nested `documents`
config and in the flat config (as a build would have written it), then brings the
manifest's checksums up to date, so that the one defect is all that is wrong.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newscorpus.build.builder import build_release
from newscorpus.project import Project
from newscorpus.validation.pandas_engine import validate_release
from newscorpus.validation.spark_engine import validate_release_spark
from tests.helpers import (
    REPO,
    SEED_ID,
    copy_release,
    data_file,
    edit_record,
    edit_rows,
    project_for,
    write_table,
)

TODAY = dt.date(2026, 11, 29)
ENTITIES = "entities/train-00000-of-00001.parquet"


@dataclass(frozen=True)
class Engine:
    """Where the suites run: every corruption must fail the same expectation on each engine."""

    name: str
    spark: object = None

    def failures(self, release: Path) -> list[str]:
        """The first line of each failing expectation's report, in suite order."""
        if self.name == "spark":
            validation = validate_release_spark(Project(REPO), release, spark=self.spark, today=TODAY)
        else:
            validation = validate_release(Project(REPO), release, today=TODAY)
        return [outcome.lines()[0] for outcome in validation.failures]


@pytest.fixture(params=["pandas", pytest.param("spark", marks=pytest.mark.spark)])
def engine(request) -> Engine:
    return Engine("spark", request.getfixturevalue("spark")) if request.param == "spark" else Engine("pandas")


def shift(span: dict) -> dict:
    return {**span, "start": span["start"] + 1, "end": span["end"] + 1}


# -- the committed release passes; the helpers alone change nothing ------------------


def test_an_untouched_copy_passes(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_record(release, "entities", "e05")  # rewritten through the helpers, unchanged
    assert engine.failures(release) == []


# -- columns and types ---------------------------------------------------------------


def test_a_column_of_another_type(tmp_path, engine):
    release = copy_release(tmp_path)
    table = pq.read_table(release / ENTITIES)
    index = table.schema.get_field_index("start")
    write_table(release, "entities", table.set_column(index, "start", table.column("start").cast(pa.int64())))
    seen = {"pandas": "int64", "spark": "LongType"}[engine.name]  # each engine names the type it sees
    head = f"FAILED entities.start.type: type {seen}, expected one of Int32Dtype, IntegerType"
    assert engine.failures(release) == [head]


def test_a_string_column_stored_as_large_string(tmp_path, engine):
    release = copy_release(tmp_path)
    table = pq.read_table(release / data_file("quotes"))
    index = table.schema.get_field_index("speaker")
    write_table(release, "quotes", table.set_column(index, "speaker", table.column("speaker").cast(pa.large_string())))
    # Parquet stores both as one string type, so Spark's column type hides it; the Spark engine reads
    # the Arrow schema pyarrow keeps in the file's footer and names the stored type.
    seen = {"pandas": "str", "spark": "large_string"}[engine.name]
    head = f"FAILED quotes.speaker.type: type {seen}, expected one of StringDtype, StringType"
    assert engine.failures(release) == [head]


def test_an_extra_column(tmp_path, engine):
    release = copy_release(tmp_path)
    table = pq.read_table(release / data_file("quotes"))
    write_table(release, "quotes", table.append_column("note", pa.array(["x"] * table.num_rows)))
    assert engine.failures(release) == ["FAILED quotes.columns: missing columns [], unexpected columns ['note']"]


def test_a_renamed_column_is_reported_not_a_crash(tmp_path, engine):
    release = copy_release(tmp_path)
    table = pq.read_table(release / data_file("events"))
    write_table(
        release, "events", table.rename_columns(["modality" if c == "realis" else c for c in table.column_names])
    )
    heads = engine.failures(release)
    missing = 'could not be evaluated: Error: The column "realis" in BatchData does not exist.'
    assert heads[:2] == [
        f"FAILED documents.events.match_flat: 1 of 1 rows: doc_id={SEED_ID}",  # the flat rows lack realis
        "FAILED events.columns: missing columns ['realis'], unexpected columns ['modality']",
    ]
    assert heads[2].startswith("FAILED events.realis.type: could not be evaluated: ")
    assert heads[3:] == [f"FAILED events.realis.not_null: {missing}", f"FAILED events.realis.in_schema: {missing}"]


# -- non-null and unique ids ---------------------------------------------------------


def test_a_null_id(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_record(release, "events", "v10", id=None)  # v10 has no arguments that would name it
    assert engine.failures(release) == [f"FAILED events.id.not_null: 1 of 15 rows: doc_id={SEED_ID} id=null"]


def test_a_repeated_mention_id(tmp_path, engine):
    release = copy_release(tmp_path)

    def repeat(records):
        records.append(dict(next(r for r in records if r["id"] == "e12")))

    edit_rows(release, "entities", repeat)
    edit_rows(release, "documents", lambda docs: repeat(docs[0]["entities"]))
    assert engine.failures(release) == [
        f"FAILED entities.id.unique: 2 of 67 rows: doc_id={SEED_ID} id=e12; doc_id={SEED_ID} id=e12"
    ]


def test_a_repeated_doc_id(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_rows(release, "documents", lambda docs: docs.append(dict(docs[0])))
    head = f"FAILED documents.doc_id.unique: 2 of 2 rows: doc_id={SEED_ID}; doc_id={SEED_ID}"
    assert engine.failures(release) == [head]


# -- span bounds and span text ----------------------------------------------------------


def test_a_span_ending_after_the_text(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_record(release, "entities", "e64", end=1905 + 3)  # the text has 1905 code points
    assert engine.failures(release) == [f"FAILED entities.end.within_text: 1 of 66 rows: doc_id={SEED_ID} id=e64"]


def test_a_negative_start(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_record(release, "entities", "e01", start=-1)
    assert engine.failures(release) == [f"FAILED entities.start.not_negative: 1 of 66 rows: doc_id={SEED_ID} id=e01"]


def test_an_end_before_the_start(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_record(release, "entities", "e02", start=84, end=77)
    assert engine.failures(release) == [f"FAILED entities.end.after_start: 1 of 66 rows: doc_id={SEED_ID} id=e02"]


def test_a_shifted_mention(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_record(release, "entities", "e05", start=lambda s: s + 1, end=lambda e: e + 1)
    assert engine.failures(release) == [f"FAILED entities.span.matches_text: 1 of 66 rows: doc_id={SEED_ID} id=e05"]


def test_a_shifted_trigger(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_record(release, "events", "v03", trigger=shift)
    assert engine.failures(release) == [f"FAILED events.trigger.matches_text: 1 of 15 rows: doc_id={SEED_ID} id=v03"]


def test_a_shifted_cue(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_record(release, "quotes", "q01", cue=shift)
    assert engine.failures(release) == [f"FAILED quotes.cue.matches_text: 1 of 8 rows: doc_id={SEED_ID} id=q01"]


def test_a_cue_past_the_text(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_record(release, "quotes", "q08", cue=lambda c: {**c, "end": 2000})
    assert engine.failures(release) == [f"FAILED quotes.cue_end.within_text: 1 of 8 rows: doc_id={SEED_ID} id=q08"]


def test_quote_text_that_is_not_the_slice(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_record(release, "quotes", "q02", text=lambda t: t.replace("Serbia", "Serbia,"))
    assert engine.failures(release) == [f"FAILED quotes.span.matches_text: 1 of 8 rows: doc_id={SEED_ID} id=q02"]


def test_offsets_are_code_points(tmp_path, engine):
    """In a text with non-ASCII letters, a span off by the UTF-8 byte count of 'š' fails."""
    release = build_golden(tmp_path, "unicode_pronoun_speaker")
    text = pq.read_table(release / data_file("documents")).column("text")[0].as_py()
    start = text.index("Ana Đurić")
    assert len(text[:start].encode("utf-8")) > start  # bytes and code points differ before it
    edit_record(release, "entities", "E2", doc_id="u1", start=start + 1, end=start + 1 + len("Ana Đurić"))
    assert engine.failures(release) == ["FAILED entities.span.matches_text: 1 of 8 rows: doc_id=u1 id=E2"]


# -- labels, event types, roles, quote kinds within the schema ---------------------------


@pytest.mark.parametrize(
    ("layer", "record_id", "change", "expected"),
    [
        ("entities", "e10", {"type": "COUNTRY"}, "entities.type.in_schema: 1 of 66 rows: doc_id={} id=e10"),
        (
            "entities",
            "e11",
            {"mention_type": "NAME"},
            "entities.mention_type.in_schema: 1 of 66 rows: doc_id={} id=e11",
        ),
        ("events", "v10", {"type": "Conflict.Riot"}, "events.type.in_schema: 1 of 15 rows: doc_id={} id=v10"),
        ("events", "v04", {"realis": "maybe"}, "events.realis.in_schema: 1 of 15 rows: doc_id={} id=v04"),
        ("quotes", "q05", {"kind": "paraphrase"}, "quotes.kind.in_schema: 1 of 8 rows: doc_id={} id=q05"),
    ],
)
def test_a_label_outside_the_schema(tmp_path, layer, record_id, change, expected, engine):
    release = copy_release(tmp_path)
    edit_record(release, layer, record_id, **change)
    assert engine.failures(release) == ["FAILED " + expected.format(SEED_ID)]


def test_a_role_not_allowed_for_the_event_type(tmp_path, engine):
    release = copy_release(tmp_path)
    # Victim is a role of the schema, but not of Conflict.Attack.
    edit_record(release, "events", "v02", arguments=lambda args: [{**args[0], "role": "Victim"}, *args[1:]])
    assert engine.failures(release) == [
        "FAILED event_arguments.role.allowed_for_event_type: 1 of 30 rows:"
        f" doc_id={SEED_ID} event_id=v02 role=Victim entity_id=e13"
    ]


def test_a_role_unknown_to_the_schema_fails_both_role_checks(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_record(release, "events", "v08", arguments=[{"role": "Bystander", "entity_id": "e27"}])
    sample = f"doc_id={SEED_ID} event_id=v08 role=Bystander entity_id=e27"
    assert engine.failures(release) == [
        f"FAILED event_arguments.role.in_schema: 1 of 30 rows: {sample}",
        f"FAILED event_arguments.role.allowed_for_event_type: 1 of 30 rows: {sample}",
    ]


def test_a_language_and_a_precision_outside_the_schema(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_rows(release, "documents", lambda docs: docs[0].update(language="fr", published_precision="week"))
    assert engine.failures(release) == [
        f"FAILED documents.published_precision.in_set: 1 of 1 rows: doc_id={SEED_ID}",
        f"FAILED documents.language.in_schema: 1 of 1 rows: doc_id={SEED_ID}",
    ]


def test_a_version_with_a_final_newline(tmp_path, engine):
    # `$` matches before a final newline (in Python and Java): the suites' regexes must not let it through.
    release = copy_release(tmp_path)
    edit_rows(release, "documents", lambda docs: docs[0].update(guideline_version="1.0.0\n"))
    assert engine.failures(release) == [f"FAILED documents.guideline_version.pattern: 1 of 1 rows: doc_id={SEED_ID}"]


# -- references ----------------------------------------------------------------------------


def test_a_dangling_speaker(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_record(release, "quotes", "q03", speaker_id="e99")
    assert engine.failures(release) == [f"FAILED quotes.speaker_id.in_document: 1 of 8 rows: doc_id={SEED_ID} id=q03"]


def test_a_speaker_that_is_not_the_chain_name(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_record(release, "quotes", "q03", speaker="Peskov")  # the chain's head is "Dmitry Peskov"
    assert engine.failures(release) == [f"FAILED quotes.speaker.names_chain: 1 of 8 rows: doc_id={SEED_ID} id=q03"]


def test_a_dangling_argument(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_record(release, "events", "v08", arguments=[{"role": "Victim", "entity_id": "e99"}])
    assert engine.failures(release) == [
        "FAILED event_arguments.entity_id.in_document: 1 of 30 rows:"
        f" doc_id={SEED_ID} event_id=v08 role=Victim entity_id=e99"
    ]


def test_a_dangling_cluster_id(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_record(release, "entities", "e07", cluster_id="e99")
    head = f"FAILED entities.cluster_id.in_document: 1 of 66 rows: doc_id={SEED_ID} id=e07"
    assert engine.failures(release) == [head]


def test_a_cluster_id_that_is_no_chain_head(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_record(release, "entities", "e07", cluster_id="e08")  # e08 exists, but its chain's head is e01
    head = f"FAILED entities.cluster_id.is_chain_head: 1 of 66 rows: doc_id={SEED_ID} id=e07"
    assert engine.failures(release) == [head]


def test_a_reference_into_another_document(tmp_path, engine):
    release = build_golden(tmp_path, "newest_export_wins")  # c1 has mentions B and N, c2 has P
    edit_record(release, "entities", "P", doc_id="c2", cluster_id="B")
    assert engine.failures(release) == ["FAILED entities.cluster_id.in_document: 1 of 3 rows: doc_id=c2 id=P"]


def build_golden(tmp_path: Path, case: str) -> Path:
    # Format 1: each bite edits one config and expects one failure; format 2's derived configs (chains,
    # event_arguments) repeat the records, so their suites would report the same edit a second time.
    project = project_for(REPO / "tests" / "golden" / case, tmp_path / "repo")
    built = build_release(project, "1.0.0", release_format=1).path
    return copy_release(tmp_path / "copy", built)


# -- documents: checksum and date ---------------------------------------------------------


def test_a_text_sha256_that_does_not_match(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_rows(release, "documents", lambda docs: docs[0].update(text_sha256="0" * 64))
    assert engine.failures(release) == [f"FAILED documents.text_sha256.matches_text: 1 of 1 rows: doc_id={SEED_ID}"]


@pytest.mark.parametrize("published", [TODAY + dt.timedelta(days=1), dt.date(1, 1, 1), dt.date(9999, 12, 31)])
def test_a_date_in_the_future_or_no_real_date(tmp_path, published, engine):
    release = copy_release(tmp_path)
    edit_rows(release, "documents", lambda docs: docs[0].update(published=published))
    assert engine.failures(release) == [f"FAILED documents.published.in_range: 1 of 1 rows: doc_id={SEED_ID}"]


def test_a_date_that_does_not_fit_its_precision(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_rows(release, "documents", lambda docs: docs[0].update(published_precision="year"))  # 2023-06-01
    assert engine.failures(release) == [f"FAILED documents.published.matches_precision: 1 of 1 rows: doc_id={SEED_ID}"]


# -- nested and flat configs agree ---------------------------------------------------------


def test_a_flat_row_too_many(tmp_path, engine):
    release = copy_release(tmp_path)
    extra = lambda rows: rows.append({**next(r for r in rows if r["id"] == "e12"), "id": "e99"})  # noqa: E731
    edit_rows(release, "entities", extra)
    assert engine.failures(release) == [f"FAILED documents.entities.count_matches_flat: 1 of 1 rows: doc_id={SEED_ID}"]


def test_a_flat_row_missing(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_rows(release, "quotes", lambda rows: rows.remove(next(r for r in rows if r["id"] == "q08")))
    assert engine.failures(release) == [f"FAILED documents.quotes.count_matches_flat: 1 of 1 rows: doc_id={SEED_ID}"]


def test_a_flat_record_that_differs_from_the_nested_one(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_record(release, "entities", "e10", nested=False, type="LOC")  # valid, but not what documents says
    assert engine.failures(release) == [f"FAILED documents.entities.match_flat: 1 of 1 rows: doc_id={SEED_ID}"]


def test_a_flat_event_that_lost_an_argument(tmp_path, engine):
    release = copy_release(tmp_path)
    edit_record(release, "events", "v01", nested=False, arguments=lambda args: args[:2])
    assert engine.failures(release) == [f"FAILED documents.events.match_flat: 1 of 1 rows: doc_id={SEED_ID}"]


# -- the manifest against the files ------------------------------------------------------


def edit_manifest(release: Path, change: Callable[[dict], None]) -> None:
    path = release / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(next(e for e in manifest["outputs"] if e["path"] == ENTITIES))
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")


@pytest.mark.parametrize(
    ("field", "value", "check"),
    [("sha256", "0" * 64, "sha256_matches"), ("bytes", 1, "bytes_match"), ("rows", 65, "rows_match")],
)
def test_a_manifest_entry_that_does_not_match_its_file(tmp_path, field, value, check, engine):
    release = copy_release(tmp_path)
    edit_manifest(release, lambda entry: entry.update({field: value}))
    assert engine.failures(release) == [f"FAILED manifest.files.{check}: 1 of 5 rows: path={ENTITIES}"]


def test_a_file_the_manifest_does_not_list(tmp_path, engine):
    release = copy_release(tmp_path)
    (release / "notes.txt").write_text("stray", encoding="utf-8")
    assert engine.failures(release) == ["FAILED manifest.files.listed: 1 of 6 rows: path=notes.txt"]


def test_a_listed_file_that_is_missing(tmp_path, engine):
    release = copy_release(tmp_path)
    (release / "README.md").unlink()
    assert engine.failures(release) == ["FAILED manifest.files.present: 1 of 5 rows: path=README.md"]
