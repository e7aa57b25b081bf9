"""The real-model demo's tasks: splits fixed and disjoint, SFT narrow, lists usable by the verifier."""

import pytest

from ts2.demo import answer_lists, real_world
from ts2.metrics.answer_sets import is_valid


def test_categories_are_split_in_halves_once():
    parts = real_world.splits()
    assert parts == real_world.splits()
    assert len(parts["sft_open"]) == len(parts["heldout_open"]) == 8
    assert not set(parts["sft_open"]) & set(parts["heldout_open"])
    assert len(parts["sft_closed"]) == len(parts["heldout_closed"]) == 2


def test_sft_data_never_shows_heldout_categories_or_unseen_phrasings():
    parts = real_world.splits()
    records = real_world.sft_records()
    prompts = {r["messages"][0]["content"] for r in records}
    assert len(records) == len(prompts) == 8 * 5 + 2 * 4  # one response per prompt
    for category in parts["heldout_open"]:
        assert not any(real_world.open_question(category, p) in prompts for p in range(8))
    for category in parts["sft_open"]:
        for phrasing in real_world.V2.unseen_phrasings:
            assert real_world.open_question(category, phrasing) not in prompts
    answers = {}
    for category in parts["sft_open"]:
        first_three = real_world.sft_answers(category)
        for phrasing in real_world.V2.sft_phrasings:
            record = next(r for r in records if r["messages"][0]["content"] == real_world.open_question(category,
                                                                                                          phrasing))
            assert record["messages"][1]["content"] in first_three
            answers.setdefault(category, []).append(record["messages"][1]["content"])
    assert sum(a == real_world.sft_answers(c)[0] for c, v in answers.items() for a in v) > 15


def test_eval_prompts_and_their_valid_answers():
    rows = real_world.eval_prompts()
    sft_prompts = {r["messages"][0]["content"] for r in real_world.sft_records()}
    assert len(rows) == 72 and len({r["id"] for r in rows}) == 72
    assert not {r["prompt"] for r in rows} & sft_prompts
    by_id = {r["id"]: r for r in rows}
    # Hand-written cases of the verifier on the shipped lists.
    capital = next(r for r in rows if r["category"] == "capital")
    assert is_valid("Paris", capital["valid"]) and is_valid("kuala lumpur.", capital["valid"])
    assert not is_valid("The capital is Paris", capital["valid"]) and not is_valid("Atlantis", capital["valid"])
    assert not is_valid("Eight", by_id["addition/4"]["valid"]) and is_valid("10", by_id["addition/5"]["valid"])
    assert is_valid("Sixty", by_id["how_many/7"]["valid"]) and not is_valid("61", by_id["how_many/7"]["valid"])
    for row in rows:
        assert row["prompt"].endswith(answer_lists.ANSWER_FORMAT)
        assert row["kind"] == "closed" or len(row["valid"]) >= 16


def test_v2_lists_accept_what_v1_missed_and_group_spellings():
    rows = {r["category"]: r for r in real_world.eval_prompts() if r["kind"] == "open"}
    from ts2.metrics.answer_sets import answer_key

    country, animal = answer_key(rows["country"]["valid"]), answer_key(rows["animal"]["valid"])
    assert country["uk"] == country["united kingdom"] and country["us"] == country["usa"] == "united states"
    assert {"ostrich", "snail", "salmon"} <= set(animal) and animal["dogs"] == animal["dog"] == "dog"
    assert answer_key(rows["element"]["valid"])["fe"] == "iron"
    # the first three answers (SFT's) are single answers with their listed first spelling
    for category in real_world.splits()["sft_open"]:
        assert real_world.sft_answers(category) == [a.split("|")[0] for a in
                                                    answer_lists.OPEN_CATEGORIES[category][1][:3]]
        assert rows[category]["sft_answers"] == real_world.sft_answers(category)
    assert all(rows[c]["sft_answers"] is None for c in real_world.splits()["heldout_open"])
    # no spelling belongs to two answers of a category
    for category, (_, answers) in answer_lists.OPEN_CATEGORIES.items():
        spellings = [s.casefold() for a in answers for s in a.split("|")]
        assert len(spellings) == len(set(spellings)), category


def test_positive_control_data_differs_only_in_its_open_answers():
    narrow, uniform = real_world.sft_records(), real_world.sft_records(uniform=True)
    assert [r["messages"][0] for r in narrow] == [r["messages"][0] for r in uniform]
    parts = real_world.splits()
    category_of = {real_world.open_question(c, p): c for c in parts["sft_open"] for p in range(8)}
    taught = 0
    for record in uniform:
        question, answer = (m["content"] for m in record["messages"])
        category = category_of.get(question)
        if category is None:  # closed questions keep their one right answer
            assert record in narrow
            continue
        assert is_valid(answer, answer_lists.OPEN_CATEGORIES[category][1])
        taught += answer in real_world.sft_answers(category)
    assert taught < 10  # drawn from 86-221 answers, not from the narrow three


