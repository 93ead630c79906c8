"""The `newscorpus` command: parses arguments, calls the library, turns CorpusError into exit code 1."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from newscorpus.add import add_articles
from newscorpus.build.builder import build_release
from newscorpus.build.reproduce import reproduce
from newscorpus.card.render import refreshed_datacard
from newscorpus.errors import CardError, CorpusError, ReleaseError, SchemaError
from newscorpus.labelstudio.accounts import (
    DEFAULT_PASSWORD_VARIABLE,
    account_lines,
    add_user,
    list_accounts,
    wait_for_server,
)
from newscorpus.labelstudio.agreement import agreement_report
from newscorpus.labelstudio.client import Connection
from newscorpus.labelstudio.pull import pull
from newscorpus.labelstudio.push_pull import push
from newscorpus.labelstudio.roster import annotator_code, roster_path
from newscorpus.labelstudio.server import serve
from newscorpus.project import Project
from newscorpus.publish import plan, publish
from newscorpus.release.changelog import render_text
from newscorpus.release.diff import diff_releases
from newscorpus.release.manifest import check_version
from newscorpus.release.verify import summarize, verify
from newscorpus.validation.pandas_engine import validate_release
from newscorpus.validation.spark_engine import validate_release_spark
from newscorpus.validation.suites import VALIDATION_DIR, derived_files, stale_files
from newscorpus.validation.view_specs import GATE_SUITES


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        code = args.run(args, Project(Path(args.root)))
        sys.stdout.flush()  # here, not at exit: a closed pipe is then an exception handled below
        return code
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # The library cleans up as the exception passes (a build deletes its temporary folder).
        print("error: interrupted" + (f"; {args.interrupted}" if args.interrupted else ""), file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (`newscorpus validate ... | head`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _positive_mib(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of MiB >= 1")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newscorpus", description="Build, check and load newscorpus releases.")
    parser.add_argument("--root", default=".", help="the project checkout (default: the current folder)")
    parser.set_defaults(interrupted="")  # what an interrupted command leaves, where it is known
    commands = parser.add_subparsers(title="commands")

    build = commands.add_parser("build", help="build corpus/vX.Y.Z/ from seeds/ and annotation/exports/")
    build.add_argument("--version", required=True, help="the new release version, X.Y.Z")
    build.add_argument("--corpus-dir", type=Path, help="write releases here instead of corpus/")
    build.add_argument(
        "--max-shard-mib",
        type=_positive_mib,
        default=256,
        help="largest Parquet file in MiB (>= 1); bigger configs are cut into shards",
    )
    build.set_defaults(run=_build, interrupted="no release was written")

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
    validate.add_argument("release", help="a release folder; with --engine spark also a URL Spark reads (s3a://, ...)")
    validate.add_argument("--data-docs", type=Path, metavar="DIR", help="also write Great Expectations Data Docs here")
    validate.add_argument(
        "--engine", choices=("pandas", "spark"), default="pandas", help="where the suites run (default: pandas)"
    )
    validate.add_argument(
        "--spark-master", metavar="URL", help="with --engine spark: the master of a new session (default: local[*])"
    )
    validate.set_defaults(run=_validate)

    add = commands.add_parser("add", help="add articles to seeds/ under the doc_id rule (text files or JSON Lines)")
    add.add_argument("files", nargs="+", type=Path, help="articles: FILE.txt (date line, text) or FILE.jsonl")
    add.set_defaults(run=_add)

    show = commands.add_parser("show", help="load a release with datasets.load_dataset and summarize it")
    show.add_argument("release", type=Path)
    show.set_defaults(run=_show)

    _annotate_parser(commands)
    agreement = commands.add_parser("agreement", help="inter-annotator agreement of the tasks with several annotators")
    agreement.add_argument("--json", action="store_true", help="print the report as JSON")
    agreement.set_defaults(run=_agreement)

    card = commands.add_parser("card", help="rewrite DATACARD.md's generated blocks from the releases and the schema")
    card.add_argument("--check", action="store_true", help="only check that the blocks are up to date")
    card.set_defaults(run=_card)

    diff = commands.add_parser("diff", help="list the annotation changes between two releases")
    diff.add_argument("old", help="the earlier release: a version (v0.1.0) in corpus/, or a release folder")
    diff.add_argument("new", help="the later release: a version in corpus/, or a release folder")
    diff.add_argument("--json", action="store_true", help="print the changes as JSON")
    diff.set_defaults(run=_diff)

    publish = commands.add_parser("publish", help="upload a release to the Hugging Face Hub and tag it")
    publish.add_argument("release", type=Path, help="the release folder, corpus/vX.Y.Z")
    publish.add_argument("--repo-id", required=True, help="the Hub dataset repository, ORG/NAME")
    publish.add_argument("--private", action="store_true", help="create the repository as private if it is new")
    publish.add_argument("--dry-run", action="store_true", help="print what would be uploaded; contact nothing")
    publish.set_defaults(run=_publish)
    return parser


def _annotate_parser(commands) -> None:
    annotate = commands.add_parser("annotate", help="move articles to Label Studio and annotations back")
    steps = annotate.add_subparsers(title="steps")
    for name, run, text in (
        ("push", _annotate_push, "create/update the project from the schema; import new articles with pre-annotations"),
        ("pull", _annotate_pull, "download the project's native JSON export into annotation/exports/"),
    ):
        step = steps.add_parser(name, help=text + " (LABEL_STUDIO_URL, LABEL_STUDIO_API_KEY)")
        step.add_argument("--title", default="newscorpus", help="the project's title (default: newscorpus)")
        step.add_argument("--project-id", type=int, help="use this project id instead of looking up the title")
        step.set_defaults(run=run)
    serve = steps.add_parser("serve", help="install (once) and start a local Label Studio on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--data-dir", type=Path, help="Label Studio's data folder (default: its own, in your home)")
    serve.set_defaults(run=_annotate_serve)
    wait = steps.add_parser("wait", help="wait until the server at LABEL_STUDIO_URL answers (after `serve &`)")
    wait.add_argument("--timeout", type=float, default=600, help="give up after this many seconds (default: 600)")
    wait.set_defaults(run=_annotate_wait)
    users = steps.add_parser("users", help="annotator accounts and the roster (annotation/annotators.yaml)")
    actions = users.add_subparsers(title="actions")
    add = actions.add_parser(
        "add", help="create an annotator who can log in, and give them the next roster code (LABEL_STUDIO_URL, ..._KEY)"
    )
    add.add_argument("email", help="the annotator's email: their login, and their key in the roster")
    add.add_argument(
        "--password-env",
        metavar="VAR",
        default=DEFAULT_PASSWORD_VARIABLE,
        help=f"the environment variable holding their password (default: {DEFAULT_PASSWORD_VARIABLE}); never printed",
    )
    add.add_argument(
        "--roster-only", action="store_true", help="only add the email to the roster (the account exists already)"
    )
    add.set_defaults(run=_annotate_users_add)
    listing = actions.add_parser("list", help="the server's users with their roster codes (LABEL_STUDIO_URL, ..._KEY)")
    listing.set_defaults(run=_annotate_users_list)


def _build(args, project: Project) -> int:
    release = build_release(
        project,
        args.version,
        corpus_dir=args.corpus_dir,
        max_shard_bytes=args.max_shard_mib * 1024 * 1024,
        gate_suites=GATE_SUITES,  # a release of the corpus: the guidelines' quality rules too
    )
    for line in release.summary.lines():
        print(line)
    if release.changes_line() is not None:
        print(release.changes_line())
    print(release.validation.headline())
    for outcome in release.validation.warnings:  # the guidelines' rules a person should look at
        print("\n".join(outcome.lines()))
    rows = ", ".join(f"{config} {count}" for config, count in release.rows.items())
    print(f"wrote {project.relative(release.path)} ({rows} rows)")
    return 0


def _schema(args, project: Project) -> int:
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
    problems = verify(args.release)
    for problem in problems:
        print(f"{args.release.name}/{problem}", file=sys.stderr)
    if problems:
        print(f"error: {args.release.name} fails verification ({len(problems)} problem(s))", file=sys.stderr)
        return 1
    print(f"{args.release.name}: every file matches manifest.json")
    return 0


def _reproduce(args, project: Project) -> int:
    result = reproduce(project, args.release)
    for name in result.changed_inputs:
        if name in result.substituted:
            print(f"input changed since the release: {name}; {result.substituted[name]}: rebuilt with today's")
        else:
            commit = result.from_history[name][:12]
            print(f"input changed since the release: {name}; rebuilt with its released version (commit {commit})")
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
    if args.engine == "spark":
        validation = validate_release_spark(project, args.release, master=args.spark_master, data_docs=args.data_docs)
    else:
        if args.spark_master is not None or "://" in args.release:
            raise CorpusError(f"{'--spark-master' if args.spark_master else args.release}: needs --engine spark")
        validation = validate_release(project, Path(args.release), data_docs=args.data_docs)
    for line in validation.report():
        print(line)
    if args.data_docs is not None:
        print(f"data docs: {args.data_docs / 'index.html'}")
    if not validation.success:
        failed = len(validation.failures)
        print(f"error: {validation.subject} fails validation ({failed} of {validation.expectations})", file=sys.stderr)
        return 1
    return 0


def _show(args, project: Project) -> int:
    for line in summarize(args.release):
        print(line)
    return 0


def _annotate_push(args, project: Project) -> int:
    result = push(project, Connection.from_environment(), title=args.title, project_id=args.project_id)
    for line in result.lines():
        print(line)
    return 0


def _annotate_pull(args, project: Project) -> int:
    result = pull(project, Connection.from_environment(), title=args.title, project_id=args.project_id)
    for line in result.lines(project.relative):
        print(line)
    return 0


def _annotate_serve(args, project: Project) -> int:
    return serve(project.root, port=args.port, data_dir=args.data_dir)


def _annotate_wait(args, project: Project) -> int:
    print(wait_for_server(args.timeout))
    return 0


def _annotate_users_add(args, project: Project) -> int:
    connection = None if args.roster_only else Connection.from_environment()
    added = add_user(project, connection, args.email, args.password_env, roster_only=args.roster_only)
    for line in added.lines():
        print(line)
    return 0


def _annotate_users_list(args, project: Project) -> int:
    url, rows = list_accounts(project, Connection.from_environment())
    for line in account_lines(url, rows, roster_path(project).exists()):
        print(line)
    return 0


def _add(args, project: Project) -> int:
    added = add_articles(project, args.files)
    for seed in added:
        print(f"added {seed.seed_file} from {seed.source}")
    print(f"{len(added)} article(s) added; `newscorpus annotate push` makes them Label Studio tasks")
    return 0


def _agreement(args, project: Project) -> int:
    # With a roster, annotators are named by their codes (the same on every server), else by Label Studio id.
    report = (
        agreement_report(project, annotator_code(project))
        if roster_path(project).exists()
        else agreement_report(project)
    )
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        for line in report.lines():
            print(line)
    return 0


def _card(args, project: Project) -> int:
    path = project.datacard_path
    current = path.read_text(encoding="utf-8") if path.is_file() else ""
    fresh = refreshed_datacard(current, project.schema, project.corpus_dir)
    if args.check:
        if fresh != current:
            raise CardError("DATACARD.md: generated blocks are out of date; run `newscorpus card`")
        print("DATACARD.md: generated blocks are up to date")
        return 0
    path.write_text(fresh, encoding="utf-8")
    print(f"{'rewrote' if fresh != current else 'unchanged:'} DATACARD.md")
    return 0


def _diff(args, project: Project) -> int:

    old, new = _release_dir(project, args.old), _release_dir(project, args.new)
    result = diff_releases(old, new)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2, ensure_ascii=False, default=str))
    else:
        print("\n".join(render_text(result)))
    return 0


def _release_dir(project: Project, name: str) -> Path:
    """A release named by version (looked up in corpus/) or by its folder."""

    path = Path(name)
    if path.is_dir():
        return path
    version = check_version(name)
    path = project.corpus_dir / f"v{version}"
    if not path.is_dir():
        raise ReleaseError(f"no release v{version} in {project.relative(project.corpus_dir)}/")
    return path


def _publish(args, project: Project) -> int:
    if args.dry_run:
        for line in plan(project, args.release, args.repo_id).lines():
            print(line)
        return 0
    for line in publish(project, args.release, args.repo_id, private=args.private):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
