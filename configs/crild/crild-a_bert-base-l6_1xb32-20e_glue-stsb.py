# CR-ILD stage A on GLUE STS-B (see
# ../_base_/crild-a_bert-base-l6_1xb32-20e.py).
_base_ = [
    '../_base_/crild-a_bert-base-l6_1xb32-20e.py',
    '../_base_/datasets/glue_stsb.py',
]

model = dict(teacher='work_dirs/ft_bert-base_1xb32-3e_glue-stsb/classifier')
# Stage A uses no labels. The dataset base's evaluation is turned off here:
# a base cannot remove what a sibling base sets.
val_dataloader = None
val_evaluator = None
test_dataloader = None
test_evaluator = None
