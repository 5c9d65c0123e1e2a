# Copyright (c) mmsd contributors. All rights reserved.
import copy
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.evaluator import Evaluator
from mmengine.runner import ValLoop, autocast
from mmengine.runner.loops import _parse_losses, _update_losses
from mmpretrain.registry import LOOPS
from torch.utils.data import DataLoader


@LOOPS.register_module()
class MultiSplitValLoop(ValLoop):
    """Validation on the val dataloader and on more named splits, e.g. the
    training texts themselves, so that training and held-out metrics are
    logged side by side along training and the point where they part (the
    model memorises its training set) is visible.

    Every split is evaluated with its own copy of the val evaluator, and
    its metrics, and the losses a model reports through MMEngine's
    validation-loss protocol (a last output ``BaseDataElement(loss=...)``),
    are prefixed with ``'{name}/'``. The val dataloader's results keep their
    plain names unless ``name`` is given.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader or dict): The val dataloader.
        evaluator (dict or list): The val evaluator config (a built
            ``Evaluator`` cannot be copied for the extra splits).
        splits (dict[str, dict]): Split name to dataloader config, e.g.
            ``dict(train=dict(dataset=..., batch_size=64, sampler=...))``.
            Defaults to None: only the val dataloader.
        name (str, optional): Prefix of the val dataloader's results.
            Defaults to None.
        fp16 (bool): Defaults to False.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, dict],
                 evaluator: Union[dict, List[dict]],
                 splits: Optional[Dict[str, dict]] = None,
                 name: Optional[str] = None,
                 fp16: bool = False) -> None:
        if isinstance(evaluator, Evaluator) and splits:
            raise TypeError('MultiSplitValLoop needs the val evaluator as a '
                            'config (dict or list) to copy it for the '
                            f'splits {sorted(splits)}, not a built Evaluator.')
        names = [name, *(splits or {})]
        if len(set(names)) != len(names):
            raise ValueError(f'MultiSplitValLoop: split names {names} must '
                             'differ from each other and from `name`.')
        super().__init__(runner, dataloader, copy.deepcopy(evaluator), fp16)
        self.name = name
        self.splits = []
        for split, loader in (splits or {}).items():
            split_evaluator = runner.build_evaluator(copy.deepcopy(evaluator))
            split_loader = runner.build_dataloader(loader, seed=runner.seed)
            if hasattr(split_loader.dataset, 'metainfo'):
                split_evaluator.dataset_meta = split_loader.dataset.metainfo
            self.splits.append((split, split_loader, split_evaluator))

    def run(self) -> dict:
        """Evaluate every split; return all results, prefixed."""
        self.runner.call_hook('before_val')
        self.runner.call_hook('before_val_epoch')
        self.runner.model.eval()
        metrics = self._evaluate(self.name, self.dataloader, self.evaluator)
        for name, dataloader, evaluator in self.splits:
            metrics.update(self._evaluate(name, dataloader, evaluator))
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics

    def _evaluate(self, name: Optional[str], dataloader: DataLoader,
                  evaluator: Evaluator) -> dict:
        self.val_loss.clear()
        for idx, data_batch in enumerate(dataloader):
            self._run_split_iter(idx, data_batch, evaluator)
        results = evaluator.evaluate(len(dataloader.dataset))
        if self.val_loss:
            results.update(_parse_losses(self.val_loss, 'val'))
        if name is None:
            return results
        return {f'{name}/{key}': value for key, value in results.items()}

    @torch.no_grad()
    def _run_split_iter(self, idx: int, data_batch: Sequence[dict],
                        evaluator: Evaluator) -> None:
        self.runner.call_hook(
            'before_val_iter', batch_idx=idx, data_batch=data_batch)
        with autocast(enabled=self.fp16):
            outputs = self.runner.model.val_step(data_batch)
        outputs, self.val_loss = _update_losses(outputs, self.val_loss)
        evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook(
            'after_val_iter',
            batch_idx=idx,
            data_batch=data_batch,
            outputs=outputs)
