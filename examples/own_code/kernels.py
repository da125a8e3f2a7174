"""Your own torch code, to check against exact mathematics (see README "Your own torch code").

    gradcheck "exp(w*x)+b" --lower exp=kernels:MyExp.apply         # passes
    gradcheck "exp(w*x)+b" --lower exp=kernels:SlightlyWrongExp.apply   # fails: off by 1e-4
    gradcheck "swish(w*x)+b" --define "swish(u) = u*sigmoid(u)" --lower swish=kernels:fused_swish
    gradcheck "tanh(w*x+b)*v" --impl kernels:neuron

(run from this directory, or use the case files beside it).
"""

import torch


class MyExp(torch.autograd.Function):
    """exp with a hand-written backward: d exp(x)/dx = exp(x), reused from the forward."""

    @staticmethod
    def forward(ctx, x):
        y = torch.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class SlightlyWrongExp(MyExp):
    """The same with a backward off by a relative 1e-4 (a mistyped constant, say)."""

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * 1.0001


def fused_swish(u):
    """swish(u) = u * sigmoid(u), as a fused kernel would compute it."""
    return u * torch.sigmoid(u)


def neuron(w, x, b, v):
    """A whole model: v * tanh(w*x + b), with keyword tensors named as the model's symbols."""
    return v * torch.tanh(torch.addcmul(b, w, x))
