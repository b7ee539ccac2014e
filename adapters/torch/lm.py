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
    import transformers

    from frameworkbench.analysis.language_models import one_step

    from .._lm import transformers_class

    cls = transformers_class(MODEL, "PyTorch", "modeling_")  # resolving the class imports the model's code
    imported()
    torch.manual_seed(sizes["seed"])
    ids, y = torch.as_tensor(tokens, dtype=torch.long), torch.as_tensor(labels, dtype=torch.long)
    config = transformers.BertConfig(
        vocab_size=sizes["vocab_size"], hidden_size=sizes["hidden_size"], num_hidden_layers=sizes["num_layers"],
        num_attention_heads=sizes["num_heads"], intermediate_size=sizes["intermediate_size"],
        max_position_embeddings=sizes["sequence_length"], hidden_dropout_prob=sizes["dropout"],
        attention_probs_dropout_prob=sizes["dropout"], classifier_dropout=sizes["dropout"],
        num_labels=sizes["num_classes"])

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
