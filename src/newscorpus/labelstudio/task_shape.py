"""The shape of one exported task, checked before anything in it is used.

Label Studio's native export gives every task an integer `id`, a `data` object, and lists
`annotations`, `drafts` and `predictions`; every annotation is an object with an integer
`id`, a `result` list and booleans `was_cancelled` and `ground_truth`. A value of another
type (a list where an object belongs, `"false"` or `1` for a boolean, `true` or `-3` or
2**64 for an id) is a problem with its path, never skipped: skipping a malformed
annotation would make a document look unannotated, or let an older export decide it.
The checks are per task and per annotation, never per region.
"""

from __future__ import annotations

from newscorpus.errors import Location, Problem

MAX_ID = 2**63 - 1  # ids are int64 columns in a release
REEXPORT = "download the export again from Label Studio (native JSON); do not edit exports by hand"


def is_id(value: object) -> bool:
    """A Label Studio id: an int (not a bool, which Python counts as one) that fits an int64 and is not negative."""
    return type(value) is int and 0 <= value <= MAX_ID


def describe(value: object) -> str:
    """A JSON value's type as the export's reader would name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    return {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def checked_annotations(task: dict, where: Location) -> tuple[list[dict], list[Problem]]:
    """The task's annotations if all are well-formed objects; else the problems, each with its path."""
    problems: list[Problem] = []
    for key in ("drafts", "predictions"):
        if key in task and not isinstance(task[key], list):
            problems.append(where.problem(f"expected a list, got {describe(task[key])}", field=key, fix=REEXPORT))
    annotations = task.get("annotations")
    if not isinstance(annotations, list):
        got = "no 'annotations'" if "annotations" not in task else describe(annotations)
        problems.append(where.problem(f"expected a list of annotations, got {got}", field="annotations", fix=REEXPORT))
        return [], problems
    for index, annotation in enumerate(annotations):
        if not isinstance(annotation, dict):
            problems.append(
                where.problem(
                    f"expected an annotation object, got {describe(annotation)}",
                    field=f"annotations[{index}]",
                    fix=REEXPORT,
                )
            )
            continue
        own_id = annotation.get("id")
        if is_id(own_id):
            here, prefix = Location(where.file, where.task_id, own_id, doc_id=where.doc_id), ""
        else:
            here, prefix = where, f"annotations[{index}]."
            problems.append(
                where.problem(
                    f"an annotation id must be a whole number from 0 to {MAX_ID}, got {describe_value(own_id)}",
                    field=f"{prefix}id",
                    fix=REEXPORT,
                )
            )
        for key in ("was_cancelled", "ground_truth"):
            value = annotation.get(key)
            if value is not None and not isinstance(value, bool):
                message = f"expected true or false, got {describe_value(value)}"
                problems.append(here.problem(message, field=prefix + key, fix=REEXPORT))
        if "updated_at" in annotation and not isinstance(annotation["updated_at"], str | None):
            problems.append(
                here.problem(
                    f"expected a time, got {describe_value(annotation['updated_at'])}",
                    field=prefix + "updated_at",
                    fix=REEXPORT,
                )
            )
        if "completed_by" in annotation and user_id(annotation["completed_by"]) is None:
            problems.append(
                here.problem(
                    f"expected a user id (or an object with one), got {describe_value(annotation['completed_by'])}",
                    field=prefix + "completed_by",
                    fix=REEXPORT,
                )
            )
        if not isinstance(annotation.get("result"), list):
            got = "no 'result'" if "result" not in annotation else describe(annotation.get("result"))
            problems.append(
                here.problem(f"expected a list of regions, got {got}", field=prefix + "result", fix=REEXPORT)
            )
    return ([] if problems else annotations), problems


def user_id(completed_by: object) -> int | None:
    # Label Studio writes an int, or an object with an id in some export paths; never keep the e-mail.
    if isinstance(completed_by, dict):
        completed_by = completed_by.get("id")
    return completed_by if is_id(completed_by) else None


def describe_value(value: object) -> str:
    """A short value for a message: numbers and booleans as written, anything else by its type."""
    if isinstance(value, bool | int | float) or value is None:
        return "null" if value is None else (str(value).lower() if isinstance(value, bool) else repr(value))
    return describe(value)
