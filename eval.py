"""Evaluate a checkpoint:
python eval.py ckpt_path=logs/.../last.ckpt split=test data.eval_crop=ten_crop
"""

from alexnet.cli.main import eval_command

if __name__ == "__main__":
    eval_command()
