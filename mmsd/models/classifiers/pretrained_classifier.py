# Copyright (c) mmsd contributors. All rights reserved.
from typing import Optional, Sequence

from mmpretrain.models import ImageClassifier
from mmpretrain.registry import MODELS

from ..utils import load_checked


@MODELS.register_module()
class PretrainedImageClassifier(ImageClassifier):
    """Image classifier whose backbone starts from a checked checkpoint.

    Stage 3 of `Self-Distillation for Further Pre-training of Transformers
    <https://arxiv.org/abs/2210.02871>`_ fine-tunes the exported encoder. The
    weights are loaded after all initializers ran and every key and shape is
    checked, unlike a backbone-level ``Pretrained`` init.

    Args:
        backbone_checkpoint (str, optional): Checkpoint with ``backbone.*``
            weights, e.g. written by ``tools/export_backbone.py``. If None,
            the backbone starts from its initializers. Defaults to None.
        ignore_keys (Sequence[str]): ``fnmatch`` patterns of backbone keys
            that may be missing or extra, e.g. ``['ln2.*']`` for an
            average-pooling backbone. Defaults to ().
        **kwargs: Arguments of :class:`mmpretrain.models.ImageClassifier`.
    """

    def __init__(self,
                 backbone_checkpoint: Optional[str] = None,
                 ignore_keys: Sequence[str] = (),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.backbone_checkpoint = backbone_checkpoint
        self.ignore_keys = tuple(ignore_keys)

    def init_weights(self) -> None:
        """Run the configured initializers, then load the backbone."""
        super().init_weights()
        if self.backbone_checkpoint is not None:
            load_checked(
                self.backbone,
                self.backbone_checkpoint,
                'backbone.',
                what='backbone',
                ignore_keys=self.ignore_keys)
