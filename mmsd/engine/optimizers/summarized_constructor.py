# Copyright (c) mmsd contributors. All rights reserved.
import logging
from collections import Counter
from typing import Dict, List, Optional, Union

from mmengine.logging import MMLogger, print_log
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmpretrain.registry import OPTIM_WRAPPER_CONSTRUCTORS
from torch import nn

#: Group options every parameter group has; shown only when they differ.
_SHOWN_ALWAYS = ('lr', 'weight_decay')
_NOT_OPTIONS = ('params', 'initial_lr')


_FROZEN = ' is skipped since its requires_grad=False'


class _PerParameterLines(logging.Filter):
    """Takes MMEngine's one-line-per-parameter log records out of the log;
    keeps the names of the frozen parameters they report."""

    def __init__(self) -> None:
        super().__init__()
        self.frozen: List[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.endswith(_FROZEN):
            # MMEngine writes '.name' for the root module's parameters.
            self.frozen.append(message[:-len(_FROZEN)].lstrip('.'))
            return False
        return not message.startswith('paramwise_options -- ')


def _millions(count: int) -> str:
    return f'{count / 1e6:.2f}M'


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SummarizedOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """MMEngine's default optimizer wrapper constructor, with a short log.

    Same parameter groups as :class:`DefaultOptimWrapperConstructor`, but a
    submodule whose parameters are all frozen (``requires_grad=False``,
    e.g. a self-distillation teacher) is left out of the optimizer in one
    step instead of with a warning per parameter, and the log has a few
    lines instead of one per parameter and option: the groups by setting,
    and what was left out (frozen submodules and single frozen parameters,
    e.g. a fixed position embedding). The same arguments as
    :class:`DefaultOptimWrapperConstructor`.
    """

    def add_params(self,
                   params: List[dict],
                   module: nn.Module,
                   prefix: str = '',
                   is_dcn_module: Optional[Union[int, float]] = None) -> None:
        tensors = list(module.parameters())
        if prefix and tensors and not any(p.requires_grad for p in tensors):
            self._frozen[prefix] = len(tensors)
            return
        super().add_params(params, module, prefix, is_dcn_module)

    def __call__(self, model: nn.Module) -> OptimWrapper:
        self._frozen: Dict[str, int] = {}
        logger = MMLogger.get_current_instance()
        lines = _PerParameterLines()
        logger.addFilter(lines)
        try:
            optim_wrapper = super().__call__(model)
        finally:
            logger.removeFilter(lines)
        self._frozen.update(dict.fromkeys(lines.frozen, 1))
        print_log(self.summary(optim_wrapper), logger='current')
        return optim_wrapper

    def summary(self, optim_wrapper: OptimWrapper) -> str:
        """A few lines: the groups by setting, and what was left out."""
        optimizer = optim_wrapper.optimizer
        groups = optimizer.param_groups
        varying = [
            key for key in groups[0] if key not in _NOT_OPTIONS and (
                key in _SHOWN_ALWAYS or len({repr(g.get(key))
                                             for g in groups}) > 1)
        ]
        tensors, values = Counter(), Counter()
        for group in groups:
            setting = ', '.join(f'{k}={group.get(k)}' for k in varying)
            tensors[setting] += len(group['params'])
            values[setting] += sum(p.numel() for p in group['params'])
        lines = [
            f'{type(optimizer).__name__}: {sum(tensors.values())} parameter '
            f'tensors ({_millions(sum(values.values()))} values) in '
            f'{len(tensors)} setting(s):'
        ]
        lines += [
            f'  {setting}: {tensors[setting]} tensors '
            f'({_millions(values[setting])})' for setting in tensors
        ]
        if self._frozen:
            frozen = ', '.join(
                name if count == 1 else f'{name} ({count} tensors)'
                for name, count in self._frozen.items())
            lines.append(f'  left out (requires_grad=False): {frozen}')
        return '\n'.join(lines)
