"""Train AlexNet: python train.py model=alexnet activation=tanh (python train.py --help for all)."""

from alexnet.cli.main import train_command

if __name__ == "__main__":
    train_command()
