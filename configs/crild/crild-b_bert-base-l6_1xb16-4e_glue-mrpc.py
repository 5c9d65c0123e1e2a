# CR-ILD stage B on GLUE MRPC: prediction-layer distillation (T = 2) of the
# teacher into the stage-A student; evaluated on the dev set.
_base_ = [
    '../_base_/crild-b_bert-base-l6_1xb16-4e.py',
    '../_base_/datasets/glue_mrpc.py',
]

model = dict(
    model_name_or_path='work_dirs/crild-a_bert-base-l6_1xb32-20e_glue-mrpc/'
    'student',
    teacher='work_dirs/ft_bert-base_1xb32-3e_glue-mrpc/classifier',
    num_classes=2)
# The recipe's batch 16 is set here: the dataset base owns
# train_dataloader, and sibling bases cannot both set it.
train_dataloader = dict(batch_size=16)
