"""One digit through a network, forward and backward, with every intermediate kept.

The report draws what the library computes, so this module does nothing but call
each layer's own ``forward`` and ``backward`` (the contract of
:mod:`cnnbp.layers.base`) one layer at a time and keep what passes between them.

Notation (REFERENCE.md): for a *stage* ``l`` (a named layer such as C1, with the
activation layer that follows it, if any)

- ``x = a^(l-1)``: the stage's input;
- ``z^(l)``: the named layer's output (the "neuron input");
- ``a^(l) = f(z^(l))``: the activation (``z`` itself when no activation follows,
  e.g. max pooling in the modern LeNet-5);
- ``dC/da^(l)``: the residual arriving from the stage above;
- ``delta^(l) = dC/dz^(l) = dC/da^(l) (.) f'(z^(l))``: the residual of the stage,
  the quantity F3/F4/F5 and P1-P3 define;
- the parameter gradients ``dC/dW``, ``dC/db`` (F1, F2, P4) the layer added to
  its ``.grad`` during backward.

The cost is softmax + cross-entropy on the network's output (logits), so at the
output ``delta^(L) = A^(L) - Y`` (F4, the softmax form), for one example (n = 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import functional as F
from ..layers import (
    AvgPool2d, Conv2d, Dense, EuclideanRBF, LeakyReLU, MaxPool2d, ReLU, ScaledTanh,
    Sigmoid, Subsampling, Tanh,
)
from ..losses import SoftmaxCrossEntropy

__all__ = ["Stage", "Trace", "trace_digit", "ACTIVATIONS"]

#: Element-wise activation layers: a stage's named layer absorbs the one after it.
ACTIVATIONS = (ScaledTanh, Tanh, Sigmoid, ReLU, LeakyReLU)


def layer_kind(layer) -> str:
    """A short name for what a layer does: conv, subsampling, maxpool, avgpool, dense, rbf."""
    for cls, kind in ((Conv2d, "conv"), (Subsampling, "subsampling"), (MaxPool2d, "maxpool"),
                      (AvgPool2d, "avgpool"), (Dense, "dense"), (EuclideanRBF, "rbf")):
        if isinstance(layer, cls):
            return kind
    return type(layer).__name__.lower()


@dataclass
class Stage:
    """A named layer and its activation, for one example (the batch axis dropped).

    Attributes:
        name: the layer's ``.name`` ("C1", "S2", ..., "output").
        index: its position in the Sequential.
        layer: the layer object (its parameters are the ones used).
        kind: see :func:`layer_kind`.
        activation: the activation layer after it, or None.
        x: input ``a^(l-1)``; z: output ``z^(l)``; a: ``f(z)`` (``z`` without activation).
        f_prime: ``f'(z)`` (ones without activation).
        dC_da: residual arriving from above; delta: ``dC/dz = dC/da (.) f'(z)``.
        delta_in: what the layer's backward returned, ``dC/dx`` (= ``dC/da^(l-1)``).
        grads: parameter name -> its gradient from this example alone.
    """

    name: str
    index: int
    layer: object
    kind: str
    activation: object | None
    x: np.ndarray
    z: np.ndarray
    a: np.ndarray
    f_prime: np.ndarray
    dC_da: np.ndarray
    delta: np.ndarray
    delta_in: np.ndarray
    grads: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Trace:
    """Everything one forward and backward pass of one digit computed.

    Attributes:
        image: the digit as given, uint8 (28, 28).
        x: the network input after ``preprocess`` (1, 32, 32), float64.
        logits: (K,) output of the last layer; probabilities: softmax of it.
        predicted: argmax class; target: the class the cost was computed for;
        target_is_label: True when ``target`` is the true label, False when it is
            the prediction (no label was known).
        loss: the cross-entropy ``-ln p_target``.
        delta_quadratic: ``delta^(L)`` had the cost been quadratic (F3):
            ``(A - Y) (.) f'(Z)``, with the softmax Jacobian as ``f'``.
        stages: the named stages in forward order.
        input_delta: ``dC/dx`` of the network input (1, 32, 32).
    """

    image: np.ndarray
    x: np.ndarray
    logits: np.ndarray
    probabilities: np.ndarray
    predicted: int
    target: int
    target_is_label: bool
    loss: float
    delta_quadratic: np.ndarray
    stages: list[Stage]
    input_delta: np.ndarray

    def stage(self, name: str) -> Stage:
        """The stage called ``name``; KeyError listing the names when there is none."""
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(f"no stage named {name!r}; the network has {[s.name for s in self.stages]}")

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.stages]


def _preprocess(model, image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 2:
        raise ValueError(
            f"expected one uint8 digit image (H, W), e.g. (28, 28), got dtype {image.dtype} "
            f"and shape {image.shape}"
        )
    preprocess = getattr(model, "preprocess", None)
    if preprocess is None:
        raise ValueError("the model has no .preprocess (uint8 digits -> input); build it with "
                         "cnnbp.models.lenet5")
    return preprocess(image[None], dtype=np.float64)


def trace_digit(model, image: np.ndarray, label: int | None = None) -> Trace:
    """Run one digit forward and backward through ``model``, layer by layer, in float64.

    Args:
        model: a :class:`~cnnbp.layers.Sequential` whose layers of interest carry a
            ``.name`` (LeNet-5 from :func:`cnnbp.models.lenet5`), ending in logits.
        image: uint8 digit, shape (28, 28) (or whatever ``model.preprocess`` takes).
        label: the true class; None: the residual is computed for the predicted class.

    Returns:
        a :class:`Trace`. The model's parameters are unchanged and its gradients are
        left as they were (this example's gradients are returned in the trace).
        Every layer computes in float64 here (layers honour their input's dtype), so
        the numbers can be checked to 1e-10.
    """
    layers = list(model)
    x = _preprocess(model, image)

    params = model.parameters()
    saved_grads = {k: p.grad.copy() for k, p in params.items()}
    was_training = model.training
    model.eval()
    try:
        # -- forward: keep every layer's input and output --------------------------------
        inputs, outputs = [], []
        h = x
        for layer in layers:
            inputs.append(h)
            h = layer.forward(h)
            outputs.append(h)
        logits = h
        if logits.ndim != 2 or logits.shape[0] != 1:
            raise ValueError(f"the model should end in logits of shape (1, K), got {logits.shape}")
        k = logits.shape[1]
        probabilities = F.softmax(logits, axis=1)
        predicted = int(np.argmax(logits[0]))
        if label is not None and not 0 <= int(label) < k:
            raise ValueError(f"label must lie in [0, {k - 1}], got {label}")
        target = predicted if label is None else int(label)

        # -- the residual at the output: F4 (softmax + cross-entropy), and F3 to compare --
        cost = SoftmaxCrossEntropy()
        loss = cost.forward(logits, np.array([target]))
        delta = cost.backward()                                    # A - Y  (n = 1)
        y = np.zeros_like(probabilities)
        y[0, target] = 1.0
        delta_quadratic = F.softmax_backward(probabilities - y, probabilities, axis=1)

        # -- backward: the library's own backward, one layer at a time --------------------
        for p in params.values():
            p.zero_grad()
        received = [None] * len(layers)   # dC/d(output of layer i)
        returned = [None] * len(layers)   # dC/d(input of layer i)
        for i in range(len(layers) - 1, -1, -1):
            received[i] = delta
            delta = layers[i].backward(delta)
            returned[i] = delta
        grads = {k_: p.grad.astype(np.float64) for k_, p in params.items()}
    finally:
        for k_, p in params.items():
            p.grad[...] = saved_grads[k_]
        model.train(was_training)

    # -- group into stages ----------------------------------------------------------------
    stages = []
    for i, layer in enumerate(layers):
        name = getattr(layer, "name", None)
        if not name:
            continue
        act = layers[i + 1] if i + 1 < len(layers) and isinstance(layers[i + 1], ACTIVATIONS) else None
        z = outputs[i]
        if act is not None:
            a, dC_da = outputs[i + 1], received[i + 1]
            # f'(z): the activation's backward applied to ones (activations hold no parameters).
            f_prime = act.backward(np.ones_like(z))
        else:
            a, dC_da, f_prime = z, received[i], np.ones_like(z)
        layer_grads = {pname.split(".", 1)[1]: g for pname, g in grads.items()
                       if pname.split(".", 1)[0] == str(i)}
        stages.append(Stage(
            name=name, index=i, layer=layer, kind=layer_kind(layer), activation=act,
            x=inputs[i][0], z=z[0], a=a[0], f_prime=f_prime[0], dC_da=dC_da[0],
            delta=received[i][0], delta_in=returned[i][0], grads=layer_grads,
        ))

    return Trace(
        image=np.asarray(image), x=x[0], logits=logits[0], probabilities=probabilities[0],
        predicted=predicted, target=target, target_is_label=label is not None, loss=float(loss),
        delta_quadratic=delta_quadratic[0], stages=stages, input_delta=returned[0][0],
    )
