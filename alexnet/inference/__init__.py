"""Using a trained model: the classes of new image files (`predict`), and the model handed to
another runtime (`export`: ONNX, TorchScript, safetensors) with
its outputs' parity checked."""
