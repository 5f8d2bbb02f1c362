"""
Information plane of your own model
===================================

Any ``nn.Module`` -- here one written in this script, with a residual connection -- goes through
the trainer once :class:`~structlearn.models.tapped.Tapped` names the layers to record. The
recordings give the information plane of Shwartz-Ziv & Tishby (2017): I(X;T) against I(T;Y) of
every layer over training (binning, nats), on their 12-bit task (``data.source: tishby12``).
"""

import matplotlib.pyplot as plt
import torch
from torch import nn

from structlearn.analysis.info_plane import analyze_information_plane
from structlearn.data.sources import load_source
from structlearn.models import Tapped
from structlearn.objectives import CrossEntropy
from structlearn.train import TrainConfig, train


class MyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden1 = nn.Linear(12, 10)
        self.hidden2 = nn.Linear(10, 10)
        self.head = nn.Linear(10, 2)

    def forward(self, x):
        a = torch.tanh(self.hidden1(x))
        b = torch.tanh(self.hidden2(a)) + a
        return self.head(b)


data = load_source("tishby12")
X, y = torch.as_tensor(data.X, dtype=torch.float32), torch.as_tensor(data.y)
torch.manual_seed(0)
model = Tapped(MyNet(), layers=["hidden1", "hidden2", "head"])
config = TrainConfig(optimizer="adam", lr=1e-2, epochs=40, batch_size=1024, n_records=10)
result = train(model, CrossEntropy(), (X, y), config=config)
plane = analyze_information_plane(result.recordings, n_bins=30)
print(f"training accuracy {result.final_metrics['train_accuracy']:.3f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
plane.plot(ax=axes[0])
plane.plot_snr(ax=axes[1])
plt.show()
