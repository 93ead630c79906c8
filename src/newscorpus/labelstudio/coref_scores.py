"""Coreference scores of two partitions of the same kind of mentions: MUC, B³, CEAF-e, CoNLL.

Definitions as in Pradhan et al. 2014, "Scoring Coreference Partitions of Predicted Mentions:
A Reference Implementation" (the CoNLL scorer), CEAF-e as in Luo 2005, "On Coreference
Resolution Performance Metrics". A partition is a list of entities, each a non-empty set of
mention keys (any hashable); one partition is the key, the other the response. A mention of
one partition that the other lacks is handled as the reference implementation does: it is
its own part in MUC, shares nothing in B³ and CEAF-e, and still counts in the denominators.

Every score keeps its numerators and denominators (`Ratio`) so that documents and annotator
pairs pool as the reference scorer pools documents: sums first, one division at the end.
Swapping key and response swaps recall and precision of all three, so each F1 is symmetric.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

Partition = Sequence[frozenset[Hashable]]


@dataclass
class Ratio:
    recall_num: float = 0.0
    recall_den: float = 0.0
    precision_num: float = 0.0
    precision_den: float = 0.0

    def add(self, other: Ratio) -> None:
        self.recall_num += other.recall_num
        self.recall_den += other.recall_den
        self.precision_num += other.precision_num
        self.precision_den += other.precision_den

    @property
    def recall(self) -> float | None:
        return None if self.recall_den == 0 else self.recall_num / self.recall_den

    @property
    def precision(self) -> float | None:
        return None if self.precision_den == 0 else self.precision_num / self.precision_den

    @property
    def f1(self) -> float | None:
        """None when both sides are undefined; 0 when only one is (one side has what the other lacks)."""
        recall, precision = self.recall, self.precision
        if recall is None and precision is None:
            return None
        recall, precision = recall or 0.0, precision or 0.0
        return 0.0 if recall + precision == 0 else 2 * recall * precision / (recall + precision)

    def as_dict(self) -> dict:
        return {"recall": self.recall, "precision": self.precision, "f1": self.f1}


def muc(key: Partition, response: Partition) -> Ratio:
    """MUC (Vilain et al. 1995): links kept. Recall = sum(|K| - |parts of K in the response|) / sum(|K| - 1).

    A singleton has no link, so singletons add nothing to either side; with no link at all
    in a partition its side is undefined (None).
    """
    recall_num, recall_den = _muc_side(key, response)
    precision_num, precision_den = _muc_side(response, key)
    return Ratio(recall_num, recall_den, precision_num, precision_den)


def _muc_side(key: Partition, response: Partition) -> tuple[int, int]:
    owner = {mention: index for index, entity in enumerate(response) for mention in entity}
    num = den = 0
    for entity in key:
        # a mention the response lacks is a part of its own
        parts = {owner.get(mention, ("missing", mention)) for mention in entity}
        num += len(entity) - len(parts)
        den += len(entity) - 1
    return num, den


def b_cubed(key: Partition, response: Partition) -> Ratio:
    """B³ (Bagga and Baldwin 1998), per mention: recall = sum over K, R of |K ∩ R|² / |K|, over all key mentions."""
    recall_num, recall_den = _b_cubed_side(key, response)
    precision_num, precision_den = _b_cubed_side(response, key)
    return Ratio(recall_num, recall_den, precision_num, precision_den)


def _b_cubed_side(key: Partition, response: Partition) -> tuple[float, int]:
    owner = {mention: index for index, entity in enumerate(response) for mention in entity}
    num = 0.0
    for entity in key:
        shared = Counter(owner[mention] for mention in entity if mention in owner)
        num += sum(n * n for n in shared.values()) / len(entity)
    return num, sum(len(entity) for entity in key)


def phi4(key_entity: frozenset, response_entity: frozenset) -> float:
    """Luo's entity similarity phi4: 2 |K ∩ R| / (|K| + |R|)."""
    return 2 * len(key_entity & response_entity) / (len(key_entity) + len(response_entity))


def ceaf_e(key: Partition, response: Partition) -> Ratio:
    """CEAF-e: the one-to-one entity alignment with the largest total phi4 (Φ); recall Φ / |key entities|."""
    weights = [[phi4(k, r) for r in response] for k in key]
    total = sum(weights[i][j] for i, j in best_assignment(weights))
    return Ratio(total, len(key), total, len(response))


def conll(muc_f1: float | None, b_cubed_f1: float | None, ceaf_e_f1: float | None) -> float | None:
    """The CoNLL score: the mean of the three F1; None when one of them is undefined."""
    scores = (muc_f1, b_cubed_f1, ceaf_e_f1)
    return None if any(s is None for s in scores) else sum(scores) / 3


def best_assignment(weights: list[list[float]]) -> list[tuple[int, int]]:
    """Rows matched one-to-one to columns with the largest total weight (weights >= 0).

    Solved separately on each connected group of rows and columns that share a positive
    weight (a zero-weight pair adds nothing), each group by the Hungarian method.
    """
    rows = len(weights)
    columns = len(weights[0]) if rows else 0
    parent = list(range(rows + columns))  # union-find over rows, then columns

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i in range(rows):
        for j in range(columns):
            if weights[i][j] > 0:
                parent[root(i)] = root(rows + j)
    groups: dict[int, tuple[list[int], list[int]]] = {}
    for node in range(rows + columns):
        group = groups.setdefault(root(node), ([], []))
        (group[0] if node < rows else group[1]).append(node if node < rows else node - rows)
    matched = []
    for group_rows, group_columns in groups.values():
        if group_rows and group_columns:
            sub = [[weights[i][j] for j in group_columns] for i in group_rows]
            matched += [(group_rows[i], group_columns[j]) for i, j in hungarian_max(sub)]
    return sorted(matched)


def hungarian_max(weights: list[list[float]]) -> list[tuple[int, int]]:
    """Maximum-weight assignment of a full matrix (Kuhn-Munkres with potentials, O(n² m))."""
    if len(weights) > len(weights[0]):
        return sorted((i, j) for j, i in hungarian_max([list(col) for col in zip(*weights, strict=True)]))
    n, m = len(weights), len(weights[0])
    cost = [[0.0] * (m + 1)] + [[0.0] + [-w for w in row] for row in weights]  # 1-based, minimised
    u, v = [0.0] * (n + 1), [0.0] * (m + 1)
    owner, way = [0] * (m + 1), [0] * (m + 1)  # owner[j]: the row assigned to column j (0: none)
    for i in range(1, n + 1):
        owner[0], j0 = i, 0
        least, used = [float("inf")] * (m + 1), [False] * (m + 1)
        while owner[j0] != 0:
            used[j0] = True
            i0, delta, j1 = owner[j0], float("inf"), 0
            for j in range(1, m + 1):
                if not used[j]:
                    reduced = cost[i0][j] - u[i0] - v[j]
                    if reduced < least[j]:
                        least[j], way[j] = reduced, j0
                    if least[j] < delta:
                        delta, j1 = least[j], j
            for j in range(m + 1):
                if used[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    least[j] -= delta
            j0 = j1
        while j0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    return sorted((owner[j] - 1, j - 1) for j in range(1, m + 1) if owner[j])
