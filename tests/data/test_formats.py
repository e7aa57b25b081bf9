"""The file readers every command shares (``ts2.formats``): saved Hugging Face datasets are read one
way for training records, prompts and task data, and a directory that is not one, or a dataset
dict whose split is not named, is an error naming the directory and the splits."""

import datasets
import pytest

from ts2.formats import DataError, iter_jsonl, read_prompts, read_saved_dataset
from ts2.training.data import read_records

ROWS = {"prompt": ["2+2?", "3+3?"], "completion": ["4", "6"]}


@pytest.fixture
def saved(tmp_path):
    one = tmp_path / "one"
    datasets.Dataset.from_dict(ROWS).save_to_disk(str(one))
    single = tmp_path / "single"
    datasets.DatasetDict({"validation": datasets.Dataset.from_dict(ROWS)}).save_to_disk(str(single))
    several = tmp_path / "several"
    datasets.DatasetDict({"train": datasets.Dataset.from_dict(ROWS),
                          "test": datasets.Dataset.from_dict({"prompt": ["x"], "completion": ["y"]})}
                         ).save_to_disk(str(several))
    return {"one": one, "single": single, "several": several, "plain": tmp_path}


def test_a_dataset_a_one_split_dict_and_a_named_split_are_read(saved):
    assert read_saved_dataset(saved["one"])["prompt"] == ROWS["prompt"]
    assert read_saved_dataset(saved["single"])["prompt"] == ROWS["prompt"]  # the only split
    assert read_saved_dataset(saved["several"], "test")["prompt"] == ["x"]
    assert read_saved_dataset(saved["several"] / "test")["prompt"] == ["x"]  # one split's own directory


def test_unnamed_or_missing_splits_and_non_datasets_are_errors(saved):
    with pytest.raises(DataError, match=r"several splits \(splits: train, test\).*several/train"):
        read_saved_dataset(saved["several"])
    with pytest.raises(DataError, match="no 'validation' split"):
        read_saved_dataset(saved["several"], "validation")
    with pytest.raises(DataError, match="not a saved Hugging Face dataset"):
        read_saved_dataset(saved["plain"])


def test_training_records_and_prompts_read_saved_datasets_the_same_way(saved):
    assert [r.completion for r in read_records(saved["several"])] == ["4", "6"]  # training reads "train"
    with pytest.raises(DataError, match="no 'train' split"):
        read_records(saved["single"])
    assert [p.text for p in read_prompts(saved["single"])] == ROWS["prompt"]
    with pytest.raises(DataError, match="several splits"):
        read_prompts(saved["several"])  # no longer the first split, silently
    with pytest.raises(DataError, match="not a saved Hugging Face dataset"):
        read_prompts(saved["plain"])


def test_a_bad_jsonl_line_is_named_by_file_and_line(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n\n{"a": \n')
    with pytest.raises(DataError, match=r"rows.jsonl:3: invalid JSON"):
        list(iter_jsonl(path))


def test_auto_true_false_settings_have_one_reading():
    from ts2.formats import auto_bool
    from ts2.training import TS2Arguments

    assert [auto_bool("x", v) for v in ("auto", "TRUE", "false", True, False)] == [None, True, False, True, False]
    with pytest.raises(ValueError, match="fused_loss must be true, false or auto, got fused_loss='yes'"):
        TS2Arguments(fused_loss="yes").fused()


def test_resumable_rows_cut_an_interrupted_last_line_and_keep_the_rest(tmp_path):
    from ts2.formats import resumable_rows

    path = tmp_path / "out.jsonl"
    whole = '{"id": 1}\n{"id": 2}\n'
    assert resumable_rows(tmp_path / "missing.jsonl") == []
    for torn in ('{"id": 3', '{"id": 3}', '{"id": 3, "x"\n{"id": 4}\n'):  # no newline, or not JSON
        path.write_text(whole + torn)
        assert resumable_rows(path, cut=False) == [{"id": 1}, {"id": 2}] and path.read_text() == whole + torn
        assert resumable_rows(path) == [{"id": 1}, {"id": 2}] and path.read_text() == whole
    path.write_text(whole + '{"other": 3}\n')
    with pytest.raises(DataError, match=r"out.jsonl:3: missing field\(s\) id"):
        resumable_rows(path, required=("id",))
