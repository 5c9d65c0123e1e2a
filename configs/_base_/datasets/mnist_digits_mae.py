# Unlabeled MNIST digits (embedded): the source domain of the demo's
# initial model.
_base_ = './fashion_mnist_mae.py'

train_dataloader = dict(
    dataset=dict(
        data_root='demo_data/mnist_digits',
        classes=[str(i) for i in range(10)]))
