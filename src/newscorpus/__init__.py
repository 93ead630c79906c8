"""newscorpus: an annotated news corpus and the package that builds, validates and publishes it."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("newscorpus")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
