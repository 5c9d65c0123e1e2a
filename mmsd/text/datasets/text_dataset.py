# Copyright (c) mmsd contributors. All rights reserved.
import csv
import json
import os.path as osp
from typing import List, Optional, Sequence, Tuple

from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from ..hf_loading import load_tokenizer


def read_text_records(path: str,
                      columns: Optional[Sequence[str]] = None) -> List[dict]:
    """Read records from a JSON-lines (``.jsonl``/``.json``), CSV or TSV
    (GLUE's, unquoted) file. ``columns`` names the fields of a CSV/TSV file
    without a header row (e.g. GLUE's CoLA)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'The text file {path!r} does not exist.')
    if path.endswith(('.csv', '.tsv')):
        options = dict(delimiter='\t', quoting=csv.QUOTE_NONE) \
            if path.endswith('.tsv') else {}
        with open(path, newline='', encoding='utf-8') as f:
            return list(csv.DictReader(f, fieldnames=columns, **options))
    records = []
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}, line {number}: not a JSON object '
                                 f'({err.msg}).') from err
    return records


def special_tokens_around(tokenizer) -> Tuple[List[int], List[int]]:
    """The special token ids the tokenizer puts before and after a single
    text, e.g. ``[CLS]`` and ``[SEP]``."""
    content = tokenizer('a', add_special_tokens=False)['input_ids']
    full = tokenizer('a')['input_ids']
    for start in range(len(full) - len(content) + 1):
        if full[start:start + len(content)] == content:
            return full[:start], full[start + len(content):]
    raise ValueError(f'Cannot locate the text among the special tokens of '
                     f'{type(tokenizer).__name__}: {full}.')


@DATASETS.register_module()
class TextDataset(BaseDataset):
    """Texts or text pairs, with optional labels, from a JSON-lines, CSV or
    TSV file.

    Each record has a text field, optionally a second text (sentence-pair
    tasks such as GLUE's MRPC or RTE) and, for classification, a label field
    (a class name from ``classes`` or an integer index). By default the texts
    stay strings and the model's :class:`TextDataPreprocessor` tokenizes
    each batch, so the tokenizer is configured once, with the model. With
    ``tokenizer`` the texts are tokenized once when the dataset loads; this
    also allows, for masked-language-model pre-training, to concatenate the
    token streams and cut them into blocks of ``block_size`` tokens, as
    transformers' ``run_mlm.py`` does without ``--line_by_line`` (labels
    are then dropped).

    Args:
        ann_file (str): The ``.jsonl``/``.json`` (one object per line) or
            ``.csv`` file, relative to ``data_root``.
        tokenizer (str, optional): Local directory of the tokenizer (the
            model's) to tokenize at load time. Defaults to None.
        classes (Sequence[str], optional): Class names; string labels must
            be among them. Defaults to None (unlabeled data or integer
            labels).
        text_key (str): Field of the text. Defaults to 'text'.
        text_pair_key (str, optional): Field of the second text of a pair.
            Defaults to None.
        columns (Sequence[str], optional): Field names of a CSV/TSV file
            that has no header row. Defaults to None.
        label_key (str, optional): Field of the label; None ignores labels.
            Defaults to 'label'.
        regression (bool): The label is a real number (``gt_score``, e.g.
            GLUE's STS-B similarity), not a class. Defaults to False.
        max_length (int): With ``tokenizer``, texts are truncated to this
            many tokens (special tokens included). Defaults to 128.
        block_size (int, optional): With ``tokenizer``, group the tokens
            into blocks of this length instead. Defaults to None.
        **kwargs: Arguments of :class:`mmpretrain.datasets.BaseDataset`.
    """

    def __init__(self,
                 ann_file: str,
                 tokenizer: Optional[str] = None,
                 classes: Optional[Sequence[str]] = None,
                 text_key: str = 'text',
                 text_pair_key: Optional[str] = None,
                 columns: Optional[Sequence[str]] = None,
                 label_key: Optional[str] = 'label',
                 regression: bool = False,
                 max_length: int = 128,
                 block_size: Optional[int] = None,
                 pipeline: Sequence = (dict(type='PackTextInputs'), ),
                 **kwargs) -> None:
        self.tokenizer_path = tokenizer
        self.text_key = text_key
        self.text_pair_key = text_pair_key
        self.columns = columns
        self.label_key = label_key
        self.regression = regression
        self.max_length = max_length
        self.block_size = block_size
        if block_size is not None and tokenizer is None:
            raise ValueError('TextDataset: block_size needs a tokenizer (a '
                             'local directory) to count tokens.')
        if block_size is not None and text_pair_key is not None:
            raise ValueError('TextDataset: block_size does not apply to '
                             'text pairs.')
        super().__init__(
            ann_file=ann_file, classes=classes, pipeline=pipeline, **kwargs)

    def load_data_list(self) -> List[dict]:
        path = self.ann_file
        records = read_text_records(path, self.columns)
        if not records:
            raise ValueError(f'The text file {path!r} has no records.')
        texts = self._texts(records, self.text_key)
        pairs = None if self.text_pair_key is None else self._texts(
            records, self.text_pair_key)
        targets = self._targets(records)
        if self.tokenizer_path is None:
            return [
                dict(text=text, text_pair=pair, **target)
                for text, pair, target in zip(texts, pairs or [None] *
                                              len(texts), targets)
            ]
        tokenizer = load_tokenizer(self.tokenizer_path)
        if self.block_size is not None:
            return self._blocks(tokenizer, texts)
        input_ids = tokenizer(
            texts, pairs, truncation=True,
            max_length=self.max_length)['input_ids']
        return [
            dict(input_ids=ids, **target)
            for ids, target in zip(input_ids, targets)
        ]

    def _texts(self, records: List[dict], key: str) -> List[str]:
        texts = []
        for number, record in enumerate(records, 1):
            text = record.get(key)
            if not isinstance(text, str):
                raise ValueError(f'{self.ann_file}, record {number}: no text '
                                 f'under {key!r} (keys: {sorted(record)}).')
            texts.append(text)
        return texts

    def _targets(self, records: List[dict]) -> List[dict]:
        """Per record ``gt_label`` (class index) or ``gt_score`` (real
        number), or nothing for unlabeled data."""
        if self.label_key is None or self.label_key not in records[0]:
            reasons = dict(
                test_mode=self.test_mode,
                classes=self._metainfo.get('classes') is not None,
                regression=self.regression)
            needed = [reason for reason, needs in reasons.items() if needs]
            if self.label_key is not None and needed:
                raise ValueError(
                    f'{self.ann_file}: no label under label_key='
                    f'{self.label_key!r} (the records have '
                    f'{sorted(records[0])}), but the dataset needs labels '
                    f'({", ".join(needed)} set). Set label_key to the label '
                    'column.')
            return [{}] * len(records)
        if self.regression:
            return [
                dict(gt_score=self._score(record, number))
                for number, record in enumerate(records, 1)
            ]
        return [dict(gt_label=label) for label in self._labels(records)]

    def _score(self, record: dict, number: int) -> float:
        try:
            return float(record.get(self.label_key))
        except (TypeError, ValueError):
            raise ValueError(
                f'{self.ann_file}, record {number}: label '
                f'{record.get(self.label_key)!r} is not a number.') from None

    def _labels(self, records: List[dict]) -> List[int]:
        """Class indices."""
        classes = self._metainfo.get('classes')
        labels = []
        for number, record in enumerate(records, 1):
            label = record.get(self.label_key)
            if classes is not None and str(label) in classes:
                labels.append(list(classes).index(str(label)))
            elif isinstance(label, int) or str(label).isdigit():
                index = int(label)
                if classes is not None and index >= len(classes):
                    raise ValueError(
                        f'{self.ann_file}, record {number}: label {index} '
                        f'is out of range for {len(classes)} classes.')
                labels.append(index)
            else:
                raise ValueError(
                    f'{self.ann_file}, record {number}: label {label!r} is '
                    f'not one of classes={classes}. Set the dataset\'s '
                    '"classes" to the label names.')
        return labels

    def _blocks(self, tokenizer, texts: List[str]) -> List[dict]:
        """Concatenate all token ids and cut them into full blocks."""
        prefix, suffix = special_tokens_around(tokenizer)
        length = self.block_size - len(prefix) - len(suffix)
        if length <= 0:
            raise ValueError(f'block_size={self.block_size} leaves no room '
                             'for the special tokens.')
        stream = [
            token
            for ids in tokenizer(texts, add_special_tokens=False)['input_ids']
            for token in ids
        ]
        if len(stream) < length:
            raise ValueError(
                f'{self.ann_file} has {len(stream)} tokens, fewer than one '
                f'block of {self.block_size}.')
        return [
            dict(input_ids=prefix + stream[start:start + length] + suffix)
            for start in range(0,
                               len(stream) - length + 1, length)
        ]

    def extra_repr(self) -> List[str]:
        return [
            f'Annotation file: \t{self.ann_file}',
            f'Tokenizer: \t{self.tokenizer_path}',
            f'Block size: \t{self.block_size}'
        ]
