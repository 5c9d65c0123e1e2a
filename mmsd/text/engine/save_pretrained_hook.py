# Copyright (c) mmsd contributors. All rights reserved.
import os.path as osp
from operator import attrgetter
from typing import Dict, Optional, Sequence

from mmengine.dist import is_main_process
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop
from mmpretrain.registry import HOOKS
from mmpretrain.utils import get_ori_model

from mmsd.engine.round_exports import RoundExportHook
from mmsd.utils import atomic_directory


@HOOKS.register_module()
class SavePretrainedHook(RoundExportHook):
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
    from a student distilled for fewer epochs. In a run with several rounds
    of self-distillation, ``each_round='round{round}'`` writes the model
    that ends every round (``round0``: the further pre-trained one with its
    MLM head, as soon as round 1 starts) and the last round's student (see
    :class:`mmsd.engine.round_exports.RoundExportHook`).

    Args:
        sources (dict[str, str]): Directory name to a dotted submodule or
            attribute name of the model. Defaults to None:
            ``dict(hf_model='hf_model')``.
        epochs (Sequence[int]): Epochs (1-based) after which snapshots are
            saved. Defaults to ``()``.
        each_round (str, optional): Directory name of the encoder of every
            round, with ``{round}``. Defaults to None.
    """
    teacher_source = 'further_pretrained_mlm'
    teacher_aliases = ('teacher', )
    student_source = 'hf_model'

    def __init__(self,
                 sources: Optional[Dict[str, str]] = None,
                 epochs: Sequence[int] = (),
                 each_round: Optional[str] = None) -> None:
        sources = dict(hf_model='hf_model') if sources is None else sources
        super().__init__(sources, each_round)
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
        super().before_train(runner)

    def after_train_epoch(self, runner) -> None:
        epoch = runner.epoch + 1  # epochs finished
        if epoch in self.epochs and is_main_process():
            for name, attribute in self.sources.items():
                self.write(runner, f'{name}_epoch_{epoch}', attribute)

    def write(self, runner, name: str, attribute: str) -> None:
        """Save the model's submodule or attribute ``attribute`` as
        ``name``."""
        model = get_ori_model(runner.model)
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
        path = osp.join(runner.work_dir, name)
        with atomic_directory(path) as tmp:
            module.save_pretrained(tmp)
            model.data_preprocessor.tokenizer.save_pretrained(tmp)
        print_log(
            f'Saved {attribute!r} as a transformers model to {path}',
            logger='current')
