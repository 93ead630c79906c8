"""Token classification data, ready for a fine-tuning script: one row per sentence, IOB2 tags as ClassLabel.

The `tokens` config has the columns `tokens` and `ner_tags` (a Sequence of ClassLabel), the
shape of CoNLL-style datasets, so `id2label`/`label2id` come from the features.

    python examples/token_classification.py [corpus/vX.Y.Z]
"""

import sys

from datasets import load_dataset
from release_arg import release_path

release = release_path()
try:
    sentences = load_dataset(release, "tokens", split="train")
except ValueError as exc:  # a release from before the tokens config (format 1)
    sys.exit(f"{release} has no tokens config ({exc})")
labels = sentences.features["ner_tags"].feature.names
id2label = dict(enumerate(labels))
label2id = {label: index for index, label in id2label.items()}
print(f"{len(sentences)} sentences, {len(labels)} labels: {' '.join(labels)}")
first = sentences[0]
print(" ".join(f"{token}/{id2label[tag]}" for token, tag in zip(first["tokens"], first["ner_tags"], strict=True)))
