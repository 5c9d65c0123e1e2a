# Text demo stage 3: fine-tuning a 6-layer MiniLM on the embedded Rotten
# Tomatoes snippets (1,000 train), test on 1,000 once at the end. The
# initial model data/all-MiniLM-L6-v2 is linked by `make install` (and by
# tools/run_text_demo.py); set model.model_name_or_path to the
# further-pre-trained (fpt/) or self-distilled (sd/) directory instead.
_base_ = [
    '../../_base_/models/hf_seq_cls.py',
    '../../_base_/datasets/rotten_tomatoes.py',
    '../../_base_/schedules/text_finetune_200.py',
    '../../_base_/text_runtime.py',
]

# The models exported from MLM have no trained BERT pooler: every row starts
# from a new one, so that only the encoder differs.
model = dict(
    model_name_or_path='data/all-MiniLM-L6-v2',
    num_classes=2,
    reinit_modules=('bert.pooler', ),
    data_preprocessor=dict(max_length=64))
