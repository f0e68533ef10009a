"""A small typed client for the Inferium gateway, written from its OpenAPI document (GET /openapi.json).

Standard library only. See README.md.
"""

from .client import (
    ChatCompletion,
    Completion,
    Embedding,
    EmbeddingList,
    FunctionInfo,
    InferResponse,
    InferiumClient,
    InferiumError,
    Tensor,
    Usage,
)

__all__ = [
    "ChatCompletion",
    "Completion",
    "Embedding",
    "EmbeddingList",
    "FunctionInfo",
    "InferResponse",
    "InferiumClient",
    "InferiumError",
    "Tensor",
    "Usage",
]
