"""The `newscorpus` command: parses arguments, calls the library, turns CorpusError into exit code 1."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from newscorpus.errors import CorpusError, SchemaError
from newscorpus.project import Project


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return args.run(args, Project(Path(args.root)))
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newscorpus", description="Build, check and load newscorpus releases.")
    parser.add_argument("--root", default=".", help="the project checkout (default: the current folder)")
    commands = parser.add_subparsers(title="commands")

    build = commands.add_parser("build", help="build corpus/vX.Y.Z/ from seeds/ and annotation/exports/")
    build.add_argument("--version", required=True, help="the new release version, X.Y.Z")
    build.add_argument("--corpus-dir", type=Path, help="write releases here instead of corpus/")
    build.set_defaults(run=_build)

    schema = commands.add_parser("schema", help="check (default) or rewrite the files derived from the schema")
    schema.add_argument("--write", action="store_true", help="rewrite label_config.xml and the Arrow snapshot")
    schema.set_defaults(run=_schema)

    verify = commands.add_parser("verify", help="check a release's files against its manifest checksums")
    verify.add_argument("release", type=Path)
    verify.set_defaults(run=_verify)

    reproduce = commands.add_parser("reproduce", help="rebuild a release from the inputs and compare byte for byte")
    reproduce.add_argument("release", type=Path)
    reproduce.set_defaults(run=_reproduce)

    validate = commands.add_parser(
        "validate", help="run the Great Expectations suites on a release; exit 1 if any fails"
    )
    validate.add_argument("release", type=Path)
    validate.add_argument("--data-docs", type=Path, metavar="DIR", help="also write Great Expectations Data Docs here")
    validate.set_defaults(run=_validate)

    show = commands.add_parser("show", help="load a release with datasets.load_dataset and summarize it")
    show.add_argument("release", type=Path)
    show.set_defaults(run=_show)
    return parser


def _build(args, project: Project) -> int:
    from newscorpus.build import build_release

    release = build_release(project, args.version, corpus_dir=args.corpus_dir)
    for line in release.summary.lines():
        print(line)
    print(release.validation.headline())
    rows = ", ".join(f"{config} {count}" for config, count in release.rows.items())
    print(f"wrote {project.relative(release.path)} ({rows} rows)")
    return 0


def _schema(args, project: Project) -> int:
    from newscorpus.suites import VALIDATION_DIR, derived_files, stale_files

    schema = project.schema
    stale, extra = stale_files(project)
    if args.write:
        for path, text in derived_files(project).items():
            if path in stale:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                print(f"wrote {project.relative(path)}")
        for path in extra:
            path.unlink()
            print(f"removed {project.relative(path)} (no longer derived)")
        return 0
    if stale or extra:
        names = [project.relative(p) for p in stale] + [f"{project.relative(p)} (no longer derived)" for p in extra]
        raise SchemaError(
            f"out of date with schemas/annotation.yaml: {', '.join(names)}; run `newscorpus schema --write`"
        )
    derived = [project.relative(p) for p in derived_files(project)]
    validation = [name for name in derived if name.startswith(f"{VALIDATION_DIR}/")]
    names = [name for name in derived if name not in validation] + [f"{VALIDATION_DIR}/ ({len(validation)} files)"]
    print(f"up to date with schemas/annotation.yaml {schema.schema_version}: {', '.join(names)}")
    return 0


def _verify(args, project: Project) -> int:
    from newscorpus.release import verify

    problems = verify(args.release)
    for problem in problems:
        print(f"{args.release.name}/{problem}", file=sys.stderr)
    if problems:
        print(f"error: {args.release.name} fails verification ({len(problems)} problem(s))", file=sys.stderr)
        return 1
    print(f"{args.release.name}: every file matches manifest.json")
    return 0


def _reproduce(args, project: Project) -> int:
    from newscorpus.release import reproduce

    result = reproduce(project, args.release)
    for name in result.changed_inputs:
        print(f"input changed since the release: {name}")
    for name in result.different:
        print(f"differs: {name}", file=sys.stderr)
    if result.different:
        print(f"error: {len(result.different)} file(s) of {args.release.name} are not reproduced", file=sys.stderr)
        return 1
    for name, fields in result.predated.items():
        print(f"{name}: byte for byte without {', '.join(fields)}, which {args.release.name} predates")
    total = len(result.identical) + len(result.predated)
    print(f"{args.release.name}: all {total} files rebuilt byte for byte")
    return 0


def _validate(args, project: Project) -> int:
    from newscorpus.validate import validate_release

    validation = validate_release(project, args.release, data_docs=args.data_docs)
    for line in validation.report():
        print(line)
    if args.data_docs is not None:
        print(f"data docs: {args.data_docs / 'index.html'}")
    if not validation.success:
        failed = len(validation.failures)
        print(f"error: {args.release.name} fails validation ({failed} of {validation.expectations})", file=sys.stderr)
        return 1
    return 0


def _show(args, project: Project) -> int:
    from newscorpus.release import summarize

    for line in summarize(args.release):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
