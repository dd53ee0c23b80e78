"""LLM access: one gateway (``Gateway``) that every call goes through, plus the offline
reference model ``local/reference``."""
