"""A preset as a standalone PyTorch script in the course's code shape (HW1's sample code):
``same_seed``, a ``Dataset``, ``DataLoader``s, an ``nn.Module``, a ``trainer`` with a train/valid
loop (evaluation under ``torch.no_grad()``), early stopping, ``torch.save`` of the best weights,
and loading them back for a final evaluation - so a student can go from a preset to a notebook.

Data: a CSV preset's script reads its CSV file as the course's code does (``train_valid_split``
with ``random_split`` for ``split = "course"``, ``select_feat`` with the column indices dltui
chose, z-scores from the training rows), so it uses exactly dltui's rows. A generated data set
travels in a CSV beside the script: dltui's rows of each split, already encoded as dltui feeds
them to the network, and a column ``split``. Only text is made here; no torch is imported.
"""

from __future__ import annotations

import numpy as np

from ..config.spec import Spec
from ..data.dataset import Dataset

ACTIVATION_CODE = {"sigmoid": "nn.Sigmoid()", "hard_sigmoid": "nn.Hardsigmoid()", "relu": "nn.ReLU()",
                   "leaky_relu": "nn.LeakyReLU(0.01)", "tanh": "nn.Tanh()", "identity": "nn.Identity()"}


def data_csv(data: Dataset) -> str:
    """The split rows as CSV text: features..., target, split."""
    names = [n.replace(",", ";") for n in data.features.names]
    parts = [("train", data.x_train, data.y_train), ("valid", data.x_val, data.y_val)]
    if data.x_test is not None and len(data.x_test):
        parts.append(("test", data.x_test, data.y_test))
    lines = [",".join([*names, "target", "split"])]
    for split, x, y in parts:
        yy = np.asarray(y).reshape(len(x), -1)[:, 0]
        for row, t in zip(np.asarray(x, np.float64), yy):
            cells = [repr(float(v)) for v in row]
            cells.append(str(int(t)) if data.task == "classification" else repr(float(t)))
            lines.append(",".join([*cells, split]))
    return "\n".join(lines) + "\n"


def _model_lines(spec: Spec, n_out: int) -> str:
    hidden, acts = spec.values["model"]["hidden"], spec.activations
    lines, prev = [], "input_dim"
    for h, a in zip(hidden, acts):
        lines += [f"nn.Linear({prev}, {h}),", f"{ACTIVATION_CODE[a]},"]
        prev = str(h)
    lines.append(f"nn.Linear({prev}, {n_out}),")
    return "\n".join(" " * 12 + ln for ln in lines)


def _init_code(spec: Spec) -> str:
    m = spec.values["model"]
    if m["init"] == "torch" and m["init_scale"] == 1.0:
        return "    pass  # PyTorch's default nn.Linear init, as the preset asks"
    scale = m["init_scale"]
    body = {
        "he": f"nn.init.normal_(layer.weight, 0.0, {scale!r} * math.sqrt(2.0 / layer.in_features))",
        "xavier": (f"nn.init.normal_(layer.weight, 0.0, {scale!r} * math.sqrt(2.0 / (layer.in_features"
                   " + layer.out_features)))"),
        "normal": f"nn.init.normal_(layer.weight, 0.0, {scale!r})",
        "torch": (f"bound = {scale!r} / math.sqrt(layer.in_features)\n"
                  "            nn.init.uniform_(layer.weight, -bound, bound)"),
    }[m["init"]]
    bias = ("nn.init.uniform_(layer.bias, -bound, bound)" if m["init"] == "torch"
            else "nn.init.zeros_(layer.bias)")
    return (f"    for layer in model.modules():\n        if isinstance(layer, nn.Linear):\n"
            f"            {body}\n            {bias}")


def _optimizer_code(spec: Spec) -> str:
    o = spec.values["optimizer"]
    if o["name"] == "sgd":
        return (f"torch.optim.SGD(model.parameters(), lr=config['learning_rate'], momentum={o['momentum']!r}, "
                f"weight_decay={o['weight_decay']!r})")
    cls = "AdamW" if o["name"] == "adamw" else "Adam"
    return (f"torch.optim.{cls}(model.parameters(), lr=config['learning_rate'], "
            f"betas=({o['beta1']!r}, {o['beta2']!r}), eps={o['eps']!r}, weight_decay={o['weight_decay']!r})")


