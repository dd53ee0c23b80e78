"""The offline reference model ``local/reference`` (see docs/reference-model.md)."""

from optimizer.llm.reference.model import ReferenceModel, ReferenceModelSettings, count_tokens

__all__ = ["ReferenceModel", "ReferenceModelSettings", "count_tokens"]
