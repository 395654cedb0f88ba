"""TensorBoard, monitor() for your own PyTorch loop, export to a PyTorch script, the system panel's numbers."""
