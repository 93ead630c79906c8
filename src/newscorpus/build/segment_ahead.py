"""A batch's tokens config, made on another core while the build converts the next batch.

Segmentation is a release of format 2's costliest step and pure Python; so is the conversion
of the exports. A worker process makes a full batch's tokens config (`derived_tables.tokens_table`:
sentences, tokens, IOB2 tags) while the build converts the next batch, and the build writes
each batch when its table comes back, in the order the batches were converted: the files are
those of a build that makes every tokens table itself.

The worker is `python -m newscorpus.build.segment_ahead`, fed each batch (texts and mentions) as
an Arrow record batch on its stdin and answering its tokens table as one on its stdout: a plain
process, so a script that calls `build_release` without a `__main__` guard works (multiprocessing
would import that script again in the worker). It starts with the first full batch: a build
smaller than a batch (every test project, a small corpus) segments in its own process; so
does a build on a single core.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from newscorpus.build.derived_tables import Span, TokenInput, tokens_table
from newscorpus.errors import ReleaseError

# A batch goes to the worker as one Arrow record batch of these columns; its answer is one record batch of
# the tokens table. The tag ids and the tokens table's schema travel once, in the request stream's metadata.
_MENTION = pa.struct([("id", pa.string()), ("start", pa.int64()), ("end", pa.int64()), ("type", pa.string())])
_REQUEST = pa.schema([("doc_id", pa.string()), ("text", pa.string()), ("mentions", pa.list_(_MENTION))])


class SegmentAhead:
    """`submit` a batch (`tokens_table`'s arguments), then take its `result` before the next `submit`;
    `close` ends the worker."""

    def __init__(self) -> None:
        self._worker: subprocess.Popen | None = None
        self._requests: pa.ipc.RecordBatchStreamWriter | None = None
        self._answers: pa.ipc.RecordBatchStreamReader | None = None
        self._ready: pa.Table | None = None  # a batch's table made here, not by the worker
        self.parallel = usable_cores() > 1

    def submit(self, documents: list[TokenInput], tag_ids: dict[str, int], arrow: pa.Schema) -> None:
        if not self.parallel:
            self._ready = tokens_table(documents, tag_ids, arrow)
            return
        try:
            if self._worker is None:
                self._start(tag_ids, arrow)
            self._requests.write_batch(_request(documents))
            self._worker.stdin.flush()
        except (BrokenPipeError, pa.ArrowIOError):  # it ended after its last answer
            raise self._ended() from None

    def result(self) -> pa.Table:
        if self._ready is not None:
            ready, self._ready = self._ready, None
            return ready
        try:
            if self._answers is None:
                self._answers = pa.ipc.open_stream(self._worker.stdout)
            return pa.Table.from_batches([self._answers.read_next_batch()])
        except (StopIteration, pa.ArrowInvalid, pa.ArrowIOError):
            raise self._ended() from None

    def _start(self, tag_ids: dict[str, int], arrow: pa.Schema) -> None:
        package_root = str(Path(__file__).resolve().parents[2])  # where `newscorpus` is imported from
        path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
        self._worker = subprocess.Popen(
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
        )
        metadata = {"tag_ids": json.dumps(tag_ids), "tokens_schema": base64.b64encode(arrow.serialize().to_pybytes())}
        self._requests = pa.ipc.new_stream(self._worker.stdin, _REQUEST.with_metadata(metadata))

    def _ended(self) -> ReleaseError:
        code = self._worker.wait()
        return ReleaseError(
            f"the segmentation worker ended with exit code {code} (its error, if any, is above; -9: killed, often"
            " for want of memory); nothing was written"
        )

    def close(self) -> None:
        if self._worker is not None:
            worker, self._worker = self._worker, None
            with contextlib.suppress(OSError, pa.ArrowException):  # a worker that died leaves a broken pipe
                self._requests.close()
            with contextlib.suppress(OSError):
                worker.stdin.close()  # the worker ends at the end of its input
            worker.stdout.close()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()

    def __enter__(self) -> SegmentAhead:
        return self

    def __exit__(self, *_) -> None:
        self.close()


def _request(documents: list[TokenInput]) -> pa.RecordBatch:
    mentions = [[span._asdict() for span in spans] for _, _, spans in documents]
    columns = [[d for d, _, _ in documents], [t for _, t, _ in documents], mentions]
    return pa.RecordBatch.from_arrays(
        [pa.array(c, f.type) for c, f in zip(columns, _REQUEST, strict=True)], schema=_REQUEST
    )


def _answer(table: pa.Table) -> pa.RecordBatch:
    """The table as exactly one record batch (an empty table too), so that one request has one answer."""
    return pa.RecordBatch.from_arrays([column.combine_chunks() for column in table.columns], schema=table.schema)


def usable_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def serve(source: BinaryIO, sink: BinaryIO) -> None:
    """The worker: each batch read from `source` is answered with its tokens table."""
    requests = pa.ipc.open_stream(source)
    metadata = requests.schema.metadata
    tag_ids = json.loads(metadata[b"tag_ids"])
    arrow = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(metadata[b"tokens_schema"])))
    answers = None
    try:
        for batch in requests:
            documents = [
                (row["doc_id"], row["text"], [Span(**m) for m in row["mentions"]]) for row in batch.to_pylist()
            ]
            if answers is None:
                answers = pa.ipc.new_stream(sink, arrow)
            answers.write_batch(_answer(tokens_table(documents, tag_ids, arrow)))
            sink.flush()
    except (BrokenPipeError, pa.ArrowIOError):  # the build stopped (an error in its input) and no longer reads
        os.dup2(os.open(os.devnull, os.O_WRONLY), sink.fileno())  # nothing left to flush at exit


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
