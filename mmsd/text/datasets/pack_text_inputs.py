# Copyright (c) mmsd contributors. All rights reserved.
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS
from mmpretrain.structures import DataSample


@TRANSFORMS.register_module()
class PackTextInputs(BaseTransform):
    """Pack a text into ``inputs`` and a data sample.

    ``inputs`` is the text itself, a dict ``text``/``text_pair`` for a pair,
    or the unpadded token ids when the dataset tokenized it;
    :class:`mmsd.text.TextDataPreprocessor` tokenizes, pads (and masks) a
    whole batch. ``gt_label`` (class) or ``gt_score`` (regression target)
    is set when the sample has one.
    """

    def transform(self, results: dict) -> dict:
        data_sample = DataSample()
        if results.get('gt_label') is not None:
            data_sample.set_gt_label(results['gt_label'])
        if results.get('gt_score') is not None:
            data_sample.set_gt_score(
                torch.tensor([results['gt_score']], dtype=torch.float32))
        if 'input_ids' in results:
            inputs = torch.as_tensor(results['input_ids'], dtype=torch.long)
        elif results.get('text_pair') is not None:
            inputs = dict(text=results['text'], text_pair=results['text_pair'])
        else:
            inputs = results['text']
        return dict(inputs=inputs, data_samples=data_sample)
