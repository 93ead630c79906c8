"""The build stage: articles + chosen annotations -> an immutable, gated release folder.

Owns the conversion of a batch of documents into Arrow tables (`tables`), the atomic, locked
writing of a release with its card, croissant.json, CHANGELOG, manifest and the Great
Expectations gate (`builder`), and rebuilding a release to compare it byte for byte
(`reproduce`). It sits above the stages it joins: may import `card`, `validation`,
`labelstudio`, `release` and everything below them; never `publish` or `cli`.
"""
