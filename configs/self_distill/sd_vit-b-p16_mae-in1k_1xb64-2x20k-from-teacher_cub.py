# Ablation of the student's initialisation (paper, Sec. 5): at the switch the
# student does not restart from the initial model but goes on from the
# further pre-trained one (encoder = the teacher, decoder as stage 1 left
# it), so it distils towards its own starting point.
_base_ = './sd_vit-b-p16_mae-in1k_1xb64-2x20k_cub.py'

model = dict(restart_from='teacher')
