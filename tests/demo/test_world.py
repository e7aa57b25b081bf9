"""The demo's verifiers accept every valid answer and reject invalid ones (hand-written cases)."""

import random

import pytest

from ts2.demo import toy_world


@pytest.mark.parametrize("kind,params,valid,invalid", [
    ("prime", (20,), ["2", "3", "5", "7", "11", "13", "17", "19"], ["1", "4", "9", "15", "20", "23", "cat", ""]),
    ("multiple", (7, 10, 50), ["14", "21", "28", "35", "42", "49"], ["7", "10", "50", "56", "15", "seven"]),
    ("word", ("st",), ["stone", "star", "storm", "stick", "street", "study", "stamp", "stand"],
     ["stones", "cat", "st", "tree", "stone star"]),
    ("number", (5,), ["0", "1", "2", "3", "4"], ["5", "-1", "10", "five"]),
    ("add", (12, 30), ["42"], ["41", "43", "12 30", "forty two"]),
    ("reverse", ("a", "b", "c"), ["c b a"], ["a b c", "c b", "cba", "c a b"]),
])
def test_verifier_accepts_valid_and_rejects_invalid(kind, params, valid, invalid):
    """``valid`` is the complete set of valid answers, written by hand."""
    task = toy_world.make_task(kind, params)
    assert sorted(task.valid) == sorted(valid)
    for answer in valid:
        assert toy_world.is_valid(task, answer) and toy_world.is_valid(task, f"  {answer} "), answer
    for answer in invalid:
        assert not toy_world.is_valid(task, answer), answer


def test_primes_below():
    assert toy_world.primes_below(30) == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]


def test_split_is_deterministic_and_disjoint():
    a = toy_world.task_families(random.Random(0))
    b = toy_world.task_families(random.Random(0))
    for name in a:
        assert [t.id for t in a[name]["train"]] == [t.id for t in b[name]["train"]]
        assert not {t.id for t in a[name]["train"]} & {t.id for t in a[name]["heldout"]}
        assert a[name]["heldout"], name


def test_every_answer_is_in_the_vocabulary():
    vocab = set(toy_world.vocabulary())
    families = toy_world.task_families(random.Random(0))
    for split in families.values():
        for tasks in split.values():
            for task in tasks:
                assert all(tok in vocab for tok in task.prompt.split()), task.prompt
                assert all(tok in vocab for answer in task.valid for tok in answer.split()), task.id


def test_sft_data_is_narrower_than_pretraining():
    families = toy_world.task_families(random.Random(0))
    records = toy_world.sft_records(families, random.Random(2))
    train_prompts = {t.prompt for split in families.values() for t in split["train"]}
    assert {r["messages"][0]["content"] for r in records} == train_prompts  # one response per prompt
    by_prompt = {t.prompt: t for split in families.values() for t in split["train"]}
    for r in records:
        task = by_prompt[r["messages"][0]["content"]]
        assert r["messages"][1]["content"] in task.valid[:3]
