# Copyright (c) mmsd contributors. All rights reserved.
import os.path as osp
from operator import attrgetter
from typing import Dict, Optional, Sequence

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop
from mmpretrain.registry import HOOKS
from mmpretrain.utils import get_ori_model

from mmsd.utils import atomic_directory


@HOOKS.register_module()
class SavePretrainedHook(Hook):
    """Save transformers models of the trained model as directories that
    ``AutoModel*.from_pretrained`` loads, with the tokenizer.

    Each entry of ``sources`` maps a directory name to a submodule or
    attribute of the model: ``dict(sd='hf_model',
    fpt='further_pretrained_mlm')`` writes ``{work_dir}/sd`` (the student,
    with its MLM head) and ``{work_dir}/fpt`` (the further-pre-trained
    teacher, with its stage-1 MLM head) when training ends. Each directory
    is written aside and renamed into place, so it is never seen half
    written. With ``epochs`` (epoch-based training), snapshots are also
    written after those epochs, to ``{name}_epoch_{n}``, e.g. to continue
    from a student distilled for fewer epochs.

    Args:
        sources (dict[str, str]): Directory name to a dotted submodule or
            attribute name of the model. Defaults to None:
            ``dict(hf_model='hf_model')``.
        epochs (Sequence[int]): Epochs (1-based) after which snapshots are
            saved. Defaults to ``()``.
    """
    priority = 'LOW'

    def __init__(
        self,
        sources: Optional[Dict[str, str]] = None,
        epochs: Sequence[int] = ()
    ) -> None:
        sources = dict(hf_model='hf_model') if sources is None else sources
        self.sources = dict(sources)
        if any(not isinstance(n, int) or n < 1 for n in epochs):
            raise ValueError(f'SavePretrainedHook: epochs={list(epochs)} '
                             'must be epoch numbers >= 1.')
        self.epochs = set(epochs)

    def before_train(self, runner) -> None:
        if self.epochs and not isinstance(runner.train_loop,
                                          EpochBasedTrainLoop):
            raise ValueError(
                f'SavePretrainedHook: epochs={sorted(self.epochs)} needs an '
                'epoch-based training loop (train_cfg=dict(by_epoch=True, '
                f'...)), not {type(runner.train_loop).__name__}.')

    def after_train_epoch(self, runner) -> None:
        epoch = runner.epoch + 1  # epochs finished
        if epoch in self.epochs:
            self.save(runner, suffix=f'_epoch_{epoch}')

    def after_train(self, runner) -> None:
        self.save(runner)

    def save(self, runner, suffix: str = '') -> None:
        """Write every source to ``{work_dir}/{name}{suffix}``."""
        if not is_main_process():
            return
        model = get_ori_model(runner.model)
        for name, attribute in self.sources.items():
            try:
                module = attrgetter(attribute)(model)
            except AttributeError as err:
                raise AttributeError(
                    f'SavePretrainedHook ({name!r}): {type(model).__name__} '
                    f'has no submodule or attribute {attribute!r}.') from err
            if not hasattr(module, 'save_pretrained'):
                raise TypeError(f'SavePretrainedHook ({name!r}): '
                                f'{attribute!r} is a '
                                f'{type(module).__name__}, not a '
                                'transformers model.')
            path = osp.join(runner.work_dir, name + suffix)
            with atomic_directory(path) as tmp:
                module.save_pretrained(tmp)
                model.data_preprocessor.tokenizer.save_pretrained(tmp)
            print_log(
                f'Saved {attribute!r} as a transformers model to {path}',
                logger='current')