def test_v3_design_has_24_sft_and_8_heldout_categories_with_three_prompts_each():
    from collections import Counter

    v3 = real_world.V3
    parts = real_world.splits(v3)
    assert parts == real_world.splits(v3)
    assert len(parts["sft_open"]) == 24 and len(parts["heldout_open"]) == 8
    assert not set(parts["sft_open"]) & set(parts["heldout_open"]) and not parts["sft_closed"]
    # v2's sixteen categories are kept as they were; sixteen are new
    from ts2.demo import answer_lists as answer_lists_v3

    assert all(v3.categories[c] == answer_lists.OPEN_CATEGORIES[c] for c in answer_lists.OPEN_CATEGORIES)
    assert len(v3.categories) == 32 and len(answer_lists_v3.V3_CATEGORIES) == 16
    rows = real_world.eval_prompts(v3)
    assert {r["kind"] for r in rows} == {"open"}
    per_category = Counter((r["split"], r["category"]) for r in rows)
    assert len(per_category) == 32 and set(per_category.values()) == {3}
    records = real_world.sft_records(design=v3)
    prompts = {r["messages"][0]["content"] for r in records}
    assert len(records) == len(prompts) == 24 * 3
    assert not {r["prompt"] for r in rows} & prompts
    for category in parts["heldout_open"]:
        assert not any(real_world.open_question(category, p, v3) in prompts for p in range(8))
    sft_questions = {real_world.open_question(c, p, v3) for c in parts["sft_open"] for p in v3.sft_phrasings}
    assert prompts == sft_questions
    taught = {r["messages"][1]["content"] for r in records}
    assert taught <= {a for c in parts["sft_open"] for a in real_world.sft_answers(c, v3)}


def test_v4_designs_share_v3_sft_data_and_the_mixture_keeps_prompts_and_order():
    v3, v4, demo, pilot = real_world.V3, real_world.V4, real_world.V4_DEMO, real_world.V4_PILOT
    narrow = real_world.sft_records(design=v3)
    assert all(real_world.sft_records(design=d) == narrow for d in (v4, demo, pilot))  # v3's dose carries over
    for q in real_world.MIXTURES:
        mixed = real_world.sft_records(design=v4, mixture=q)
        assert [r["messages"][0] for r in mixed] == [r["messages"][0] for r in narrow]
        changed = sum(a != b for a, b in zip(mixed, narrow))
        assert 0.5 * q * len(narrow) < changed < 1.5 * q * len(narrow) + 4
        for record in mixed:
            question, answer = (m["content"] for m in record["messages"])
            category = next(c for c in real_world.splits(v4)["sft_open"]
                            if question in {real_world.open_question(c, p, v4) for p in v4.sft_phrasings})
            assert is_valid(answer, v4.categories[category][1])
    with pytest.raises(ValueError, match="mixture"):
        real_world.sft_records(design=v4, mixture=1.0)
    v3, v4, demo, pilot = ({r["prompt"] for r in real_world.eval_prompts(d)} for d in (v3, v4, demo, pilot))
    assert len(v4) == 72 and len(demo) == 48 and len(pilot) == 72
    assert not v4 & demo and not (v4 | demo) & v3
    assert pilot <= v3  # the pilots asked v3's prompts, so v4's stayed unsampled


def test_v3_lists_group_spellings_and_accept_their_forms():
    from ts2.demo.answer_lists import OPEN_CATEGORIES_V3 as OPEN_CATEGORIES
    from ts2.demo.answer_lists import V3_CATEGORIES
    from ts2.metrics.answer_sets import answer_key

    for category in V3_CATEGORIES:
        answers = OPEN_CATEGORIES[category][1]
        spellings = [s.casefold() for a in answers for s in a.split("|")]
        assert len(spellings) == len(set(spellings)), category
        assert len(answers) >= 50, category
    assert len(OPEN_CATEGORIES["us_state"][1]) == 50
    emotion, car = answer_key(OPEN_CATEGORIES["emotion"][1]), answer_key(OPEN_CATEGORIES["car_brand"][1])
    assert emotion["happy"] == emotion["happiness"] and emotion["scared"] == emotion["fear"]
    assert car["vw"] == car["volkswagen"] and car["chevy"] == car["chevrolet"]
    tools = answer_key(OPEN_CATEGORIES["tool"][1])
    assert tools["spanner"] == tools["wrench"] and tools["hammers"] == tools["hammer"]
    assert is_valid("Golden retriever.", OPEN_CATEGORIES["dog_breed"][1])
    assert not is_valid("Atlantis", OPEN_CATEGORIES["us_state"][1])


def test_the_shipped_lists_are_checked_when_loaded():
    """The JSON lists are validated: a category without a noun phrase, with fewer than three answers,
    or with one spelling in two answers is an error naming the file and the category."""
    import pytest

    from ts2.demo.answer_lists import check_categories
    from ts2.formats import DataError

    good = {"fruit": {"noun": "a fruit", "answers": ["Apple", "Pear|Pears", "Fig"]}}
    assert check_categories(good, "f.json") == {"fruit": ("a fruit", ("Apple", "Pear|Pears", "Fig"))}
    for bad, message in ((({"fruit": {"answers": ["A", "B", "C"]}}), "category 'fruit' needs a 'noun'"),
                         ({"fruit": {"noun": "a fruit", "answers": ["A", "B"]}}, "at least 3 answers"),
                         ({"fruit": {"noun": "a fruit", "answers": ["Apple", "Pear|apple", "Fig"]}},
                          "spelling 'apple' is in both 'Apple' and 'Pear|apple'")):
        with pytest.raises(DataError, match=message):
            check_categories(bad, "f.json")
