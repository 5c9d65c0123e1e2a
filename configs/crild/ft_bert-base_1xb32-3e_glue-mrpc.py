# The CR-ILD teacher: BERT-base fine-tuned on GLUE MRPC. Set
# model_name_or_path to a local copy of bert-base-uncased; the classifier
# is saved as a transformers directory in {work_dir}/classifier.
_base_ = [
    '../_base_/models/hf_seq_cls.py',
    '../_base_/datasets/glue_mrpc.py',
    '../_base_/schedules/glue_finetune_3e.py',
    '../_base_/text_runtime.py',
]

model = dict(model_name_or_path='data/bert-base-uncased', num_classes=2)
