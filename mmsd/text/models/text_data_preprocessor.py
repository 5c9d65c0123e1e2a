# Copyright (c) mmsd contributors. All rights reserved.
from typing import List, Optional

from mmengine.model import BaseDataPreprocessor
from mmpretrain.registry import MODELS
from transformers import (DataCollatorForLanguageModeling,
                          DataCollatorWithPadding)

from ..hf_loading import load_tokenizer


@MODELS.register_module()
class TextDataPreprocessor(BaseDataPreprocessor):
    """Tokenize and pad a batch of texts and, for masked language
    modelling, mask it.

    Padding and masking are transformers' own collators:
    ``DataCollatorWithPadding``, or ``DataCollatorForLanguageModeling``
    (``mlm_probability`` of the tokens are chosen, never special tokens or
    padding; of those, ``mask_replace_prob`` become the mask token,
    ``random_replace_prob`` a random token, the rest stay). The masking uses
    torch's global random generator, so MMEngine's seeding and
    ``RandomStateHook`` make it reproducible.

    Args:
        tokenizer (str): Local directory of the tokenizer.
        max_length (int): Texts are truncated to this many tokens (special
            tokens included). Defaults to 128.
        mlm_probability (float, optional): Masking rate; None pads only.
            Defaults to None.
        mask_replace_prob (float): Defaults to 0.8.
        random_replace_prob (float): Defaults to 0.1.
        whole_word_mask (bool): Mask whole words. Defaults to False.
        pad_to_multiple_of (int, optional): Defaults to None.
    """

    def __init__(self,
                 tokenizer: str,
                 max_length: int = 128,
                 mlm_probability: Optional[float] = None,
                 mask_replace_prob: float = 0.8,
                 random_replace_prob: float = 0.1,
                 whole_word_mask: bool = False,
                 pad_to_multiple_of: Optional[int] = None) -> None:
        super().__init__()
        self.tokenizer = load_tokenizer(tokenizer)
        self.max_length = max_length
        if mlm_probability is None:
            self.collator = DataCollatorWithPadding(
                self.tokenizer, pad_to_multiple_of=pad_to_multiple_of)
        else:
            self.collator = DataCollatorForLanguageModeling(
                self.tokenizer,
                mlm_probability=mlm_probability,
                mask_replace_prob=mask_replace_prob,
                random_replace_prob=random_replace_prob,
                whole_word_mask=whole_word_mask,
                pad_to_multiple_of=pad_to_multiple_of)

    def forward(self, data: dict, training: bool = False) -> dict:
        """``inputs``, a list of texts, a dict of lists ``text`` and
        ``text_pair``, or a list of 1-D token-id tensors, becomes a dict of
        ``input_ids``, ``attention_mask`` and, when masking, ``labels``
        (-100 where not masked)."""
        inputs = data['inputs']
        if isinstance(inputs, dict):  # text pairs
            ids = self.tokenize(inputs['text'], inputs['text_pair'])
        elif all(isinstance(text, str) for text in inputs):
            ids = self.tokenize(inputs)
        else:  # tokenized by the dataset, maybe with another tokenizer
            ids = [row.tolist() for row in inputs]
            self.check_vocabulary(max(max(row) for row in ids))
        features = [dict(input_ids=row) for row in ids]
        batch = self.cast_data(dict(self.collator(features)))
        return dict(inputs=batch, data_samples=data.get('data_samples'))

    def tokenize(self, texts, pairs=None) -> List[List[int]]:
        """Token ids of texts (or text pairs), truncated."""
        return self.tokenizer(
            list(texts),
            None if pairs is None else list(pairs),
            truncation=True,
            max_length=self.max_length)['input_ids']

    def check_vocabulary(self, largest_id: int) -> None:
        """Refuse ids the model's tokenizer does not know."""
        vocab_size = len(self.tokenizer)
        if largest_id >= vocab_size:
            raise ValueError(
                f'Token id {largest_id} is outside the vocabulary '
                f'({vocab_size}) of the tokenizer '
                f'{self.tokenizer.name_or_path!r}: the dataset was '
                'tokenized with another tokenizer than the model.')


def build_text_preprocessor(tokenizer: str, **kwargs) -> TextDataPreprocessor:
    """A :class:`TextDataPreprocessor` from mmsd's registry (also outside a
    runner, whose default scope would be MMEngine's)."""
    cfg = dict(type='TextDataPreprocessor', tokenizer=tokenizer)
    cfg.update(kwargs)
    return MODELS.build(cfg)
