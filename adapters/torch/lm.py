"""Language-model check for PyTorch: HuggingFace ``transformers``' BERT classifier, trained one step.

Built from a ``BertConfig`` (random initialisation, nothing downloaded), trained by the idiomatic loop:
``model(input_ids, labels=...).loss.backward()`` and Adam. Run by
:mod:`frameworkbench.analysis.language_models` in a subprocess.
"""
from __future__ import annotations

LIBRARY = LIBRARY_MODULE = "transformers"
MODEL = "BertForSequenceClassification"


def check(sizes: dict, tokens, labels, imported) -> dict:
    import torch

    from frameworkbench.analysis.language_models import one_step

    from .._lm import bert_config, transformers_class

    cls = transformers_class(MODEL, "PyTorch", "modeling_")  # resolving the class imports the model's code
    imported()
    torch.manual_seed(sizes["seed"])
    ids, y = torch.as_tensor(tokens, dtype=torch.long), torch.as_tensor(labels, dtype=torch.long)
    config = bert_config(sizes)

    def build():
        model = cls(config)
        model.optimizer = torch.optim.Adam(model.parameters(), lr=sizes["learning_rate"])
        return model

    def logits(model):
        model.eval()
        with torch.no_grad():
            return model(input_ids=ids).logits.numpy()

    def step(model):
        model.train()
        model(input_ids=ids, labels=y).loss.backward()
        model.optimizer.step()
        model.optimizer.zero_grad()

    def count(model):
        return sum(p.numel() for p in model.parameters() if p.requires_grad)

    return one_step(build, count, logits, step, labels)
