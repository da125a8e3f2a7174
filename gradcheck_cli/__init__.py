"""gradcheck: verify autograd gradients against exact symbolic differentiation."""

__version__ = "0.1.0"
