"""A typed user of cbce.torch: checked with `mypy --strict`, run when torch is installed."""
import torch

import cbce.torch

model = torch.nn.Linear(4, 1)
loss_fn: torch.nn.BCEWithLogitsLoss = cbce.torch.BCEWithLogitsLoss(pos_weight=torch.ones(1))
x, y = torch.randn(16, 4), (torch.rand(16, 1) < 0.5).float()
loss: torch.Tensor = loss_fn(model(x), y)
loss.backward()
probs = torch.sigmoid(model(x)).detach().requires_grad_(True)
value: torch.Tensor = cbce.torch.binary_cross_entropy(probs, y, reduction="sum")
value.backward()
