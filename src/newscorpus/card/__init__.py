"""The dataset card stage: DATACARD.md in, a release's README.md, LICENSE.md and croissant.json out.

Owns reading DATACARD.md (`datacard`, the leaf the rest of the card reads through), the
generated blocks computed from release tables (`blocks`), the release README with its Hub
YAML header (`render`), Croissant metadata (`croissant`) and the offline checks of a README as
a Hugging Face dataset card (`hub_checks`).
May import `validation`, `labelstudio`, `release` and everything below; never `build`,
`publish` or `cli`.
"""
