"""Pictures of what AlexNet learns: the grids the TensorBoard callbacks log, and the notebook
visualizer with its display (visualizer.py, display.py)."""

from alexnet.viz.grids import confusion_figure, feature_map_grid, filter_grid
from alexnet.viz.visualizer import AlexNetVisualizer

__all__ = ["AlexNetVisualizer", "confusion_figure", "feature_map_grid", "filter_grid"]
