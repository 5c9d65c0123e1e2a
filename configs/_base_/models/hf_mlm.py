# A transformers masked language model (BERT, RoBERTa, ...) for further
# pre-training. Set model_name_or_path to a local model directory.
model = dict(
    type='HFMaskedLM',
    model_name_or_path=None,
    mlm_probability=0.15,
    data_preprocessor=dict(max_length=128))
