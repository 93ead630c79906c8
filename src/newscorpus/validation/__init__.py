"""The validation stage: the Great Expectations gate every release passes.

Owns the suites generated from the schema into `validation/` (`suites`), the views they check
(`views` for the tables, `manifest_view` for the files; `spark_views` computes the same columns
on Spark), release tables read a chunk of documents at a time (`chunks`), Great Expectations'
part shared by both engines (`expectations`), and the engines themselves (`pandas_engine`, the
default and the build's gate; `spark_engine`, for releases on a cluster).
May import `release`, `ingest`, `project`, `schema`, `errors` and `files`; never `labelstudio`,
`card`, `build`, `publish` or `cli`. pyspark and Great Expectations are imported on use.
"""
