"""Every quote with its kind and the canonical name of its speaker's coreference chain.

python examples/quotes_with_speakers.py [corpus/vX.Y.Z]
"""

from datasets import load_dataset
from release_arg import release_path

quotes = load_dataset(release_path(), "quotes", split="train")
for quote in quotes:
    # `speaker` is already resolved through coreference: "He said ..." names the person "He" refers to.
    print(f"{quote['doc_id']} {quote['id']} [{quote['kind']}] {quote['speaker'] or '(no speaker)'}: {quote['text']}")
