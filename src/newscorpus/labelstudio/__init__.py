"""The Label Studio stage: everything that reads, makes or talks to Label Studio.

Owns reading native JSON exports: which files are exports (`export_names`), one file streamed
(`export_file`, with `surrogates`, `json_window` and `task_shape` for what must be refused),
one annotation's `result` into typed, checked records (`regions`, `spans`, `records`,
`visible`) and the annotation that counts per document across exports (`exports`). Also
result items made in one place (`results`), a local server (`server`), the SDK client
(`client`), `annotate push` / `pull` with the project's instructions (`push_pull`, `pull`,
`instructions`) and released annotations pushed back (`released`), accounts and the roster
of annotators with each export's user record (`accounts`, `roster`, `user_records`),
rule-based pre-annotations (`preannotate`, `prerules`) and inter-annotator agreement
(`agreement`, with `agreement_items` and `coref_scores`).
May import `release` (pre-annotation and push read the releases), `ingest`, `project`, `schema`,
`errors` and `files`; never `validation`, `card`, `build`, `publish` or `cli`.
"""
