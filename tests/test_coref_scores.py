"""Coreference scores on partitions worked by hand from the metric definitions, and the optimal assignment."""

from __future__ import annotations

import itertools
import random

import pytest

from newscorpus.labelstudio.coref_scores import Ratio, b_cubed, best_assignment, ceaf_e, conll, muc


def partition(*entities: str) -> list[frozenset[str]]:
    return [frozenset(entity) for entity in entities]


# Pradhan et al. 2014, Figure 1: key {a b c} {d e f g}; response {a b} {c d} {f g h i}.
# e is missing from the response; h and i are not in the key.
KEY = partition("abc", "defg")
RESPONSE = partition("ab", "cd", "fghi")


def scores(ratio: Ratio) -> tuple:
    return ratio.recall, ratio.precision, ratio.f1


def test_muc_of_the_reference_example():
    # Recall: {a b c} falls into {a b} and {c}: 3 - 2 = 1 link kept; {d e f g} into {d}, {e} (missing: a part of
    # its own) and {f g}: 4 - 3 = 1. Links in the key: 2 + 3. Recall 2/5.
    # Precision: {a b} in one key entity: 1; {c d} in two: 0; {f g h i} into {f g}, {h}, {i}: 1. Links 1+1+3: 2/5.
    assert scores(muc(KEY, RESPONSE)) == pytest.approx((0.4, 0.4, 0.4))


def test_b_cubed_of_the_reference_example():
    # Recall, sum of |K∩R|²/|K|: {a b c}: 2²/3 + 1²/3 = 5/3; {d e f g}: 1²/4 ({d}) + 2²/4 ({f g}) = 5/4;
    # over the 7 key mentions: (5/3 + 5/4) / 7 = 5/12.
    # Precision, sum of |K∩R|²/|R|: {a b}: 2²/2 = 2; {c d}: 1/2 + 1/2 = 1; {f g h i}: 2²/4 = 1; over 8: 1/2.
    # F1 = 2 * 5/12 * 1/2 / (5/12 + 1/2) = 5/11.
    assert scores(b_cubed(KEY, RESPONSE)) == pytest.approx((5 / 12, 1 / 2, 5 / 11))


def test_ceaf_e_of_the_reference_example():
    # phi4 = 2|K∩R| / (|K| + |R|): {a b c}-{a b} 4/5, {a b c}-{c d} 2/5, {d e f g}-{c d} 1/3, {d e f g}-{f g h i} 1/2.
    # Best one-to-one alignment: 4/5 + 1/2 = 13/10 (the others: 2/5 + 1/2, 4/5 + 1/3).
    # Recall 13/10 / 2 key entities = 13/20; precision 13/10 / 3 = 13/30; F1 = 2 * 13/20 * 13/30 / (13/12) = 13/25.
    assert scores(ceaf_e(KEY, RESPONSE)) == pytest.approx((13 / 20, 13 / 30, 13 / 25))


def test_conll_is_the_mean_of_the_three_f1():
    # (2/5 + 5/11 + 13/25) / 3
    f1s = (muc(KEY, RESPONSE).f1, b_cubed(KEY, RESPONSE).f1, ceaf_e(KEY, RESPONSE).f1)
    assert conll(*f1s) == pytest.approx((0.4 + 5 / 11 + 0.52) / 3)
    assert conll(None, 1.0, 1.0) is None


@pytest.mark.parametrize("metric", [muc, b_cubed, ceaf_e])
def test_swapping_key_and_response_swaps_recall_and_precision(metric):
    forward, backward = metric(KEY, RESPONSE), metric(RESPONSE, KEY)
    assert (backward.recall, backward.precision) == pytest.approx((forward.precision, forward.recall))
    assert backward.f1 == pytest.approx(forward.f1)


def test_identical_partitions_score_one():
    same = partition("ab", "cde", "f")
    for metric in (muc, b_cubed, ceaf_e):
        assert scores(metric(same, same)) == pytest.approx((1.0, 1.0, 1.0))


def test_all_singletons():
    singletons = partition("a", "b", "c")
    # No link on either side: MUC has nothing to count (undefined), the CoNLL score with it.
    assert scores(muc(singletons, singletons)) == (None, None, None)
    assert scores(b_cubed(singletons, singletons)) == pytest.approx((1.0, 1.0, 1.0))
    assert scores(ceaf_e(singletons, singletons)) == pytest.approx((1.0, 1.0, 1.0))
    assert conll(muc(singletons, singletons).f1, 1.0, 1.0) is None


def test_a_link_against_no_link():
    key, response = partition("ab"), partition("a", "b")
    # MUC: the key's one link is lost (recall 0/1); the response has no link (precision undefined); F1 0.
    assert scores(muc(key, response)) == (0.0, None, 0.0)
    # B³ recall: {a b} meets {a} and {b}: (1/2 + 1/2) / 2 = 1/2; precision: each singleton 1/1: 2/2 = 1; F1 2/3.
    assert scores(b_cubed(key, response)) == pytest.approx((0.5, 1.0, 2 / 3))
    # CEAF-e: phi4({a b}, {a}) = 2/3, one alignment: recall 2/3 / 1, precision 2/3 / 2; F1 = 2 * 2/3 * 1/3 / 1 = 4/9.
    assert scores(ceaf_e(key, response)) == pytest.approx((2 / 3, 1 / 3, 4 / 9))


def test_no_mentions_at_all():
    for metric in (muc, b_cubed, ceaf_e):
        assert scores(metric([], [])) == (None, None, None)


def test_disjoint_mentions_score_zero():
    key, response = partition("ab"), partition("cd")
    for metric in (muc, b_cubed, ceaf_e):
        assert metric(key, response).f1 == 0.0


def test_ratios_pool_sums_before_dividing():
    # Document 1: MUC 2/5, 2/5; document 2: identical one-link partitions, 1/1. Pooled recall 3/6, not (0.4 + 1) / 2.
    pooled = muc(KEY, RESPONSE)
    pooled.add(muc(partition("xy"), partition("xy")))
    assert (pooled.recall, pooled.precision) == pytest.approx((0.5, 0.5))


def test_best_assignment_is_not_greedy():
    # Greedy takes 0.9 first and is left with 0: 0.9. The optimum pairs the two 0.8: 1.6.
    assert best_assignment([[0.9, 0.8], [0.8, 0.0]]) == [(0, 1), (1, 0)]


def test_best_assignment_of_empty_and_rectangular_matrices():
    assert best_assignment([]) == []
    assert best_assignment([[], []]) == []
    assert best_assignment([[0.0, 0.0]]) == []  # a zero-weight pair adds nothing and is left out
    assert best_assignment([[0.2], [0.7], [0.5]]) == [(1, 0)]


def test_best_assignment_matches_brute_force():
    rng = random.Random(14)
    for _ in range(200):
        rows, columns = rng.randint(1, 5), rng.randint(1, 5)
        weights = [[rng.choice((0.0, round(rng.random(), 3))) for _ in range(columns)] for _ in range(rows)]
        chosen = best_assignment(weights)
        assert len({i for i, _ in chosen}) == len({j for _, j in chosen}) == len(chosen)
        if rows <= columns:
            brute = max(
                sum(weights[i][p[i]] for i in range(rows)) for p in itertools.permutations(range(columns), rows)
            )
        else:
            brute = max(
                sum(weights[p[j]][j] for j in range(columns)) for p in itertools.permutations(range(rows), columns)
            )
        assert sum(weights[i][j] for i, j in chosen) == pytest.approx(brute)
