"""croissant.json: MLCommons Croissant 1.0 metadata (JSON-LD) for a release folder.

One FileObject per Parquet file (with its sha256) and one RecordSet per config,
whose fields mirror the Arrow schema: a struct column becomes a field with
sub-fields, a list column a `repeated` field. Everything is derived from the
files and the schema, and written with sorted keys, so the file is
deterministic like the rest of the release.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from newscorpus.card.croissant_links import (
    FIRST_FORMAT_WITH_LINKS,
    NESTED_WARNING,
    add_references,
    creator,
    date_published,
)
from newscorpus.card.datacard import citation, license_text, split_card, summary
from newscorpus.card.usage import cite, dataset_url
from newscorpus.files import file_digest
from newscorpus.release import formats
from newscorpus.release.manifest import SHA256_PATTERN, file_problem, json_kind, member_problem
from newscorpus.release.shards import config_pattern
from newscorpus.schema import AnnotationSchema

CONFORMS_TO = "http://mlcommons.org/croissant/1.0"
FILE_NAME = "croissant.json"
PARQUET = "application/x-parquet"

# The standard @context of Croissant 1.0 (as in the specification's examples).
CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

RECORD_SET_DESCRIPTIONS = {
    "documents": "One record per article, with its entity mentions, events and quotes nested in it.",
    "entities": "One record per entity mention, with the doc_id of its article.",
    "events": "One record per event, with the doc_id of its article.",
    "quotes": "One record per quote, with the doc_id of its article.",
    "tokens": "One record per sentence: its tokens, their offsets and IOB2 entity tags (ClassLabel ids).",
    "chains": "One record per coreference chain, with its canonical name and its mentions.",
    "event_arguments": "One record per event argument, with its mention's text and its chain's canonical name.",
}
# Besides doc_id, the fields that name a record of a config with no `id` of its own.
RECORD_KEYS = {
    "tokens": ("sentence_index",),
    "chains": ("cluster_id",),
    "event_arguments": ("event_id", "role", "entity_id"),
}


def _data_type(type_: pa.DataType) -> str:
    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        return "sc:Text"
    if pa.types.is_integer(type_):
        return "sc:Integer"
    if pa.types.is_floating(type_):
        return "sc:Float"
    if pa.types.is_boolean(type_):
        return "sc:Boolean"
    if pa.types.is_date(type_):
        return "sc:Date"
    raise TypeError(f"no Croissant data type for Arrow type {type_}")


def _fields(
    fields: pa.StructType | pa.Schema,
    parent_id: str,
    file: tuple[str, str],
    column: str | None,
    path: str,
    repeated: bool,
) -> list[dict]:
    """Croissant fields for Arrow fields. Inside a column, values are reached with a JSONPath from the column."""
    out = []
    for field in fields:
        field_id = f"{parent_id}/{field.name}"
        source_column = column or field.name
        json_path = f"{path}.{field.name}" if column else None
        node: dict = {"@type": "cr:Field", "@id": field_id, "name": field.name}
        type_ = field.type
        item_repeated = repeated
        if pa.types.is_list(type_):
            type_ = type_.value_type
            item_repeated = True
        if pa.types.is_struct(type_):
            inner_path = "$" if column is None else json_path
            if pa.types.is_list(field.type) and column is not None:
                inner_path += "[*]"
            node["subField"] = _fields(type_, field_id, file, source_column, inner_path, item_repeated)
        else:
            node["dataType"] = _data_type(type_)
            node["source"] = {file[0]: {"@id": file[1]}, "extract": {"column": source_column}}
            if json_path:
                node["source"]["transform"] = {"jsonPath": json_path.removeprefix("$.")}
        if item_repeated:
            node["repeated"] = True
        out.append(node)
    return out


def _file_id(config: str) -> str:
    return f"{config}-parquet"


def document(
    folder: Path,
    schema: AnnotationSchema,
    version: str,
    data_files: dict[str, list[str]],
    metadata: dict,
    description: str,
    licensing: str,
    citation: str | None,
    release_format: int = 1,
) -> dict:
    """The Croissant JSON-LD for the release in `folder` (its Parquet files must be written).

    A config in one file is a FileObject; a config cut into shards is a FileSet (its
    `<config>/train-*.parquet` pattern) beside one FileObject per shard with its sha256.
    From format 2 on it also has `references`, `creator`, `datePublished`, the citation with
    the version and a warning about nested fields (card/croissant_links.py).
    """
    distribution = []
    for config in formats.configs(release_format):
        files = data_files[config]
        for index, name in enumerate(files):
            size, digest = file_digest(folder / name)
            single = len(files) == 1
            distribution.append(
                {
                    "@type": "cr:FileObject",
                    "@id": _file_id(config) if single else f"{_file_id(config)}-{index:05d}",
                    "name": _file_id(config) if single else f"{_file_id(config)}-{index:05d}",
                    "description": f"The `{config}` config (split train)"
                    + ("." if single else f", shard {index + 1} of {len(files)}."),
                    "contentUrl": name,
                    "contentSize": f"{size} B",
                    "encodingFormat": PARQUET,
                    "sha256": digest,
                }
            )
        if len(files) > 1:
            distribution.append(
                {
                    "@type": "cr:FileSet",
                    "@id": _file_id(config),
                    "name": _file_id(config),
                    "description": f"The `{config}` config (split train), in {len(files)} shards.",
                    "encodingFormat": PARQUET,
                    "includes": config_pattern(config),
                }
            )
    record_sets = []
    for config, arrow in formats.arrow_schemas(schema, release_format).items():
        kind = "fileObject" if len(data_files[config]) == 1 else "fileSet"
        own = () if config == "documents" else RECORD_KEYS.get(config, ("id",))
        key = [{"@id": f"{config}/{name}"} for name in ("doc_id", *own)]
        record_sets.append(
            {
                "@type": "cr:RecordSet",
                "@id": config,
                "name": config,
                "description": RECORD_SET_DESCRIPTIONS[config],
                "key": key if len(key) > 1 else key[0],
                "field": _fields(arrow, config, (kind, _file_id(config)), None, "$", False),
            }
        )
    doc = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CONFORMS_TO,
        "name": metadata["pretty_name"],
        "description": description,
        "version": version,
        "inLanguage": schema.language,
        "keywords": list(metadata.get("tags", [])),
        "license": [
            {
                "@type": "sc:CreativeWork",
                "name": metadata.get("license_name") or metadata["license"],
                "description": licensing,
                "url": "LICENSE.md",
            }
        ],
        "distribution": distribution,
        "recordSet": record_sets,
    }
    if metadata.get("homepage"):
        doc["url"] = metadata["homepage"]
    if citation:
        doc["citeAs"] = citation
    if release_format >= FIRST_FORMAT_WITH_LINKS:
        add_references(record_sets)
        doc["description"] = description + NESTED_WARNING
        doc["creator"] = creator(citation, metadata)
        if citation:
            doc["citeAs"] = cite(citation, version).rstrip("\n")
        if published := date_published(folder, data_files["documents"]):
            doc["datePublished"] = published
    return doc


def render(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def for_release(
    folder: Path,
    schema: AnnotationSchema,
    version: str,
    data_files: dict[str, list[str]],
    datacard: str,
    release_format: int = 1,
) -> str:
    """croissant.json for a release whose Parquet files are written, described with the card's words."""
    metadata, _ = split_card(datacard)
    licensing = license_text(datacard).split("\n", 1)[1].strip()
    cited = citation(datacard)
    doc = document(folder, schema, version, data_files, metadata, summary(datacard), licensing, cited, release_format)
    return render(doc)


