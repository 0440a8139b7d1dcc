"""Train AlexNet: python train.py model=alexnet activation=tanh (python train.py --help for all)."""

from alexnet.cli import train_main

if __name__ == "__main__":
    train_main()
