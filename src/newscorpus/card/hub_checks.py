"""Offline checks of a release's README.md as a Hugging Face dataset card.

The Hub validates card metadata on its server (`DatasetCard.validate` posts it),
which cannot be reached from here and must not be needed to build or test a
release. So the card is checked with the libraries' own parsers and vocabularies:
huggingface_hub's `DatasetCard` / `DatasetCardData`, datasets' `MetadataConfigs`
and `DatasetInfosDict` (what `load_dataset` reads), and the value lists datasets
ships for languages, size categories, creators and multilinguality.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq

from newscorpus.release.manifest import member_problem

LICENSE_NAME = re.compile(r"[a-z0-9][a-z0-9.-]*")  # fullmatch: the whole name
IMAGE = re.compile(r"!\[[^\]]*\]\((?P<target>[^)\s]+)\)")  # a Markdown image: ![alt](target)


def _vocabulary(name: str):
    import datasets.utils

    return json.loads((Path(datasets.utils.__file__).parent / "resources" / name).read_text(encoding="utf-8"))


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def check_card(release: Path) -> list[str]:
    """Problems with `release`/README.md as a Hub dataset card; an empty list when it is valid."""
    from datasets import Features
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCard

    path = release / "README.md"
    if not path.is_file():
        return ["README.md: missing; a Hub dataset repository needs its card"]
    try:
        card = DatasetCard(path.read_text(encoding="utf-8"))
    except (ValueError, TypeError) as exc:
        return [f"README.md: huggingface_hub cannot parse the card: {exc}"]
    data = card.data
    if not data.to_dict():
        return ["README.md: no YAML metadata block"]
    problems: list[str] = []

    def check_values(key: str, allowed, required: bool = True) -> None:
        values = data.get(key)
        if values is None:
            if required:
                problems.append(f"README.md: metadata '{key}' is missing")
            return
        bad = [v for v in _as_list(values) if v not in allowed]
        if bad:
            problems.append(f"README.md: metadata '{key}' has unknown values {bad}")

    from datasets.utils.metadata import known_task_ids

    check_values("language", _vocabulary("languages.json"))
    check_values("size_categories", _vocabulary("size_categories.json"))
    creators = _vocabulary("creators.json")
    check_values("annotations_creators", creators["annotations"])
    check_values("language_creators", creators["language"])
    check_values("multilinguality", _vocabulary("multilingualities.json"))
    check_values("task_categories", known_task_ids)
    if not data.get("pretty_name"):
        problems.append("README.md: metadata 'pretty_name' is missing")
    problems += _check_license(data, release)
    problems += _check_images(card.text, release)

    try:
        configs = MetadataConfigs.from_dataset_card_data(data)
        infos = DatasetInfosDict.from_dataset_card_data(data)
        default = configs.get_default_config_name()
    except (ValueError, TypeError) as exc:
        return [*problems, f"README.md: datasets rejects the configs or dataset_info: {exc}"]
    if not configs:
        problems.append("README.md: metadata 'configs' is missing")
    if default is None:
        problems.append("README.md: no config is marked default")
    if sorted(configs) != sorted(infos):
        problems.append(f"README.md: configs {sorted(configs)} but dataset_info for {sorted(infos)}")
    for name, config in configs.items():
        patterns = [f for entry in config.get("data_files", []) for f in _as_list(entry["path"])]
        outside = [f for f in patterns if not isinstance(f, str) or member_problem(release, f) is not None]
        if outside:
            problems.append(f"README.md: config {name}: data files {outside} are not paths inside the release")
            continue
        files = sorted({p.relative_to(release).as_posix() for f in patterns for p in release.glob(f) if p.is_file()})
        missing = [f for f in patterns if not any(release.glob(f))]
        if not files or missing:
            problems.append(f"README.md: config {name}: data files {missing or 'none'} not in the release")
            continue
        info = infos.get(name)
        if info is None:
            continue
        arrow = pq.read_schema(release / files[0])
        if info.features != Features.from_arrow_schema(arrow):
            problems.append(f"README.md: config {name}: dataset_info features differ from the Parquet schema")
        rows = sum(pq.ParquetFile(release / f).metadata.num_rows for f in files)
        declared = sum(split.num_examples for split in (info.splits or {}).values())
        if rows != declared:
            problems.append(f"README.md: config {name}: dataset_info says {declared} rows, the files hold {rows}")
    return problems


def _check_license(data, release: Path) -> list[str]:
    license_ = data.get("license")
    if not license_:
        return ["README.md: metadata 'license' is missing"]
    if license_ != "other":
        return []
    problems = []
    name, link = data.get("license_name"), data.get("license_link")
    if not name or not LICENSE_NAME.fullmatch(str(name)):
        problems.append(
            f"README.md: license 'other' needs a 'license_name' in lowercase letters, digits, '-', '.'; got {name!r}"
        )
    if not link:
        problems.append("README.md: license 'other' needs a 'license_link' (a file in the repository or a URL)")
    elif not str(link).startswith(("https://", "http://")) and (
        member_problem(release, str(link)) is not None or not (release / str(link)).is_file()
    ):
        problems.append(f"README.md: license_link {link!r} is not a file of the release")
    return problems


def _check_images(body: str, release: Path) -> list[str]:
    """Every image the card shows from the release (its figures) is a file of the release."""
    problems = []
    for match in IMAGE.finditer(body):
        target = match["target"]
        if target.startswith(("https://", "http://")):
            continue
        if member_problem(release, target) is not None or not (release / target).is_file():
            problems.append(f"README.md: image {target!r} is not a file of the release")
    return problems
