"""The offline reference model ``local/reference`` (see docs/reference-model.md)."""

from optimizer.llm.reference.model import ReferenceModel, count_tokens

__all__ = ["ReferenceModel", "count_tokens"]
