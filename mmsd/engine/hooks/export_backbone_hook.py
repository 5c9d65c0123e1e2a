# Copyright (c) mmsd contributors. All rights reserved.
import os.path as osp
from typing import Dict, Optional, Sequence

from mmengine.logging import print_log
from mmpretrain.registry import HOOKS
from mmpretrain.utils import get_ori_model

from mmsd.converters import EXPORT_FORMATS, export_encoder, vit_architecture
from mmsd.utils import select_prefix
from ..round_exports import RoundExportHook


@HOOKS.register_module()
class ExportBackboneHook(RoundExportHook):
    """Write encoders as tensors-only backbone files when training ends.

    Each entry of ``sources`` maps a file name to a prefix of the model's
    state dict: ``dict(sd_backbone='backbone.', fpt_backbone='teacher.')``
    writes ``{work_dir}/sd_backbone.pth`` and ``{work_dir}/fpt_backbone.pth``,
    which fine-tune configs load as ``model.backbone_checkpoint``. ViT
    backbones also get their architecture in the file's ``meta``, so that
    ``tools/export_backbone.py --format hf|timm`` needs no config.

    With ``formats`` including ``'hf'`` or ``'timm'``, ViT encoders are also
    written as ``{work_dir}/{name}_hf/`` (a transformers ``ViTModel``, or
    ``Dinov2Model`` with layer scale) and ``{work_dir}/{name}_timm/`` (for
    ``timm.create_model('local-dir:...', pretrained=True)``).

    In a run with several rounds of self-distillation
    (:class:`SelfDistillStageHook` with ``rounds``), ``each_round`` names
    the encoder of every round: ``'round{round}_backbone'`` writes
    ``round0_backbone.pth`` (the further pre-trained encoder, as soon as
    round 1 starts), ``round1_backbone.pth`` and so on, the last one when
    training ends (see :class:`mmsd.engine.round_exports.RoundExportHook`).

    Args:
        sources (dict[str, str]): File name (without ``.pth``) to prefix.
            Defaults to ``dict(backbone='backbone.')``.
        formats (Sequence[str]): Any of ``'mmpretrain'``, ``'hf'`` and
            ``'timm'``. Defaults to ``('mmpretrain', )``.
        hf_with_decoder (bool): Write the student (prefix ``'backbone.'``)
            with the MAE decoder as ``ViTMAEForPreTraining``. Defaults to
            False.
        each_round (str, optional): File name of the encoder of every
            round, with ``{round}``. Defaults to None.
    """
    teacher_source = 'teacher.'
    student_source = 'backbone.'

    def __init__(self,
                 sources: Dict[str, str] = dict(backbone='backbone.'),
                 formats: Sequence[str] = ('mmpretrain', ),
                 hf_with_decoder: bool = False,
                 each_round: Optional[str] = None):
        unknown = [fmt for fmt in formats if fmt not in EXPORT_FORMATS]
        if unknown:
            raise ValueError(f'ExportBackboneHook: unknown formats {unknown};'
                             f' choose from {EXPORT_FORMATS}.')
        super().__init__(sources, each_round)
        self.formats = tuple(formats)
        self.hf_with_decoder = hf_with_decoder

    def before_train(self, runner) -> None:
        """Fail before training if a format cannot be written."""
        import importlib
        super().before_train(runner)
        model = get_ori_model(runner.model)
        needs = {'hf': 'transformers', 'timm': 'timm'}
        for fmt in self.formats:
            if fmt in needs:
                importlib.import_module(needs[fmt])
        if set(self.formats) == {'mmpretrain'}:
            return
        sources = dict(self.sources)
        if self.each_round is not None:
            sources[self.each_round] = self.student_source
        for name, prefix in sources.items():
            module = model.get_submodule(prefix.rstrip('.'))
            if vit_architecture(module) is None:
                raise ValueError(
                    f'ExportBackboneHook: {name!r} ({prefix!r}) is a '
                    f'{type(module).__name__}; only ViT encoders can be '
                    f'written as {self.formats}.')

    def write(self, runner, name: str, prefix: str) -> None:
        """Write the weights under ``prefix`` as ``name`` in every
        format."""
        model = get_ori_model(runner.model)
        state_dict = {
            key: value
            for key, value in model.state_dict().items()
            if not key.endswith('_extra_state')
        }
        weights = select_prefix(state_dict, prefix,
                                f'ExportBackboneHook ({name!r}): the model')
        tensors = {'backbone.' + k: v for k, v in weights.items()}
        decoder = self.hf_with_decoder and prefix == 'backbone.'
        if decoder:
            tensors.update(('neck.' + k, v) for k, v in select_prefix(
                state_dict, 'neck.', 'ExportBackboneHook: the model').items())
        architecture = vit_architecture(
            model.get_submodule(prefix.rstrip('.')),
            getattr(model, 'neck', None) if decoder else None,
            getattr(model, 'head', None))
        meta = dict(iter=runner.iter, prefix=prefix)
        if hasattr(model, 'distill_round'):
            meta['round'] = model.distill_round - (prefix == 'teacher.')
        for fmt in self.formats:
            path = osp.join(
                runner.work_dir,
                f'{name}.pth' if fmt == 'mmpretrain' else f'{name}_{fmt}')
            how = export_encoder(
                tensors,
                architecture,
                path,
                fmt,
                with_decoder=decoder and fmt == 'hf',
                meta=meta)
            print_log(
                f'Exported the encoder under {prefix!r} to {path}: {how}',
                logger='current')
