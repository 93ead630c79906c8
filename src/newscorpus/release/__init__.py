"""The release folder format: what `corpus/vX.Y.Z/` holds and how it is read back.

Owns `manifest.json` and version order (`manifest`, a leaf every stage may read), the Parquet
shards and their row groups (`shards`), reading a folder back against its manifest (`verify`),
the annotation-level difference of two releases (`diff`) and its text and CHANGELOG
(`changelog`). It writes no release by itself: `build` does.
May import `ingest`, `project`, `schema`, `errors` and `files`; nothing above.
"""
