"""What the families' language-model checks (``<family>/lm.py``) share: finding a ``transformers`` model class.

The core's side (batch, sizes, the timed step, the subprocess) is
:mod:`frameworkbench.analysis.language_models`; this module imports ``transformers`` only when called.
"""
from __future__ import annotations

import importlib.metadata
from pathlib import Path

from frameworkbench.analysis.language_models import Unsupported


def transformers_class(name: str, kind: str, prefix: str):
    """The class ``name`` of the installed ``transformers``, or :class:`Unsupported` saying what that version
    ships instead: ``kind`` names the framework in the message, ``prefix`` its modeling modules' file prefix
    (``modeling_tf_``, ``modeling_flax_``)."""
    import transformers

    try:
        return getattr(transformers, name)
    except (AttributeError, ImportError):
        pass
    models = Path(transformers.__file__).parent / "models"
    ours = len(list(models.glob(f"*/{prefix}*.py")))
    torch_modules = len([p for p in models.glob("*/modeling_*.py")
                         if not p.name.startswith(("modeling_tf_", "modeling_flax_"))])
    version = importlib.metadata.version("transformers")
    raise Unsupported(f"transformers {version} has no {name}: it ships {ours} {kind} modeling modules "
                      f"({prefix}*.py) and {torch_modules} PyTorch ones")


def bert_config(sizes: dict):
    """The tiny BERT's ``transformers.BertConfig`` from the check's sizes (every dropout at ``sizes["dropout"]``)."""
    import transformers

    return transformers.BertConfig(
        vocab_size=sizes["vocab_size"], hidden_size=sizes["hidden_size"], num_hidden_layers=sizes["num_layers"],
        num_attention_heads=sizes["num_heads"], intermediate_size=sizes["intermediate_size"],
        max_position_embeddings=sizes["sequence_length"], hidden_dropout_prob=sizes["dropout"],
        attention_probs_dropout_prob=sizes["dropout"], classifier_dropout=sizes["dropout"],
        num_labels=sizes["num_classes"])
