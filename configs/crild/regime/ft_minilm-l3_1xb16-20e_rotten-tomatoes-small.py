# CR-ILD regime, the student fine-tuned directly: the teacher's recipe on
# the bottom 3 layers of the pre-trained MiniLM.
_base_ = './ft_minilm-l6_1xb16-20e_rotten-tomatoes-small.py'

model = dict(model_kwargs=dict(num_hidden_layers=3))
