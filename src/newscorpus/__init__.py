"""newscorpus: an annotated news corpus and the package that builds, validates and publishes it.

One subpackage (or module) per stage; data flows one way and imports only point down.
The layers, top first (a module may import its own layer's siblings and anything below;
`a | b` are independent of each other):

    cli
    publish | build | add     the `newscorpus` command; upload to the Hub; build and reproduce a release;
                              new articles into seeds/
    card                      DATACARD.md, the release README, croissant.json, Hub card checks
    validation | labelstudio  Great Expectations gate; Label Studio exports, server, client, agreement
    release                   the release folder format: manifest, shards, diff, changelog, verify
    ingest                    seeds/*.txt -> Article
    project                   where things live in a checkout
    schema                    schemas/annotation.yaml and everything derived from it
    errors | files | segment  the exception tree; file hashing; sentences and tokens (syntok)

`tests/test_layering.py` holds this list as data and fails on any import that breaks it and
on any import cycle between modules.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("newscorpus")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
