"""Every event with its trigger and the text of each argument (arguments point at entity mentions by id).

python examples/events_with_arguments.py [corpus/vX.Y.Z]
"""

from datasets import load_dataset
from release_arg import release_path

release = release_path()
mentions = {(e["doc_id"], e["id"]): e["text"] for e in load_dataset(release, "entities", split="train")}
for event in load_dataset(release, "events", split="train"):
    arguments = ", ".join(f'{a["role"]}="{mentions[event["doc_id"], a["entity_id"]]}"' for a in event["arguments"])
    trigger = event["trigger"]["text"]
    print(f'{event["doc_id"]} {event["id"]} {event["type"]} ({event["realis"]}) "{trigger}": {arguments}')
