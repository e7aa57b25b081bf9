"""The answer verifier, per-prompt scores and bootstrap intervals, against hand-written cases and
naive references."""


import pytest

from ts2.metrics.answer_sets import (
    answer_key,
    classify,
    gini_simpson,
    is_valid,
    normalize,
    prompt_scores,
    rarefied_distinct,
)

VALID = ["Apple", "Passion fruit", "Kiwi"]


@pytest.mark.parametrize("response", ["Apple", "apple", "APPLE", " apple ", "Apple.", "apple!", "Kiwi?",
                                      "passion fruit", "Passion  Fruit.", "PASSION FRUIT", "\nKiwi\n", "Apple..."])
def test_accepts_listed_answers_in_any_case_with_or_without_trailing_punctuation(response):
    assert is_valid(response, VALID)


@pytest.mark.parametrize("response", ["An apple", "Apples", "apple pie", "'Apple'", "Apple, Kiwi", "Apple and Kiwi",
                                      "The answer is Apple", "passionfruit", "", ".", "Kiwi fruit", "Appl"])
def test_rejects_anything_else(response):
    assert not is_valid(response, VALID)


def test_normalize():
    assert normalize("  Passion\tFruit !? ") == "passion fruit"


def test_prompt_scores_open_and_closed():
    responses = ["Apple", "apple.", "Kiwi", "Banana", "The Apple"]
    s = prompt_scores(responses, VALID, "open")
    assert s["accuracy"] == pytest.approx(3 / 5)
    assert s["coverage"] == pytest.approx(2 / 3)  # {apple, kiwi} of min(5, 3)
    assert s["distinct_1"] == pytest.approx(5 / 7)  # apple / apple . / kiwi / banana / the apple (13a, lower)
    assert 0 <= s["self_bleu"] <= 100 and s["distinct_2"] == 1.0
    assert s["lenient_accuracy"] == pytest.approx(4 / 5)  # "The Apple" is a format miss
    assert s["share_format"] == pytest.approx(1 / 5) and s["share_off_list"] == pytest.approx(1 / 5)
    assert s["lenient_coverage"] == pytest.approx(2 / 3)
    # lenient-valid answers: apple, apple, kiwi, apple -> 1 - (3*2 + 0) / (4*3) = 0.5
    assert s["valid_simpson"] == pytest.approx(0.5)
    # E[distinct in 4 of 4] = 2 exactly
    assert s["valid_distinct@4"] == pytest.approx(2.0) and "sft_share" not in s
    assert prompt_scores(["7", "seven", "8", "Seven."], ["7", "Seven"], "closed") == {"pass@1": 0.75,
                                                                                     "lenient_pass@1": 0.75}
    assert prompt_scores(["The answer is 7.", "8"], ["7"], "closed") == {"pass@1": 0.0, "lenient_pass@1": 0.5}
    with pytest.raises(ValueError, match="kind"):
        prompt_scores(["a"], ["a"], "other")


ANIMALS = ["Dog|Dogs", "Cat|Kitty", "Lion", "Hippopotamus|Hippo", "Sea lion"]


@pytest.mark.parametrize("response,expected", [
    ("Dog", ("valid", "dog")), ("dogs.", ("valid", "dog")), ("Kitty", ("valid", "cat")),
    ("A dog.", ("format", "dog")), ("Sure! Dog", ("format", "dog")), ('"Cat"', ("format", "cat")),
    ("**Lion**", ("format", "lion")), ("My answer is: Lion", ("format", "lion")),
    ("The answer is Hippo.", ("format", "hippopotamus")), ("Dog. Dogs are loyal.", ("format", "dog")),
    ("Lion\nLions live in Africa", ("format", "lion")), ("Hippo (a big mammal)", ("format", "hippopotamus")),
    ("A sea lion", ("format", "sea lion")),
    ("Unicorn", ("off_list", None)), ("A unicorn.", ("off_list", None)), ("Snow leopard", ("off_list", None)),
    ("I think a dragon", ("other", None)), ("Dog, Cat, Lion", ("other", None)), ("", ("other", None)),
    ("Dog and cat", ("other", None)), ("42", ("other", None)), ("What is an animal?", ("other", None)),
])
def test_classes_of_responses(response, expected):
    assert classify(response, answer_key(ANIMALS)) == expected


def test_spellings_of_one_answer_count_once():
    key = answer_key(ANIMALS)
    assert key["dogs"] == key["dog"] == "dog" and key["hippo"] == "hippopotamus"
    s = prompt_scores(["Dog", "Dogs", "dog", "Hippo"], ANIMALS, "open", sft_answers=["Dog"])
    assert s["coverage"] == pytest.approx(2 / 4)  # {dog, hippopotamus} of min(4, 5 answers)
    assert s["sft_share"] == pytest.approx(3 / 4)
    assert prompt_scores(["Unicorn", "x y z w"], ANIMALS, "open", sft_answers=["Dog"])["sft_share"] is None


def _naive_simpson(answers):
    pairs = [(i, j) for i in range(len(answers)) for j in range(len(answers)) if i != j]
    return sum(answers[i] != answers[j] for i, j in pairs) / len(pairs)


def _naive_rarefied(answers, m):
    from itertools import combinations

    subsets = list(combinations(range(len(answers)), m))
    return sum(len({answers[i] for i in s}) for s in subsets) / len(subsets)


@pytest.mark.parametrize("answers", [["a", "a"], ["a", "b"], list("aabbbc"), list("abcdefg"), list("aaaaab"),
                                     list("aabbccddeeff")])
def test_valid_diversity_against_enumeration(answers):
    assert gini_simpson(answers) == pytest.approx(_naive_simpson(answers))
    if len(answers) >= 4:
        assert rarefied_distinct(answers, 4) == pytest.approx(_naive_rarefied(answers, 4))
    else:
        assert rarefied_distinct(answers, 4) is None
    assert gini_simpson(["a"]) is None and gini_simpson([]) is None