def _csv_source(spec: Spec, data: Dataset, test_path: str | None) -> tuple[str, str]:
    """(config lines, loader code) that read the preset's CSV as dltui does."""
    from pathlib import Path

    from ..data.dataset import _target_index, column_keys, read_table
    from ..data.splits import split_seed

    d = spec.values["data"]
    path = str(Path(d["path"]).resolve())
    header = read_table(path).header
    keys = column_keys(header)
    feat_idx = [keys.index(list(c)) for c in data.features.columns]
    config = (f'    "train_path": {path!r},\n    "feat_idx": {feat_idx!r},  # {len(feat_idx)} columns chosen by dltui\n'
              f'    "target_idx": {_target_index(header, d["target"], path)},\n'
              f'    "split": {d["split"]!r},\n    "split_seed": {split_seed(spec.values)},  # dltui\'s split\n'
              f'    "valid_ratio": {d["valid_ratio"]!r},\n'
              f'    "test_ratio": {d["test_ratio"]!r},\n    "normalize": {data.features.mean is not None!r},\n'
              f'    "feat_keys": {[list(c) for c in data.features.columns]!r},  # [name, occurrence]\n'
              f'    "id_column": {data.features.id_column!r},\n    "target_name": {data.features.target!r},\n'
              f'    "test_path": {str(Path(test_path).resolve()) if test_path else None!r},'
              '  # rows to predict (e.g. covid.test.csv): writes pred.csv\n')
    return config, CSV_LOADER


def _generated_source(data_file: str) -> tuple[str, str]:
    return f'    "data_path": os.path.join(HERE, "{data_file}"),\n', GENERATED_LOADER


def torch_script(spec: Spec, data: Dataset, data_file: str, test_path: str | None = None) -> str:
    """The script's text for this preset (as resolved, overrides included); ``data_file`` is the CSV
    written beside it for generated data (a CSV preset reads its own file, and ``test_path``, the
    rows to predict, if given)."""
    t, o = spec.values["training"], spec.values["optimizer"]
    classify = data.task == "classification"
    patience = t["patience"] if t["patience"] > 0 else t["epochs"] + 1
    is_csv = spec.values["data"]["kind"] == "csv"
    data_config, loader = _csv_source(spec, data, test_path) if is_csv else _generated_source(data_file)
    where = (f"the rows come from {spec.values['data']['path']}, split and chosen as dltui does" if is_csv else
             f"the rows (dltui's split, features encoded as dltui feeds them) are in {data_file}")
    return TEMPLATE.format(
        title=spec.values["about"]["title"], name=spec.name, where=where, data_config=data_config,
        loader=loader,
        seed=t["seed"], epochs=t["epochs"], batch_size=t["batch_size"] or len(data.x_train),
        lr=o["lr"], l1=o["l1"], patience=patience, model=_model_lines(spec, data.n_outputs),
        init=_init_code(spec), optimizer=_optimizer_code(spec),
        criterion="nn.CrossEntropyLoss()" if classify else "nn.MSELoss(reduction='mean')",
        y_dtype="torch.long" if classify else "torch.float32",
        squeeze="" if classify else "\n        x = x.squeeze(1)  # (B, 1) -> (B)",
        accuracy="True" if classify else "False")


