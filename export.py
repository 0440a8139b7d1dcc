"""Export a trained model, checked against PyTorch:
python export.py ckpt_path=logs/train/runs/<run> format=onnx output=model.onnx
"""

from alexnet.cli.main import export_command

if __name__ == "__main__":
    export_command()
