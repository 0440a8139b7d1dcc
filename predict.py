"""Classify new images with a trained model:
python predict.py ckpt_path=logs/train/runs/<run> input=photos/ top_k=5 output=predictions.csv
"""

from alexnet.cli.main import predict_command

if __name__ == "__main__":
    predict_command()