TEMPLATE = '''"""{title}

Exported from the dltui preset '{name}' by `dltui export {name} --torch`: the same network,
optimizer, batch size, epochs and early stopping, in the course's code shape:
{where}.

Run:  python this_file.py   (needs torch and numpy; trains on the CPU, or a GPU if there is one)
"""

import csv
import math
import os

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, random_split

HERE = os.path.dirname(os.path.abspath(__file__))
device = "cuda" if torch.cuda.is_available() else "cpu"
config = {{
    "seed": {seed},
    "n_epochs": {epochs},
    "batch_size": {batch_size},
    "learning_rate": {lr!r},
    "l1": {l1!r},  # L1 as a proximal step after each update (0: none)
    "early_stop": {patience},  # stop after this many epochs without a better validation loss
{data_config}    "save_path": os.path.join(HERE, "models", "{name}.ckpt"),
}}


def same_seed(seed):
    """Fixes random number generator seeds for reproducibility."""
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


{loader}

class PresetDataset(Dataset):
    """x: features, y: targets."""

    def __init__(self, x, y=None):
        self.x = torch.tensor(x, dtype=torch.float32)
        self.y = None if y is None else torch.tensor(y, dtype={y_dtype})

    def __getitem__(self, idx):
        return self.x[idx] if self.y is None else (self.x[idx], self.y[idx])

    def __len__(self):
        return len(self.x)


class My_Model(nn.Module):
    def __init__(self, input_dim):
        super().__init__()
        self.layers = nn.Sequential(
{model}
        )

    def forward(self, x):
        x = self.layers(x){squeeze}
        return x


def init_weights(model):
{init}


def evaluate(model, loader, criterion):
    """Mean loss (and accuracy) over a loader, without gradients."""
    model.eval()
    total, correct, n = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        with torch.no_grad():
            pred = model(x)
            total += criterion(pred, y).item() * len(x)
            if {accuracy}:
                correct += (pred.argmax(1) == y).sum().item()
        n += len(x)
    return total / n, (correct / n if {accuracy} else None)


def predict(test_loader, model, device):
    model.eval()
    preds = []
    for x in test_loader:
        x = x.to(device)
        with torch.no_grad():
            preds.append(model(x).detach().cpu())
    return torch.cat(preds, dim=0).numpy()


def trainer(train_loader, valid_loader, model, config, device):
    criterion = {criterion}
    optimizer = {optimizer}
    os.makedirs(os.path.dirname(config["save_path"]), exist_ok=True)
    n_epochs, best_loss, early_stop_count = config["n_epochs"], math.inf, 0
    for epoch in range(n_epochs):
        model.train()
        loss_record = []
        for x, y in train_loader:
            optimizer.zero_grad()
            x, y = x.to(device), y.to(device)
            pred = model(x)
            loss = criterion(pred, y)
            loss.backward()
            optimizer.step()
            if config["l1"]:
                shrink = config["learning_rate"] * config["l1"]
                with torch.no_grad():
                    for layer in model.modules():
                        if isinstance(layer, nn.Linear):
                            w = layer.weight
                            w.copy_(torch.sign(w) * torch.clamp(w.abs() - shrink, min=0.0))
            loss_record.append(loss.detach().item())
        mean_train_loss = sum(loss_record) / len(loss_record)
        mean_valid_loss, _ = evaluate(model, valid_loader, criterion)
        if epoch % 100 == 0 or epoch == n_epochs - 1:
            print(f"Epoch [{{epoch + 1}}/{{n_epochs}}]: Train loss: {{mean_train_loss:.4f}}, "
                  f"Valid loss: {{mean_valid_loss:.4f}}")
        if mean_valid_loss < best_loss:
            best_loss = mean_valid_loss
            torch.save(model.state_dict(), config["save_path"])  # save the best model
            early_stop_count = 0
        else:
            early_stop_count += 1
        if early_stop_count >= config["early_stop"]:
            print(f"Model is not improving, so we halt the training session at epoch {{epoch + 1}}.")
            break
    return best_loss


if __name__ == "__main__":
    same_seed(config["seed"])
    names, splits, norm = load_data(config)
    train_dataset = PresetDataset(*splits["train"])
    valid_dataset = PresetDataset(*splits["valid"])
    print(f"train {{len(train_dataset)}} rows, valid {{len(valid_dataset)}} rows, {{len(names)}} features")
    train_loader = DataLoader(train_dataset, batch_size=config["batch_size"], shuffle=True)
    valid_loader = DataLoader(valid_dataset, batch_size=config["batch_size"], shuffle=False)
    model = My_Model(input_dim=len(names)).to(device)
    init_weights(model)
    trainer(train_loader, valid_loader, model, config, device)

    # load the best weights back, as a notebook does before predicting
    model = My_Model(input_dim=len(names)).to(device)
    model.load_state_dict(torch.load(config["save_path"], map_location=device))
    criterion = {criterion}
    valid_loss, valid_acc = evaluate(model, valid_loader, criterion)
    print(f"best valid loss: {{valid_loss:.6g}}" + (f", accuracy {{valid_acc:.3f}}" if valid_acc is not None else ""))
    if "test" in splits:
        test_loader = DataLoader(PresetDataset(*splits["test"]), batch_size=config["batch_size"])
        test_loss, test_acc = evaluate(model, test_loader, criterion)
        print(f"test loss of the best weights: {{test_loss:.6g}}")
    if config.get("test_path"):
        ids, x = load_test(config, norm)
        preds = predict(DataLoader(PresetDataset(x), batch_size=config["batch_size"], shuffle=False), model, device)
        save_pred(preds, ids, os.path.join(HERE, "pred.csv"), config)
        print(f"wrote {{len(ids)}} predictions to pred.csv")
'''