def for_hub(text: str, version: str, repo_id: str) -> str:
    """croissant.json as uploaded to `repo_id` (format 2 on): its `url` and citation name the Hub dataset."""
    doc = json.loads(text)
    doc["url"] = dataset_url(repo_id)
    if isinstance(doc.get("citeAs"), str):
        doc["citeAs"] = cite(doc["citeAs"], version, repo_id).rstrip("\n")
    return render(doc)


def checksum_mismatches(release: Path, parquet: list[str]) -> list[str]:
    """What in the release's croissant.json does not describe its Parquet files: one line per problem.

    Every FileObject must name (`contentUrl`) a file of the release and carry its sha256; every
    Parquet file in `parquet` (the manifest's) must have a FileObject. A croissant.json that is
    not a JSON object with a `distribution` list is one problem. A release without croissant.json
    (built before the build wrote one) has nothing to check here. Files are only hashed once they
    are known to be regular files inside the release, so no path in croissant.json reads outside it.
    """
    path = release / FILE_NAME
    if not path.exists() and not path.is_symlink():
        return []
    rebuild = "rebuild the release"
    if (problem := file_problem(path) or member_problem(release, FILE_NAME)) is not None:
        return [f"{FILE_NAME}: {problem}; {rebuild}"]
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        return [f"{FILE_NAME}: cannot be read as JSON ({type(exc).__name__}); {rebuild}"]
    distribution = doc.get("distribution") if isinstance(doc, dict) else None
    if not isinstance(distribution, list):
        return [f"{FILE_NAME}: no 'distribution' list of files; {rebuild}"]
    problems, described = [], set()
    for index, item in enumerate(distribution):
        if isinstance(item, dict) and item.get("@type") == "cr:FileObject":
            problem = _file_object_problem(release, f"{FILE_NAME}: distribution[{index}]", item, described)
            if problem is not None:
                problems.append(f"{problem}; {rebuild}")
    problems += [f"{FILE_NAME} lists no FileObject for {name}; {rebuild}" for name in parquet if name not in described]
    return problems


def _file_object_problem(release: Path, at: str, item: dict, described: set[str]) -> str | None:
    name, listed = item.get("contentUrl"), item.get("sha256")
    if not isinstance(name, str):
        return f"{at}.contentUrl is {json_kind(name)}, not a file of the release"
    if (why := member_problem(release, name)) is not None:
        return f"{at}.contentUrl {name!r} {why}"
    described.add(name)
    if not (isinstance(listed, str) and SHA256_PATTERN.fullmatch(listed)):
        return f"{at}.sha256 is {json_kind(listed)}, not 64 lowercase hexadecimal digits"
    if (why := file_problem(release / name)) is not None:
        return f"{FILE_NAME} lists {name}, which is not a readable file of the release ({why})"
    try:
        actual = file_digest(release / name)[1]
    except OSError as exc:
        return f"{FILE_NAME} lists {name}, which cannot be read ({exc.strerror})"
    return None if actual == listed else f"{FILE_NAME} lists sha256 {listed} for {name}, the file has {actual}"
