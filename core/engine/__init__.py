"""The NumPy network by hand (layers, activations, losses), optimizers, the step-through trace and
its stages, gradient checks, curves."""