GENERATED_LOADER = '''def load_data(config):
    """{split: (x, y)} from the exported CSV (feature columns, 'target', 'split') and the feature names."""
    with open(config["data_path"], newline="") as fh:
        rows = list(csv.reader(fh))
    header, rows = rows[0], rows[1:]
    out = {}
    for split in ("train", "valid", "test"):
        part = [r for r in rows if r[-1] == split]
        if part:
            values = np.array([[float(v) for v in r[:-1]] for r in part])
            out[split] = (values[:, :-1], values[:, -1])
    return header[:-2], out, None'''

CSV_LOADER = '''def train_valid_split(data_set, valid_ratio, seed, split="course", test_ratio=0.0):
    """Split rows into training, validation (and test) sets, as dltui's [data] split does."""
    n = len(data_set)
    if split == "course":  # the course's random_split, seeded
        n_valid, n_test = int(valid_ratio * n), int(test_ratio * n)
        sets = random_split(data_set, [n - n_valid - n_test, n_valid, n_test],
                            generator=torch.Generator().manual_seed(seed))
        return [np.array([data_set[i] for i in sorted(s.indices)]) for s in sets]
    n_valid, n_test = int(round(valid_ratio * n)), int(round(test_ratio * n))
    if split == "time":  # rows in order: train first, then valid, then test
        order = np.arange(n)
        parts = [order[:n - n_valid - n_test], order[n - n_valid - n_test:n - n_test], order[n - n_test:]]
    else:  # dltui's NumPy shuffle
        perm = np.random.default_rng(seed).permutation(n)
        parts = [perm[n_valid + n_test:], perm[:n_valid], perm[n_valid:n_valid + n_test]]
    return [np.asarray(data_set)[np.sort(p)] for p in parts]


def select_feat(data, feat_idx, target_idx):
    """Selects the feature columns dltui chose and the target column."""
    return data[:, feat_idx], data[:, target_idx]


def load_data(config):
    """{split: (x, y)} read from the training CSV, and the feature names."""
    with open(config["train_path"], newline="", encoding="utf-8-sig") as fh:
        rows = [r for r in csv.reader(fh) if r]
    header, rows = rows[0], rows[1:]
    cols = config["feat_idx"] + [config["target_idx"]]
    data = np.array([[float(r[j]) if j in cols else 0.0 for j in range(len(header))] for r in rows])
    parts = train_valid_split(data, config["valid_ratio"], config["split_seed"], config["split"], config["test_ratio"])
    out = {}
    for name, part in zip(("train", "valid", "test"), parts):
        if len(part):
            out[name] = select_feat(part, config["feat_idx"], config["target_idx"])
    norm = None
    if config["normalize"]:  # z-scores from the training rows
        mean, std = out["train"][0].mean(0), out["train"][0].std(0)
        norm = (mean, np.where(std > 1e-12, std, 1.0))
        out = {k: ((x - norm[0]) / norm[1], y) for k, (x, y) in out.items()}
    return [header[j] for j in config["feat_idx"]], out, norm


def load_test(config, norm):
    """Ids and features of the rows to predict, found by name (and occurrence) and encoded as training's."""
    with open(config["test_path"], newline="", encoding="utf-8-sig") as fh:
        rows = [r for r in csv.reader(fh) if r]
    header, rows = rows[0], rows[1:]
    seen, keys = {}, []
    for h in header:
        keys.append([h, seen.get(h, 0)])
        seen[h] = seen.get(h, 0) + 1
    idx = [keys.index(list(k)) for k in config["feat_keys"]]
    x = np.array([[float(r[j]) for j in idx] for r in rows])
    if norm is not None:
        x = (x - norm[0]) / norm[1]
    has_id = config["id_column"] in header
    ids = [r[header.index(config["id_column"])] if has_id else str(i) for i, r in enumerate(rows)]
    return ids, x


def save_pred(preds, ids, file, config):
    """Save predictions to the specified file."""
    with open(file, "w", newline="") as fp:
        writer = csv.writer(fp)
        writer.writerow([config["id_column"], config["target_name"]])
        for i, p in zip(ids, preds):
            writer.writerow([i, int(p.argmax()) if np.ndim(p) else float(p)])'''
