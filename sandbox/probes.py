"""Probes: the sandbox's own functions that a call names by a reserved name (``@torch.forward``),
called inside the submission's process with the student's loaded module first.

A probe does what the judge cannot do from outside (build the student's ``torch.nn.Module``,
run it, train it) and hands back only plain arrays; the judging stays outside. Probes are
chosen by the service, never by the submission: a module's own names cannot start with ``@``.

This package imports torch only by name, inside the probes (the ``torch`` runtime's worker has
already imported it, so the lookup is free there).
"""

from __future__ import annotations

import importlib
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from sandbox import drivers

PREFIX = "@"


def _torch() -> Any:
    """The runtime's torch (already imported by the warm worker of the ``torch`` runtime)."""
    try:
        return importlib.import_module("torch")
    except ImportError:
        raise RuntimeError("this sandbox has no torch runtime") from None


def _model(module: types.ModuleType, class_name: str, seed: int) -> Any:
    """A fresh instance of the module's ``class_name``, its weights drawn under ``seed``."""
    torch = _torch()
    found = module.__dict__.get(class_name)
    if found is None:
        raise NameError(f"the module defines no class {class_name}")
    if not isinstance(found, type) or not issubclass(found, torch.nn.Module):
        raise TypeError(f"{class_name} is not a subclass of torch.nn.Module")
    torch.manual_seed(seed)
    return found()


def _as_input(x: np.ndarray, model: Any) -> Any:
    """``x`` as a tensor of the model's own floating type (float32 unless its weights are another)."""
    torch = _torch()
    inputs = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    for parameter in model.parameters():
        if parameter.is_floating_point() and not torch.nn.parameter.is_lazy(parameter):
            return inputs.to(parameter.dtype)
    return inputs


def _output(model: Any, inputs: Any, class_name: str) -> Any:
    """The model's output on ``inputs``, which must be a tensor."""
    torch = _torch()
    out = model(inputs)
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"{class_name}.forward returned a {type(out).__name__}, not a tensor")
    return out


def forward(module: types.ModuleType, class_name: str, x: np.ndarray, seed: int = 0) -> np.ndarray:
    """The model's output on the batch ``x``, in evaluation mode without gradients (float64)."""
    torch = _torch()
    model = _model(module, class_name, seed)
    model.eval()
    with torch.no_grad():
        out = _output(model, _as_input(x, model), class_name)
    return np.asarray(out.detach().cpu().to(torch.float64).numpy())


def parameters(
    module: types.ModuleType, class_name: str, x: np.ndarray, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The number of values of each parameter tensor, in ``parameters()`` order (a tensor shared by
    two layers counted once, as torch does); of each top-level layer, in definition order; and those
    layers' names, one a line, as UTF-8 bytes (the wire carries numbers only). Lazy layers learn their
    sizes from one forward of ``x`` first."""
    torch = _torch()
    model = _model(module, class_name, seed)
    if any(torch.nn.parameter.is_lazy(p) for p in model.parameters()):
        model.eval()
        with torch.no_grad():
            _output(model, _as_input(x, model), class_name)
    per_tensor = [int(p.numel()) for p in model.parameters()]
    children = list(model.named_children())
    per_layer = [sum(int(p.numel()) for p in child.parameters()) for _, child in children]
    names = "\n".join(name for name, _ in children).encode(errors="replace")
    return (
        np.asarray(per_tensor, dtype=np.int64),
        np.asarray(per_layer, dtype=np.int64),
        np.frombuffer(names, dtype=np.uint8),
    )


def train(
    module: types.ModuleType,
    class_name: str,
    x: np.ndarray,
    y: np.ndarray,
    steps: int,
    batch: int,
    learning_rate: float,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """A short training run: ``steps`` Adam steps on the cross-entropy of mini-batches of ``batch``
    taken from ``x``/``y`` in order (cycling). Returns the loss of each step (float64), and whether
    the loss depended on any trainable parameter at all (a model whose output is detached from its
    weights, or has none, cannot learn: its losses are computed and nothing is stepped)."""
    torch = _torch()
    model = _model(module, class_name, seed)
    model.train()
    inputs, labels = _as_input(x, model), torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
    # lazy layers take their sizes from one forward before their parameters are collected
    if any(torch.nn.parameter.is_lazy(p) for p in model.parameters()):
        with torch.no_grad():
            _output(model, inputs[:batch], class_name)
    adam = _Adam([p for p in model.parameters() if p.requires_grad], learning_rate)
    connected = False
    losses = np.empty(steps, dtype=np.float64)
    count = inputs.shape[0]
    for step in range(steps):
        index = torch.arange(step * batch, (step + 1) * batch) % count
        loss = torch.nn.functional.cross_entropy(_output(model, inputs[index], class_name), labels[index])
        losses[step] = float(loss.detach())
        if not loss.requires_grad:
            continue
        connected = True
        adam.zero_grad()
        loss.backward()
        adam.step()
    return losses, np.asarray(connected)


class _Adam:
    """Adam (Kingma and Ba, 2015), written out: ``torch.optim``'s first optimizer imports
    ``torch._dynamo`` and its 900 modules, a second of every submission's time in a fresh process.

    m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  p ← p − lr·m̂ / (√v̂ + ε), with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).
    """

    def __init__(self, parameters: list[Any], learning_rate: float) -> None:
        torch = _torch()
        self.parameters = parameters
        self.learning_rate = learning_rate
        self.first = [torch.zeros_like(p) for p in parameters]
        self.second = [torch.zeros_like(p) for p in parameters]
        self.steps = 0

    def zero_grad(self) -> None:
        for parameter in self.parameters:
            parameter.grad = None

    def step(self, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8) -> None:
        torch = _torch()
        self.steps += 1
        size = self.learning_rate / (1 - beta1**self.steps)
        correction = (1 - beta2**self.steps) ** 0.5
        with torch.no_grad():
            for parameter, first, second in zip(self.parameters, self.first, self.second, strict=True):
                if parameter.grad is None:
                    continue
                grad = parameter.grad
                first.mul_(beta1).add_(grad, alpha=1 - beta1)
                second.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                parameter.addcdiv_(first, second.sqrt().div_(correction).add_(epsilon), value=-size)


PROBES: dict[str, Callable[..., Any]] = {
    drivers.DRIVER: drivers.run_driver,
    "@torch.forward": forward,
    "@torch.parameters": parameters,
    "@torch.train": train,
}


def find(name: str) -> Callable[..., Any]:
    """The probe called ``name`` (a reserved name, starting with ``@``)."""
    try:
        return PROBES[name]
    except KeyError:
        raise LookupError(f"the sandbox has no probe named {name}") from None
