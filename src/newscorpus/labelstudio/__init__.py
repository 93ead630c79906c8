"""The Label Studio stage: everything that reads, makes or talks to Label Studio.

Owns reading native JSON exports (`export_file`: one file, streamed), turning one annotation's
`result` into typed, checked records (`regions`), choosing the annotation that counts per
document across exports (`exports`), installing and running a local server (`server`), the
SDK client (`client`), `annotate push` / `pull` (`push_pull`), rule-based pre-annotations
(`preannotate`) and inter-annotator agreement (`agreement`).
May import `release` (pre-annotation reads the latest release), `ingest`, `project`, `schema`,
`errors` and `files`; never `validation`, `card`, `build`, `publish` or `cli`.
"""
