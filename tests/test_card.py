"""The dataset card: DATACARD.md (structure, generated blocks kept fresh) and each release's README.md as a Hub card."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
from pathlib import Path
from xml.etree import ElementTree

import huggingface_hub
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from datasets import Features
from datasets.info import DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCard, DatasetCardData

from newscorpus.build.builder import build_release
from newscorpus.card.blocks import Snapshot, read_snapshot
from newscorpus.card.figures import bar_chart, figure_files
from newscorpus.card.hub_checks import check_card
from newscorpus.card.render import committed_snapshots, refreshed_datacard, release_readme
from newscorpus.card.usage import rights
from newscorpus.cli import main
from newscorpus.errors import CardError
from newscorpus.project import Project
from newscorpus.release import formats
from newscorpus.release.manifest import read_manifest, release_format
from newscorpus.schema import CONFIGS
from tests.helpers import REPO, copy_project, data_file, tree_bytes
from tests.release_changes import change_inputs

DATACARD = (REPO / "DATACARD.md").read_text(encoding="utf-8")


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def headings(markdown: str) -> list[str]:
    body = re.sub(r"```.*?```", "", markdown, flags=re.DOTALL)  # no comment lines of code blocks
    return [line.strip() for line in body.splitlines() if re.match(r"^#{1,4} ", line)]


def test_datacard_generated_blocks_are_up_to_date(capsys):
    project = Project(REPO)
    assert refreshed_datacard(DATACARD, project.schema, project.corpus_dir) == DATACARD, (
        "DATACARD.md is stale: run `newscorpus card` and commit DATACARD.md"
    )
    assert run(capsys, "--root", str(REPO), "card", "--check") == (
        0,
        "DATACARD.md: generated blocks are up to date\n",
        "",
    )


def test_card_check_fails_when_a_release_is_added_and_card_rewrites_it(tmp_path, capsys):
    project = copy_project(tmp_path / "repo", with_corpus=True)
    change_inputs(project)
    build_release(project, "0.3.0")
    assert run(capsys, "--root", str(project.root), "card", "--check") == (
        1,
        "",
        "error: DATACARD.md: generated blocks are out of date; run `newscorpus card`\n",
    )
    assert run(capsys, "--root", str(project.root), "card") == (0, "rewrote DATACARD.md\n", "")
    assert run(capsys, "--root", str(project.root), "card", "--check")[0] == 0
    text = project.datacard_path.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| rows in `entities` |"))
    committed = len(list((REPO / "corpus").glob("v*")))
    assert row.split("|")[2:-1] == [" 66 "] * committed + [" 70 "], row  # one column per release, the new last
    # only the generated blocks changed
    hand = re.compile(r"<!-- BEGIN GENERATED: (\w+) -->\n.*?<!-- END GENERATED: \1 -->", re.DOTALL)
    assert hand.sub("", text) == hand.sub("", DATACARD)


def test_datacard_follows_the_hub_dataset_card_template():
    template = (Path(huggingface_hub.__file__).parent / "templates" / "datasetcard_template.md").read_text("utf-8")
    wanted = [
        re.sub(r"\{\{.*?\}\}", "newscorpus", h).replace(" [optional]", "")
        for h in headings(template.split("---", 2)[2])
    ]
    found = headings(DATACARD)
    positions = [found.index(h) if h in found else -1 for h in wanted]
    assert -1 not in positions, f"missing sections: {[h for h, p in zip(wanted, positions, strict=True) if p < 0]}"
    assert positions == sorted(positions), "the template's sections are out of order"
    assert "[More Information Needed]" not in DATACARD


@pytest.mark.parametrize(
    ("section", "must_say"),
    [
        ("### Direct Use", ["Named entity recognition", "Event extraction", "Quote attribution"]),
        ("#### Annotation process", ["[`annotation/GUIDELINES.md`](annotation/GUIDELINES.md)", "**Agreement.**"]),
        ("#### Who are the annotators?", ["single annotator"]),
        ("#### Personal and Sensitive Information", ["public figures", "NORP"]),
        ("## Bias, Risks, and Limitations", ["one source", "one region", "English only"]),
        ("## Licensing", ["CC-BY-4.0", "not covered by that licence", "rights status is not documented"]),
        ("#### Data Collection and Processing", ["2023-06-01"]),
        ("## Citation", ["```bibtex"]),
        ("## Version History", ["<!-- BEGIN GENERATED: history -->"]),
    ],
)
def test_datacard_answers_the_questions_of_datasheets_and_data_statements(section, must_say):
    body = DATACARD.split(f"\n{section}\n", 1)[1]
    level = section.split(" ")[0]
    text = re.split(rf"\n#{{1,{len(level)}}} ", body, maxsplit=1)[0]
    missing = [phrase for phrase in must_say if phrase not in text]
    assert missing == [], f"{section} does not say {missing}"


def test_the_guidelines_link_resolves_in_the_repository_and_in_a_release(seed_release):
    assert (REPO / "annotation" / "GUIDELINES.md").is_file()
    copy = seed_release.path / "annotation" / "GUIDELINES.md"
    assert copy.read_bytes() == (REPO / "annotation" / "GUIDELINES.md").read_bytes()
    assert "](annotation/GUIDELINES.md)" in (seed_release.path / "README.md").read_text(encoding="utf-8")


def test_release_readme_is_a_valid_hub_dataset_card(two_releases):
    release = two_releases[1]
    text = (release / "README.md").read_text(encoding="utf-8")
    card = DatasetCard(text)
    assert isinstance(card.data, DatasetCardData)
    data = card.data.to_dict()
    assert data["pretty_name"] == "newscorpus"
    assert data["language"] == ["en"]
    assert data["license"] == "other" and data["license_link"] == "LICENSE.md"
    assert data["license_name"] == "cc-by-4.0-annotations-publisher-copyright-text"
    assert (release / "LICENSE.md").read_text(encoding="utf-8").startswith("# Licensing\n\nThe annotations")
    assert data["task_categories"] == ["token-classification"]
    assert data["size_categories"] == ["n<1K"]
    configs = MetadataConfigs.from_dataset_card_data(card.data)
    names = formats.configs(release_format(read_manifest(release)))  # format 2 adds the derived configs
    assert list(configs) == list(names) and configs.get_default_config_name() == "documents"
    infos = DatasetInfosDict.from_dataset_card_data(card.data)
    for config in names:
        path = release / data_file(config)
        # a pattern, so that a release cut into several shards loads whole
        assert configs[config]["data_files"] == [{"split": "train", "path": f"{config}/train-*.parquet"}]
        assert infos[config].features == Features.from_arrow_schema(pq.read_schema(path))
        assert infos[config].splits["train"].num_examples == pq.ParquetFile(path).metadata.num_rows
    assert check_card(release) == []
    # the body is DATACARD.md's, with its blocks filled for this release and the one before
    assert text.split("---\n", 2)[2].startswith("\n# Dataset Card for newscorpus\n")
    for line in (
        "| | v0.1.0 | v0.2.0 |",
        "| rows in `entities` | 66 | 70 |",
        "| rows in `events` | 16 | 17 |",
        "| quotes with a speaker | 8 | 10 |",
        "| articles published | 2023-06-01 | 2023-06-01 to 2023-06-06 |",
        "| `PERSON` | 12 | 14 |",
        "| `GPE` | 16 | 17 |",
        "| `LOC` | 6 | 5 |",
        "| `FAC` | 2 | 3 |",
        "| `DATE` | 4 | 5 |",
        "| `Contact.Meet` | 0 | 1 |",
        "| `direct` | 4 | 5 |",
        "| `indirect` | 2 | 3 |",
        "- **v0.2.0** (since v0.1.0): 1 document added; entities 4 added, 2 changed; events 1 added;"
        " quotes 2 added; speaker links 2 added.",
        "- **v0.1.0** (first release): 1 document added; entities 66 added; events 16 added; quotes 8 added;"
        " speaker links 8 added.",
    ):
        assert f"\n{line}\n" in text, line


def _edit_front_matter(release: Path, change) -> None:
    path = release / "README.md"
    _, head, body = path.read_text(encoding="utf-8").split("---\n", 2)
    data = yaml.safe_load(head)
    change(data)
    path.write_text("---\n" + yaml.safe_dump(data, sort_keys=False) + "---\n" + body, encoding="utf-8")


def test_check_card_names_what_is_wrong(two_releases, tmp_path):
    release = tmp_path / "v0.2.0"
    shutil.copytree(two_releases[1], release)

    def break_it(data):
        data["size_categories"] = ["tiny"]
        data["language"] = ["english"]
        del data["annotations_creators"]
        data["license_link"] = "LICENCE.txt"
        data["dataset_info"][1]["features"][1]["dtype"] = "int64"  # entities.id
        data["dataset_info"][3]["splits"][0]["num_examples"] = 3
        data["configs"][2]["data_files"][0]["path"] = "events/missing.parquet"

    _edit_front_matter(release, break_it)
    assert check_card(release) == [
        "README.md: metadata 'language' has unknown values ['english']",
        "README.md: metadata 'size_categories' has unknown values ['tiny']",
        "README.md: metadata 'annotations_creators' is missing",
        "README.md: license_link 'LICENCE.txt' is not a file of the release",
        "README.md: config entities: dataset_info features differ from the Parquet schema",
        "README.md: config events: data files ['events/missing.parquet'] not in the release",
        "README.md: config quotes: dataset_info says 3 rows, the files hold 10",
    ]


def test_check_card_refuses_data_files_and_licence_outside_the_release(two_releases, tmp_path):
    release = tmp_path / "v0.2.0"
    shutil.copytree(two_releases[1], release)

    def point_outside(data):
        data["license"], data["license_name"], data["license_link"] = "other", "custom", "../LICENSE.md"
        data["configs"][0]["data_files"][0]["path"] = "/etc/*"
        data["configs"][1]["data_files"][0]["path"] = "../v0.1.0/entities/*.parquet"

    _edit_front_matter(release, point_outside)
    assert check_card(release) == [
        "README.md: license_link '../LICENSE.md' is not a file of the release",
        "README.md: config documents: data files ['/etc/*'] are not paths inside the release",
        "README.md: config entities: data files ['../v0.1.0/entities/*.parquet'] are not paths inside the release",
    ]


def test_datacard_front_matter_mistakes_stop_the_build(project):
    text = project.datacard_path.read_text(encoding="utf-8")
    project.datacard_path.write_text(text.replace("pretty_name: newscorpus\n", "configs: []\n"), encoding="utf-8")
    with pytest.raises(CardError) as caught:
        build_release(project, "0.2.0")
    assert str(caught.value) == (
        "DATACARD.md: the front matter sets 'configs', which the build derives from the data; remove it;"
        " lacks 'pretty_name'"
    )
    project.datacard_path.write_text(text.split("---\n", 2)[2], encoding="utf-8")
    with pytest.raises(CardError, match=r"^DATACARD.md: no YAML front matter; start the file with '---'"):
        build_release(project, "0.2.0")
    assert not project.corpus_dir.exists() or not any(project.corpus_dir.glob("v*"))


def test_generated_blocks_are_not_an_input_of_the_release(tmp_path):
    project = copy_project(tmp_path / "repo")
    first = build_release(project, "0.2.0", corpus_dir=tmp_path / "a").path
    text = project.datacard_path.read_text(encoding="utf-8")
    stale = re.sub(r"(<!-- BEGIN GENERATED: statistics -->\n).*?(<!-- END)", r"\1old figures\n\2", text, flags=re.S)
    assert stale != text
    project.datacard_path.write_text(stale, encoding="utf-8")
    assert tree_bytes(build_release(project, "0.2.0", corpus_dir=tmp_path / "b").path) == tree_bytes(first)
    project.datacard_path.write_text(text.replace("year   = {2026}", "year   = {2027}"), encoding="utf-8")
    third = build_release(project, "0.2.0", corpus_dir=tmp_path / "c").path
    different = sorted(k for k, v in tree_bytes(third).items() if tree_bytes(first)[k] != v)
    assert different == ["README.md", "croissant.json", "manifest.json"]  # the card, its citation, its hash


def test_every_field_of_the_schema_is_described():
    from newscorpus.card import blocks as card_blocks

    fields = card_blocks.fields(Project(REPO).schema)
    for row in (
        "| `events[].arguments[].role` | string, not null | role of the participant: one of `Attacker`,",
        "| `quotes[].cue` | struct | the speech verb that introduces the quote, or null |",
        "| `trigger.start` | int32, not null | first code point in `text` |",
        "| `annotator_ids` | list of int64, not null | Label Studio user ids of the annotators (no names) |",
    ):
        assert f"\n{row}" in fields, row
    documented = dict(card_blocks.FIELD_DOCS)
    del documented["event.realis"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(card_blocks, "FIELD_DOCS", documented)
        with pytest.raises(KeyError, match=r"FIELD_DOCS has no description for event.realis \(field documents"):
            card_blocks.fields(Project(REPO).schema)


# -- format 2: quick start, citation, sizes, figures, rights --------------------------------------

SEED = REPO / "corpus" / "v0.1.2"  # a committed release of the seed article (written in format 1)
SEED_ENTRY = (
    "@misc{newscorpus,\n"
    "  title  = {newscorpus: an annotated news corpus of entities, events and quotes},\n"
    "  author = {{newscorpus maintainers}},\n"
    "  year   = {2026},\n"
)


def seed_readme(release_format: int, datacard: str = DATACARD) -> str:
    """The seed release's README as the build would render it in `release_format` with today's DATACARD.md."""
    project = Project(REPO)
    earlier = committed_snapshots(project.corpus_dir, below="0.1.2")
    return release_readme(project.schema, read_snapshot(SEED), datacard, earlier, release_format)


def block(text: str, name: str) -> str:
    return text.split(f"<!-- BEGIN GENERATED: {name} -->\n", 1)[1].split(f"<!-- END GENERATED: {name} -->", 1)[0]


def bibtex(text: str) -> str:
    return re.search(r"^```bibtex\n(.*?)^```", text, re.DOTALL | re.MULTILINE)[1]


def test_a_format_2_card_loads_its_own_folder_and_cites_its_version():
    text = seed_readme(2)
    quickstart = block(text, "quickstart")
    assert 'quotes = load_dataset("corpus/v0.1.2", "quotes", split="train")' in quickstart
    assert "<repo id>" not in text and "revision=" not in quickstart
    assert bibtex(text) == SEED_ENTRY + "  version = {0.1.2}\n}\n"


def test_a_format_1_card_cites_as_before_and_says_no_size():
    text = seed_readme(1)
    assert bibtex(text) == SEED_ENTRY.removesuffix(",\n") + "\n}\n"
    header = yaml.safe_load(text.split("---\n")[1])
    for info in header["dataset_info"]:
        assert info["splits"][0]["num_bytes"] == 0 and "download_size" not in info and "dataset_size" not in info


def test_a_format_2_card_gives_the_real_sizes_of_the_files():
    header = yaml.safe_load(seed_readme(2).split("---\n")[1])
    infos = {info["config_name"]: info for info in header["dataset_info"]}
    for config in CONFIGS:
        path = SEED / data_file(config)
        meta = pq.ParquetFile(path).metadata
        uncompressed = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        assert uncompressed > 0
        assert infos[config]["splits"] == [{"name": "train", "num_bytes": uncompressed, "num_examples": meta.num_rows}]
        assert infos[config]["dataset_size"] == uncompressed
        assert infos[config]["download_size"] == path.stat().st_size


def test_format_2_needs_the_new_blocks_and_format_1_does_not():
    without = re.sub(r"<!-- BEGIN GENERATED: quickstart -->\n.*?<!-- END GENERATED: quickstart -->\n", "", DATACARD,
                     flags=re.DOTALL)  # fmt: skip
    assert "GENERATED: quickstart" not in without
    assert "GENERATED: quickstart" not in seed_readme(1, without)
    with pytest.raises(CardError, match=r"^DATACARD.md: no generated block 'quickstart'; add the lines"):
        seed_readme(2, without)


FIGURE_NAMES = ["entity-types", "event-types", "mention-types", "quote-kinds", "realis"]
SVG = "{http://www.w3.org/2000/svg}"


def bars(svg_text: str) -> dict[str, int]:
    """label -> bar width, read from the SVG as a viewer would (each bar's tooltip is `label: count`)."""
    root = ElementTree.fromstring(svg_text)
    found = {}
    for rect in root.iter(f"{SVG}rect"):
        title = rect.find(f"{SVG}title")
        if title is not None:
            found[title.text] = int(rect.get("width"))
    return found


def test_figures_are_drawn_from_the_release_and_byte_identical_each_time():
    schema = Project(REPO).schema
    figures = figure_files(schema, read_snapshot(SEED), 2)
    assert figures == figure_files(schema, read_snapshot(SEED), 2)
    assert figure_files(schema, read_snapshot(SEED), 1) == {}  # format 1 has none
    assert sorted(figures) == [f"figures/{name}.svg" for name in FIGURE_NAMES]
    # hand-counted in the seed's entities (66 mentions) and quotes (8): the longest bar is the most frequent label
    assert bars(figures["figures/entity-types.svg"]) == {
        "PERSON: 12": 270, "NORP: 13": 292, "ORG: 13": 292, "GPE: 16": 360, "LOC: 6": 135, "FAC: 2": 45, "DATE: 4": 90,
    }  # fmt: skip
    assert bars(figures["figures/quote-kinds.svg"]) == {"direct: 4": 360, "indirect: 2": 180, "mixed: 2": 180}
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", block(seed_readme(2), "figures"))
    assert images == [f"figures/{name}.svg" for name in ("entity-types", "mention-types", "event-types", "realis")] + [
        "figures/quote-kinds.svg"
    ]


def test_figure_text_is_escaped():
    svg = bar_chart("A & B <test>", [("<x>", 3), ("y", 0)])
    assert ElementTree.fromstring(svg).find(f"{SVG}title").text == "A & B <test>"
    assert bars(svg) == {"<x>: 3": 360, "y: 0": 0}


def test_rights_per_article_say_what_is_recorded_and_not_recorded_otherwise():
    documents = pa.table(
        {
            "doc_id": ["a", "b"],
            "published": [dt.date(2024, 1, 2), dt.date(2024, 3, 4)],
            "url": ["https://example.org/a", None],
            "title": ["A | headline", None],
            "publisher": ["Example News", ""],
            "author": [None, None],
        }
    )
    lines = rights(Snapshot("0.2.0", tables={"documents": documents})).splitlines()
    assert lines[2:] == [
        "| article | published | title | publisher | author | URL |",
        "|---|---|---|---|---|---|",
        "| `a` | 2024-01-02 | A \\| headline | Example News | not recorded | <https://example.org/a> |",
        "| `b` | 2024-03-04 | not recorded | not recorded | not recorded | not recorded |",
    ]
    # a release before provenance columns: nothing recorded for the seed article
    assert block(seed_readme(2), "rights").splitlines()[-1] == (
        "| `000_ef3ea5b0d932693c` | 2023-06-01 | not recorded | not recorded | not recorded | not recorded |"
    )


def test_the_card_check_finds_a_figure_missing_from_the_release(tmp_path):
    release = tmp_path / "v0.1.2"
    shutil.copytree(SEED, release)
    (release / "README.md").write_text(seed_readme(2), encoding="utf-8")
    images = [p for p in check_card(release) if p.startswith("README.md: image")]
    assert images == [f"README.md: image 'figures/{name}.svg' is not a file of the release" for name in
                      ("entity-types", "mention-types", "event-types", "realis", "quote-kinds")]  # fmt: skip
    for name, text in figure_files(Project(REPO).schema, read_snapshot(release), 2).items():
        (release / name).parent.mkdir(exist_ok=True)
        (release / name).write_text(text, encoding="utf-8")
    assert [p for p in check_card(release) if p.startswith("README.md: image")] == []


def test_a_format_2_release_carries_its_figures_and_lists_them_in_its_manifest(two_releases):
    release = two_releases[1]
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format", 1) < 2:
        pytest.skip("the build writes format 1, which has no figures")
    outputs = {entry["path"]: entry["sha256"] for entry in manifest["outputs"]}
    for name in FIGURE_NAMES:
        path = release / "figures" / f"{name}.svg"
        assert outputs[f"figures/{name}.svg"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert path.read_text(encoding="utf-8").startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert check_card(release) == []
