# Copyright (c) mmsd contributors. All rights reserved.
import os.path as osp
from typing import Dict

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpretrain.registry import HOOKS
from mmpretrain.utils import get_ori_model

from mmsd.utils import save_backbone, select_prefix


@HOOKS.register_module()
class ExportBackboneHook(Hook):
    """Write encoders as tensors-only backbone files when training ends.

    Each entry of ``sources`` maps a file name to a prefix of the model's
    state dict: ``dict(sd_backbone='backbone.', fpt_backbone='teacher.')``
    writes ``{work_dir}/sd_backbone.pth`` and ``{work_dir}/fpt_backbone.pth``,
    which fine-tune configs load as ``model.backbone_checkpoint``.

    Args:
        sources (dict[str, str]): File name (without ``.pth``) to prefix.
            Defaults to ``dict(backbone='backbone.')``.
    """
    priority = 'LOW'

    def __init__(self, sources: Dict[str, str] = dict(backbone='backbone.')):
        self.sources = dict(sources)

    def after_train(self, runner) -> None:
        if not is_main_process():
            return
        state_dict = {
            key: value
            for key, value in get_ori_model(runner.model).state_dict().items()
            if not key.endswith('_extra_state')
        }
        for name, prefix in self.sources.items():
            weights = select_prefix(
                state_dict, prefix,
                f'ExportBackboneHook ({name!r}): the model')
            path = osp.join(runner.work_dir, f'{name}.pth')
            count = save_backbone(
                weights, path, meta=dict(iter=runner.iter, prefix=prefix))
            print_log(
                f'Exported {count} tensors under {prefix!r} to {path}',
                logger='current')
