# Copyright (c) mmsd contributors. All rights reserved.
from typing import Dict, List, Optional, Union

import torch
from mmengine.logging import MMLogger
from mmpretrain.models import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

from mmsd.models import FrozenTeacherMixin, build_backbone
from .pooled_feature import feature_dim, pooled_feature
from .svd_basis import SVDBasis

FEATURE_KEYS = ('vit_pooling', 'pre_act_module')


def _feature_cfg(cfg: Optional[dict], who: str) -> dict:
    cfg = dict(cfg or {})
    unknown = sorted(set(cfg) - set(FEATURE_KEYS))
    if unknown:
        raise ValueError(f'KDEP: unknown {who}_feature options {unknown}; '
                         f'expected some of {FEATURE_KEYS}.')
    return cfg


@MODELS.register_module()
class KDEP(FrozenTeacherMixin, BaseSelfSupervisor):
    """Knowledge distillation as efficient pre-training.

    Implementation of `Knowledge Distillation as Efficient Pre-training:
    Faster Convergence, Higher Data-efficiency, and Better Transferability
    <https://arxiv.org/abs/2203.05180>`_. A student backbone regresses the
    pooled feature of a frozen, pre-trained teacher backbone on unlabeled
    images. Both features are taken **before the final activation** (see
    :func:`mmsd.kdep.pooled_feature`). The teacher feature is aligned to the
    student's width ``k`` without learned layers: it is projected on the
    top-``k`` right singular vectors of the centred teacher features
    (:class:`mmsd.kdep.SVDBasis` in ``basis_file``, computed once by
    ``tools/compute_svd_basis.py`` or :class:`mmsd.kdep.SVDBasisHook`). The
    head then applies power temperature scaling to the target and returns
    the weighted MSE as ``loss_kdep``. Labels are not used.

    The student is ``self.backbone``, so checkpoints hold it under
    ``backbone.`` like every other MMPretrain model and fine-tune configs
    load it directly.

    Args:
        teacher (dict): Config of the teacher backbone (any MMPretrain
            backbone).
        student (dict): Config of the student backbone.
        basis_file (str): Tensors-only SVD basis of the teacher's features,
            with ``k`` equal to the student's feature width. Read on first
            use, not when the model is built.
        head (dict): Config of the loss head. Defaults to
            ``dict(type='PTSFeatureDistillHead')``.
        teacher_checkpoint (str, optional): Checkpoint of the teacher,
            loaded with every key and shape checked. If None, the teacher
            keeps the weights of its own ``init_cfg``. Defaults to None.
        teacher_prefix (str): Prefix of the teacher's keys in
            ``teacher_checkpoint``. Defaults to 'backbone.'.
        teacher_feature (dict, optional): Options of the teacher's pooled
            feature: ``vit_pooling`` (``'cls_token'`` or ``'mean_patch'``)
            and ``pre_act_module`` (dotted name of the final activation of
            a backbone not handled automatically). Defaults to None.
        student_feature (dict, optional): The same for the student.
            Defaults to None.
        data_preprocessor (dict, optional): Defaults to a
            ``SelfSupDataPreprocessor``.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 teacher: dict,
                 student: dict,
                 basis_file: str,
                 head: dict = dict(type='PTSFeatureDistillHead'),
                 teacher_checkpoint: Optional[str] = None,
                 teacher_prefix: str = 'backbone.',
                 teacher_feature: Optional[dict] = None,
                 student_feature: Optional[dict] = None,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            backbone=build_backbone(student),
            head=head,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.build_teacher(teacher)
        self.basis_file = basis_file
        self.teacher_checkpoint = teacher_checkpoint
        self.teacher_prefix = teacher_prefix
        self.teacher_feature_cfg = _feature_cfg(teacher_feature, 'teacher')
        self.student_feature_cfg = _feature_cfg(student_feature, 'student')
        if getattr(self.backbone, 'out_type', None) == 'avg_featmap':
            raise ValueError(
                "KDEP: the student ViT has out_type='avg_featmap', whose "
                "`ln2` would get no gradient. Build it with out_type="
                "'cls_token' and choose the feature with student_feature="
                "dict(vit_pooling='cls_token' or 'mean_patch').")
        self._basis: Optional[SVDBasis] = None

    @property
    def student_dim(self) -> Optional[int]:
        """Width of the student's pooled feature (``k``), if known without
        a forward pass."""
        return feature_dim(self.backbone,
                           self.student_feature_cfg.get('pre_act_module'))

    @property
    def teacher_dim(self) -> Optional[int]:
        """Width of the teacher's pooled feature, if known without a
        forward pass."""
        return feature_dim(self.teacher,
                           self.teacher_feature_cfg.get('pre_act_module'))

    def init_weights(self) -> None:
        """Run the configured initializers, then load the teacher."""
        super().init_weights()
        if self.teacher_checkpoint is not None:
            self.load_teacher(self.teacher_checkpoint, self.teacher_prefix)
        else:
            MMLogger.get_current_instance().warning(
                'KDEP: no teacher_checkpoint; the teacher keeps the weights '
                'of its own init_cfg.')

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """The student's pooled feature ``(B, k)``, before its final
        activation."""
        return pooled_feature(self.backbone, inputs,
                              **self.student_feature_cfg)

    @torch.no_grad()
    def extract_teacher_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """The frozen teacher's pooled feature ``(B, D)``, before its final
        activation (not projected)."""
        return pooled_feature(self.teacher, inputs, **self.teacher_feature_cfg)

    def load_basis(self) -> SVDBasis:
        """Read ``basis_file`` and check it against both backbones.

        Raises:
            FileNotFoundError: If the file does not exist.
            ValueError: If the file is invalid, or ``k`` differs from the
                student's width (or ``D`` from the teacher's).
        """
        basis = SVDBasis.load(self.basis_file)
        basis.check_widths(self.student_dim, self.teacher_dim)
        self._basis = basis
        MMLogger.get_current_instance().info(
            f'KDEP: loaded the SVD basis {self.basis_file} '
            f'(k={basis.k}, teacher width {basis.dim}).')
        return basis

    def loss(self,
             inputs: Union[torch.Tensor, List[torch.Tensor]],
             data_samples: Optional[List[DataSample]] = None,
             **kwargs) -> Dict[str, torch.Tensor]:
        """``loss_kdep`` between the student feature and the aligned,
        power-temperature-scaled teacher feature. ``data_samples`` (and any
        label in them) are ignored."""
        if isinstance(inputs, (list, tuple)):  # SelfSupDataPreprocessor
            inputs = inputs[0]
        student = self.extract_feat(inputs)
        teacher = self.extract_teacher_feat(inputs)
        basis = self._basis or self.load_basis()
        basis.check_widths(student.shape[1], teacher.shape[1])
        target = basis.project(teacher)
        return dict(loss_kdep=self.head.loss(student, target))
