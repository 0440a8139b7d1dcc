"""What did the model learn? Figures and an index page for a checkpoint or pretrained weights.

    python -m experiments.interpret ckpt_path=<checkpoint or run dir> [report.probes=8 ...]
    python -m experiments.interpret model.weights=imagenet data.source=imagefolder data.root=DIR

Writes into its run dir (logs/interpret/runs/<time>, or hydra.run.dir=DIR): conv1's filters
(per tower for the paper's layout), Grad-CAM, occlusion and guided backpropagation of probe
images, each conv layer's favourite patches, the nearest training images in fc7 (the paper's
Figure 4), the first layer's colour per tower (tower_colour.json) and index.html / index.md.
The settings are in alexnet/config/conf/interpret.yaml. Needs captum: pip install -e ".[interpret]".
"""

from alexnet.cli.main import interpret_command

if __name__ == "__main__":
    interpret_command()
