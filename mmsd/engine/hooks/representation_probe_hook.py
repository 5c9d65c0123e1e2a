# Copyright (c) mmsd contributors. All rights reserved.
import inspect
import logging
import time
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpretrain.registry import HOOKS
from mmpretrain.utils import get_ori_model
from torch import nn
from torch.utils.data import DataLoader

from mmsd.evaluation import knn_predict, linear_probe_predict
from mmsd.models.utils.fixed_masks import fixed_masks
from ..dataset_pass import build_ordered_dataloader, gather_in_order
from ..isolation import eval_mode, preserved_random_state
from ..overfitting import overfitting_signs
from ..utils import model_with

# Scalar names (as logged, without the ``{prefix}/`` part) where higher is
# better; for the others (MAE losses) lower is better.
HIGHER_IS_BETTER = ('knn_top1', 'linear_top1')


@HOOKS.register_module()
class RepresentationProbeHook(Hook):
    """Probe the encoder while it trains: frozen-feature accuracy and the
    MAE loss on held-out images, and a warning when further pre-training
    overfits.

    Made for `Self-Distillation for Further Pre-training of Transformers
    <https://arxiv.org/abs/2210.02871>`_, whose Figure 1 shows further
    pre-training on a small target set getting worse the longer it runs.
    Every ``interval`` iterations, at the start and at the end, the hook
    takes the final-norm class token (or mean patch token) of an unmasked
    pass of the student encoder (``model.backbone``) and logs:

    - ``probe/knn_top1``: weighted kNN top-1 (%) of the ``query`` split
      against the labelled ``bank`` split (cosine, ``k`` neighbours, votes
      ``exp(sim / T)``, as in DINO and solo-learn);
    - ``probe/linear_top1`` (with ``linear_probe``): a closed-form ridge
      linear classifier fitted on the bank, top-1 (%) on the query;
    - ``probe/mae_heldout``: the MAE loss on unlabelled images not trained
      on (the memorisation gap needs no labels), and ``probe/mae_train``
      (with ``train_eval_dataloader``) the same on the training images.
      Each image gets the same mask at every probe (from ``mask_seed`` and
      its dataset index), so the curves are not noisy from re-masking;
    - ``probe/teacher_knn_top1`` and ``probe/teacher_linear_top1``: the
      frozen teacher of a self-distillation model, once per teacher
      (a new teacher is a new self-distillation round, ``distill_round``
      of :class:`mmsd.models.teacher.SelfDistillMixin`).

    Values go through the runner's visualizer (``scalars.json``,
    TensorBoard, ... at ``step`` = iterations done) and a log line.

    The probe takes no gradients, changes no module's train/eval mode and
    draws nothing from the training random streams, so training is the same
    with and without it. Under DDP every process passes its shard and the
    features are gathered in dataset order (the values equal a
    single-process run). The hook's state travels in checkpoints, so a
    resumed run continues the same curves and warnings.

    Overfitting warning (once per run, during further pre-training only,
    i.e. while the model does not distil from a teacher): either the
    held-out MAE loss has not improved for ``patience`` probes and is more
    than ``mae_rise`` (relative) above its minimum while the training loss
    kept falling, or the kNN top-1 has been more than ``knn_drop`` points
    below its peak for ``patience`` probes. The warning says so and that
    self-distillation is the remedy.

    For later hooks, the results are kept on the hook: ``history`` (one
    dict per student probe: ``step``, ``round`` (0 while further
    pre-training, then one per teacher), ``distilling``, ``train_loss`` (mean
    training loss since the previous probe), ``knn_top1``, ``linear_top1``,
    ``mae_heldout``, ``mae_train`` where measured), ``teacher_history``
    (one dict per teacher probe), ``latest`` (the last student record) and
    ``best`` (``{name: dict(value=..., step=...)}`` since the student last
    (re)started, i.e. since the last teacher change), and ``warning`` (the
    warning's step and text, or None). They are the same on every process.
    The hook runs at priority ``NORMAL``: a hook with a lower priority sees
    this step's values in ``after_train_iter``.

    Args:
        interval (int): Probe every this many iterations.
        bank_dataloader (dict, optional): Labelled images for the kNN bank
            and the linear probe's fit. Defaults to None.
        query_dataloader (dict, optional): Labelled images to classify.
            Defaults to None. Give both or neither.
        heldout_dataloader (dict, optional): Unlabelled images that are not
            trained on, for ``probe/mae_heldout`` (MAE models only).
            Defaults to None.
        train_eval_dataloader (dict, optional): The training images read in
            order, for ``probe/mae_train``. Defaults to None.
        representation (str): ``'cls_token'`` or ``'mean_patch'``.
            Defaults to 'cls_token'.
        knn_k (int): Neighbours of the kNN probe. Defaults to 20.
        knn_temperature (float): Temperature of its votes. Defaults to 0.07.
        linear_probe (bool): Also fit the linear probe. Defaults to False.
        linear_probe_ridge (float): Its L2 penalty (relative to the number
            of bank samples). Defaults to 0.1.
        mask_seed (int): Seed of the fixed MAE masks. Defaults to 0.
        probe_teacher (bool): Probe the teacher once per teacher change.
            Defaults to True.
        warn_overfitting (bool): Log the overfitting warning. Defaults to
            True.
        patience (int): Probes the signal must last. Defaults to 3.
        mae_rise (float): Relative rise of the held-out MAE loss above its
            minimum. Defaults to 0.05.
        knn_drop (float): Drop of the kNN top-1 below its peak, in points.
            Defaults to 2.0.
        train_loss_key (str): Training loss followed for the warning (falls
            back to ``'loss'``). Defaults to 'loss_mae'.
        batch_size (int, optional): Batch size of every probe dataloader.
            Defaults to None (each dataloader's own).
        prefix (str): Scalar names are ``{prefix}/knn_top1`` etc., and the
            hook's state is saved under this name; give each of several
            probe hooks its own. Defaults to 'probe'.
    """
    priority = 'NORMAL'

    def __init__(self,
                 interval: int,
                 bank_dataloader: Optional[dict] = None,
                 query_dataloader: Optional[dict] = None,
                 heldout_dataloader: Optional[dict] = None,
                 train_eval_dataloader: Optional[dict] = None,
                 representation: str = 'cls_token',
                 knn_k: int = 20,
                 knn_temperature: float = 0.07,
                 linear_probe: bool = False,
                 linear_probe_ridge: float = 0.1,
                 mask_seed: int = 0,
                 probe_teacher: bool = True,
                 warn_overfitting: bool = True,
                 patience: int = 3,
                 mae_rise: float = 0.05,
                 knn_drop: float = 2.0,
                 train_loss_key: str = 'loss_mae',
                 batch_size: Optional[int] = None,
                 prefix: str = 'probe') -> None:
        name = type(self).__name__
        if interval < 1:
            raise ValueError(f'{name}: interval must be >= 1, got {interval}.')
        if (bank_dataloader is None) != (query_dataloader is None):
            raise ValueError(f'{name}: give both bank_dataloader and '
                             'query_dataloader (labelled), or neither.')
        if bank_dataloader is None and heldout_dataloader is None and \
                train_eval_dataloader is None:
            raise ValueError(f'{name}: nothing to probe; give bank_dataloader'
                             ' + query_dataloader and/or heldout_dataloader.')
        if representation not in ('cls_token', 'mean_patch'):
            raise ValueError(f'{name}: representation must be "cls_token" or '
                             f'"mean_patch", got {representation!r}.')
        if knn_k < 1 or knn_temperature <= 0:
            raise ValueError(f'{name}: knn_k must be >= 1 and knn_temperature'
                             f' > 0, got {knn_k} and {knn_temperature}.')
        if patience < 1:
            raise ValueError(f'{name}: patience must be >= 1, got {patience}.')
        self.interval = interval
        self.loader_cfgs = dict(
            bank=bank_dataloader,
            query=query_dataloader,
            heldout=heldout_dataloader,
            train=train_eval_dataloader)
        self.representation = representation
        self.knn_k = knn_k
        self.knn_temperature = knn_temperature
        self.linear_probe = linear_probe
        self.linear_probe_ridge = linear_probe_ridge
        self.mask_seed = mask_seed
        self.probe_teacher = probe_teacher
        self.warn_overfitting = warn_overfitting
        self.patience = patience
        self.mae_rise = mae_rise
        self.knn_drop = knn_drop
        self.train_loss_key = train_loss_key
        self.batch_size = batch_size
        self.prefix = prefix

        self.loaders: Dict[str, DataLoader] = {}
        self._noise: Dict[str, torch.Tensor] = {}
        self.history: List[dict] = []
        self.teacher_history: List[dict] = []
        self.best: Dict[str, dict] = {}
        self.warning: Optional[dict] = None
        self._phase_start = 0  # index in history where the student started
        self._teacher_round = 0  # the round whose teacher was probed
        self._loss_sum = 0.0
        self._loss_count = 0

    @property
    def latest(self) -> Optional[dict]:
        """The last student probe record, or None."""
        return self.history[-1] if self.history else None

    # --- MMEngine hook points ---------------------------------------------

    def before_train(self, runner) -> None:
        """Check the model and build the probe dataloaders."""
        model = model_with(runner, 'backbone', self, 'FurtherPretrainMAE')
        name = type(self).__name__
        mae_probes = [k for k in ('heldout', 'train') if self.loader_cfgs[k]]
        if mae_probes and not (hasattr(model.backbone, 'random_masking')
                               and hasattr(model, 'neck')
                               and hasattr(model, 'head')):
            raise TypeError(
                f'{name}: {mae_probes[0]} MAE loss needs an MAE model '
                '(backbone with random_masking, neck and head, e.g. '
                f'FurtherPretrainMAE or SelfDistillMAE), got '
                f'{type(model).__name__}; remove heldout_dataloader and '
                'train_eval_dataloader.')
        with preserved_random_state():
            for key, cfg in self.loader_cfgs.items():
                if cfg is not None:
                    self.loaders[key] = build_ordered_dataloader(
                        cfg, self.batch_size)
        for key in ('heldout', 'train'):
            if key in self.loaders:
                generator = torch.Generator().manual_seed(self.mask_seed)
                self._noise[key] = torch.rand(
                    len(self.loaders[key].dataset),
                    model.backbone.num_patches,
                    generator=generator)
        sizes = ', '.join(f'{key} {len(loader.dataset)}'
                          for key, loader in self.loaders.items())
        print_log(
            f'{name}: every {self.interval} iterations on {sizes} images.',
            logger='current')

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        """Probe the starting point, and a new teacher as soon as it is
        set (this runs after :class:`SelfDistillStageHook` switched)."""
        if not self.history:
            self._probe(runner, runner.iter)
            return
        self._check_teacher(runner, runner.iter)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Follow the training loss; probe every ``interval`` iterations
        and after the last one."""
        outputs = outputs or {}
        loss = outputs.get(self.train_loss_key, outputs.get('loss'))
        if loss is not None:
            self._loss_sum += float(
                loss.detach() if isinstance(loss, torch.Tensor) else loss)
            self._loss_count += 1
        step = runner.iter + 1
        if step % self.interval == 0 or step == runner.max_iters:
            self._probe(runner, step)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('representation_probe',
                              {})[self.prefix] = self.state_dict()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('representation_probe', {}).get(self.prefix)
        if state is not None:
            self.load_state_dict(state)

    def state_dict(self) -> dict:
        """The probe records and the warning state (plain Python)."""
        return dict(
            history=self.history,
            teacher_history=self.teacher_history,
            best=self.best,
            warning=self.warning,
            phase_start=self._phase_start,
            teacher_round=self._teacher_round,
            loss_sum=self._loss_sum,
            loss_count=self._loss_count)

    def load_state_dict(self, state: dict) -> None:
        self.history = list(state['history'])
        self.teacher_history = list(state['teacher_history'])
        self.best = dict(state['best'])
        self.warning = state['warning']
        self._phase_start = state['phase_start']
        self._teacher_round = state['teacher_round']
        self._loss_sum = state['loss_sum']
        self._loss_count = state['loss_count']

    # --- probing ----------------------------------------------------------

    @staticmethod
    def _round(runner) -> int:
        """The self-distillation round: 0 while further pre-training (or
        without a teacher), then 1, 2, ... one per teacher."""
        return int(getattr(get_ori_model(runner.model), 'distill_round', 0))

    def _probe(self, runner, step: int) -> None:
        """Probe the student (and a changed teacher) at ``step``."""
        start = time.perf_counter()
        model = get_ori_model(runner.model)
        if self.history and self.history[-1]['step'] == step:
            return  # already probed at this step
        self._check_teacher(runner, step)
        distill_round = self._round(runner)
        record = dict(
            step=step, round=distill_round, distilling=distill_round > 0)
        record['train_loss'] = self._mean_train_loss()
        with preserved_random_state(), torch.no_grad(), eval_mode(model):
            if 'bank' in self.loaders:
                record.update(self._accuracy(model, model.backbone))
            for key in ('heldout', 'train'):
                if key in self.loaders:
                    record[f'mae_{key}'] = self._mae_loss(model, key)
        self.history.append(record)
        for key in self._scalar_keys(record):
            better = max if key in HIGHER_IS_BETTER else min
            best = self.best.get(key)
            if best is None or better(record[key], best['value']) != \
                    best['value']:
                self.best[key] = dict(value=record[key], step=step)
        self._log(runner, record, False, time.perf_counter() - start)
        self._check_overfitting(step)

    def _check_teacher(self, runner, step: int) -> None:
        """Probe the teacher once per round (a new teacher); it also
        restarts the student's curve. A resumed run knows from its
        checkpoint which round's teacher it probed."""
        distill_round = self._round(runner)
        if distill_round == 0 or distill_round == self._teacher_round:
            return
        model = get_ori_model(runner.model)
        teacher = model.teacher
        self._teacher_round = distill_round
        self._phase_start = len(self.history)
        self.best = {}
        if not self.probe_teacher or 'bank' not in self.loaders:
            return
        start = time.perf_counter()
        with preserved_random_state(), torch.no_grad(), eval_mode(model):
            record = dict(
                step=step,
                round=distill_round,
                **self._accuracy(model, teacher))
        self.teacher_history.append(record)
        self._log(runner, record, True, time.perf_counter() - start)

    def _mean_train_loss(self) -> Optional[float]:
        """Mean training loss since the last probe, over all processes."""
        totals = torch.tensor(
            [self._loss_sum, float(self._loss_count)], dtype=torch.float64)
        all_reduce(totals)
        self._loss_sum, self._loss_count = 0.0, 0
        return float(totals[0] / totals[1]) if totals[1] > 0 else None

    def _features(self, model: nn.Module, encoder: nn.Module,
                  key: str) -> Tuple[torch.Tensor, torch.Tensor]:
        """Features and labels of the ``key`` split, in dataset order."""
        takes_mask = 'mask' in inspect.signature(encoder.forward).parameters

        def extract(data: dict, indices: torch.Tensor):
            data = model.data_preprocessor(data, False)
            inputs = data['inputs']
            tokens = (encoder(inputs, mask=None)
                      if takes_mask else encoder(inputs))[-1]
            if tokens.ndim == 3:
                extra = getattr(encoder, 'num_extra_tokens', 1)
                tokens = tokens[:, 0] if self.representation == 'cls_token' \
                    else tokens[:, extra:].mean(dim=1)
            samples = data.get('data_samples') or []
            if len(samples) != len(inputs) or any('gt_label' not in sample
                                                  for sample in samples):
                raise ValueError(
                    f'{type(self).__name__}: the {key}_dataloader gives '
                    'samples without a gt_label; the kNN and linear probes '
                    'need labelled images (PackInputs packs gt_label).')
            labels = torch.cat([sample.gt_label for sample in samples])
            return tokens.float(), labels.to(tokens.device)

        return gather_in_order(self.loaders[key], extract)

    def _accuracy(self, model: nn.Module,
                  encoder: nn.Module) -> Dict[str, float]:
        """kNN (and linear-probe) top-1 in % of the query split."""
        bank, bank_labels = self._features(model, encoder, 'bank')
        query, query_labels = self._features(model, encoder, 'query')
        num_classes = int(max(bank_labels.max(), query_labels.max())) + 1
        predicted = knn_predict(bank, bank_labels, query, num_classes,
                                self.knn_k, self.knn_temperature)
        result = dict(knn_top1=100.0 *
                      float((predicted == query_labels).float().mean()))
        if self.linear_probe:
            predicted = linear_probe_predict(bank, bank_labels, query,
                                             num_classes,
                                             self.linear_probe_ridge)
            result['linear_top1'] = 100.0 * float(
                (predicted == query_labels).float().mean())
        return result

    def _mae_loss(self, model: nn.Module, key: str) -> float:
        """Mean per-image MAE loss of the ``key`` split, each image with
        its fixed mask."""
        noise_table = self._noise[key]

        def losses(data: dict, indices: torch.Tensor) -> torch.Tensor:
            inputs = model.data_preprocessor(data, False)['inputs']
            with fixed_masks(model.backbone, noise_table[indices]):
                latent, mask, ids_restore = model.backbone(inputs)
            pred = model.neck(latent, ids_restore)
            return torch.stack([
                model.head.loss(pred[i:i + 1], inputs[i:i + 1], mask[i:i + 1])
                for i in range(len(inputs))
            ]).float()

        per_image, = gather_in_order(self.loaders[key], losses)
        return float(per_image.double().mean())

    # --- reporting --------------------------------------------------------

    @staticmethod
    def _scalar_keys(record: dict) -> List[str]:
        return [
            key
            for key in ('knn_top1', 'linear_top1', 'mae_heldout', 'mae_train')
            if record.get(key) is not None
        ]

    def _log(self, runner, record: dict, teacher: bool,
             seconds: float) -> None:
        keys = self._scalar_keys(record)
        kind = 'teacher_' if teacher else ''
        runner.visualizer.add_scalars(
            {f'{self.prefix}/{kind}{key}': record[key]
             for key in keys},
            step=record['step'])
        parts = []
        for key in keys:
            value = record[key]
            parts.append(f'{key} {value:.2f}%' if key in
                         HIGHER_IS_BETTER else f'{key} {value:.4f}')
        if record.get('train_loss') is not None:
            parts.append(f'train_loss {record["train_loss"]:.4f}')
        who = 'teacher' if teacher else (
            'student (self-distillation)'
            if record.get('distilling') else 'encoder')
        name = 'Probe' if self.prefix == 'probe' else \
            f'Probe {self.prefix!r}'
        print_log(
            f'{name} at iteration {record["step"]}, {who}: '
            f'{", ".join(parts)} ({seconds:.1f} s)',
            logger='current')

    def _check_overfitting(self, step: int) -> None:
        """Warn once if further pre-training overfits: the curve since
        the student's start, while it does not distil."""
        curve = self.history[self._phase_start:]
        if (not self.warn_overfitting or self.warning is not None or not curve
                or curve[-1]['distilling']):
            return
        reasons = overfitting_signs(curve, self.patience, self.mae_rise,
                                    self.knn_drop)
        if not reasons:
            return
        message = (
            f'Further pre-training is overfitting the target set at '
            f'iteration {step}: '
            f'{"; and ".join(text for _, text in reasons)}. Longer further '
            'pre-training tends to make the encoder worse for fine-tuning '
            '(Lee et al., ICLR 2023). Self-distillation is the '
            'remedy: run SelfDistillMAE with SelfDistillStageHook (the '
            'further-pre-trained encoder becomes the teacher of a student '
            'restarted from the initial weights); or keep the encoder of '
            f'iteration {reasons[0][0]}, where the probe was best.')
        self.warning = dict(step=step, message=message)
        print_log(message, logger='current', level=logging.WARNING)
