# Offline CR-ILD comparison, student baseline: the bottom 3 layers of the
# pre-trained MiniLM, fine-tuned directly (no distillation).
_base_ = '../../demo/text/ft_minilm-l6_1xb16-200_rotten-tomatoes.py'

model = dict(model_kwargs=dict(num_hidden_layers=3), reinit_modules=())
