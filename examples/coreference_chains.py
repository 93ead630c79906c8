"""Coreference chains: the mentions of each entity, under the chain's canonical name.

Mentions of one entity share a `cluster_id`, the id of the chain's canonical mention.

    python examples/coreference_chains.py [corpus/vX.Y.Z]
"""

from collections import defaultdict

from datasets import load_dataset
from release_arg import release_path

entities = load_dataset(release_path(), "entities", split="train")
chains = defaultdict(list)
for mention in entities:  # in order of the text within each document
    chains[mention["doc_id"], mention["cluster_id"]].append(mention)
for (doc_id, cluster_id), mentions in chains.items():
    canonical = next(m for m in mentions if m["id"] == cluster_id)
    texts = " | ".join(m["text"] for m in mentions)
    print(f'{doc_id} {cluster_id} {canonical["type"]} "{canonical["text"]}" ({len(mentions)}): {texts}')
