"""PyTorch code for a spec: ``nn.Sequential`` and a hand-written loop; a final softmax is folded into
``nn.CrossEntropyLoss`` as PyTorch users write it. Plain text builders: import no framework."""
from __future__ import annotations

from frameworkbench.codegen import ALIGN_TAG, Code, has_val, loop_final, seed_line
from frameworkbench.spec import Spec

from .._errors import Unsupported

TORCH_ADAM_EPS = 1e-8
PARAMS = "print(\"params:\", sum(p.numel() for p in model.parameters()))"
_PLAIN = {"relu": "nn.ReLU()", "sigmoid": "nn.Sigmoid()", "tanh": "nn.Tanh()", "softmax": "nn.Softmax(dim=1)"}


def _activation(act) -> list[str]:
    if act.name == "linear":
        return []
    if act.name == "leaky_relu":
        return [f"nn.LeakyReLU(negative_slope={act.param('negative_slope')!r})"]
    if act.name == "elu":
        return [f"nn.ELU(alpha={act.param('alpha')!r})"]
    return [_PLAIN[act.name]]


def _dense(lay, input_shape) -> list[str]:
    bias = "" if lay.use_bias else ", bias=False"
    return [f"nn.Linear({input_shape[-1]}, {lay.units}{bias})", *_activation(lay.activation)]


LINES = {"dense": _dense, "activation": lambda lay, input_shape: _activation(lay.activation)}


def _modules(spec: Spec, fold_softmax: bool) -> list[str]:
    mods = []
    for i, (lay, shape) in enumerate(zip(spec.layers, spec.shapes)):
        if lay.type not in LINES:
            raise Unsupported(f"unsupported: layer type {lay.type!r} in PyTorch codegen")
        exprs = LINES[lay.type](lay, shape)
        if fold_softmax and i == len(spec.layers) - 1 and lay.activation.name == "softmax":
            exprs = exprs[:-1]  # nn.CrossEntropyLoss takes logits
        mods += exprs
    return mods


def _optimizer(opt: dict) -> str:
    if opt["name"] != "adam":
        mom = f", momentum={opt['momentum']!r}" if opt["momentum"] else ""
        return f"torch.optim.SGD(model.parameters(), lr={opt['learning_rate']!r}{mom})"
    args = [f"lr={opt['learning_rate']!r}"]
    if (opt["beta_1"], opt["beta_2"]) != (0.9, 0.999):
        args.append(f"betas=({opt['beta_1']!r}, {opt['beta_2']!r})")
    if opt["epsilon"] != TORCH_ADAM_EPS:
        args.append(f"eps={opt['epsilon']!r}")
    return f"torch.optim.Adam(model.parameters(), {', '.join(args)})"


def _shared_weights(spec: Spec) -> list[str]:
    if spec.init != "shared":
        return []
    biases = {lay.use_bias for lay in spec.dense_layers}
    lines = [f"{ALIGN_TAG} start from its shared initial weights (kernels are (in, out): transpose)",
             "with torch.no_grad():",
             "    for linear, weights in zip([m for m in model if isinstance(m, nn.Linear)], initial_weights):",
             "        linear.weight.copy_(torch.from_numpy(weights[0].T))"]
    if biases == {True}:
        lines += ["        linear.bias.copy_(torch.from_numpy(weights[1]))"]
    elif True in biases:
        lines += ["        if linear.bias is not None:", "            linear.bias.copy_(torch.from_numpy(weights[1]))"]
    return lines + [""]


def generate(spec: Spec, target) -> Code:
    t, loss, opt = spec.training, spec.loss["name"], spec.optimizer
    fold_softmax = loss in ("sparse_categorical_crossentropy", "categorical_crossentropy")
    lines = ["import torch", "from torch import nn", "", *seed_line(spec, "torch.manual_seed"), "model = nn.Sequential("]
    lines += [f"    {m}," for m in _modules(spec, fold_softmax)] + [")", *_shared_weights(spec)]
    if fold_softmax:
        lines += ["criterion = nn.CrossEntropyLoss()  # takes logits: the output softmax is folded into the loss"]
    else:
        lines += [f"criterion = {({'binary_crossentropy': 'nn.BCELoss()', 'mse': 'nn.MSELoss()'})[loss]}"]
    lines += [f"optimizer = {_optimizer(opt)}"]
    eps_hat = []
    if opt["name"] == "adam":  # frameworkbench's aligned Adam is Keras' (epsilon added to sqrt(v))
        lines += [f"step = 0  {ALIGN_TAG} Adam's epsilon in Keras' form (epsilon-hat), set every step"]
        eps_hat = [f"        step += 1  {ALIGN_TAG} epsilon-hat",
                   f"        optimizer.param_groups[0][\"eps\"] = {opt['epsilon']!r} / "
                   f"(1 - {opt['beta_2']!r} ** step) ** 0.5  {ALIGN_TAG} epsilon-hat"]
    lines += ["", "X_t, y_t = torch.from_numpy(X_train), torch.from_numpy(y_train)",
              "for epoch, order in enumerate(epoch_orders):  # frameworkbench's batch order", "    total = 0.0",
              f"    for idx in torch.from_numpy(order).split({t['batch_size']}):",
              "        optimizer.zero_grad()", "        loss = criterion(model(X_t[idx]), y_t[idx])",
              "        loss.backward()", *eps_hat, "        optimizer.step()", "        total += loss.item() * len(idx)",
              "    train_loss = total / len(X_t)", "    print(f\"epoch {epoch + 1}: loss {train_loss:.4f}\")"]
    if has_val(spec):
        lines += ["model.eval()", "with torch.no_grad():",
                  "    val_loss = criterion(model(torch.from_numpy(X_val)), torch.from_numpy(y_val)).item()"]
    return Code(lines, [loop_final(spec), PARAMS])
